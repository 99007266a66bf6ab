"""Schema 13 reads every log again once: a ledger the earlier readers filled (no Claude
advisor calls; Codex cache writes counted as plain input, every Codex call at the default
tier) ends with the totals of a ledger filled by the current readers, nothing counted
twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.roots import all_roots
from tests.core.helpers import snapshot
from tests.core.logwriters import codex_rollout_path
from tests.core.test_claude_advisor import _write_history as write_claude_advisor_history
from tests.core.test_codex_tiers_and_cache_writes import Rollout


def _write_codex_history(home: Path) -> None:
    rollout = Rollout("019d-upgrade", model="gpt-5.6-terra")
    rollout.turn(1)
    rollout.count(2, 200_000, 20_000, cached=100_000, written=50_000)
    rollout.settings(3, "priority")
    rollout.count(4, 30_000, 3_000, cached=10_000, written=5_000)
    rollout.write(codex_rollout_path(home / ".codex", rollout))


def _fill(path: Path, home: Path, env: dict[str, str] | None = None) -> None:
    ledger = open_ledger(path)
    try:
        ingest(ledger, all_roots(env or {"HOME": str(home)}))
    finally:
        ledger.close()


def test_an_upgraded_ledger_ends_as_a_ledger_read_by_the_current_readers(
    isolated_home: Path, tmp_path: Path
) -> None:
    write_claude_advisor_history(isolated_home)
    _write_codex_history(isolated_home)
    fresh, upgraded = tmp_path / "fresh.sqlite", tmp_path / "upgraded.sqlite"
    _fill(fresh, isolated_home)
    _fill(upgraded, isolated_home)

    # As the earlier readers left it, at schema 12 (the derived tables follow by trigger).
    conn = sqlite3.connect(upgraded, isolation_level=None)
    assert conn.execute("DELETE FROM usage_events WHERE event_key LIKE '%:advisor:%'").rowcount
    assert (
        conn.execute(
            "UPDATE usage_events SET speed = 'standard', cost_usd = cost_usd / 3, "
            "input_tokens = input_tokens + cache_write_5m_tokens, cache_write_5m_tokens = 0 "
            "WHERE agent = 'codex'"
        ).rowcount
        == 2
    )
    conn.execute("PRAGMA user_version = 12")
    conn.close()

    _fill(upgraded, isolated_home)
    old, new = open_ledger(fresh), open_ledger(upgraded)
    try:
        assert new.schema_version() >= 13
        assert snapshot(new) == snapshot(old)
        speeds = new.conn.execute(
            "SELECT speed, cache_write_5m_tokens FROM usage_events WHERE agent = 'codex' "
            "ORDER BY ts_ms"
        ).fetchall()
        assert speeds == [("standard", 50_000), ("fast", 5_000)]
        advisors = "SELECT count(*) FROM usage_events WHERE event_key LIKE '%:advisor:%'"
        assert new.conn.execute(advisors).fetchone() == (1,)
    finally:
        old.close()
        new.close()


def _advisor_reply(session_id: str, at: str) -> str:
    import json

    usage = {
        "input_tokens": 3,
        "output_tokens": 200,
        "iterations": [
            {"type": "message", "input_tokens": 3, "output_tokens": 100},
            {
                "type": "advisor_message",
                "model": "claude-opus-4-7",
                "input_tokens": 150_000,
                "output_tokens": 7_000,
            },
        ],
    }
    content = [{"type": "tool_use", "id": "toolu_edit", "name": "Edit", "input": {}}]
    return json.dumps(
        {
            "type": "assistant",
            "timestamp": at,
            "sessionId": session_id,
            "requestId": "req_1",
            "cwd": "/home/dev/shop",
            "message": {
                "id": "msg_1",
                "model": "claude-sonnet-4-6",
                "usage": usage,
                "content": content,
            },
        }
    )


def test_an_advisors_call_read_again_stays_with_the_call_it_was_made_in(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A reply stored from session A's file before schema 13; a resumed session B's copy
    of it, in a file read before A's, appeared since. Read again, the advisor's call (new)
    came first from B's copy and went to B ($0.95 of Opus in a session that never asked
    for it), while the reply stays with A."""
    # Two Claude roots, B's first: its files are read before A's.
    first, second = isolated_home / "claude-b", isolated_home / "claude-a"
    env = {"HOME": str(isolated_home), "CLAUDE_CONFIG_DIR": f"{first},{second}"}
    for root in (first, second):
        (root / "projects" / "-home-dev-shop").mkdir(parents=True)
    (second / "projects" / "-home-dev-shop" / "session-a.jsonl").write_text(
        _advisor_reply("session-a", "2026-11-20T12:00:00.000Z") + "\n"
    )
    path = tmp_path / "ledger.sqlite"
    _fill(path, isolated_home, env)
    (first / "projects" / "-home-dev-shop" / "session-b.jsonl").write_text(
        _advisor_reply("session-b", "2026-11-21T09:00:00.000Z") + "\n"
    )
    _fill(path, isolated_home, env)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM usage_events WHERE event_key LIKE '%:advisor:%'")  # as before
    conn.execute("PRAGMA user_version = 12")
    conn.close()
    _fill(path, isolated_home, env)
    ledger = open_ledger(path)
    try:
        rows = ledger.conn.execute(
            "SELECT event_key, session_id, is_sidechain FROM usage_events ORDER BY event_key"
        ).fetchall()
        assert rows == [
            ("cc:msg_1:req_1", "session-a", 0),
            ("cc:msg_1:req_1:advisor:1", "session-a", 0),
        ]
        totals = dict(ledger.conn.execute("SELECT session_id, calls FROM session_totals"))
        assert totals.get("session-a") == 2 and not totals.get("session-b")
    finally:
        ledger.close()
