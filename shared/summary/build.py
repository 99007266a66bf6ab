"""Assemble one week's summary as a JSON-ready dict; every renderer reads only this dict,
so Markdown, HTML, JSON and CSV always show the same numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.insights.reporting import repo_key
from shared.insights.tiers import TierPolicy
from shared.ledger import Ledger
from shared.machine_key import machine_key
from shared.pricing import PriceBook, price_cache_file
from shared.reports import Totals, models_report, repos_report
from shared.summary import insight_parts
from shared.summary.redact import PathShower
from shared.summary.usage import (
    TOP_SESSIONS,
    cache_efficiency,
    top_sessions,
    week_filters,
    week_usage,
)
from shared.summary.weeks import IsoWeek, last_complete_week
from shared.timezones import resolve_zone


def _totals_json(totals: Totals) -> dict[str, Any]:
    return {**totals.as_json(), "calls": totals.calls}


def _change(current: float, previous: float) -> float | None:
    return None if not previous else round((current - previous) / previous, 4)


def build_summary(
    ledger: Ledger,
    settings: Settings,
    week: IsoWeek | None = None,
    tz: ZoneInfo | None = None,
    *,
    redact: bool = False,
    now: datetime | None = None,
    prices: PriceBook | None = None,
) -> dict[str, Any]:
    zone = resolve_zone(settings.timezone, tz)
    now = now or datetime.now(UTC)
    week = week or last_complete_week(now, zone)
    book = prices or PriceBook(settings.price_overrides(), cache_file=price_cache_file(ledger.path))
    show = PathShower(redact, machine_key(ledger.path.parent) if redact else b"")

    usage = week_usage(ledger, week, zone)
    total = usage.total()
    previous = week_usage(ledger, week.previous(), zone).total()
    sessions = top_sessions(ledger, week, zone)
    policy = TierPolicy.from_settings(settings)
    insights = insight_parts.week_insights(ledger, settings, sessions, book, policy)
    # `report models`' own rows: summed per 15 minutes in time order, as that report sums
    # them (added up from the days, a cost could round the other way at 6 decimals).
    models = models_report(ledger, week_filters(week, zone))["models"]
    repos = repos_report(ledger, week_filters(week, zone))["repos"]
    insight_parts.repo_commits(repos, sessions, insights)

    summary: dict[str, Any] = {
        "week": week.label,
        "start": week.start(zone).isoformat(),
        "end": week.end(zone).isoformat(),
        "timezone": zone.key,
        "first_day": week.monday.isoformat(),
        "last_day": week.sunday.isoformat(),
        "generated_at": now.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "redacted": redact,
        **_totals_json(total),
        "sessions": len(sessions),
        "previous_week": {"week": week.previous().label, **_totals_json(previous)},
        "change": {
            "cost_usd": round(total.cost_usd - previous.cost_usd, 6),
            "cost_ratio": _change(total.cost_usd, previous.cost_usd),
            "total_tokens": total.total_tokens - previous.total_tokens,
            "total_tokens_ratio": _change(total.total_tokens, previous.total_tokens),
        },
        "days": [
            {"date": day.isoformat(), "weekday": day.strftime("%a"), **_totals_json(totals)}
            for day, totals in sorted(usage.by_day(week.days()).items())
        ],
        "agents": [
            {"agent": agent, **_totals_json(totals)} for agent, totals in usage.by_agent().items()
        ],
        "models": models,
        "tiers": insight_parts.tiers(models, policy),
        "repos": [{**row, "repo": show.repo(row["repo"])} for row in repos],
        "top_sessions": [
            {
                **_session_row(row, show),
                **insight_parts.session_extras(insights.get(row["session_id"]), show),
            }
            for row in sessions[:TOP_SESSIONS]
        ],
        "outcomes": insight_parts.outcomes(sessions, insights),
        "tier_hints": insight_parts.tier_hints(sessions, insights, show),
        "flags": insight_parts.flags(sessions, insights, show),
        "cache": cache_efficiency(ledger, week, zone, book).as_json(),
        "plan_limits": insight_parts.plan_limit_peaks(ledger, week, zone),
        "leverage": insight_parts.subscription_leverage(
            ledger, settings, week, zone, total.cost_usd
        ),
        "budgets": insight_parts.budgets(ledger, settings, week, zone),
        "usage": [
            {
                "date": key.day.isoformat(),
                "agent": key.agent,
                "model": key.model,
                **_totals_json(totals),
            }
            for key, totals in sorted(
                usage.cells.items(), key=lambda item: (item[0].day, item[0].agent, item[0].model)
            )
        ],
    }
    _money_as_floats(summary)
    return summary


def _money_as_floats(value: Any) -> None:
    """Every money field (a key ending in `_usd`) a float: a sum of nothing (no flags, no
    hints) was the integer 0, beside 0.0 elsewhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_usd") and type(item) is int:
                value[key] = float(item)
            else:
                _money_as_floats(item)
    elif isinstance(value, list):
        for item in value:
            _money_as_floats(item)


def _session_row(row: dict[str, Any], show: PathShower) -> dict[str, Any]:
    return {
        "session_id": row["session_id"],
        "agent": row["agent"],
        "repo": show.repo(repo_key(row)),
        "models": row["models"],
        "first_activity": row["first_activity"],
        "last_activity": row["last_activity"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cache_write_tokens": row["cache_write_tokens"],
        "cache_read_tokens": row["cache_read_tokens"],
        "total_tokens": row["total_tokens"],
        "cost_usd": row["cost_usd"],
        "unpriced_calls": row.get("unpriced_calls", 0),
        "tool_calls": row["tool_calls"],
        "tool_errors": row["tool_errors"],
        # A count here (`report sessions` lists the paths): the name says so.
        "files_touched_count": len(row["files_touched"]),
    }
