"""The usage half of the weekly summary: tokens and cost per day × agent × model, by repo,
top sessions and cache efficiency, read from the ledger for one week in one zone.

Day totals come from the same 15-minute `usage_buckets` and the same local-day rule as
`burnmeter report`, so the two always agree for the same week and zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from shared.ledger import Ledger
from shared.pricing import PriceBook
from shared.reports import (
    BUCKET_SUMS,
    Filters,
    Totals,
    _merge,
    local_day,
    sessions_report,
)
from shared.schema import BUCKET_MS
from shared.summary.weeks import IsoWeek

TOP_SESSIONS = 10
TOP_REPOS = 10


@dataclass(frozen=True, slots=True)
class UsageKey:
    day: date
    agent: str
    model: str


@dataclass
class WeekUsage:
    """Every call of the week, summed per local day × agent × model."""

    cells: dict[UsageKey, Totals] = field(default_factory=dict)

    def total(self) -> Totals:
        return _sum(self.cells.values())

    def by_day(self, days: Iterable[date]) -> dict[date, Totals]:
        out = {day: Totals() for day in days}
        for key, totals in self.cells.items():
            _merge(out.setdefault(key.day, Totals()), totals)
        return out

    def by_agent(self) -> dict[str, Totals]:
        return self._group(lambda key: key.agent)

    def by_day_agent(self) -> dict[tuple[date, str], Totals]:
        return self._group(lambda key: (key.day, key.agent))

    def _group(self, key_of: Any) -> dict[Any, Totals]:
        out: dict[Any, Totals] = {}
        for key, totals in self.cells.items():
            _merge(out.setdefault(key_of(key), Totals()), totals)
        return dict(sorted(out.items(), key=lambda item: -item[1].cost_usd))


def _sum(parts: Iterable[Totals]) -> Totals:
    total = Totals()
    for part in parts:
        _merge(total, part)
    return total


def week_usage(ledger: Ledger, week: IsoWeek, tz: ZoneInfo) -> WeekUsage:
    start_ms, end_ms = week.bounds_ms(tz)
    # Local midnight falls on a bucket edge in every zone (offsets are multiples of 15 min),
    # so the week's buckets are exactly those between its two bounds.
    low, high = start_ms // BUCKET_MS, -(-end_ms // BUCKET_MS)
    rows = ledger.conn.execute(
        f"SELECT bucket, agent, model, {BUCKET_SUMS} FROM usage_buckets "
        "WHERE bucket >= ? AND bucket < ? AND calls != 0 GROUP BY bucket, agent, model",
        (low, high),
    ).fetchall()
    usage = WeekUsage()
    days: dict[int, date] = {}
    first, last = week.monday, week.sunday
    for bucket, agent, model, *sums in rows:
        day = days.get(bucket)
        if day is None:
            day = days[bucket] = local_day(bucket * BUCKET_MS, tz)
        if not first <= day <= last:
            continue
        usage.cells.setdefault(UsageKey(day, agent, model), Totals()).add_row(sums)
    return usage


def week_filters(week: IsoWeek, tz: ZoneInfo) -> Filters:
    return Filters(since=week.monday, until=week.sunday, tz=tz)


@dataclass
class CacheEfficiency:
    """How much of the input side was served from the prompt cache, and what that saved
    against paying the full input price for the same tokens."""

    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    saved_usd: float = 0.0
    unpriced_cache_read_tokens: int = 0

    @property
    def input_side_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def share_from_cache(self) -> float | None:
        side = self.input_side_tokens
        return self.cache_read_tokens / side if side else None

    def as_json(self) -> dict[str, Any]:
        share = self.share_from_cache
        return {
            "input_side_tokens": self.input_side_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "uncached_input_tokens": self.input_tokens,
            "share_from_cache": None if share is None else round(share, 4),
            "saved_usd": round(self.saved_usd, 6),
            "unpriced_cache_read_tokens": self.unpriced_cache_read_tokens,
        }


def cache_efficiency(
    ledger: Ledger, week: IsoWeek, tz: ZoneInfo, book: PriceBook
) -> CacheEfficiency:
    start_ms, end_ms = week.bounds_ms(tz)
    result = CacheEfficiency()
    rows = ledger.conn.execute(
        """SELECT model, speed, free, input_tokens, cache_write_5m_tokens + cache_write_1h_tokens,
                  cache_read_tokens, ts_ms
           FROM usage_events WHERE ts_ms >= ? AND ts_ms < ?""",
        (start_ms, end_ms),
    )
    for model, speed, free, uncached, written, read, ts_ms in rows:
        result.input_tokens += uncached
        result.cache_write_tokens += written
        result.cache_read_tokens += read
        if not read or free:
            continue
        prices = book.prices_for(model, speed)
        if prices is None:
            result.unpriced_cache_read_tokens += read
            continue
        # Long-context rates apply to the whole request, so the rate depends on its size.
        rate = prices.rate_for(uncached + written + read, ts_ms)
        result.saved_usd += read * max(0.0, rate.input - rate.cache_read)
    return result


def top_sessions(ledger: Ledger, week: IsoWeek, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The week's sessions by cost inside the week, most expensive first (all of them; the
    renderers show the top few)."""
    rows: list[dict[str, Any]] = sessions_report(ledger, week_filters(week, tz))["sessions"]
    rows.sort(key=lambda row: (-row["cost_usd"], row["session_id"]))
    return rows
