"""The tray snapshot's figures, read at a fixed "now" from a small ledger: the week and
month sums, the running sessions (which, in what order, named how, since when, with which
model), the active block and the plan-limit windows that still apply."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ledger import Ledger
from shared.reports import RUNNING_WINDOW_MS
from tests.tray.history import append_call, ingested_ledger
from tray_app.snapshot import TraySnapshot, snapshot_from_ledger, with_extras

UTC_ZONE = ZoneInfo("UTC")
# Tuesday 2026-03-10, noon UTC: the week began on Monday the 9th, the month on the 1st.
NOW_MS = int(datetime(2026, 3, 10, 12, 0, tzinfo=UTC).timestamp() * 1000)
MINUTE_MS = 60_000


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def _snapshot(ledger: Ledger, extras: bool = False) -> TraySnapshot:
    snap = snapshot_from_ledger(ledger, Settings(), UTC_ZONE, NOW_MS)
    return with_extras(ledger, Settings(), snap) if extras else snap


def _cost_between(ledger: Ledger, start_ms: int, end_ms: int) -> float:
    row = ledger.conn.execute(
        "SELECT sum(cost_usd) FROM usage_events WHERE ts_ms >= ? AND ts_ms < ?",
        (start_ms, end_ms),
    ).fetchone()
    return float(row[0])


def test_today_week_and_month_sums_are_each_their_own_period(
    isolated_home: Path,
) -> None:
    """Today, this week (from Monday) and this month are three sums: a call on Monday
    counts in the week and the month, one on the 3rd in the month only, one in February
    in none (the week's figure is not the month's)."""
    at = [
        _ms(2026, 3, 10, 11, 0),  # today
        _ms(2026, 3, 9, 10, 0),  # Monday: this week
        _ms(2026, 3, 3, 10, 0),  # this month, last week
        _ms(2026, 2, 25, 10, 0),  # last month
    ]
    for n, ts in enumerate(at):
        append_call(
            isolated_home,
            f"p-{n}",
            "/home/dev/periods",
            ts,
            n,
            input_tokens=1000 * (n + 1),
        )
    ledger = ingested_ledger()
    try:
        snap = _snapshot(ledger)
        today = _cost_between(ledger, _ms(2026, 3, 10), _ms(2026, 3, 11))
        week = _cost_between(ledger, _ms(2026, 3, 9), _ms(2026, 3, 16))
        month = _cost_between(ledger, _ms(2026, 3, 1), _ms(2026, 4, 1))
    finally:
        ledger.close()
    assert today < week < month
    assert abs(snap.today_usd - today) < 1e-9
    assert abs(snap.week_usd - week) < 1e-9
    assert abs(snap.month_usd - month) < 1e-9


def test_running_sessions_newest_first_with_start_place_and_latest_model(
    isolated_home: Path,
) -> None:
    """Running sessions are those with a call in the last ten minutes (a call exactly ten
    minutes ago still counts), newest call first; each named by its git repository's folder
    (not the sub-folder it ran in), started at its first call and shown with the model of
    its latest call."""
    repo = isolated_home / "src" / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / "web").mkdir()
    cwd = str(repo / "web")
    # "older": began 40 minutes ago on sonnet, last call (opus) 6 minutes ago.
    append_call(
        isolated_home,
        "older",
        cwd,
        NOW_MS - 40 * MINUTE_MS,
        0,
        model="claude-sonnet-4-5",
    )
    append_call(isolated_home, "older", cwd, NOW_MS - 6 * MINUTE_MS, 1, model="claude-opus-4-5")
    # "newer": one call two minutes ago.
    append_call(isolated_home, "newer", "/home/dev/other", NOW_MS - 2 * MINUTE_MS, 0)
    # "edge": its last call exactly at the window's edge.
    append_call(isolated_home, "edge", "/home/dev/edge", NOW_MS - RUNNING_WINDOW_MS, 0)
    # "idle": a second older than that.
    append_call(isolated_home, "idle", "/home/dev/idle", NOW_MS - RUNNING_WINDOW_MS - 1000, 0)
    ledger = ingested_ledger()
    try:
        snap = _snapshot(ledger)
    finally:
        ledger.close()
    assert [s.session_id for s in snap.running] == ["newer", "older", "edge"]
    older = snap.running[1]
    assert older.place == "shop"
    assert older.started_ms == NOW_MS - 40 * MINUTE_MS
    assert older.last_ms == NOW_MS - 6 * MINUTE_MS
    assert older.model == "claude-opus-4-5"


def test_block_is_active_with_a_call_four_hours_ago(isolated_home: Path) -> None:
    """A 5-hour block whose last call was four hours ago is still active: the tray shows
    it (the quick look-up before the block's computation spans the whole five hours)."""
    append_call(isolated_home, "block", "/home/dev/block", NOW_MS - 4 * 60 * MINUTE_MS, 0)
    ledger = ingested_ledger()
    try:
        snap = _snapshot(ledger, extras=True)
    finally:
        ledger.close()
    assert snap.block is not None


def _reading(ledger: Ledger, ts_ms: int, rows: tuple[object, ...]) -> None:
    conn: sqlite3.Connection = ledger.conn
    conn.execute(
        "INSERT INTO rate_limits VALUES ('claude-code', 'lim', ?, ?, ?, ?, ?, ?, ?, NULL)",
        (ts_ms, *rows),
    )


def test_plan_limits_show_both_windows_and_drop_a_reset_one(
    isolated_home: Path,
) -> None:
    """The latest plan-limit reading gives both of its windows (5 hours and 7 days) while
    they have not reset; a window whose reset time has passed is left out."""
    append_call(isolated_home, "lim", "/home/dev/limits", NOW_MS - MINUTE_MS, 0)
    ledger = ingested_ledger()
    try:
        later_s = (NOW_MS + 60 * MINUTE_MS) // 1000
        week_s = (NOW_MS + 3 * 24 * 60 * MINUTE_MS) // 1000
        _reading(ledger, NOW_MS - MINUTE_MS, (40.0, 300, later_s, 20.0, 10080, week_s))
        both = _snapshot(ledger, extras=True).plan_limits
        past_s = (NOW_MS - 30 * MINUTE_MS) // 1000
        _reading(ledger, NOW_MS - 1000, (90.0, 300, past_s, 25.0, 10080, week_s))
        one = _snapshot(ledger, extras=True).plan_limits
    finally:
        ledger.close()
    assert sorted((p.window_minutes, p.used_percent) for p in both) == [
        (300, 40.0),
        (10080, 20.0),
    ]
    assert [(p.window_minutes, p.used_percent) for p in one] == [(10080, 25.0)]
