"""What the tray shows, read from the ledger in one go (on a worker thread, never the GUI's).

No Qt here: a `TraySnapshot` is plain data gathered from `shared.insights` (budgets,
blocks, plan limits, runaway flags) and a query for running sessions, so the icon,
tooltip, menu and alerts all read the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.insights.blocks import BLOCK_MS, Block, current_block
from shared.insights.budgets import BudgetState, budget_states, period_bounds, spend_between
from shared.insights.flags import Flag
from shared.insights.limits import latest_limits
from shared.ledger import Ledger, open_ledger
from shared.reports import RUNNING_WINDOW_MS, session_model_sql
from tray_app.flag_cache import FlagCache, flag_cache_for


@dataclass(frozen=True)
class RunningSession:
    session_id: str
    agent: str
    model: str
    place: str  # repo or project folder name
    started_ms: int
    last_ms: int
    cost_usd: float
    # Its calls of a model with no price: not in cost_usd, said beside it.
    unpriced_calls: int = 0


@dataclass(frozen=True)
class PlanLimit:
    """One window of a plan-limit reading that still says something about now."""

    agent: str
    window_minutes: int | None
    used_percent: float
    resets_at_ms: int | None


@dataclass
class TraySnapshot:
    taken_ms: int
    today: date
    today_usd: float = 0.0
    week_usd: float = 0.0
    month_usd: float = 0.0
    # Calls of a model with no price in each period: said beside the sums, never as $0.
    today_unpriced: int = 0
    week_unpriced: int = 0
    month_unpriced: int = 0
    has_calls: bool = False
    complete: bool = False  # block, plan limits and flags read too
    running: list[RunningSession] = field(default_factory=list)
    budgets: list[BudgetState] = field(default_factory=list)
    block: Block | None = None
    plan_limits: list[PlanLimit] = field(default_factory=list)
    flags: dict[str, list[Flag]] = field(default_factory=dict)  # running sessions only

    @property
    def tightest_budget(self) -> BudgetState | None:
        return max(self.budgets, key=lambda b: b.fraction, default=None)


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
    """Everything the icon needs (spend, running sessions, budgets): cheap, read first so
    the meter repaints fast; `with_extras` adds the rest."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    now = datetime.fromtimestamp(now_ms / 1000, tz)
    snap = TraySnapshot(taken_ms=now_ms, today=now.date())
    spent = {}
    for period in ("daily", "weekly", "monthly"):
        start, end, _label = period_bounds(period, snap.today, tz)
        spent[period] = spend_between(ledger, start, end)
    (snap.today_usd, snap.today_unpriced), (snap.week_usd, snap.week_unpriced) = (
        spent["daily"],
        spent["weekly"],
    )
    snap.month_usd, snap.month_unpriced = spent["monthly"]
    snap.has_calls = ledger.has_calls()
    snap.running = running_sessions(ledger, now_ms)
    snap.budgets = budget_states(ledger, settings, now, tz)
    return snap


def with_extras(
    ledger: Ledger, settings: Settings, snap: TraySnapshot, flag_cache: FlagCache | None = None
) -> TraySnapshot:
    """The snapshot with the active block, plan limits and the running sessions' flags
    (kept between refreshes in `flag_cache`, by default the one of the ledger's file)."""
    return replace(
        snap,
        block=active_block(ledger, snap.taken_ms),
        plan_limits=current_plan_limits(ledger, snap.taken_ms),
        flags=running_flags(ledger, settings, [s.session_id for s in snap.running], flag_cache),
        complete=True,
    )


def read_extras(ledger_file: Path, settings: Settings, snap: TraySnapshot) -> TraySnapshot:
    ledger = open_ledger(ledger_file)
    try:
        return with_extras(ledger, settings, snap)
    finally:
        ledger.close()


def running_sessions(ledger: Ledger, now_ms: int) -> list[RunningSession]:
    """Sessions with a call in the running window, newest first. Two index lookups: the
    recent calls by time, then each such session's calls by session."""
    conn = ledger.conn
    recent = [
        row[0]
        for row in conn.execute(
            "SELECT session_id FROM usage_events WHERE ts_ms >= ? GROUP BY session_id "
            "ORDER BY max(ts_ms) DESC",
            (now_ms - RUNNING_WINDOW_MS,),
        )
    ]
    found = []
    for session_id in recent:
        agent, first, last, cost, unpriced = conn.execute(
            "SELECT agent, min(ts_ms), max(ts_ms), sum(coalesce(cost_usd, 0)), sum(1 - priced) "
            "FROM usage_events WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        model = conn.execute(
            f"SELECT {session_model_sql('l.model', 'l.session_id')} FROM (SELECT model, "
            "session_id FROM usage_events WHERE session_id = ? ORDER BY ts_ms DESC LIMIT 1) l",
            (session_id,),
        ).fetchone()[0]
        place = conn.execute(
            "SELECT coalesce(repo, project_path, '') FROM sessions WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        found.append(
            RunningSession(
                session_id=session_id,
                agent=agent,
                model=model or "",
                place=Path(place[0]).name if place and place[0] else "",
                started_ms=int(first),
                last_ms=int(last),
                cost_usd=float(cost),
                unpriced_calls=int(unpriced),
            )
        )
    return found


def active_block(ledger: Ledger, now_ms: int) -> Block | None:
    """The active 5-hour block. A block is active only with a call in the last five hours,
    so an idle ledger skips the block computation (the cheap index lookup comes first)."""
    recent = ledger.conn.execute(
        "SELECT 1 FROM usage_events WHERE ts_ms >= ? LIMIT 1", (now_ms - BLOCK_MS,)
    ).fetchone()
    return current_block(ledger, now_ms, remember=True) if recent else None


def current_plan_limits(ledger: Ledger, now_ms: int) -> list[PlanLimit]:
    out = []
    for reading in latest_limits(ledger, now_ms):
        for window in (reading.primary, reading.secondary):
            if window is not None and not window.expired:
                out.append(
                    PlanLimit(
                        reading.agent,
                        window.window_minutes,
                        window.used_percent,
                        window.resets_at_ms,
                    )
                )
    return out


def running_flags(
    ledger: Ledger,
    settings: Settings,
    session_ids: list[str],
    flag_cache: FlagCache | None = None,
) -> dict[str, list[Flag]]:
    """Runaway flags of the running sessions (git outcomes are not needed here). A session
    is computed again only when it changed, and a big one at most every so often: see
    `tray_app.flag_cache`."""
    cache = flag_cache if flag_cache is not None else flag_cache_for(ledger)
    return cache.flags(ledger, settings, session_ids)
