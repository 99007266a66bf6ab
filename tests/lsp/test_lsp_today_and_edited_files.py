"""The language server's "today" (all projects, from the 15-minute buckets) for an
explicit "now": from the day's first quarter-hour to its last, not the next day's first;
on a day whose midnight happens twice (Havana turns its clocks back from 01:00 to 00:00),
from the first midnight. And the files a session edited include Codex's `apply_patch`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lsp_server.queries import files_edited, today_cost
from shared.ledger import Ledger, open_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


def _call(ledger: Ledger, moment: datetime, cost: float) -> None:
    """A priced call (the ledger's triggers keep the 15-minute buckets)."""
    ts_ms = int(moment.timestamp() * 1000)
    ledger.conn.execute(
        "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, cost_usd) "
        "VALUES (?, 'claude-code', 's', ?, 'claude-opus-4-5', ?)",
        (f"k{ts_ms}", ts_ms, cost),
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_today_is_its_first_to_its_last_quarter_hour(ledger: Ledger) -> None:
    """Today counts a call at 00:05 and one at 23:50, not one at 23:50 the day before
    nor one at 00:05 the day after."""
    berlin = ZoneInfo("Europe/Berlin")
    _call(ledger, datetime(2026, 6, 14, 23, 50, tzinfo=berlin), 1.0)
    _call(ledger, datetime(2026, 6, 15, 0, 5, tzinfo=berlin), 2.0)
    _call(ledger, datetime(2026, 6, 15, 23, 50, tzinfo=berlin), 4.0)
    _call(ledger, datetime(2026, 6, 16, 0, 5, tzinfo=berlin), 8.0)
    now = _ms(datetime(2026, 6, 15, 12, 0, tzinfo=berlin))
    assert today_cost(ledger.conn, now, berlin) == (6.0, 0)


def test_today_starts_at_the_first_of_two_midnights(ledger: Ledger) -> None:
    """In Havana on 2026-11-01 the clocks go back from 01:00 to 00:00: the day starts at
    the first midnight, so a call at 00:30 before the change is today's."""
    havana = ZoneInfo("America/Havana")
    first = datetime(2026, 11, 1, 0, 30, fold=0, tzinfo=havana)
    assert first.utcoffset() != first.replace(fold=1).utcoffset()  # the rule this pins
    _call(ledger, first, 3.0)
    now = _ms(datetime(2026, 11, 1, 12, 0, tzinfo=havana))
    assert today_cost(ledger.conn, now, havana) == (3.0, 0)


def test_files_edited_include_codex_apply_patch(ledger: Ledger) -> None:
    """A file Codex changed with `apply_patch` is among the session's edited files (which
    the tier hints are shown on), as one Claude Code changed with `Edit`; a file only read
    is not."""
    conn = ledger.conn
    for tool_id, name, path in (
        ("t1", "apply_patch", "/p/codex.py"),
        ("t2", "Edit", "/p/claude.py"),
        ("t3", "Read", "/p/read.py"),
    ):
        conn.execute(
            "INSERT INTO tool_calls (tool_id, session_id, ts_ms, tool_name) VALUES (?, 's', 1, ?)",
            (tool_id, name),
        )
        conn.execute("INSERT INTO tool_files VALUES (?, ?)", (tool_id, path))
    assert sorted(files_edited(conn, "s")) == ["/p/claude.py", "/p/codex.py"]
