"""The `burnmeter/status` notification: today's cost (all projects, the day in the
config's `timezone`, else the machine's), the workspace's all-time cost and its sessions;
sent after `initialized` and whenever the ledger changes in a way that changes it, at
most every 100 ms, and every 30 s (sessions stop running, the day ends, the config
changes)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lsp_server.queries import (
    SessionCost,
    UnpricedCache,
    today_cost,
    workspace_cost,
    workspace_sessions,
)
from lsp_server.server import BurnmeterServer
from shared.config_fast import file_stamp
from shared.timezones import resolve_zone

log = logging.getLogger(__name__)

STATUS_METHOD = "burnmeter/status"
MIN_INTERVAL_S = 0.1
TICK_S = 30.0

# Listeners get the parameters sent and the most recent workspace session (if any).
StatusListener = Callable[[dict[str, Any], SessionCost | None], None]


class DayZone:
    """The zone "today" is counted in: the config file's `timezone` when it names one,
    else the machine's (`shared.timezones.resolve_zone`, the rule of the status line, the
    tray and the budgets). The file is read again when it has changed (modification time,
    size, inode), as the server's prices are; one `stat` per status otherwise. Used on the
    hub's database thread only."""

    def __init__(self) -> None:
        self._seen: tuple[Path, tuple[int, int, int] | None] | None = None
        self._configured = ""

    def __call__(self) -> ZoneInfo:
        from shared.paths import config_file

        path = config_file()
        seen = (path, file_stamp(path))
        if seen != self._seen:
            self._seen = seen
            self._configured = _configured_zone(path)
        return resolve_zone(self._configured)


def _configured_zone(path: Path) -> str:
    """The config file's `timezone` ("" for none, an unknown one or a broken file); an
    unknown zone is logged (the client's log) once per change of the file."""
    from shared.config import load_settings

    loaded = load_settings(path)
    for problem in loaded.problems:
        if ": timezone: " in problem:
            log.warning("%s Today is counted in the machine's time zone.", problem)
    return loaded.settings.timezone


def status_params(
    conn: sqlite3.Connection,
    folders: list[str],
    sessions_shown: int,
    running_ms: int,
    unpriced: UnpricedCache | None = None,
    zone: Callable[[], ZoneInfo] | None = None,
) -> tuple[dict[str, Any], SessionCost | None]:
    """The notification's parameters, "today" in `zone()` (default: a `DayZone`). Calls
    without a price are counted beside each cost (`today_unpriced_calls`,
    `workspace_unpriced_calls`, a session's `unpriced_calls`), each key present only when
    there are some, as in the reports' JSON."""
    unpriced = {} if unpriced is None else unpriced
    now_ms = int(time.time() * 1000)
    sessions = (
        workspace_sessions(conn, folders, max(sessions_shown, 1), unpriced) if folders else []
    )
    latest = sessions[0] if sessions else None
    shown = sessions[:sessions_shown]
    today_usd, today_unpriced = today_cost(conn, now_ms, (zone or DayZone())())
    workspace_usd, workspace_unpriced = (
        workspace_cost(conn, folders, unpriced) if folders else (0.0, 0)
    )
    params: dict[str, Any] = {
        "today_cost_usd": round(today_usd, 6),
        "workspace_cost_usd": round(workspace_usd, 6),
        "sessions": [s.as_status(now_ms, running_ms) for s in shown],
    }
    if today_unpriced:
        params["today_unpriced_calls"] = today_unpriced
    if workspace_unpriced:
        params["workspace_unpriced_calls"] = workspace_unpriced
    return params, latest


class StatusSender:
    """Coalesces ledger changes into at most one notification per 100 ms; sends only
    when the parameters changed (or on the first call)."""

    def __init__(self, server: BurnmeterServer) -> None:
        self.server = server
        self.listeners: list[StatusListener] = []
        self.last_params: dict[str, Any] | None = None
        # The workspace's most recent session in the last status sent (for listeners that
        # must act on new settings before the next status: the progress).
        self.last_latest: SessionCost | None = None
        # Unpriced calls per session, shared with `burnmeter.sessions` (both run on the
        # hub's database thread).
        self.unpriced: UnpricedCache = {}
        # The zone of "today", kept between statuses so the config is parsed only when
        # it changes (on the database thread, as `unpriced`).
        self.day_zone = DayZone()
        self._last_sent_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self._again = False
        self._ticking = False

    async def _tick(self) -> None:
        """Sessions stop "running" by the clock alone, without any ledger change."""
        while True:
            await asyncio.sleep(TICK_S)
            self.schedule()

    def schedule(self) -> None:
        if not self._ticking:
            self._ticking = True
            self.server.run_task(self._tick(), "status clock")
        if self._timer is not None or self._running:
            self._again = True
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_sent_at + MIN_INTERVAL_S - loop.time())
        self._timer = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.server.run_task(self._send(), "burnmeter/status")

    async def _send(self) -> None:
        self._running = True
        server = self.server
        try:
            settings = server.settings
            params, latest = await server.hub.query(
                status_params,
                server.workspace_folders(),
                settings.status_sessions,
                settings.running_minutes * 60_000,
                self.unpriced,
                self.day_zone,
            )
            if params != self.last_params and server.initialized:
                self._last_sent_at = asyncio.get_running_loop().time()
                server.protocol.notify(STATUS_METHOD, params)
                self.last_params = params
                self.last_latest = latest
                for listener in self.listeners:
                    listener(params, latest)
        finally:
            self._running = False
            if self._again:
                self._again = False
                self.schedule()


def setup(server: BurnmeterServer) -> None:
    sender = StatusSender(server)
    server.status = sender
    server.on_ledger_change(sender.schedule)
