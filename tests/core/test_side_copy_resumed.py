"""A side question (`/btw`) asked in a resumed Claude Code session copies a reply the
resumed transcript repeats from the session it resumed (same `message.id` and request id),
and the reply is stored in the session whose transcript was read first. Read as the files
appear (the old session, the resumed one, then the side question, an ingest after each, as
the live engine reads them), the copy found no main-thread call of its message in its own
session and counted as a call again (review of 2026-12-08: 16,440 tokens for 11,330)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

import shared.ingest.side_copies
from shared.ledger import open_ledger
from shared.schema import SCHEMA_VERSION
from tests.core.helpers import derived_tables, ingest_env, snapshot
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    write_lines,
)

CWD = "/home/dev/shop"
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _files(home: Path) -> dict[str, tuple[Path, list[bytes]]]:
    old = ClaudeSession("sess-old", cwd=CWD)
    reply = old.reply(
        T0,
        [text_block("x")],
        claude_usage(10, 100, cache_read=5_000),
        message_id="msg_r",
        request_id="req_r",
    )
    new = ClaudeSession("sess-new", cwd=CWD)
    repeated = [
        orjson.dumps({**orjson.loads(line), "sessionId": "sess-new"}) + b"\n" for line in reply
    ]
    new.lines += repeated
    new.reply(
        T0 + timedelta(hours=1),
        [text_block("y")],
        claude_usage(20, 200, cache_read=6_000),
        message_id="msg_n",
        request_id="req_n",
    )
    aside = [
        orjson.dumps(
            {
                **orjson.loads(line),
                "isSidechain": True,
                "agentId": "aside_question-1",
                "requestId": "req_r_copy",
            }
        )
        + b"\n"
        for line in repeated
    ]
    project = claude_project_dir(home / ".claude", CWD)
    return {
        "old": (project / "sess-old.jsonl", old.lines),
        "new": (project / "sess-new.jsonl", new.lines),
        "aside": (project / "sess-new" / "subagents" / "agent-aside_question-1.jsonl", aside),
    }


@pytest.mark.parametrize(
    "steps",
    [
        [["old", "new", "aside"]],
        [["old"], ["new"], ["aside"]],
        [["old", "new"], ["aside"]],
        [["old"], ["new", "aside"]],
        [["new"], ["aside"], ["old"]],
    ],
    ids=lambda steps: " | ".join("+".join(step) for step in steps),
)
def test_a_side_questions_copy_in_a_resumed_session_counts_once(
    isolated_home: Path, tmp_path: Path, steps: list[list[str]]
) -> None:
    files = _files(isolated_home)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        for step in steps:
            for name in step:
                path, lines = files[name]
                write_lines(path, lines)
            ingest_env(ledger)
        keys = [key for (key,) in ledger.conn.execute("SELECT event_key FROM usage_events")]
        total = ledger.conn.execute("SELECT sum(total_tokens) FROM usage_events").fetchone()[0]
    finally:
        ledger.close()
    assert sorted(keys) == ["cc:msg_n:req_n", "cc:msg_r:req_r"]
    assert total == 11_330


def test_an_upgraded_ledger_loses_the_copy_it_counted_again(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 20 takes the copy an older writer stored as a call of its own out, and its
    ledger then equals one written by the current code, table by table."""
    fresh, upgraded = tmp_path / "fresh.sqlite", tmp_path / "upgraded.sqlite"
    for path, patch_old_writer in ((fresh, False), (upgraded, True)):
        with monkeypatch.context() as patch:
            home = tmp_path / path.stem
            patch.setenv("HOME", str(home))
            files = _files(home)
            if patch_old_writer:  # the schema-19 writer: a copy's own session only
                patch.setattr(shared.ingest.side_copies, "_stored_in_other_sessions", _none)
            ledger = open_ledger(path)
            try:
                for name in ("old", "new", "aside"):
                    log, lines = files[name]
                    write_lines(log, lines)
                    ingest_env(ledger)
            finally:
                ledger.close()
    conn = sqlite3.connect(upgraded, isolation_level=None)
    assert conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 3
    conn.execute("PRAGMA user_version = 19")
    conn.close()
    with monkeypatch.context() as patch:
        patch.setenv("HOME", str(tmp_path / upgraded.stem))
        new = open_ledger(upgraded)
        try:
            ingest_env(new)
        finally:
            new.close()
    old, new = open_ledger(fresh), open_ledger(upgraded)
    try:
        assert new.schema_version() == SCHEMA_VERSION
        assert snapshot(new, skip=("sources",)) == snapshot(old, skip=("sources",))
        assert derived_tables(new.conn) == derived_tables(old.conn)
    finally:
        old.close()
        new.close()


def _none(_conn: object, _message_id: str) -> list[str]:
    return []
