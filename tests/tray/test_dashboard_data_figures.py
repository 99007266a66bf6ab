"""The dashboard's data for an explicit "today": the chart's 30 days, the sessions table
(which sessions, newest first, named by their repository, last activity in local time,
each counted whole), the tiers' order, the ledger's last day in the dashboard's zone, and
a session's detail (models by cost, the four main parts of its cost always listed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.pricing import PriceBook
from tests.tray.history import append_call, ingested_ledger
from tray_app.dashboard_data import DashboardData, dashboard_from_ledger, session_detail

TODAY = date(2026, 3, 10)
UTC_ZONE = ZoneInfo("UTC")


def _ms(day: date, hour: int = 12, minute: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _dashboard(zone: ZoneInfo = UTC_ZONE) -> DashboardData:
    ledger = ingested_ledger()
    try:
        return dashboard_from_ledger(ledger, Settings(), zone, TODAY)
    finally:
        ledger.close()


def test_chart_spans_the_30_days_ending_today(isolated_home: Path) -> None:
    """The chart's days are the 30 ending today, the first 29 days back: a call on that
    first day is drawn in its first column."""
    first = TODAY - timedelta(days=29)
    append_call(isolated_home, "old", "/home/dev/chart", _ms(first), 0)
    append_call(isolated_home, "new", "/home/dev/chart", _ms(TODAY), 0)
    data = _dashboard()
    assert data.daily.days[0] == first.isoformat()
    assert data.daily.days[-1] == TODAY.isoformat()
    values = data.daily.values["claude-opus-4-7"]
    assert values[0] > 0 and values[-1] > 0


def test_sessions_table_newest_first_named_by_repo_with_local_last_activity(
    isolated_home: Path,
) -> None:
    """The table lists the newest session first; a session in a sub-folder of a git
    repository is named by the repository's folder; its last activity is its last call's
    time in the dashboard's zone (not its first call's)."""
    repo = isolated_home / "src" / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / "web").mkdir()
    append_call(isolated_home, "first", str(repo / "web"), _ms(TODAY, 9, 0), 0)
    append_call(isolated_home, "first", str(repo / "web"), _ms(TODAY, 10, 30), 1)
    append_call(isolated_home, "second", "/home/dev/other", _ms(TODAY, 11, 0), 0)
    data = _dashboard(ZoneInfo("Asia/Tokyo"))
    assert [row.session_id for row in data.sessions] == ["second", "first"]
    first = data.sessions[1]
    assert first.place == "shop"
    assert first.last_activity_local == "2026-03-10 19:30"  # 10:30 UTC in Tokyo


def test_sessions_table_window_is_90_days_including_today(isolated_home: Path) -> None:
    """A session whose only call was 89 days before today is listed (the 90 days include
    today); one 90 days back is not."""
    append_call(isolated_home, "in", "/home/dev/w", _ms(TODAY - timedelta(days=89)), 0)
    append_call(isolated_home, "out", "/home/dev/w", _ms(TODAY - timedelta(days=90)), 0)
    data = _dashboard()
    assert [row.session_id for row in data.sessions] == ["in"]


def test_session_row_counts_a_call_at_the_windows_end_too(isolated_home: Path) -> None:
    """A listed session with a call at the very first millisecond after the window (the
    next midnight) is counted whole in its row, that call included."""
    tomorrow = TODAY + timedelta(days=1)
    append_call(isolated_home, "span", "/home/dev/s", _ms(TODAY, 23, 0), 0)
    append_call(isolated_home, "span", "/home/dev/s", _ms(tomorrow, 0, 0), 1, input_tokens=5000)
    ledger = ingested_ledger()
    try:
        whole = ledger.conn.execute(
            "SELECT sum(cost_usd), sum(total_tokens) FROM usage_events WHERE session_id = 'span'"
        ).fetchone()
        data = dashboard_from_ledger(ledger, Settings(), UTC_ZONE, TODAY)
    finally:
        ledger.close()
    (row,) = data.sessions
    assert abs(row.cost_usd - whole[0]) < 1e-6
    assert row.total_tokens == whole[1]


def test_tiers_are_listed_most_expensive_first(isolated_home: Path) -> None:
    """The tier breakdown lists the tier that cost most first."""
    append_call(isolated_home, "a", "/home/dev/t", _ms(TODAY, 9), 0, model="claude-haiku-4-5")
    append_call(isolated_home, "b", "/home/dev/t", _ms(TODAY, 10), 0, model="claude-opus-4-5")
    data = _dashboard()
    costs = [cost for _, cost in data.tiers]
    assert len(costs) == 2 and costs[0] > costs[1]
    assert costs == sorted(costs, reverse=True)


def test_a_tier_nothing_was_spent_on_has_no_bar(isolated_home: Path) -> None:
    """Claude Code's `<synthetic>` error replies cost nothing and have no tier: the chart
    showed an empty "unknown $0.00" bar, which read as spend nobody could place."""
    append_call(isolated_home, "a", "/home/dev/t", _ms(TODAY, 9), 0, model="claude-haiku-4-5")
    append_call(isolated_home, "b", "/home/dev/t", _ms(TODAY, 10), 0, model="<synthetic>")
    data = _dashboard()
    assert [tier for tier, _ in data.tiers] == ["economy"]


def test_last_activity_day_is_the_local_day_of_the_latest_call(
    isolated_home: Path,
) -> None:
    """The ledger's last day (said when the windows hold nothing) is the latest call's day
    in the dashboard's zone: 23:30 UTC on the 9th is the 10th in Tokyo."""
    append_call(isolated_home, "late", "/home/dev/l", _ms(date(2025, 6, 9), 23, 30), 0)
    data = _dashboard(ZoneInfo("Asia/Tokyo"))
    assert data.last_activity == date(2025, 6, 10)


