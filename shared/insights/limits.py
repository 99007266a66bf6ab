"""Plan-limit readings: how much of the subscription's rolling windows is used.

Codex logs `rate_limits` with every token count (primary: 5-hour window, secondary:
weekly). Claude Code passes `rate_limits.five_hour` / `seven_day` to its statusLine
command; `burnmeter statusline` stores them in the same `rate_limits` table (agent
"claude-code", primary = five_hour, secondary = seven_day).

Public API:

- `latest_limits(ledger, now_ms=None) -> list[PlanLimits]`: the newest reading per agent.
- `PlanLimits(agent, ts_ms, session_id, plan_type, primary, secondary)`, each window a
  `LimitWindow(used_percent, window_minutes, resets_at_ms, expired)`; `expired` means its
  reset time has passed, so the reading no longer says anything about now.
- `.as_json()` on both.

Kept free of heavy imports: the statusline uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.ledger import Ledger


@dataclass(frozen=True)
class LimitWindow:
    used_percent: float
    window_minutes: int | None
    resets_at_ms: int | None
    expired: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "used_percent": self.used_percent,
            "window_minutes": self.window_minutes,
            "resets_at_ms": self.resets_at_ms,
            "expired": self.expired,
        }


@dataclass(frozen=True)
class PlanLimits:
    agent: str
    ts_ms: int
    session_id: str
    plan_type: str | None
    primary: LimitWindow | None
    secondary: LimitWindow | None

    def as_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "ts_ms": self.ts_ms,
            "session_id": self.session_id,
            "plan_type": self.plan_type,
            "primary": None if self.primary is None else self.primary.as_json(),
            "secondary": None if self.secondary is None else self.secondary.as_json(),
        }


def window_short(minutes: int | None, fallback: str) -> str:
    """`5h`, `7d`, `90m`: a window's length as the status line writes it. The primary
    window is not always five hours (Codex logs a weekly-only primary on some plans), so
    the label comes from the reading; `fallback` when the reading gives no length."""
    if not minutes:
        return fallback
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _window(
    used: float | None, minutes: int | None, resets_at_s: int | None, now_ms: int
) -> LimitWindow | None:
    if used is None:
        return None
    resets_ms = None if resets_at_s is None else int(resets_at_s) * 1000
    expired = resets_ms is not None and resets_ms <= now_ms
    return LimitWindow(float(used), minutes, resets_ms, expired)


def latest_limits(ledger: Ledger, now_ms: int | None = None) -> list[PlanLimits]:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    rows = ledger.conn.execute(
        """SELECT r.agent, r.session_id, r.ts_ms, r.primary_used_percent,
                  r.primary_window_minutes, r.primary_resets_at, r.secondary_used_percent,
                  r.secondary_window_minutes, r.secondary_resets_at, r.plan_type
           FROM rate_limits r
           JOIN (SELECT agent, max(ts_ms) AS ts FROM rate_limits
                 WHERE primary_used_percent IS NOT NULL OR secondary_used_percent IS NOT NULL
                 GROUP BY agent) latest
             ON latest.agent = r.agent AND latest.ts = r.ts_ms
           ORDER BY r.agent"""
    ).fetchall()
    found: dict[str, PlanLimits] = {}
    for agent, session_id, ts_ms, p_used, p_min, p_reset, s_used, s_min, s_reset, plan in rows:
        found.setdefault(
            agent,
            PlanLimits(
                agent,
                ts_ms,
                session_id,
                plan,
                _window(p_used, p_min, p_reset, now),
                _window(s_used, s_min, s_reset, now),
            ),
        )
    return list(found.values())
