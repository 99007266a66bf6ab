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
from shared.gcpause import cycle_collection_paused
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
    with cycle_collection_paused():  # see `read_extras`
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
    # The cycle collector runs in the thread that allocates: a collection in this worker
    # thread freed the GUI thread's Qt objects here (a segfault, "QBasicTimer::stop:
    # Failed"). The running tray collects on its GUI thread only (tray_app.gc_gui); for a
    # caller without it (a test, another process), off while the worker reads.
    with cycle_collection_paused():
        ledger = open_ledger(ledger_file)
        try:
            return with_extras(ledger, settings, snap)
        finally:
            ledger.close()


def running_sessions(ledger: Ledger, now_ms: int) -> list[RunningSession]:
    """Sessions with a call in the running window, newest first. Index seeks and the
    per-session totals the ledger's triggers keep, never a pass over a session's calls
    (summing a 20,000-call session's calls took 70 ms at every refresh) nor over the
    ledger's."""
    conn = ledger.conn
    recent = [
        row[0]
        for row in conn.execute(
            # `+session_id`: grouped by the session index, SQLite scanned every call of the
            # ledger; the calls of the last ten minutes come off the time index.
            "SELECT session_id FROM usage_events WHERE ts_ms >= ? GROUP BY +session_id "
            "ORDER BY max(ts_ms) DESC",
            (now_ms - RUNNING_WINDOW_MS,),
        )
    ]
    if not recent:
        return []
    # The unpriced calls of the whole ledger: few, and read off their own (partial) index.
    unpriced_in_ledger = int(
        conn.execute("SELECT count(*) FROM usage_events WHERE priced = 0").fetchone()[0]
    )
    found = []
    for session_id in recent:
        first, last = conn.execute(
            "SELECT (SELECT min(ts_ms) FROM usage_events WHERE session_id = ?1), "
            "(SELECT max(ts_ms) FROM usage_events WHERE session_id = ?1)",
            (session_id,),
        ).fetchone()
        totals = conn.execute(
            "SELECT calls, cost_usd FROM session_totals WHERE session_id = ?", (session_id,)
        ).fetchone()
        calls, cost = totals if totals is not None else (0, 0.0)
        agent, model = conn.execute(
            f"SELECT l.agent, {session_model_sql('l.model', 'l.session_id')} FROM (SELECT "
            "agent, model, session_id FROM usage_events WHERE session_id = ? "
            "ORDER BY ts_ms DESC LIMIT 1) l",
            (session_id,),
        ).fetchone()
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
                unpriced_calls=_unpriced_calls(ledger, session_id, int(calls), unpriced_in_ledger),
            )
        )
    return found


def _unpriced_calls(ledger: Ledger, session_id: str, calls: int, unpriced_in_ledger: int) -> int:
    """The session's calls of a model with no price, looked up by whichever is shorter: the
    ledger's unpriced calls (their partial index) or the session's calls."""
    if unpriced_in_ledger == 0:
        return 0
    # `+session_id` keeps the planner off the session index: the unpriced calls are fewer.
    by_unpriced = "priced = 0 AND +session_id = ?"
    by_session = "session_id = ? AND priced = 0"
    where = by_unpriced if unpriced_in_ledger <= calls else by_session
    row = ledger.conn.execute(
        f"SELECT count(*) FROM usage_events WHERE {where}", (session_id,)
    ).fetchone()
    return int(row[0])


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
