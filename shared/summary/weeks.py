"""ISO weeks in a time zone: parsing `2026-W07`, the last complete week, and exact bounds.

A week runs from local Monday 00:00 to the next Monday 00:00 in the chosen zone, so a
week containing a DST change is 167 or 169 hours long; bounds come from the zone's rules
for each of the two Mondays, never from "start + 7 × 24 h".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEK_PATTERN = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


class WeekError(ValueError):
    """A week label that is not `YYYY-Www` or names no such week."""


@dataclass(frozen=True, slots=True)
class IsoWeek:
    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=offset) for offset in range(7)]

    def previous(self) -> IsoWeek:
        return week_of(self.monday - timedelta(days=7))

    def next(self) -> IsoWeek:
        return week_of(self.monday + timedelta(days=7))

    def start(self, tz: ZoneInfo) -> datetime:
        """Local Monday 00:00 as an aware datetime."""
        return datetime.combine(self.monday, datetime.min.time(), tz)

    def end(self, tz: ZoneInfo) -> datetime:
        """The next local Monday 00:00 (exclusive end)."""
        return self.next().start(tz)

    def bounds_ms(self, tz: ZoneInfo) -> tuple[int, int]:
        return _ms(self.start(tz)), _ms(self.end(tz))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def week_of(day: date) -> IsoWeek:
    year, week, _ = day.isocalendar()
    return IsoWeek(year, week)


def parse_week(text: str) -> IsoWeek:
    match = WEEK_PATTERN.match(text.strip())
    if not match:
        raise WeekError(f"expected an ISO week such as 2026-W07, got {text!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise WeekError(f"{year} has no ISO week {week:02d}") from exc
    if not 1971 <= year <= 9998:
        # The summary also reads the weeks either side, which Python's dates cannot reach
        # at the ends of their range.
        raise WeekError(f"expected a week from 1971 to 9998, got {text!r}")
    return IsoWeek(year, week)


def last_complete_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The most recent week that ended before `now`, in `tz`."""
    return week_of(now.astimezone(tz).date()).previous()
