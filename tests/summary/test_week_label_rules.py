"""Week labels given to `burnmeter summary --week`: the `W` may be either case, and the
years at the ends of the range (whose neighbouring weeks Python's dates or the platform's
timestamps cannot reach) are refused when parsed, not after."""

from __future__ import annotations

import pytest

from shared.summary.weeks import IsoWeek, WeekError, parse_week


@pytest.mark.parametrize("text", ["2026-w07", "2026w07", "2026-W07", " 2026W07 "])
def test_a_week_label_is_read_in_either_case(text: str) -> None:
    assert parse_week(text) == IsoWeek(2026, 7)


@pytest.mark.parametrize("text", ["1970-W02", "9999-W51", "1970-W53"])
def test_weeks_outside_1971_to_9998_are_refused(text: str) -> None:
    with pytest.raises(WeekError):
        parse_week(text)


@pytest.mark.parametrize("text", ["1971-W01", "9998-W52"])
def test_the_first_and_last_years_are_accepted(text: str) -> None:
    week = parse_week(text)
    assert week.previous().next() == week
