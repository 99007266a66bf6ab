"""The upgrade to the schema that drops the copies of a parent's history an older Codex
reader stored as a spawned subagent's own calls: an upgraded ledger is what a fresh ingest
of the same logs gives, and calls of rollouts no longer on disk stay as they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shared.ledger import open_ledger
from shared.schema import CODEX_COPIES_V15, MIGRATIONS
from tests.core.helpers import ingest_env, snapshot
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    apply_patch_text,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    tool_use_block,
)
from tests.core.test_codex_compaction import _remote_compaction
from tests.core.test_codex_spawn_copies import SPAWN
from tests.core.test_tool_call_sessions import the_older_writer

# The tables the triggers keep, besides those `snapshot` compares.
DERIVED = {
    "session_totals": "SELECT session_id, calls, round(cost_usd, 9), total_tokens, last_ts_ms, "
    "last_model FROM session_totals WHERE calls != 0",
    "call_files": "SELECT * FROM call_files",
    "file_stats": "SELECT path, calls, round(cost_usd, 9), last_ts_ms, last_model FROM file_stats "
    "WHERE calls != 0",
    "file_sessions": "SELECT * FROM file_sessions",
}


def _everything(ledger) -> dict[str, list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    tables = snapshot(ledger)
    for name, sql in DERIVED.items():
        tables[name] = sorted(ledger.conn.execute(sql).fetchall(), key=repr)
    return tables


def _parent() -> CodexRollout:
    parent = CodexRollout("019f-parent", started=0, cwd="/work/repo")
    parent.turn(1)
    parent.custom_tool_call(2, "apply_patch", apply_patch_text(("Update", "a.py")), "call_p")
    parent.call(10, 20_000, 500, cached=10_000, reasoning=100)
    parent.call(70, 30_000, 400, cached=25_000, reasoning=100)
    parent.function_call(71, "spawn_agent", {"task": "look"}, "call_spawn")
    return parent


def _child() -> CodexRollout:
    child = CodexRollout("019f-child", started=72, cwd="/work/repo", source=SPAWN)
    child.copy_history_keeping_times(_parent())
    child.turn(73)
    child.custom_tool_call(80, "apply_patch", apply_patch_text(("Update", "b.py")), "call_c")
    child.custom_output(81, "call_c", "apply_patch verification failed: no such line")
    child.call(90, 12_000, 300, cached=8_000, reasoning=50)
    child.call(100, 9_000, 200, cached=8_500)
    return child


def _write(home: Path, *, as_the_old_reader_saw_them: bool) -> list[Path]:
    """The logs; for the older reader's ledger, without the lines it did not act on: the
    parent's header in the child's copy (its sign of a copy) and the compaction lines."""
    codex = home / ".codex"
    child, compaction = _child(), _remote_compaction()
    if as_the_old_reader_saw_them:
        child.lines = [child.lines[0], *child.lines[2:]]
        compaction.lines = [
            raw
            for raw in compaction.lines
            if b'"token_usage_record"' not in raw and b'"compacted"' not in raw
        ]
    paths = [
        _parent().write(codex_rollout_path(codex, _parent())),
        child.write(codex_rollout_path(codex, child)),
        compaction.write(codex_rollout_path(codex, compaction)),
    ]
    if not as_the_old_reader_saw_them:
        return paths  # the Claude transcript stays as it was
    session = ClaudeSession("claude-beside", cwd="/work/repo")
    edit = tool_use_block("toolu_edit", "Edit", {"file_path": "/work/repo/a.py"})
    session.reply(1, [edit], claude_usage(5000, 100))
    session.tool_result("toolu_edit", "ok", 2)
    session.write(claude_project_dir(home / ".claude", "/work/repo") / "claude-beside.jsonl")
    return paths


def _older_ledger(path: Path) -> None:
    """Back to the version before the upgrade, as the older burnmeter left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(CODEX_COPIES_V15)}")
    conn.close()


