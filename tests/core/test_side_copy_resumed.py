"""A side question (`/btw`) asked in a resumed Claude Code session copies a reply the
resumed transcript repeats from the session it resumed (same `message.id` and request id),
and the reply is stored in the session whose transcript was read first. Read as the files
appear (the old session, the resumed one, then the side question, an ingest after each, as
the live engine reads them), the copy found no main-thread call of its message in its own
session and counted as a call again (review of 2026-12-08: 16,440 tokens for 11,330)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from shared.ledger import open_ledger
from tests.core.helpers import ingest_env
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
