"""The insight half of the weekly summary: tiers, outcomes and cost per commit, tier
hints, flagged loops, plan-limit peaks, leverage and budgets.

The rules live in `shared.insights`; this module only picks the week's sessions and
periods, asks the insights about them, and adds up what the summary shows.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.insights.budgets import budget_states, leverage, spend_between
from shared.insights.reporting import commit_costs, repo_key
from shared.insights.sessions import Outcome, SessionInsight, session_insights
from shared.insights.tiers import TierPolicy
from shared.ledger import Ledger
from shared.pricing import PriceBook
from shared.summary.redact import PathShower
from shared.summary.weeks import IsoWeek

WEEKS_PER_MONTH = 52 / 12
OUTCOME_STATUSES = ("committed", "uncommitted", "no-changes", "unknown")


def week_insights(
    ledger: Ledger,
    settings: Settings,
    sessions: list[dict[str, Any]],
    book: PriceBook,
    policy: TierPolicy,
) -> dict[str, SessionInsight]:
    return session_insights(
        ledger, settings, [row["session_id"] for row in sessions], prices=book, policy=policy
    )


def tiers(models: list[dict[str, Any]], policy: TierPolicy) -> list[dict[str, Any]]:
    """Adds "tier" to each model row and returns cost and tokens per tier."""
    per_tier: dict[str, dict[str, Any]] = {}
    for row in models:
        row["tier"] = policy.tier_of(row["model"])
        entry = per_tier.setdefault(
            row["tier"],
            {
                "tier": row["tier"],
                "cost_usd": 0.0,
                "total_tokens": 0,
                "calls": 0,
                "unpriced_calls": 0,
            },
        )
        entry["cost_usd"] += row["cost_usd"]
        entry["total_tokens"] += row["total_tokens"]
        entry["calls"] += row["calls"]
        entry["unpriced_calls"] += row.get("unpriced_calls", 0)
    for entry in per_tier.values():
        entry["cost_usd"] = round(entry["cost_usd"], 6)
    return sorted(per_tier.values(), key=lambda entry: -entry["cost_usd"])


def _outcomes(insights: dict[str, SessionInsight]) -> dict[str, Outcome]:
    return {session_id: insight.outcome for session_id, insight in insights.items()}


def outcomes(sessions: list[dict[str, Any]], insights: dict[str, SessionInsight]) -> dict[str, Any]:
    """Committed outcomes of the week's sessions; cost per commit divides the whole week's
    spend (abandoned sessions included: they are part of what the commits cost)."""
    overall = commit_costs(sessions, _outcomes(insights), lambda row: "week").get("week")
    statuses = Counter(
        insights[row["session_id"]].outcome.status
        for row in sessions
        if row["session_id"] in insights
    )
    committed_cost = sum(
        row["cost_usd"]
        for row in sessions
        if row["session_id"] in insights
        and insights[row["session_id"]].outcome.status == "committed"
    )
    result: dict[str, Any] = {
        "sessions": {status: statuses.get(status, 0) for status in OUTCOME_STATUSES},
        "committed_cost_usd": round(committed_cost, 6),
        "commits": 0,
        "committed_sessions": 0,
        "cost_per_commit_usd": None,
        "cost_per_committed_session_usd": None,
    }
    if overall is not None:
        result.update(overall.as_json())
    return result


def repo_commits(
    repos: list[dict[str, Any]],
    sessions: list[dict[str, Any]],
    insights: dict[str, SessionInsight],
) -> None:
    """Adds commits and cost per commit to each (not yet redacted) repo row."""
    per_repo = commit_costs(sessions, _outcomes(insights), repo_key)
    for row in repos:
        entry = per_repo.get(row["repo"])
        row["commits"] = 0 if entry is None else len(entry.commits)
        per_commit = None if entry is None else entry.cost_per_commit_usd
        row["cost_per_commit_usd"] = None if per_commit is None else round(per_commit, 6)


def session_extras(insight: SessionInsight | None, show: PathShower) -> dict[str, Any]:
    if insight is None:
        return {"tier": "unknown", "outcome": None, "commits": 0, "hint": None, "flags": []}
    outcome = insight.outcome.as_json()
    if show.redact:
        outcome["reason"] = ""  # reasons name folders
        # A commit's sha names its repository to anyone who can look it up: each becomes
        # "redacted", so the list keeps its length (the count, as "commits" below).
        outcome["commits"] = ["redacted"] * len(outcome["commits"])
    return {
        "tier": insight.tier,
        "outcome": outcome,
        "commits": len(insight.outcome.commits),
        "hint": None if insight.hint is None else insight.hint.as_json(),
        "flags": [flag.kind for flag in insight.flags],
    }


def tier_hints(
    sessions: list[dict[str, Any]], insights: dict[str, SessionInsight], show: PathShower
) -> dict[str, Any]:
    rows = []
    for row in sessions:
        insight = insights.get(row["session_id"])
        if insight is None or insight.hint is None:
            continue
        rows.append(
            {
                "session_id": row["session_id"],
                "repo": show.repo(repo_key(row)),
                "session_cost_usd": round(insight.cost_usd, 6),
                "hinted_calls": insight.hint.calls,
                "hinted_cost_usd": round(insight.hint.actual_cost_usd, 6),
                **insight.hint.as_json(),
            }
        )
    rows.sort(key=lambda hint: -hint["saving_usd"])
    return {
        "total_saving_usd": round(sum(hint["saving_usd"] for hint in rows), 6),
        "sessions": rows,
    }


def flags(
    sessions: list[dict[str, Any]], insights: dict[str, SessionInsight], show: PathShower
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for row in sessions:
        insight = insights.get(row["session_id"])
        repo = show.repo(repo_key(row))
        for flag in insight.flags if insight is not None else []:
            found = {"session_id": row["session_id"], "repo": repo, **flag.as_json()}
            if flag.file is not None:
                # The file is a field of its own, named in the text from it: hashed when
                # redacting, never cut out of the text after the fact.
                found["file"] = show.file(repo_key(row), flag.file)
                found["evidence"] = flag.evidence_naming(found["file"])
            found["evidence"] = show.evidence(found["evidence"])
            rows.append(found)
    rows.sort(key=lambda entry: -entry["cost_usd"])
    by_kind: dict[str, dict[str, Any]] = {}
    for found in rows:
        kind = found["kind"]
        entry = by_kind.setdefault(kind, {"kind": kind, "count": 0, "cost_usd": 0.0})
        entry["count"] += 1
        entry["cost_usd"] = round(entry["cost_usd"] + found["cost_usd"], 6)
    return {
        "cost_usd": round(sum(found["cost_usd"] for found in rows), 6),
        "by_kind": sorted(by_kind.values(), key=lambda entry: -entry["cost_usd"]),
        "flags": rows,
    }


def plan_limit_peaks(ledger: Ledger, week: IsoWeek, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The highest plan-limit reading of the week per agent and window (Codex logs them
    with every token count; Claude Code through `burnmeter statusline`)."""
    start_ms, end_ms = week.bounds_ms(zone)
    peaks: list[dict[str, Any]] = []
    for window in ("primary", "secondary"):
        rows = ledger.conn.execute(
            f"""SELECT agent, {window}_window_minutes, max({window}_used_percent), ts_ms,
                       count(*)
                FROM rate_limits
                WHERE ts_ms >= ? AND ts_ms < ? AND {window}_used_percent IS NOT NULL
                GROUP BY agent, {window}_window_minutes""",
            (start_ms, end_ms),
        ).fetchall()
        for agent, minutes, peak, ts_ms, readings in rows:
            peaks.append(
                {
                    "agent": agent,
                    "window": window,
                    "window_minutes": minutes,
                    "peak_used_percent": peak,
                    "peak_at": datetime.fromtimestamp(ts_ms / 1000, zone).isoformat(),
                    "readings": readings,
                }
            )
    peaks.sort(key=lambda peak: (peak["agent"], peak["window_minutes"] or 0))
    return peaks


