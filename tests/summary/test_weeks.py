"""ISO week parsing and bounds, across zones and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.summary.weeks import IsoWeek, WeekError, last_complete_week, parse_week, week_of

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR_MS = 3_600_000


def test_parse_week_accepts_iso_labels_and_rejects_others() -> None:
    assert parse_week("2026-W07") == IsoWeek(2026, 7)
    assert parse_week("2026W07") == IsoWeek(2026, 7)
    assert parse_week("2026-W53") == IsoWeek(2026, 53)  # 2026 has 53 ISO weeks
    with pytest.raises(WeekError, match="no ISO week 53"):
        parse_week("2027-W53")
    with pytest.raises(WeekError, match="expected an ISO week"):
        parse_week("2026-07")


def test_iso_week_of_days_around_new_year() -> None:
    # 2027-01-01 is a Friday: it belongs to 2026-W53, and 2025-12-29 (Monday) to 2026-W01.
    assert week_of(date(2027, 1, 1)).label == "2026-W53"
    assert week_of(date(2025, 12, 29)).label == "2026-W01"
    assert IsoWeek(2026, 1).previous().label == "2025-W52"


@pytest.mark.parametrize(
    ("week", "zone", "hours", "start"),
    [
        # Berlin springs forward on Sunday 29 March 2026: the week is an hour short.
        ("2026-W13", BERLIN, 167, "2026-03-23T00:00:00+01:00"),
        # ...and falls back on Sunday 25 October 2026: an hour long.
        ("2026-W43", BERLIN, 169, "2026-10-19T00:00:00+02:00"),
        ("2026-W44", BERLIN, 168, "2026-10-26T00:00:00+01:00"),
        # New York: 8 March and 1 November 2026.
        ("2026-W10", NEW_YORK, 167, "2026-03-02T00:00:00-05:00"),
        ("2026-W44", NEW_YORK, 169, "2026-10-26T00:00:00-04:00"),
        ("2026-W46", ZoneInfo("UTC"), 168, "2026-11-09T00:00:00+00:00"),
    ],
)
def test_week_bounds_follow_the_zone_rules(
    week: str, zone: ZoneInfo, hours: int, start: str
) -> None:
    parsed = parse_week(week)
    low, high = parsed.bounds_ms(zone)
    assert (high - low) // HOUR_MS == hours
    assert parsed.start(zone).isoformat() == start
    assert datetime.fromtimestamp(low / 1000, UTC) == datetime.fromisoformat(start)


def test_last_complete_week_depends_on_the_zone() -> None:
    # Monday 2026-11-09 00:30 in Berlin is still Sunday 23:30 in UTC.
    now = datetime(2026, 11, 8, 23, 30, tzinfo=UTC)
    assert last_complete_week(now, BERLIN).label == "2026-W45"
    assert last_complete_week(now, ZoneInfo("UTC")).label == "2026-W44"
    # Sunday evening in New York is Monday in UTC.
    now = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    assert last_complete_week(now, NEW_YORK).label == "2026-W43"
    assert last_complete_week(now, ZoneInfo("UTC")).label == "2026-W44"
