"""Budgets (API-equivalent $ per day, ISO week and month), their crossings, and what a
subscription delivered.

Public API:

- `budget_states(ledger, settings, now=None, tz=None) -> list[BudgetState]`: one state
  per configured budget (`[budgets]` daily_usd / weekly_usd / monthly_usd), for the
  period containing `now` in `tz`: spent, limit, fraction, and state "under", "warning"
  (from `insights.budget_warning_fraction`, default 80 %) or "over" (100 % and more).
- `crossings(previous_states, states) -> list[BudgetCrossing]`: the 50/80/100 %
  thresholds each budget passed between two readings. A new period starts from zero, so
  a reading taken with no previous one reports every threshold already passed; a front
  end keeps the last states and notifies once per crossing.
- `leverage(ledger, settings, month=None, tz=None, agent=None) -> Leverage`: API-equivalent
  value of a month against `[subscription] monthly_price_usd`, e.g. "$1,199.79 of
  API-equivalent Claude Code work on a $100 plan: 12.0×". Only the agent the plan pays
  for is counted (`shared.plans.plan_agent`: a Claude plan covers Claude Code, a ChatGPT
  plan Codex); a plan whose name names neither counts every agent. `agent` overrides it.
  Calls without a price are said beside the value ("$7.29 (+3 unpriced) of ..."); the
  running month (the one holding `now`) is said to be so far ("... work so far (7 of 31
  days) on ..."). A preset plan (`shared.plans`) without `monthly_price_usd` is compared
  with the preset's list price, and says so.

Costs come from the 15-minute buckets, so this is cheap enough for every tray refresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.commands.render import money
from shared.config import Settings
from shared.ledger import Ledger
from shared.plans import plan_agent, preset, preset_price
from shared.schema import BUCKET_MS
from shared.sources.agents import CLAUDE, CODEX
from shared.timezones import resolve_zone

PERIODS = ("daily", "weekly", "monthly")
AGENT_NAMES = {CLAUDE: "Claude Code", CODEX: "Codex"}
THRESHOLDS = (0.5, 0.8, 1.0)


@dataclass(frozen=True)
class BudgetState:
    period: str  # "daily" | "weekly" | "monthly"
    label: str  # "2026-02-23", "2026-W09", "2026-02"
    start: datetime
    end: datetime
    limit_usd: float
    spent_usd: float
    fraction: float
    state: str  # "under" | "warning" | "over"
    # Calls in the period of a model with no price: not in spent_usd, said beside it.
    unpriced_calls: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "limit_usd": self.limit_usd,
            "spent_usd": round(self.spent_usd, 6),
            "unpriced_calls": self.unpriced_calls,
            "fraction": round(self.fraction, 6),
            "state": self.state,
        }


@dataclass(frozen=True)
class BudgetCrossing:
    period: str
    label: str
    threshold: float  # 0.5, 0.8 or 1.0
    spent_usd: float
    limit_usd: float

    @property
    def message(self) -> str:
        name = {"daily": "today's", "weekly": "this week's", "monthly": "this month's"}
        return (
            f"{self.threshold:.0%} of {name[self.period]} budget reached: "
            f"{money(self.spent_usd)} of {money(self.limit_usd)} ({self.label})"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "label": self.label,
            "threshold": self.threshold,
            "spent_usd": round(self.spent_usd, 6),
            "limit_usd": self.limit_usd,
            "message": self.message,
        }


@dataclass(frozen=True)
class Leverage:
    month: str
    value_usd: float
    plan: str
    plan_price_usd: float | None
    ratio: float | None
    # The agent whose calls were counted (the one the plan pays for); None: every agent.
    agent: str | None = None
    # Its calls in the month of a model with no price: not in value_usd, said beside it.
    unpriced_calls: int = 0
    # For the running month, its days begun so far (today included); None once it is over.
    days_so_far: int | None = None
    days_in_month: int = 0
    # Whether plan_price_usd is the plan preset's list price (no monthly_price_usd set).
    price_from_preset: bool = False

    @property
    def work(self) -> str:
        """What was counted: "Claude Code work", "Codex work", "work by all agents"."""
        if self.agent is None:
            return "work by all agents"
        return f"{AGENT_NAMES.get(self.agent, self.agent)} work"

    @property
    def so_far(self) -> str:
        """For the running month " so far (7 of 31 days)", else nothing."""
        if self.days_so_far is None:
            return ""
        return f" so far ({self.days_so_far} of {self.days_in_month} days)"

    @property
    def text(self) -> str:
        head = (
            f"{money(self.value_usd, self.unpriced_calls)} of API-equivalent {self.work}"
            + self.so_far
        )
        if not self.plan_price_usd:
            # One parenthesis only: "so far (7 of 31 days)" may be there already.
            return head + "; set [subscription] plan or monthly_price_usd to compare with a plan"
        named = preset(self.plan)
        return (
            head
            + f" on a ${self.plan_price_usd:,.0f} plan"
            + (
                f" ({named.name if named else self.plan}'s preset price)"
                if self.price_from_preset
                else ""
            )
            + (f": {ratio_text(self.ratio)}×" if self.ratio is not None else "")
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "value_usd": round(self.value_usd, 6),
            "unpriced_calls": self.unpriced_calls,
            "plan": self.plan,
            "agent": self.agent,
            "plan_price_usd": self.plan_price_usd,
            "plan_price_from_preset": self.price_from_preset,
            "ratio": None if self.ratio is None else round(self.ratio, 6),
            "days_so_far": self.days_so_far,
            "days_in_month": self.days_in_month,
            "text": self.text,
        }


def ratio_text(ratio: float) -> str:
    """A leverage ratio: one decimal from 1 on ("12.0"), two significant digits below
    ("0.73", "0.047": a plain `:.1f` said "0.0" for a month worth 4.7 % of the plan)."""
    if ratio <= 0 or not math.isfinite(ratio):
        return f"{ratio:.1f}" if ratio else "0"
    if ratio < 1:
        text = f"{ratio:.{1 - math.floor(math.log10(ratio))}f}"
        if float(text) < 1:
            return text
    return f"{ratio:.1f}"


def period_bounds(period: str, day: date, tz: ZoneInfo) -> tuple[datetime, datetime, str]:
    if period == "daily":
        first, after, label = day, day + timedelta(days=1), day.isoformat()
    elif period == "weekly":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}"
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        label = f"{day.year}-{day.month:02d}"
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(after, datetime.min.time(), tz)
    return start, end, label


def spend_between(
    ledger: Ledger, start: datetime, end: datetime, agent: str | None = None
) -> tuple[float, int]:
    """Cost of calls in [start, end) and how many of them had no price. Exact: every zone
    offset is a multiple of a bucket."""
    low = int(start.timestamp() * 1000) // BUCKET_MS
    high = int(end.timestamp() * 1000) // BUCKET_MS
    sql = (
        "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(unpriced_calls), 0) FROM usage_buckets "
        "WHERE bucket >= ? AND bucket < ?"
    )
    params: list[Any] = [low, high]
    if agent:
        sql += " AND agent = ?"
        params.append(agent)
    cost, unpriced = ledger.conn.execute(sql, params).fetchone()
    return float(cost), int(unpriced)


def budget_states(
    ledger: Ledger, settings: Settings, now: datetime | None = None, tz: ZoneInfo | None = None
) -> list[BudgetState]:
    zone = resolve_zone(settings.timezone, tz)
    moment = (now or datetime.now(zone)).astimezone(zone)
    limits = {
        "daily": settings.budgets.daily_usd,
        "weekly": settings.budgets.weekly_usd,
        "monthly": settings.budgets.monthly_usd,
    }
    warning = settings.insights.budget_warning_fraction
    states = []
    for period in PERIODS:
        limit = limits[period]
        if limit is None:
            continue
        start, end, label = period_bounds(period, moment.date(), zone)
        spent, unpriced = spend_between(ledger, start, end)
        fraction = spent / limit if limit > 0 else (float("inf") if spent > 0 else 0.0)
        state = "over" if fraction >= 1 else "warning" if fraction >= warning else "under"
        states.append(
            BudgetState(period, label, start, end, limit, spent, fraction, state, unpriced)
        )
    return states


def crossings(
    previous_states: list[BudgetState] | None, states: list[BudgetState]
) -> list[BudgetCrossing]:
    before = {(state.period, state.label): state.fraction for state in previous_states or []}
    found = []
    for state in states:
        earlier = before.get((state.period, state.label), 0.0)
        for threshold in THRESHOLDS:
            if earlier < threshold <= state.fraction:
                found.append(
                    BudgetCrossing(
                        state.period, state.label, threshold, state.spent_usd, state.limit_usd
                    )
                )
    return found


def leverage(
    ledger: Ledger,
    settings: Settings,
    month: date | str | None = None,
    tz: ZoneInfo | None = None,
    agent: str | None = None,
    now: datetime | None = None,
) -> Leverage:
    zone = resolve_zone(settings.timezone, tz)
    moment = (now or datetime.now(zone)).astimezone(zone)
    if month is None:
        day = moment.date()
    elif isinstance(month, str):
        day = date.fromisoformat(f"{month}-01" if len(month) == 7 else month)
    else:
        day = month
    start, end, label = period_bounds("monthly", day, zone)
    plan = settings.subscription.plan
    counted = agent or plan_agent(plan)
    value, unpriced = spend_between(ledger, start, end, counted)
    price = settings.subscription.monthly_price_usd
    from_preset = price is None and preset_price(plan) is not None
    if from_preset:
        price = preset_price(plan)
    ratio = value / price if price else None
    days = (end.date() - start.date()).days
    so_far = moment.day if start <= moment < end else None
    return Leverage(label, value, plan, price, ratio, counted, unpriced, so_far, days, from_preset)