def test_an_upgraded_ledger_equals_a_fresh_ingest(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(isolated_home, as_the_old_reader_saw_them=True)
    upgraded_path = tmp_path / "upgraded.sqlite"
    ledger = open_ledger(upgraded_path)
    with monkeypatch.context() as older:
        the_older_writer(older)
        ingest_env(ledger)
    # The older reader counted the copy as the child's (5 Codex calls, not 4 + 1
    # compaction) and no compaction.
    before = ledger.conn.execute(
        "SELECT session_id, count(*) FROM usage_events WHERE agent = 'codex' GROUP BY 1"
    ).fetchall()
    assert sorted(before) == [("019e-compact", 2), ("019f-child", 4), ("019f-parent", 2)]
    claude_offset = ledger.conn.execute(
        "SELECT offset FROM sources WHERE agent = 'claude-code'"
    ).fetchone()
    ledger.close()
    _older_ledger(upgraded_path)
    _write(isolated_home, as_the_old_reader_saw_them=False)

    upgraded = open_ledger(upgraded_path)
    # Every rollout is read again; the Claude log too, by a later step (schema 18).
    assert claude_offset[0] > 0
    assert upgraded.conn.execute(
        "SELECT offset FROM sources WHERE agent = 'claude-code'"
    ).fetchone() == (0,)
    assert upgraded.conn.execute(
        "SELECT count(*) FROM sources WHERE agent = 'codex' AND offset > 0"
    ).fetchone() == (0,)
    ingest_env(upgraded)
    fresh = open_ledger(tmp_path / "fresh.sqlite")
    ingest_env(fresh)
    try:
        assert upgraded.schema_version() == len(MIGRATIONS)
        assert _everything(upgraded) == _everything(fresh)
        after = upgraded.conn.execute(
            "SELECT session_id, count(*) FROM usage_events WHERE agent = 'codex' GROUP BY 1"
        ).fetchall()
        assert sorted(after) == [("019e-compact", 3), ("019f-child", 2), ("019f-parent", 2)]
    finally:
        upgraded.close()
        fresh.close()


TOOLS = (
    "SELECT tool_id, session_id, ts_ms, tool_name, input_hash FROM tool_calls WHERE session_id = ?"
)


def test_the_calls_of_a_rollout_gone_from_disk_stay(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger never drops what it cannot read again: a rollout deleted before the upgrade
    keeps its calls, its session, its tool calls and its plan-limit readings."""
    _write(isolated_home, as_the_old_reader_saw_them=True)
    path = tmp_path / "ledger.sqlite"
    ledger = open_ledger(path)
    with monkeypatch.context() as older:  # its tool calls stayed in the session read from
        the_older_writer(older)
        ingest_env(ledger)
    kept = {
        name: sorted(ledger.conn.execute(sql, ("019f-parent",)).fetchall())
        for name, sql in {
            "calls": "SELECT * FROM usage_events WHERE session_id = ?",
            "session": "SELECT * FROM sessions WHERE session_id = ?",
            "tools": TOOLS,
            "limits": "SELECT * FROM rate_limits WHERE session_id = ?",
            "totals": "SELECT * FROM session_totals WHERE session_id = ?",
        }.items()
    }
    # The older reader linked the parent's last tool call to the child's first call (read
    # in the child's copy).
    links = dict(ledger.conn.execute("SELECT tool_id, event_key FROM tool_calls"))
    assert links["cx:call_spawn"] == "cx:019f-child:62000:43000:1200:250"
    assert kept["calls"] and kept["tools"] and kept["limits"]
    ledger.close()
    _older_ledger(path)
    paths = _write(isolated_home, as_the_old_reader_saw_them=False)
    paths[0].unlink()  # the parent's rollout

    upgraded = open_ledger(path)
    ingest_env(upgraded)
    try:
        for name, sql in {
            "calls": "SELECT * FROM usage_events WHERE session_id = ?",
            "session": "SELECT * FROM sessions WHERE session_id = ?",
            "tools": TOOLS,
            "limits": "SELECT * FROM rate_limits WHERE session_id = ?",
            "totals": "SELECT * FROM session_totals WHERE session_id = ?",
        }.items():
            assert sorted(upgraded.conn.execute(sql, ("019f-parent",)).fetchall()) == kept[name]
        # ... and now waits for a call of its own session, as in the parent's rollout.
        links = dict(upgraded.conn.execute("SELECT tool_id, event_key FROM tool_calls"))
        assert links["cx:call_spawn"] is None
        # The child, still on disk, lost its copy of the parent's calls.
        assert upgraded.conn.execute(
            "SELECT count(*) FROM usage_events WHERE session_id = '019f-child'"
        ).fetchone() == (2,)
    finally:
        upgraded.close()
