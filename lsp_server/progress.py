"""Work-done progress (`$/progress`) for the workspace's running session: most editors
show it in their status line, so clients that ignore `burnmeter/status` still see the
running cost."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lsp_server.format import cost_text, short_model
from lsp_server.queries import SessionCost
from lsp_server.server import BurnmeterServer

log = logging.getLogger(__name__)


def progress_message(session: SessionCost) -> str:
    cost = cost_text(session.cost_usd, session.unpriced_calls, session.calls)
    return f"{cost} · {short_model(session.model)} · running session"


class RunningSessionProgress:
    def __init__(self, server: BurnmeterServer) -> None:
        self.server = server
        self.token: str | None = None
        self._creating = False
        # The `progress` setting the last update saw.
        self.setting = server.settings.progress
        # The client refused to create a progress (an error answer): asked once, not on
        # every status change.
        self._refused = False

    def update(self, params: dict[str, Any], latest: SessionCost | None) -> None:
        server = self.server
        self.setting = server.settings.progress
        enabled = server.settings.progress and server.client_supports(
            "window", "work_done_progress"
        )
        now_ms = int(time.time() * 1000)
        running_ms = server.settings.running_minutes * 60_000
        running = latest if latest is not None and latest.running(now_ms, running_ms) else None
        if running is None or not enabled or self._refused:
            self.end()
            return
        message = progress_message(running)
        if self.token is None:
            if not self._creating:
                server.run_task(self._begin(message), "running-session progress")
            return
        server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    async def _begin(self, message: str) -> None:
        self._creating = True
        token = f"burnmeter-session-{uuid.uuid4().hex[:8]}"
        try:
            await self.server.work_done_progress.create_async(token)
        except JsonRpcException as exc:
            # The client's choice, not the server's failure (it logged an ERROR with a
            # traceback on every status change before): the status notifications and the
            # code lens still show the running cost.
            self._refused = True
            log.info("the client refused a work-done progress (%s); not asking again", exc)
            return
        finally:
            self._creating = False
        self.token = token
        self.server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="burnmeter", message=message)
        )

    def end(self) -> None:
        if self.token is None:
            return
        token, self.token = self.token, None
        self.server.work_done_progress.end(
            token, types.WorkDoneProgressEnd(message="no running agent session")
        )


def setup(server: BurnmeterServer) -> None:
    progress = RunningSessionProgress(server)

    # The status sender exists once the status feature is set up (it comes first).
    status = server.status
    status.listeners.append(progress.update)

    def setting_changed() -> None:
        """A new `progress` setting takes effect at once, with the last status's session:
        the status is sent again only when it changes, so a running progress went on after
        `progress: false`, and `progress: true` began none, until the ledger changed."""
        if server.settings.progress != progress.setting and status.last_params is not None:
            progress.update(status.last_params, status.last_latest)

    server.on_ledger_change(setting_changed, on_start=False)