def subscription_leverage(
    ledger: Ledger, settings: Settings, week: IsoWeek, zone: ZoneInfo, week_cost: float
) -> dict[str, Any]:
    """The month's leverage as the insights compute it, and the week's own: its cost
    against a week's share of the plan price (12 months / 52 weeks). Both count only the
    agent the plan pays for (a Claude plan: Claude Code; a ChatGPT plan: Codex), every
    agent when the plan's name names neither; `agent` says which (None: all). Calls of that
    agent without a price: `week_unpriced_calls`, and the month's `unpriced_calls`."""
    # The month holding most of the week: its Thursday's (as ISO weeks pick their year).
    month = leverage(ledger, settings, week.monday + timedelta(days=3), zone).as_json()
    agent = month["agent"]
    agent_cost, week_unpriced = spend_between(ledger, week.start(zone), week.end(zone), agent)
    if agent is not None:
        week_cost = agent_cost
    price = month["plan_price_usd"]  # `monthly_price_usd`, else the plan preset's price
    week_share = price / WEEKS_PER_MONTH if price else None
    return {
        "plan": settings.subscription.plan,
        "agent": agent,
        "plan_price_usd": price,
        "week_value_usd": round(week_cost, 6),
        "week_unpriced_calls": week_unpriced,
        "week_plan_share_usd": None if week_share is None else round(week_share, 6),
        "week_ratio": None if not week_share else round(week_cost / week_share, 6),
        "month": month,
    }


def budgets(
    ledger: Ledger, settings: Settings, week: IsoWeek, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Each configured budget over the week: every day (daily), the week (weekly) and each
    month the week touches (monthly: two for a week across a month's end), met or missed."""
    found: list[dict[str, Any]] = []

    def at_noon(day: date) -> datetime:
        return datetime.combine(day, time(12), zone)

    if settings.budgets.daily_usd is not None:
        for day in week.days():
            found += [
                s.as_json()
                for s in budget_states(ledger, settings, at_noon(day), zone)
                if s.period == "daily"
            ]
    found += [
        s.as_json()
        for s in budget_states(ledger, settings, at_noon(week.sunday), zone)
        if s.period == "weekly"
    ]
    months = [week.monday] if week.monday.month == week.sunday.month else [week.monday, week.sunday]
    for day in months:
        found += [
            s.as_json()
            for s in budget_states(ledger, settings, at_noon(day), zone)
            if s.period == "monthly"
        ]
    for state in found:
        # The budgets' own state decides, so that the summary never calls "met" a budget
        # that `burnmeter budgets`, the tray and its 100 % notice call "over".
        state["met"] = state["state"] != "over"
    return found
