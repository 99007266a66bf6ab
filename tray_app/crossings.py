"""Which alerts a snapshot warrants, and which of them were already shown.

Every alert has a stable key (budget + period + threshold, session + flag, plan window +
reset time), and `NotifiedKeys` remembers keys already shown in a small JSON file in the
data dir, so each crossing is announced once, even across restarts of the tray.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tray_app.snapshot import TraySnapshot, period_starts
from tray_app.texts import PERIOD_NAMES, money, short_model, window_name

log = logging.getLogger(__name__)

BUDGET_THRESHOLDS = (0.5, 0.8, 1.0)
# A plan window this full is "close to its limit".
PLAN_LIMIT_ALERT_PERCENT = 90.0
KEEP_KEYS_S = 45 * 24 * 3600


@dataclass(frozen=True)
class DashboardTarget:
    """Where a click on an alert opens the dashboard."""

    tab: str  # "overview" | "sessions"
    session_id: str | None = None


@dataclass(frozen=True)
class Alert:
    key: str
    title: str
    body: str
    target: DashboardTarget
    urgent: bool = False


def alerts_for(snap: TraySnapshot) -> list[Alert]:
    alerts: list[Alert] = []
    week_start, month_start = period_starts(snap.today)
    period_ids = {
        "daily": snap.today.isoformat(),
        "weekly": week_start.isoformat(),
        "monthly": month_start.strftime("%Y-%m"),
    }
    for budget in snap.budgets:
        reached = [t for t in BUDGET_THRESHOLDS if budget.fraction >= t]
        if not reached:
            continue
        # Only the highest threshold reached speaks; the lower ones are marked as seen too.
        for threshold in reached:
            key = f"budget:{budget.period}:{period_ids[budget.period]}:{threshold:.0%}"
            top = threshold == reached[-1]
            name = PERIOD_NAMES[budget.period]
            title = (
                f"{name} budget spent" if threshold >= 1 else f"{name} budget at {threshold:.0%}"
            )
            alerts.append(
                Alert(
                    key=key,
                    title=title,
                    body=f"{money(budget.spent_usd)} of {money(budget.limit_usd)} "
                    f"({budget.fraction:.0%}) used.",
                    target=DashboardTarget("overview"),
                    urgent=threshold >= 1,
                )
                if top
                else Alert(key, "", "", DashboardTarget("overview"))
            )
    running = {s.session_id: s for s in snap.running}
    for flag in snap.flags:
        session = running.get(flag.session_id)
        if session is None:
            continue
        alerts.append(
            Alert(
                key=f"flag:{flag.session_id}:{flag.kind}",
                title=f"Runaway session: {flag.kind}",
                body=f"{session.agent} · {short_model(session.model)} · {session.place or '?'}: "
                f"{flag.evidence} ({money(flag.cost_usd)} in the flagged stretch).",
                target=DashboardTarget("sessions", flag.session_id),
                urgent=True,
            )
        )
    for limit in snap.plan_limits:
        if limit.used_percent < PLAN_LIMIT_ALERT_PERCENT:
            continue
        alerts.append(
            Alert(
                key=f"limit:{limit.agent}:{limit.window_minutes}:{limit.resets_at_ms}",
                title=f"{limit.agent} plan limit close",
                body=f"{limit.used_percent:.0f}% of the {window_name(limit.window_minutes)} used.",
                target=DashboardTarget("overview"),
                urgent=True,
            )
        )
    return alerts


class NotifiedKeys:
    """Alert keys already shown, kept in `path` (JSON: key -> unix time shown)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._shown: dict[str, float] = {}
        if path is not None and path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(raw, dict):
                    self._shown = {str(k): float(v) for k, v in raw.items()}
            except (OSError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable %s: %s", path, exc)

    def take_new(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts not shown before, now marked as shown; silent ones are only marked."""
        fresh = [a for a in alerts if a.key not in self._shown]
        if not fresh:
            return []
        now = time.time()
        for alert in fresh:
            self._shown[alert.key] = now
        self._save(now)
        return [a for a in fresh if a.title]

    def _save(self, now: float) -> None:
        self._shown = {k: t for k, t in self._shown.items() if now - t < KEEP_KEYS_S}
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._shown), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot remember shown alerts in %s: %s", self.path, exc)
