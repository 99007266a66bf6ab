"""Which alerts a snapshot warrants, and which of them were already shown.

Every alert has a stable key (budget + period + threshold + limit, session + flag, plan
window + reset time), and `NotifiedKeys` remembers keys already shown in a small JSON file
in the data dir, so each crossing is announced once, even across restarts of the tray.
A plan window's reset time moves by a few seconds from one reading to the next (Codex
logs it that way), so two keys of one agent's window whose reset times lie closer than
half the window are the same window.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from shared.insights.budgets import crossings
from tray_app.snapshot import TraySnapshot
from tray_app.texts import PERIOD_NAMES, money, short_model, window_name

log = logging.getLogger(__name__)

# A plan window this full is "close to its limit".
PLAN_LIMIT_ALERT_PERCENT = 90.0
KEEP_KEYS_S = 45 * 24 * 3600
# A plan window of unknown length: readings whose reset times are this close are one window.
UNKNOWN_WINDOW_TOLERANCE_MS = 3600 * 1000


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
    # The key an earlier version gave this crossing (a budget's, before it named the
    # limit): shown under it counts as shown, until a key of the new form replaced it.
    legacy_key: str | None = None


def alerts_for(snap: TraySnapshot) -> list[Alert]:
    """Every alert the snapshot warrants; `NotifiedKeys` filters those already shown."""
    alerts: list[Alert] = []
    # Against no earlier reading, every threshold already passed counts; only the highest
    # of a budget speaks, the lower ones are remembered silently. The limit is part of the
    # key: a budget changed in Settings is announced again at its own thresholds.
    passed = crossings(None, snap.budgets)
    highest = {(c.period, c.label): c.threshold for c in passed}
    for crossing in passed:
        legacy = f"budget:{crossing.period}:{crossing.label}:{crossing.threshold:.0%}"
        key = f"{legacy}:{crossing.limit_usd:.2f}"
        if crossing.threshold < highest[(crossing.period, crossing.label)]:
            alerts.append(Alert(key, "", "", DashboardTarget("overview"), legacy_key=legacy))
            continue
        name = PERIOD_NAMES[crossing.period]
        title = (
            f"{name} budget spent"
            if crossing.threshold >= 1
            else f"{name} budget at {crossing.threshold:.0%}"
        )
        alerts.append(
            Alert(
                key,
                title,
                crossing.message,
                DashboardTarget("overview"),
                urgent=crossing.threshold >= 1,
                legacy_key=legacy,
            )
        )
    running = {s.session_id: s for s in snap.running}
    for session_id, flags in snap.flags.items():
        session = running.get(session_id)
        if session is None:
            continue
        for flag in flags:
            alerts.append(
                Alert(
                    key=f"flag:{session_id}:{flag.key}",
                    title=f"Runaway session: {flag.kind}",
                    body=f"{session.agent} · {short_model(session.model)} · "
                    f"{session.place or '?'}: {flag.evidence} "
                    f"({money(flag.cost_usd)} in the flagged stretch).",
                    target=DashboardTarget("sessions", session_id),
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


def _plan_window(key: str) -> tuple[str, float] | None:
    """A plan-limit key's window ('agent:minutes') and reset time, if it has one."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "limit":
        return None
    try:
        return f"{parts[1]}:{parts[2]}", float(parts[3])
    except ValueError:
        return None


def _same_plan_window(key: str, other: str) -> bool:
    mine, theirs = _plan_window(key), _plan_window(other)
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return False
    minutes = mine[0].rsplit(":", 1)[1]
    # Two different windows of one agent reset at least a whole window apart.
    tolerance = int(minutes) * 60_000 / 2 if minutes.isdigit() else UNKNOWN_WINDOW_TOLERANCE_MS
    return abs(mine[1] - theirs[1]) < tolerance


class NotifiedKeys:
    """Alert keys already shown, kept in `path` (JSON: key -> unix time shown). The file
    is read again before each decision and merged before each write, so two processes
    sharing it neither repeat nor forget each other's alerts."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._shown: dict[str, float] = {}
        self._merge_file()

    def _merge_file(self) -> None:
        path = self.path
        if path is None or not path.exists():
            return
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                for key, shown in raw.items():
                    at = float(shown)
                    self._shown[str(key)] = max(at, self._shown.get(str(key), at))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)

    def take_new(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts not shown before, now marked as shown; silent ones are only marked."""
        if not alerts:
            return []
        self._merge_file()
        fresh = [a for a in alerts if not self._seen(a)]
        # Shown under an old key: kept under the new one too, so the old key stops
        # speaking for this crossing once the limit changes.
        adopted = [a for a in alerts if a.key not in self._shown and self._seen_as_legacy(a)]
        if not fresh and not adopted:
            return []
        now = time.time()
        for alert in fresh + adopted:
            self._shown[alert.key] = now
        self._save(now)
        return [a for a in fresh if a.title]

    def _seen(self, alert: Alert) -> bool:
        if alert.key in self._shown or self._seen_as_legacy(alert):
            return True
        if alert.key.startswith("limit:"):
            return any(_same_plan_window(alert.key, k) for k in self._shown)
        return False

    def _seen_as_legacy(self, alert: Alert) -> bool:
        """Shown before the key named the limit, and no key of the new form for this
        crossing yet (which would say the old one was another limit's)."""
        legacy = alert.legacy_key
        return (
            legacy is not None
            and legacy in self._shown
            and not any(k.startswith(f"{legacy}:") for k in self._shown)
        )

    def _save(self, now: float) -> None:
        self._merge_file()  # what another process wrote since the read above
        self._shown = {k: t for k, t in self._shown.items() if now - t < KEEP_KEYS_S}
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._shown), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot remember shown alerts in %s: %s", self.path, exc)
