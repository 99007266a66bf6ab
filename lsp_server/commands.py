"""`workspace/executeCommand`: `burnmeter.weeklySummary` (Markdown), `burnmeter.sessions`
(the workspace's sessions as JSON) and `burnmeter.fileCost` (a file's breakdown, the code
lens's command)."""

from __future__ import annotations

import time
from typing import Any

from lsp_server.hover import markdown_for_path
from lsp_server.queries import workspace_sessions
from lsp_server.server import BurnmeterServer, path_of
from shared.ledger import Ledger

WEEKLY_SUMMARY = "burnmeter.weeklySummary"
SESSIONS = "burnmeter.sessions"
FILE_COST = "burnmeter.fileCost"


def weekly_summary_markdown(ledger: Ledger) -> str:
    """The weekly summary (`burnmeter summary`'s Markdown) for the last complete week."""
    from shared.config import load_settings
    from shared.summary import weekly_markdown

    return weekly_markdown(ledger, load_settings().settings)


def setup(server: BurnmeterServer) -> None:
    @server.command(WEEKLY_SUMMARY)
    async def weekly_summary(ls: BurnmeterServer, *args: Any) -> str:
        return await ls.hub.run_slow(weekly_summary_markdown)

    @server.command(SESSIONS)
    async def sessions(ls: BurnmeterServer, *args: Any) -> list[dict[str, Any]]:
        now_ms = int(time.time() * 1000)
        running_ms = ls.settings.running_minutes * 60_000
        rows = await ls.hub.query(
            workspace_sessions, ls.workspace_folders(), 500, ls.status.unpriced
        )
        return [
            {
                **row.as_status(now_ms, running_ms),
                "project_path": row.project_path,
                "calls": row.calls,
            }
            for row in rows
        ]

    @server.command(FILE_COST)
    async def file_cost(ls: BurnmeterServer, *args: Any) -> str | None:
        target = args[0] if args else None
        if isinstance(target, str) and not target.startswith("file:"):
            target = "file://" + target
        path = path_of(target) if isinstance(target, str) else None
        if path is None:
            return None
        return await ls.hub.query(markdown_for_path, path)
