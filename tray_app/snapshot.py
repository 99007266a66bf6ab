"""What the tray shows, read from the ledger in one go (on a worker thread, never the GUI's).

No Qt here: a `TraySnapshot` is plain data built from `shared.reports` queries and the
insights, so the icon, tooltip, menu and notifications all read the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, period_report

# A session with a model call in the last ten minutes counts as running (the language
# server's `burnmeter/status` uses the same window).
RUNNING_WINDOW_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class RunningSession:
    session_id: str
    agent: str
    model: str
    place: str  # repo or project folder name
    started_ms: int
    last_ms: int
    cost_usd: float


@dataclass(frozen=True)
class BudgetInfo:
    period: str  # "daily" | "weekly" | "monthly"
    limit_usd: float
    spent_usd: float
    level: str  # "ok" | "warning" | "over"

    @property
    def fraction(self) -> float:
        return self.spent_usd / self.limit_usd if self.limit_usd else 0.0


@dataclass(frozen=True)
class BlockInfo:
    start_ms: int
    end_ms: int
    cost_usd: float
    projected_cost_usd: float | None = None


@dataclass(frozen=True)
class PlanLimit:
    agent: str
    window_minutes: int | None
    used_percent: float
    resets_at_ms: int | None


@dataclass(frozen=True)
class RunawayFlag:
    session_id: str
    kind: str
    cost_usd: float
    evidence: str


@dataclass
class TraySnapshot:
    taken_ms: int
    today: date
    today_usd: float = 0.0
    week_usd: float = 0.0
    month_usd: float = 0.0
    calls: int = 0
    running: list[RunningSession] = field(default_factory=list)
    budgets: list[BudgetInfo] = field(default_factory=list)
    block: BlockInfo | None = None
    plan_limits: list[PlanLimit] = field(default_factory=list)
    flags: list[RunawayFlag] = field(default_factory=list)

    @property
    def tightest_budget(self) -> BudgetInfo | None:
        return max(self.budgets, key=lambda b: b.fraction, default=None)


def period_starts(today: date) -> tuple[date, date]:
    """(first day of the ISO week, first day of the month)."""
    return today - timedelta(days=today.weekday()), today.replace(day=1)


def read_snapshot(
    ledger_file: Path, settings: Settings, tz: ZoneInfo, now_ms: int | None = None
) -> TraySnapshot:
    ledger = open_ledger(ledger_file)
    try:
        return snapshot_from_ledger(ledger, settings, tz, now_ms)
    finally:
        ledger.close()


def snapshot_from_ledger(
    ledger: Ledger, settings: Settings, tz: ZoneInfo, now_ms: int | None = None
) -> TraySnapshot:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    snap = TraySnapshot(taken_ms=now_ms, today=today)
    week_start, month_start = period_starts(today)
    daily = period_report(
        ledger, "daily", Filters(since=min(week_start, month_start), until=today, tz=tz)
    )
    for row in daily["daily"]:
        day = date.fromisoformat(row["date"])
        cost = float(row["cost_usd"])
        if day == today:
            snap.today_usd += cost
        if day >= week_start:
            snap.week_usd += cost
        if day >= month_start:
            snap.month_usd += cost
    snap.calls = int(ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])
    snap.running = running_sessions(ledger, now_ms)
    snap.budgets = budget_infos(settings, snap)
    snap.plan_limits = latest_plan_limits(ledger)
    return snap


def running_sessions(ledger: Ledger, now_ms: int) -> list[RunningSession]:
    rows = ledger.conn.execute(
        """
        WITH recent AS (
            SELECT DISTINCT session_id FROM usage_events WHERE ts_ms >= ?
        )
        SELECT e.session_id, e.agent, min(e.ts_ms), max(e.ts_ms),
               sum(coalesce(e.cost_usd, 0)),
               (SELECT model FROM usage_events l WHERE l.session_id = e.session_id
                ORDER BY ts_ms DESC LIMIT 1),
               coalesce(s.repo, s.project_path, '')
        FROM usage_events e JOIN recent r ON r.session_id = e.session_id
        LEFT JOIN sessions s ON s.session_id = e.session_id
        GROUP BY e.session_id ORDER BY max(e.ts_ms) DESC
        """,
        (now_ms - RUNNING_WINDOW_MS,),
    ).fetchall()
    return [
        RunningSession(
            session_id=session_id,
            agent=agent,
            model=model or "",
            place=Path(place).name if place else "",
            started_ms=int(first),
            last_ms=int(last),
            cost_usd=float(cost),
        )
        for session_id, agent, first, last, cost, model, place in rows
    ]


def budget_infos(settings: Settings, snap: TraySnapshot) -> list[BudgetInfo]:
    limits = settings.budgets
    spent = {"daily": snap.today_usd, "weekly": snap.week_usd, "monthly": snap.month_usd}
    out = []
    for period, limit in (
        ("daily", limits.daily_usd),
        ("weekly", limits.weekly_usd),
        ("monthly", limits.monthly_usd),
    ):
        if limit:
            fraction = spent[period] / limit
            level = "over" if fraction >= 1 else "warning" if fraction >= 0.8 else "ok"
            out.append(BudgetInfo(period, float(limit), spent[period], level))
    return out


def latest_plan_limits(ledger: Ledger) -> list[PlanLimit]:
    """The newest plan-limit reading per agent and window (Codex logs them)."""
    rows = ledger.conn.execute(
        """
        SELECT agent, primary_used_percent, primary_window_minutes, primary_resets_at,
               secondary_used_percent, secondary_window_minutes, secondary_resets_at
        FROM rate_limits r
        WHERE ts_ms = (SELECT max(ts_ms) FROM rate_limits x WHERE x.agent = r.agent)
        """
    ).fetchall()
    out = []
    for agent, p_used, p_window, p_reset, s_used, s_window, s_reset in rows:
        for used, window, reset in ((p_used, p_window, p_reset), (s_used, s_window, s_reset)):
            if used is not None:
                out.append(
                    PlanLimit(agent, window, float(used), None if reset is None else reset * 1000)
                )
    return out
