"""Timestamps as the agents write them, and the odd ones, into epoch milliseconds."""

from __future__ import annotations

import calendar

import pytest

from shared.sources.timeutil import iso_to_ms


def _ms(year: int, month: int, day: int, hour: int, minute: int, second: int, ms: int) -> int:
    return calendar.timegm((year, month, day, hour, minute, second)) * 1000 + ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-18T13:19:11.336Z", _ms(2026, 4, 18, 13, 19, 11, 336)),  # Claude Code, Codex
        ("2026-04-18T13:19:11Z", _ms(2026, 4, 18, 13, 19, 11, 0)),
        ("2026-04-18T13:19:11.336512Z", _ms(2026, 4, 18, 13, 19, 11, 336)),
        ("2026-04-18T15:19:11.336+02:00", _ms(2026, 4, 18, 13, 19, 11, 336)),
        ("2026-04-18T13:19:11.336", _ms(2026, 4, 18, 13, 19, 11, 336)),  # no offset: UTC
        ("2026-12-31T23:59:59.999Z", _ms(2026, 12, 31, 23, 59, 59, 999)),
        ("1970-01-02T00:00:00.001Z", 86_400_001),  # the first day every zone can show
        ("9998-12-31T23:59:59.999Z", _ms(9998, 12, 31, 23, 59, 59, 999)),
        ("2026-06-10T12:00:00.123456789Z", _ms(2026, 6, 10, 12, 0, 0, 123)),
    ],
)
def test_timestamps_read_to_the_millisecond(text: str, expected: int) -> None:
    assert iso_to_ms(text) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "Z",
        "yesterday",
        "2026-13-45T99:99:99.999Z",
        "2026-04-18T13:60:00.000Z",
        5,
        [1],
        # Epoch milliseconds as text: fromisoformat read this as 1781-09-28.
        "1781092800000",
        "20260610T120000Z",
        # Dates no report can show in every zone (a local day before 1970 or after 9999):
        # the reports ended in an OverflowError on them.
        "0001-01-01T00:00:00.000Z",
        "1970-01-01T00:00:00.001Z",
        "9999-12-31T23:00:00.000Z",
        "9999-01-01T00:00:00.000Z",
    ],
)
def test_what_is_not_a_timestamp_is_none(value: object) -> None:
    assert iso_to_ms(value) is None
