"""Per-session insights: tier, tier hint, outcome from git, runaway flags.

Public API (the language server, tray and weekly summary call this):

    session_insights(ledger, settings, session_ids=None, now_ms=None, *, prices=None,
                     policy=None, with_outcomes=True) -> dict[str, SessionInsight]

    session_outcomes_only(ledger, settings, session_ids=None) -> dict[str, Outcome]

    active_sessions(ledger, now_ms=None, within_minutes=15) -> list[str]

`SessionInsight(tier, hint, outcome, flags)`; each part has `.as_json()`:

- `tier`: the tier holding at least `dominant_tier_share` of the session's cost (of its
  calls when nothing is priced), else "mixed"; "unknown" when no model has a tier.
- `hint`: None, or `Hint(suggested_tier, suggested_model, counterfactual_cost_usd,
  saving_usd, reason)`. Raised when the session spent at least
  `hint_min_frontier_cost_usd` on frontier models and at least `hint_min_share` of that
  on explore/chat calls (reading, searching, answering; no edits, commands or subagents).
  Those calls are repriced with the same tokens and the same cache reads and writes at
  the suggested tier's reference model (economy when exploring dominates, standard when
  chat does); the hint is dropped when it would save less than `hint_min_saving_usd`.
  It says what a cheaper model would have cost, never that it would have done as well.
- `outcome`: `Outcome(status, commits, reason, cost_per_commit_usd)`, see
  `shared.insights.outcomes`. `with_outcomes=False` skips git ("unknown", reason says so).
- `flags`: `Flag(kind, evidence, cost_usd, started_at, ended_at, file)`, see
  `shared.insights.flags`; `new_flags(before, after)` there gives flags to alert on.

Thresholds come from `settings.insights` (`[insights]` in config.toml).

To alert on runaway stretches while sessions run: every poll, take `active_sessions`, call
`session_insights(..., session_ids=those, with_outcomes=False)` (no git, cheap), and pass
the previous and the new `{id: insight.flags}` to `new_flags`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.config import Settings
from shared.gcpause import cycle_collection_paused
from shared.insights.activity import Call, RangeSums, SessionActivity, load_activity
from shared.insights.flags import Flag, new_flags, session_flags
from shared.insights.outcomes import Outcome, session_outcomes
from shared.insights.tiers import CHANGE_TOOLS, TierPolicy
from shared.ledger import Ledger
from shared.pricing import cost_of

if TYPE_CHECKING:
    from shared.pricing import PriceBook

__all__ = [
    "Flag",
    "Hint",
    "Outcome",
    "SessionInsight",
    "active_sessions",
    "new_flags",
    "session_insights",
    "session_outcomes_only",
    "session_tier",
    "tier_hint",
]


@dataclass(frozen=True)
class Hint:
    suggested_tier: str
    suggested_model: str
    counterfactual_cost_usd: float
    saving_usd: float
    reason: str
    # What the repriced calls actually cost, and how many there were.
    actual_cost_usd: float = 0.0
    calls: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "suggested_tier": self.suggested_tier,
            "suggested_model": self.suggested_model,
            "counterfactual_cost_usd": round(self.counterfactual_cost_usd, 6),
            "saving_usd": round(self.saving_usd, 6),
            "reason": self.reason,
        }


@dataclass
class SessionInsight:
    tier: str
    hint: Hint | None
    outcome: Outcome
    flags: list[Flag] = field(default_factory=list)
    cost_usd: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "hint": None if self.hint is None else self.hint.as_json(),
            "outcome": self.outcome.as_json(),
            "flags": [flag.as_json() for flag in self.flags],
        }


def session_tier(calls: list[Call], policy: TierPolicy, dominant_share: float) -> str:
    by_cost: dict[str, float] = defaultdict(float)
    by_count: dict[str, int] = defaultdict(int)
    tiers: dict[str, str] = {}  # a session has a few models and many calls
    for call in calls:
        if call.free:
            continue
        tier = tiers.get(call.model)
        if tier is None:
            tier = tiers[call.model] = policy.tier_of(call.model)
        by_cost[tier] += call.cost
        by_count[tier] += 1
    if not by_count:
        return "unknown"
    total_cost = sum(by_cost.values())
    weights: dict[str, float] = (
        dict(by_cost) if total_cost > 0 else {k: float(v) for k, v in by_count.items()}
    )
    total = sum(weights.values())
    dominant, weight = max(weights.items(), key=lambda item: item[1])
    return dominant if weight / total >= dominant_share else "mixed"


def _money(value: float) -> str:
    """Dollars in a hint's reason, as the language server shows money: an amount under a
    cent is "<$0.01" (a $0.0027 counterfactual read "would cost $0.00")."""
    return "<$0.01" if 0 < value < 0.01 else f"${value:,.2f}"


def _rounded(usd: float) -> float:
    """An amount as the reports round it (6 decimals), for comparing with a threshold."""
    return round(usd, 6)


def tier_hint(
    activity: SessionActivity, policy: TierPolicy, prices: PriceBook, settings: Settings
) -> Hint | None:
    limits = settings.insights
    frontier_models = {
        model
        for model in {call.model for call in activity.calls}
        if policy.tier_of(model) == "frontier"
    }
    if not frontier_models:
        return None
    frontier = [
        call
        for call in activity.calls
        if not call.free and call.cost_usd is not None and call.model in frontier_models
    ]
    # Sums compared at the reports' 6 decimals: ten $0.10 calls add up to 0.9999999999999999,
    # which must meet a $1 threshold as the $1.00 shown does.
    frontier_cost = sum(call.cost for call in frontier)
    if frontier_cost <= 0 or _rounded(frontier_cost) < limits.hint_min_frontier_cost_usd:
        return None
    light = [call for call in frontier if call.kind in ("explore", "chat")]
    light_cost = sum(call.cost for call in light)
    share = light_cost / frontier_cost
    if _rounded(light_cost) < _rounded(limits.hint_min_share * frontier_cost):
        return None
    explore_cost = sum(call.cost for call in light if call.kind == "explore")
    suggested_tier = "economy" if explore_cost >= light_cost - explore_cost else "standard"
    main_model = max(
        {call.model for call in light},
        key=lambda model: sum(c.cost for c in light if c.model == model),
    )
    try:
        suggested_model = policy.reference_model(suggested_tier, main_model)
    except KeyError:
        return None
    counterfactual = 0.0
    for call in light:
        unit_prices = prices.prices_for(suggested_model, call.speed) or prices.prices_for(
            suggested_model
        )
        if unit_prices is None:
            return None  # the reference model has no price: no honest counterfactual
        factor = prices.us_factor(suggested_model) if call.inference_geo == "us" else 1.0
        counterfactual += cost_of(unit_prices, call.as_usage_event(suggested_model), factor)
    saving = light_cost - counterfactual
    if _rounded(saving) < limits.hint_min_saving_usd:
        return None
    work = "exploring (reading, searching)" if suggested_tier == "economy" else "chat (no tools)"
    reason = (
        f"{share:.0%} of this session's {_money(frontier_cost)} frontier spend went to "
        f"{len(light)} calls that only explored or chatted, mostly {work}; the same tokens on "
        f"{suggested_model} would cost {_money(counterfactual)} instead of "
        f"{_money(light_cost)} (whether it would do as well is not measured)."
    )
    return Hint(
        suggested_tier=suggested_tier,
        suggested_model=suggested_model,
        counterfactual_cost_usd=counterfactual,
        saving_usd=saving,
        reason=reason,
        actual_cost_usd=light_cost,
        calls=len(light),
    )


# Sessions whose outcomes are read together: each such batch asks git once per repository.
INSIGHT_BATCH = 500
# Within those, sessions whose calls are loaded at once: no more model calls than this
# unless one session has more. A call with its tool calls takes ~1.5 KB as objects: a week
# of heavy use (78,000 calls) took 113 MB in one batch.
BATCH_CALLS = 10_000


def _session_totals(ledger: Ledger, session_ids: list[str]) -> dict[str, tuple[int, float, bool]]:
    """(calls, cost, whether the ledger lists the session's folder) of each of
    `session_ids` the ledger keeps totals for."""
    return {
        session_id: (int(calls or 0), float(cost or 0.0), listed == 1)
        for session_id, calls, cost, listed in ledger.conn.execute(
            "SELECT t.session_id, t.calls, t.cost_usd, s.session_id IS NOT NULL "
            "FROM session_totals t LEFT JOIN sessions s ON s.session_id = t.session_id "
            "WHERE t.session_id IN (SELECT value FROM json_each(?))",
            (json.dumps(session_ids),),
        )
    }


def _batches_by_calls(
    totals: dict[str, tuple[int, float, bool]], session_ids: list[str]
) -> Iterator[list[str]]:
    """`session_ids` in order, cut into batches of at most BATCH_CALLS model calls (their
    `_session_totals`)."""
    batch: list[str] = []
    batch_calls = 0
    for session_id in session_ids:
        size = totals[session_id][0] if session_id in totals else 0
        if batch and batch_calls + size > BATCH_CALLS:
            yield batch
            batch, batch_calls = [], 0
        batch.append(session_id)
        batch_calls += size
    if batch:
        yield batch


def _outcome_part(activity: SessionActivity, cost_usd: float) -> SessionActivity:
    """What `load_activity(..., for_outcomes_only=True)` reads of a session, cut from its
    whole activity: its change tools (whose files are always read) and its cost from the
    ledger's per-session totals."""
    return SessionActivity(
        activity.session_id,
        activity.agent,
        activity.project_path,
        activity.repo,
        activity.first_ts_ms,
        activity.last_ts_ms,
        tools=[tool for tool in activity.tools if tool.name in CHANGE_TOOLS],
        total_cost_usd=cost_usd,
    )


def session_insights(
    ledger: Ledger,
    settings: Settings,
    session_ids: list[str] | None = None,
    now_ms: int | None = None,
    *,
    prices: PriceBook | None = None,
    policy: TierPolicy | None = None,
    with_outcomes: bool = True,
    in_range: RangeSums | None = None,
) -> dict[str, SessionInsight]:
    """Insights for `session_ids` (every session with calls when None).

    `now_ms` is accepted for callers that evaluate a running session; the rules depend
    only on the recorded history, so it does not change the result today. `in_range`
    gathers a sessions report's figures from the same reads (`load_activity`).
    """
    del now_ms
    if prices is None:
        from shared.pricing import PriceBook, price_cache_file

        prices = PriceBook(settings.price_overrides(), cache_file=price_cache_file(ledger.path))
    policy = policy or TierPolicy.from_settings(settings)
    if session_ids is None:
        session_ids = [
            row[0]
            for row in ledger.conn.execute("SELECT session_id FROM session_totals WHERE calls > 0")
        ]
    limits = settings.insights
    skipped = Outcome("unknown", [], "outcomes were not computed for this view")
    result: dict[str, SessionInsight] = {}
    # A batch of sessions at a time: their calls and tool calls become objects, which for a
    # year of heavy use (1M calls) took 1.6 GB at once. Outcomes need only the change tools
    # (no calls), so they are kept for larger batches: fewer `git log`s.
    for start in range(0, len(session_ids), INSIGHT_BATCH):
        sessions = session_ids[start : start + INSIGHT_BATCH]
        totals = _session_totals(ledger, sessions)
        # What `session_outcomes_only` would read for these sessions, taken from their
        # activities as they are loaded (it read their change tools a second time: ~2 of
        # the 8.5 CPU s of a year of history's insights): the sessions the ledger lists,
        # with calls in its totals.
        parts: list[SessionActivity] = []
        for batch in _batches_by_calls(totals, sessions):
            # An object per call and per tool call, and no cycles: see shared.gcpause.
            with cycle_collection_paused():
                activities = (
                    load_activity(ledger, batch)
                    if in_range is None
                    else load_activity(ledger, batch, in_range=in_range)
                )
                for session_id, activity in activities.items():
                    result[session_id] = SessionInsight(
                        tier=session_tier(activity.calls, policy, limits.dominant_tier_share),
                        hint=tier_hint(activity, policy, prices, settings),
                        outcome=skipped,
                        flags=session_flags(activity, limits),
                        cost_usd=activity.cost_usd,
                    )
                    calls, cost, listed = totals.get(session_id, (0, 0.0, False))
                    if with_outcomes and listed and calls > 0:
                        parts.append(_outcome_part(activity, cost))
                del activities
        if parts:
            with cycle_collection_paused():
                parts.sort(key=lambda part: part.session_id)  # as the ledger's index lists them
                outcomes = session_outcomes(
                    parts, limits.outcome_window_days, limits.git_timeout_seconds
                )
            for session_id, outcome in outcomes.items():
                result[session_id].outcome = outcome
    return result


def session_outcomes_only(
    ledger: Ledger, settings: Settings, session_ids: list[str] | None = None
) -> dict[str, Outcome]:
    """The git outcome of each session, as `session_insights` gives it, without reading the
    sessions' model calls (what cost per commit needs: `report repos`)."""
    with cycle_collection_paused():
        activities = load_activity(ledger, session_ids, for_outcomes_only=True)
        limits = settings.insights
        return session_outcomes(
            activities.values(), limits.outcome_window_days, limits.git_timeout_seconds
        )


def active_sessions(
    ledger: Ledger, now_ms: int | None = None, within_minutes: float = 15
) -> list[str]:
    """Sessions with a model call in the last `within_minutes`, most recent first."""
    import time

    now = int(time.time() * 1000) if now_ms is None else now_ms
    since = now - int(within_minutes * 60_000)
    rows = ledger.conn.execute(
        "SELECT session_id, max(ts_ms) AS last FROM usage_events WHERE ts_ms >= ? AND ts_ms <= ? "
        "GROUP BY session_id ORDER BY last DESC",
        (since, now),
    ).fetchall()
    return [str(row[0]) for row in rows]
