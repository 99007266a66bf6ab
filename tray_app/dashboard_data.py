"""What the dashboard shows, read from the ledger on a worker thread. No Qt here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.insights.budgets import Leverage, leverage
from shared.insights.tiers import TierPolicy
from shared.ledger import Ledger, open_ledger
from shared.pricing import PriceBook, price_cache_file
from shared.reports import (
    Filters,
    models_report,
    period_report,
    range_ms,
    repos_report,
    sessions_report,
)
from tray_app.charts import StackedDays

CHART_DAYS = 30
# The sessions table lists the sessions active in this many days (each with all of its
# calls, as `burnmeter report sessions` counts them), so a years-long ledger stays quick
# to open.
SESSION_DAYS = 90
# How a session's cost splits in its detail view.
SPLIT_PARTS = ("input", "output", "cache writes", "cache reads", "web searches")
SPLIT_ALL = (*SPLIT_PARTS, "at earlier prices")


@dataclass
class SessionRow:
    session_id: str
    agent: str
    place: str
    branch: str
    models: list[str]
    first_activity: str
    last_activity: str
    last_activity_local: str
    total_tokens: int
    cost_usd: float
    tool_calls: int
    tool_errors: int
    unpriced_calls: int = 0


@dataclass
class DashboardData:
    today: date
    calls: int
    daily: StackedDays
    repos: list[tuple[str, float]]
    tiers: list[tuple[str, float]]
    sessions: list[SessionRow]
    leverage: Leverage
    tier_problems: list[str] = field(default_factory=list)
    # The local day of the ledger's latest call (None: no calls): said when the windows
    # above hold none, so an old ledger's dashboard is not a set of blank boxes.
    last_activity: date | None = None


@dataclass(frozen=True)
class FlagRow:
    """A runaway flag of a session, as its detail view says it."""

    key: str  # Flag.key: what an alert's DashboardTarget.flag_key names
    kind: str
    evidence: str
    cost_usd: float
    when: str  # "12:07–12:09" in the tray's zone, with the date when not today


@dataclass
class SessionDetail:
    session_id: str
    models: list[tuple[str, float]]
    tools: list[tuple[str, int]]
    files: list[str]
    cost_split: list[tuple[str, float]]
    unpriced_calls: int
    flags: list[FlagRow] = field(default_factory=list)


def read_dashboard(
    ledger_file: Path, settings: Settings, tz: ZoneInfo, today: date | None = None
) -> DashboardData:
    ledger = open_ledger(ledger_file)
    try:
        return dashboard_from_ledger(ledger, settings, tz, today)
    finally:
        ledger.close()


def dashboard_from_ledger(
    ledger: Ledger, settings: Settings, tz: ZoneInfo, today: date | None = None
) -> DashboardData:
    today = today or datetime.now(tz).date()
    since = today - timedelta(days=CHART_DAYS - 1)
    window = Filters(since=since, until=today, tz=tz)

    days = [(since + timedelta(days=i)).isoformat() for i in range(CHART_DAYS)]
    stacked = StackedDays(days)
    index = {day: i for i, day in enumerate(days)}
    for row in period_report(ledger, "daily", window)["daily"]:
        for model, totals in row["models"].items():
            values = stacked.values.setdefault(model, [0.0] * CHART_DAYS)
            values[index[row["date"]]] += float(totals["cost_usd"])

    repos = [
        (Path(r["repo"]).name or r["repo"] or "(no folder)", float(r["cost_usd"]))
        for r in repos_report(ledger, window)["repos"]
    ]

    tiers, tier_problems = tier_costs(ledger, settings, window)

    session_window = Filters(since=today - timedelta(days=SESSION_DAYS - 1), until=today, tz=tz)
    sessions = [_session_row(r, tz) for r in active_sessions(ledger, session_window)]
    sessions.reverse()  # newest first

    value = leverage(ledger, settings, today, tz)
    calls, latest = ledger.conn.execute("SELECT count(*), max(ts_ms) FROM usage_events").fetchone()
    last_day = None if latest is None else datetime.fromtimestamp(latest / 1000, tz).date()
    return DashboardData(
        today, int(calls), stacked, repos, tiers, sessions, value, tier_problems, last_day
    )


def active_sessions(ledger: Ledger, window: Filters) -> list[dict[str, Any]]:
    """The sessions with a call in `window`, as `sessions_report` gives them, oldest
    first, each counted whole: all its calls and tool calls, as `burnmeter report
    sessions` (no dates) and the detail view count them. The window picks which sessions
    are listed, not which of their calls count: a session resumed today after months
    showed only today's call ($0.03) beside a detail view of all of them ($1.78)."""
    rows: list[dict[str, Any]] = sessions_report(ledger, window)["sessions"]
    if not rows:
        return rows
    clipped = _clipped_sessions(ledger, [row["session_id"] for row in rows], window)
    if not clipped:
        return rows
    whole = _whole_figures(ledger, clipped)
    return [{**row, **whole.get(row["session_id"], {})} for row in rows]


