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
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.insights.budgets import crossings
from shared.insights.flags import Flag
from shared.paths import make_data_dir
from shared.reports import RUNNING_WINDOW_MS
from tray_app.snapshot import TraySnapshot
from tray_app.texts import PERIOD_NAMES, duration, money, short_model, window_name

log = logging.getLogger(__name__)

# A plan window this full is "close to its limit".
PLAN_LIMIT_ALERT_PERCENT = 90.0
KEEP_KEYS_S = 45 * 24 * 3600
# A plan window of unknown length: readings whose reset times are this close are one window.
UNKNOWN_WINDOW_TOLERANCE_MS = 3600 * 1000


@dataclass(frozen=True)
class DashboardTarget:
    """Where a click on an alert opens the dashboard."""

    tab: str  # "overview" | "sessions"; "settings" opens the Settings window
    session_id: str | None = None
    # The runaway flag that raised the alert (`Flag.key`): shown first in the session's
    # detail view, highlighted. The session alone left the user to find out why.
    flag_key: str | None = None


@dataclass(frozen=True)
class Alert:
    key: str
    title: str
    body: str
    target: DashboardTarget
    urgent: bool = False
    # Among alerts of one refresh, which one speaks first (higher first, after `urgent`).
    severity: float = 0.0
    # The key an earlier version gave this crossing (a budget's, before it named the
    # limit): shown under it counts as shown, until a key of the new form replaced it.
    legacy_key: str | None = None


def most_urgent_first(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (not a.urgent, -a.severity))


def alerts_for(snap: TraySnapshot, tz: ZoneInfo | None = None) -> list[Alert]:
    """Every alert the snapshot warrants; `NotifiedKeys` filters those already shown.
    `tz` is the zone the time of an earlier runaway stretch is told in."""
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
                severity=crossing.threshold,
                legacy_key=legacy,
            )
        )
    running = {s.session_id: s for s in snap.running}
    for session_id, flags in snap.flags.items():
        session = running.get(session_id)
        if session is None:
            continue
        for flag in flags:
            where = f"{session.agent} · {short_model(session.model)} · {session.place or '?'}"
            cost = f"{money(flag.cost_usd)} in the flagged stretch"
            ended_ms = _ms_of(flag.ended_at)
            if ended_ms is None or snap.taken_ms - ended_ms <= RUNNING_WINDOW_MS:
                title = f"Runaway session: {flag.kind}"
                body = f"{where}: {flag.evidence} ({cost})."
                urgent, severity = True, 1.0
            else:
                # A stretch that ended a while ago (the tray was not running then): news,
                # but not an emergency, and the text says when it was.
                title = f"Runaway session earlier: {flag.kind}"
                body = (
                    f"{where}: {flag.evidence}, {_when(flag, ended_ms, snap.taken_ms, tz)} "
                    f"({cost})."
                )
                urgent, severity = False, 0.4
            alerts.append(
                Alert(
                    key=f"flag:{session_id}:{flag.key}",
                    title=title,
                    body=body,
                    target=DashboardTarget("sessions", session_id, flag.key),
                    urgent=urgent,
                    severity=severity,
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
                severity=limit.used_percent / 100,
            )
        )
    return alerts


def _ms_of(iso: str) -> int | None:
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000)
    except ValueError:
        return None


def _when(flag: Flag, ended_ms: int, now_ms: int, tz: ZoneInfo | None) -> str:
    """'from 09:12 to 09:14 today, 2 h 31 min ago' in `tz`, with the date when not today."""
    started_ms = _ms_of(flag.started_at) or ended_ms
    start = datetime.fromtimestamp(started_ms / 1000, tz)
    end = datetime.fromtimestamp(ended_ms / 1000, tz)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    day = "today" if end.date() == today else f"on {end.date().isoformat()}"
    return f"from {start:%H:%M} to {end:%H:%M} {day}, {duration(now_ms - ended_ms)} ago"


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
            make_data_dir(self.path.parent)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._shown), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot remember shown alerts in %s: %s", self.path, exc)
