"""The words the tray shows: tooltip, menu lines and notification texts, from a snapshot.

Plain functions of plain data, so tests read exactly what a user reads.
"""

from __future__ import annotations

import textwrap

# The CLI's money and model names ($1,234.50, opus-4-5), re-exported for the menu, alerts,
# charts and dashboard: the tray says what `burnmeter report` says.
from shared.commands.render import money as money
from shared.commands.render import nearest_minute
from shared.commands.render import plural as plural
from shared.commands.render import short_model as short_model
from shared.insights.blocks import Block
from shared.insights.budgets import BudgetState
from tray_app.snapshot import PlanLimit, RunningSession, TraySnapshot

# Running sessions listed by name in the tooltip; the rest are counted.
TOOLTIP_SESSIONS = 5

PERIOD_NAMES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}

CANNOT_READ_LEDGER = "Cannot read the ledger: "
# A menu is as wide as its longest line: a status line (a ledger error naming its path and
# what to do) is broken into lines of at most this many characters. One line of 330
# characters made the menu wider than the screen, its advice cut off at the edge.
MENU_TEXT_WIDTH = 72


def wrapped(text: str, width: int = MENU_TEXT_WIDTH) -> list[str]:
    """`text` as lines of at most `width` characters, broken between words (a path or a
    word longer than that keeps its own line); its own line breaks are kept."""
    return [
        line
        for paragraph in text.splitlines()
        for line in textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False)
        or [""]
    ]


def duration(ms: int) -> str:
    """`ms` to the nearest minute (from two days, the nearest hour), as `burnmeter budgets`
    says a block's minutes left and the language server its "ago": 1 h 59 min 40 s reads
    "2 h 00 min", as the CLI's "120 min left" at that moment (rounded down, the menu said
    "1 h 59 min" beside it, and "0 min" for a block's last 59 seconds)."""
    minutes = nearest_minute(ms)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min"
    # From the time itself, not from the minutes rounded above: 48 h 29 min 40 s went
    # 48 h 30 min first, then 2 d 1 h.
    days, hours = divmod((max(0, ms) + 1_800_000) // 3_600_000, 24)
    return f"{days} d {hours} h"


def session_line(session: RunningSession, now_ms: int) -> str:
    parts = [session.agent, short_model(session.model) or "?"]
    if session.place:
        parts.append(session.place)
    parts.append(duration(now_ms - session.started_ms))
    parts.append(money(session.cost_usd, session.unpriced_calls))
    return " · ".join(parts)


def totals_lines(snap: TraySnapshot) -> list[str]:
    return [
        f"Today: {money(snap.today_usd, snap.today_unpriced)}",
        f"This week: {money(snap.week_usd, snap.week_unpriced)}",
        f"This month: {money(snap.month_usd, snap.month_unpriced)}",
    ]


def block_line(block: Block, now_ms: int) -> str:
    line = (
        f"5-hour block: {money(block.cost_usd, block.unpriced_calls)}, "
        f"resets in {duration(block.end_ms - now_ms)}"
    )
    # Not over a burst of calls: shared.insights.blocks.PROJECTION_MIN_SPAN_MS.
    if block.projected_cost_usd is not None and block.projection_settled:
        line += f" (projected {money(block.projected_cost_usd)})"
    return line


def window_name(minutes: int | None) -> str:
    if minutes is None:
        return "window"
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        days = minutes // (24 * 60)
        return "weekly window" if days == 7 else f"{days}-day window"
    if minutes % 60 == 0:
        return f"{minutes // 60}-hour window"
    return f"{minutes}-minute window"


def plan_limit_line(limit: PlanLimit, now_ms: int) -> str:
    line = (
        f"{limit.agent} plan: {limit.used_percent:.0f}% of the {window_name(limit.window_minutes)}"
    )
    if limit.resets_at_ms is not None and limit.resets_at_ms > now_ms:
        line += f", resets in {duration(limit.resets_at_ms - now_ms)}"
    return line


def budget_line(budget: BudgetState) -> str:
    marker = {"warning": " — nearly spent", "over": " — over"}.get(budget.state, "")
    return (
        f"{PERIOD_NAMES[budget.period]} budget: "
        f"{money(budget.spent_usd, budget.unpriced_calls)} of "
        f"{money(budget.limit_usd)} ({budget.fraction:.0%}){marker}"
    )


def tooltip_text(snap: TraySnapshot | None, *, paused: bool = False) -> str:
    if snap is None:
        return "burnmeter: reading the ledger…"
    lines = ["burnmeter" + (" (paused)" if paused else "")]
    lines.append(
        f"Today {money(snap.today_usd, snap.today_unpriced)} · "
        f"week {money(snap.week_usd, snap.week_unpriced)}"
    )
    if snap.running:
        noun = "session" if len(snap.running) == 1 else "sessions"
        lines.append(f"{len(snap.running)} running {noun}:")
        shown = snap.running[:TOOLTIP_SESSIONS]
        lines.extend("  " + session_line(s, snap.taken_ms) for s in shown)
        if len(snap.running) > len(shown):
            lines.append(f"  and {len(snap.running) - len(shown)} more")
    else:
        lines.append("No running sessions")
    return "\n".join(lines)
