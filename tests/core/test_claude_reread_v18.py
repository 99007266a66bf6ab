"""The upgrade to schema 18 reads every Claude Code log again: a reply an older writer kept
flagged as a subagent's copy (its copy read first; the flag of the first reading stayed)
becomes a main-thread call again, so its side question's (/btw) copy, which that older
ledger counted as a call of its own, is found and counted once; the ledger then equals a
fresh ingest's."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import shared.ingest.writer
from shared.ledger import open_ledger
from shared.schema import CLAUDE_REREAD_V18, MIGRATIONS
from tests.core.helpers import events, ingest_env, snapshot, totals
from tests.core.logwriters import ClaudeSession
from tests.core.test_claude_side_copies import (
    CWD,
    SESSION,
    _aside_path,
    _main_path,
    _project,
    _transcripts,
)

# The upsert as it was before a main-thread reading cleared the flag (53a88b0).
OLD_UPSERT_EVENT = shared.ingest.writer.UPSERT_EVENT.replace(
    "is_sidechain = min(usage_events.is_sidechain, excluded.is_sidechain)",
    "is_sidechain = usage_events.is_sidechain",
).replace("OR excluded.is_sidechain < usage_events.is_sidechain", "")


def test_an_upgraded_ledger_counts_a_side_questions_copy_once(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert OLD_UPSERT_EVENT != shared.ingest.writer.UPSERT_EVENT
    main, aside = _transcripts()
    subagent = ClaudeSession(SESSION, cwd=CWD, agent_id="a77")
    subagent.lines = [
        line.replace(b'"isSidechain":false', b'"isSidechain":true', 1) for line in main.lines
    ]
    old_file = tmp_path / "old.sqlite"
    with monkeypatch.context() as older:
        older.setattr(shared.ingest.writer, "UPSERT_EVENT", OLD_UPSERT_EVENT)
        ledger = open_ledger(old_file)
        subagent.write(_project(isolated_home) / SESSION / "subagents" / "agent-a77.jsonl")
        ingest_env(ledger)
        main.write(_main_path(isolated_home))
        ingest_env(ledger)
        aside.write(_aside_path(isolated_home))
        ingest_env(ledger)
        # The older ledger: the replies still flagged, the side question's copies counted.
        assert len(events(ledger)) == 5
        assert totals(ledger)["output_tokens"] == 2 * (100 + 200) + 50
        ledger.close()
    with closing(sqlite3.connect(old_file)) as conn:
        conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(CLAUDE_REREAD_V18)}")

    upgraded = open_ledger(old_file)
    fresh = open_ledger(tmp_path / "fresh.sqlite")
    try:
        ingest_env(upgraded)
        ingest_env(fresh)
        assert sorted(events(upgraded)) == ["cc:msg_a:req_a", "cc:msg_b:req_b", "cc:msg_c:req_c"]
        assert totals(upgraded)["output_tokens"] == 100 + 200 + 50
        assert {
            row["is_sidechain"] for key, row in events(upgraded).items() if "msg_c" not in key
        } == {0}
        assert snapshot(upgraded) == snapshot(fresh)
    finally:
        upgraded.close()
        fresh.close()