def _clipped_sessions(ledger: Ledger, session_ids: list[str], window: Filters) -> list[str]:
    """Of `session_ids`, those with a call or tool call outside `window` (index seeks,
    four per session)."""
    import json

    start, end = range_ms(window)
    if start is None:
        start = -1
    if end is None:
        end = 2**62
    outside = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} x WHERE x.session_id = v.value AND x.ts_ms {op} ?)"
        for table in ("usage_events", "tool_calls")
        for op in ("<", ">=")
    )
    params = [json.dumps(session_ids), start, end, start, end]
    return [
        row[0]
        for row in ledger.conn.execute(
            f"SELECT v.value FROM json_each(?) v WHERE {outside}", params
        )
    ]


def _whole_figures(ledger: Ledger, session_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each session's row over all its calls, as `burnmeter report sessions` (no dates)
    gives it."""
    whole = sessions_report(ledger, Filters(), session_ids)["sessions"]
    return {row["session_id"]: row for row in whole}


def tier_costs(
    ledger: Ledger, settings: Settings, window: Filters
) -> tuple[list[tuple[str, float]], list[str]]:
    policy = TierPolicy.from_settings(settings)
    by_tier: dict[str, float] = {}
    for row in models_report(ledger, window)["models"]:
        tier = policy.tier_of(row["model"])
        by_tier[tier] = by_tier.get(tier, 0.0) + float(row["cost_usd"])
    # A tier with nothing spent (the `<synthetic>` error replies' "unknown", at $0.00) has
    # no bar to draw; shown, it read as spend nobody could place.
    spent = [(tier, cost) for tier, cost in by_tier.items() if cost > 0]
    return sorted(spent, key=lambda item: -item[1]), list(policy.problems)


def _local(iso_utc: str | None, tz: ZoneInfo) -> str:
    if not iso_utc:
        return ""
    moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _session_row(row: dict[str, Any], tz: ZoneInfo) -> SessionRow:
    place = row["repo"] or row["project_path"] or ""
    return SessionRow(
        session_id=row["session_id"],
        agent=row["agent"],
        place=Path(place).name if place else "",
        branch=row["git_branch"] or "",
        models=list(row["models"]),
        first_activity=row["first_activity"] or "",
        last_activity=row["last_activity"] or "",
        last_activity_local=_local(row["last_activity"], tz),
        total_tokens=int(row["total_tokens"]),
        cost_usd=float(row["cost_usd"]),
        tool_calls=int(row["tool_calls"]),
        tool_errors=int(row["tool_errors"]),
        unpriced_calls=int(row.get("unpriced_calls") or 0),
    )


def read_session_detail(
    ledger_file: Path, settings: Settings, session_id: str, tz: ZoneInfo | None = None
) -> SessionDetail:
    ledger = open_ledger(ledger_file)
    try:
        prices = PriceBook(settings.price_overrides(), cache_file=price_cache_file(ledger_file))
        detail = session_detail(ledger, prices, session_id)
        detail.flags = session_flags(ledger, settings, prices, session_id, tz)
        return detail
    finally:
        ledger.close()


def session_flags(
    ledger: Ledger, settings: Settings, prices: PriceBook, session_id: str, tz: ZoneInfo | None
) -> list[FlagRow]:
    """The session's runaway flags (git outcomes are not needed for them)."""
    from shared.insights.sessions import session_insights

    found = session_insights(ledger, settings, [session_id], prices=prices, with_outcomes=False)
    insight = found.get(session_id)
    if insight is None:
        return []
    today = datetime.now(tz).date()
    return [
        FlagRow(
            flag.key,
            flag.kind,
            flag.evidence,
            flag.cost_usd,
            _stretch(flag.started_at, flag.ended_at, tz, today),
        )
        for flag in insight.flags
    ]


def _stretch(started_at: str, ended_at: str, tz: ZoneInfo | None, today: date) -> str:
    try:
        start = datetime.fromisoformat(started_at.replace("Z", "+00:00")).astimezone(tz)
        end = datetime.fromisoformat(ended_at.replace("Z", "+00:00")).astimezone(tz)
    except ValueError:
        return ""
    day = "" if end.date() == today else f"{end.date().isoformat()} "
    return f"{day}{start:%H:%M}–{end:%H:%M}"


def session_detail(ledger: Ledger, prices: PriceBook, session_id: str) -> SessionDetail:
    conn = ledger.conn
    per_model: dict[str, float] = {}
    split = dict.fromkeys(SPLIT_ALL, 0.0)
    unpriced = 0
    for model, speed, i, o, w5, w1, r, cost, priced, free, ts_ms, searches in conn.execute(
        """SELECT model, speed, input_tokens, output_tokens, cache_write_5m_tokens,
                  cache_write_1h_tokens, cache_read_tokens, cost_usd, priced, free, ts_ms,
                  web_search_requests
           FROM usage_events WHERE session_id = ?""",
        (session_id,),
    ):
        per_model[model] = per_model.get(model, 0.0) + (cost or 0.0)
        if not priced:
            unpriced += 0 if free else 1
            continue
        if free or not cost:
            continue
        unit = prices.prices_for(model, speed)
        if unit is None:
            split["at earlier prices"] += cost  # no price now: its stored cost, unsplit
            continue
        rate = unit.rate_for(i + r + w5 + w1, ts_ms)
        parts = (
            i * rate.input,
            o * rate.output,
            w5 * rate.cache_write_5m + w1 * rate.cache_write_1h,
            r * rate.cache_read,
            searches * unit.web_search,
        )
        # The stored cost split in the shares today's prices give: the parts add up to
        # the session's cost also before `burnmeter reprice` after a price change.
        whole = sum(parts)
        if not whole:
            split["at earlier prices"] += cost  # free now: its stored cost, unsplit
            continue
        for name, part in zip(SPLIT_PARTS, parts, strict=True):
            split[name] += cost * part / whole
    tools = conn.execute(
        "SELECT tool_name, count(*) FROM tool_calls WHERE session_id = ? GROUP BY 1 "
        "ORDER BY 2 DESC",
        (session_id,),
    ).fetchall()
    files = [
        row[0]
        for row in conn.execute(
            """SELECT DISTINCT f.path FROM tool_files f JOIN tool_calls t ON t.tool_id = f.tool_id
               WHERE t.session_id = ? ORDER BY f.path""",
            (session_id,),
        )
    ]
    return SessionDetail(
        session_id=session_id,
        models=sorted(per_model.items(), key=lambda item: -item[1]),
        tools=[(str(name), int(count)) for name, count in tools],
        files=files,
        # The last two parts only where they have something: most sessions have not.
        cost_split=[(k, v) for k, v in split.items() if v or k in SPLIT_PARTS[:4]],
        unpriced_calls=unpriced,
    )