def test_session_detail_models_by_cost_and_the_four_main_parts(
    isolated_home: Path,
) -> None:
    """A session's detail lists its models most expensive first, and always lists input,
    output, cache writes and cache reads, even at $0 (this session read no cache)."""
    append_call(isolated_home, "d", "/home/dev/d", _ms(TODAY, 9), 0, model="claude-haiku-4-5")
    append_call(isolated_home, "d", "/home/dev/d", _ms(TODAY, 10), 1, model="claude-opus-4-5")
    ledger = ingested_ledger()
    try:
        detail = session_detail(ledger, PriceBook({}), "d")
    finally:
        ledger.close()
    assert [model for model, _ in detail.models] == [
        "claude-opus-4-5",
        "claude-haiku-4-5",
    ]
    parts = dict(detail.cost_split)
    assert list(parts)[:4] == ["input", "output", "cache writes", "cache reads"]
    assert parts["cache reads"] == 0


def test_a_long_context_call_is_split_at_its_long_context_rates(isolated_home: Path) -> None:
    """A call whose whole prompt (input and cache, 250k tokens) is past the 200k tier is
    priced at the long-context rates, so the detail view splits its cost in those rates'
    shares: at the short-prompt rates (judged by its 150k fresh input alone) output's share
    would be larger, since the tier raises input more than output."""
    at = _ms(TODAY, 9)
    append_call(
        isolated_home,
        "L",
        "/home/dev/l",
        at,
        0,
        model="claude-sonnet-4-5",
        input_tokens=150_000,
        output_tokens=10_000,
        cache_read=100_000,
    )
    ledger = ingested_ledger()
    prices = PriceBook({})
    try:
        detail = session_detail(ledger, prices, "L")
        (cost,) = ledger.conn.execute(
            "SELECT sum(cost_usd) FROM usage_events WHERE session_id = 'L'"
        ).fetchone()
    finally:
        ledger.close()
    unit = prices.prices_for("claude-sonnet-4-5")
    assert unit is not None
    long, short = unit.rate_for(250_000, at), unit.rate_for(150_000, at)
    assert long.input / long.output > short.input / short.output  # the tier tells them apart
    parts = {
        "input": 150_000 * long.input,
        "output": 10_000 * long.output,
        "cache reads": 100_000 * long.cache_read,
    }
    split = dict(detail.cost_split)
    for name, part in parts.items():
        assert split[name] == pytest.approx(cost * part / sum(parts.values()), rel=1e-9)
