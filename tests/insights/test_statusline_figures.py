"""The status line's figures for an explicit "now": today's spend (its day's bounds in a
configured zone across a clock change and in the machine's zone, and its unpriced calls),
the plan-limit percentages (rounded, and the stored reading used only when Claude Code
reports neither window), and what a reading records (context tokens, absurd costs)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.commands.statusline_cmd import record_status, status_line, today_spend
from shared.ledger import Ledger, open_ledger

MINUTE = 60_000


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


def _call(ledger: Ledger, ts_ms: int, cost: float | None) -> None:
    """A call at `ts_ms` (the ledger's triggers keep the 15-minute buckets); None: a call
    of a model with no price."""
    ledger.conn.execute(
        "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, cost_usd, priced)"
        " VALUES (?, 'claude-code', 's', ?, 'claude-opus-4-5', ?, ?)",
        (f"k{ts_ms}-{cost}", ts_ms, cost, 0 if cost is None else 1),
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_today_in_a_zone_ends_at_the_next_midnight_on_a_short_day(
    ledger: Ledger,
) -> None:
    """On the day Berlin's clocks go forward (23 hours long) today ends at the next local
    midnight: a call at 00:30 the next day is not today's, one at 23:50 is, and nothing of
    the next day's first quarter-hour counts."""
    berlin = ZoneInfo("Europe/Berlin")
    _call(ledger, _ms(datetime(2026, 3, 29, 23, 50, tzinfo=berlin)), 2.0)
    _call(ledger, _ms(datetime(2026, 3, 30, 0, 5, tzinfo=berlin)), 5.0)
    _call(ledger, _ms(datetime(2026, 3, 30, 0, 30, tzinfo=berlin)), 7.0)
    now = _ms(datetime(2026, 3, 29, 12, 0, tzinfo=berlin))
    assert today_spend(ledger.conn, now, "Europe/Berlin") == (2.0, 0)


def test_today_in_the_machines_zone_includes_its_last_quarter_hour(
    ledger: Ledger,
) -> None:
    """Without a configured zone, today is the machine's local day, up to its last
    quarter-hour: a call at 23:50 local time counts, one at 00:05 the next day does not."""
    local_ms = lambda *hms: int(time.mktime((2026, 6, 15, *hms, 0, 0, -1)) * 1000)  # noqa: E731
    _call(ledger, local_ms(23, 50, 0), 3.0)
    tomorrow = int(time.mktime((2026, 6, 16, 0, 5, 0, 0, 0, -1)) * 1000)
    _call(ledger, tomorrow, 4.0)
    assert today_spend(ledger.conn, local_ms(12, 0, 0), "") == (3.0, 0)


def test_status_line_says_todays_unpriced_calls(ledger: Ledger) -> None:
    """Today's calls of a model with no price are said beside today's cost."""
    now = int(time.time() * 1000)
    _call(ledger, now - MINUTE, 1.5)
    _call(ledger, now - MINUTE + 1, None)
    line = status_line(ledger.conn, {}, now, remember=False)
    assert "today $1.50 (+1 unpriced)" in line


def test_plan_percentages_are_rounded(ledger: Ledger) -> None:
    """Plan-limit use is rounded to a whole percent: 55.6% shows as 56%."""
    status = {"rate_limits": {"five_hour": {"used_percentage": 55.6}}}
    line = status_line(ledger.conn, status, int(time.time() * 1000), remember=False)
    assert line.endswith("5h 56%")


def test_one_reported_window_does_not_bring_back_the_stored_reading(
    ledger: Ledger,
) -> None:
    """When Claude Code reports the 5-hour window only, the line shows that window alone:
    the stored reading (both windows) stands in only when neither is reported."""
    now = int(time.time() * 1000)
    reading = {
        "session_id": "s",
        "rate_limits": {
            "five_hour": {"used_percentage": 10, "resets_at": now // 1000 + 3600},
            "seven_day": {"used_percentage": 20, "resets_at": now // 1000 + 86400},
        },
    }
    record_status(ledger.conn, reading, now - MINUTE)
    assert status_line(ledger.conn, {}, now, remember=False).endswith("5h 10% · 7d 20%")
    only_five = {"rate_limits": {"five_hour": {"used_percentage": 55}}}
    assert status_line(ledger.conn, only_five, now, remember=False).endswith("5h 55%")


def _recorded(ledger: Ledger) -> tuple[object, ...]:
    return ledger.conn.execute(
        "SELECT context_used_tokens, session_cost_usd FROM statusline WHERE session_id = 's'"
    ).fetchone()


def test_context_tokens_sum_the_reported_counts_even_with_a_zero(
    ledger: Ledger,
) -> None:
    """The context in use is the sum of the last call's prompt counts, a zero among them
    included (not the rounded share Claude Code reports beside them)."""
    status = {
        "session_id": "s",
        "context_window": {
            "context_window_size": 200_000,
            "used_percentage": 50,
            "current_usage": {
                "input_tokens": 100,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 40_000,
            },
        },
    }
    record_status(ledger.conn, status, 1_000)
    assert _recorded(ledger)[0] == 40_100


def test_context_tokens_from_the_share_are_rounded(ledger: Ledger) -> None:
    """Without counts, the context in use is the reported share of the window, rounded to
    the nearest token (1/3 of 200,000 is 66,667)."""
    status = {
        "session_id": "s",
        "context_window": {"context_window_size": 200_000, "used_percentage": 100 / 3},
    }
    record_status(ledger.conn, status, 1_000)
    assert _recorded(ledger)[0] == 66_667


def test_an_absurd_negative_cost_is_neither_recorded_nor_shown(ledger: Ledger) -> None:
    """A session cost beyond any real one, negative as positive, is noise: not recorded,
    and the line has no session part."""
    status = {"session_id": "s", "cost": {"total_cost_usd": -1e16}}
    record_status(ledger.conn, status, 1_000)
    assert _recorded(ledger)[1] is None
    assert "session" not in status_line(ledger.conn, status, 2_000, remember=False)


def test_block_time_left_is_to_the_nearest_minute_as_budgets_and_the_tray_say_it(
    ledger: Ledger,
) -> None:
    """The time left in the 5-hour block is rounded to the nearest minute, as `burnmeter
    budgets` and the tray's countdown round it: 30 min 36 s reads `31m` (it read `30m`
    beside the tray's "31 min"), 30 min 24 s `30m`, 4 h 24 min 40 s `4h25m`."""
    hour = 60 * MINUTE
    start = 1_780_000_000_000 - 1_780_000_000_000 % hour
    _call(ledger, start + 10 * MINUTE, 1.0)
    end = start + 5 * hour
    for left_ms, shown in (
        (30 * MINUTE + 36_000, "31m"),
        (30 * MINUTE + 24_000, "30m"),
        (4 * hour + 24 * MINUTE + 40_000, "4h25m"),
    ):
        line = status_line(ledger.conn, {}, end - left_ms, remember=False)
        assert f"block {shown} left" in line


def test_today_rounds_a_half_cent_as_the_reports_do(ledger: Ledger) -> None:
    """Today's calls of $0.03 and $0.255 sum to 0.28500000000000003 in floating point: the
    reports round every cost to 6 decimals first, 0.285, and show $0.28; the status line
    said $0.29."""
    now = int(time.time() * 1000)
    _call(ledger, now - MINUTE, 0.03)
    _call(ledger, now - MINUTE + 1, 0.255)
    assert "today $0.28" in status_line(ledger.conn, {}, now, remember=False)
