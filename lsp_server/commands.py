"""`workspace/executeCommand`: `burnmeter.weeklySummary` (Markdown), `burnmeter.sessions`
(the workspace's sessions as JSON) and `burnmeter.fileCost` (a file's breakdown, the code
lens's command)."""

from __future__ import annotations

import importlib
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lsp_server.format import money, short_model
from lsp_server.hover import markdown_for_path
from lsp_server.queries import workspace_sessions
from lsp_server.server import BurnmeterServer, path_of
from shared.ledger import Ledger
from shared.reports import Filters, period_report

WEEKLY_SUMMARY = "burnmeter.weeklySummary"
SESSIONS = "burnmeter.sessions"
FILE_COST = "burnmeter.fileCost"


def local_zone() -> ZoneInfo:
    """The local IANA zone when it can be named, else UTC (reports need a ZoneInfo)."""
    import os

    name = os.environ.get("TZ", "")
    try:
        return ZoneInfo(name) if name else _zone_from_localtime()
    except Exception:
        return ZoneInfo("UTC")


def _zone_from_localtime() -> ZoneInfo:
    from pathlib import Path

    link = Path("/etc/localtime")
    if link.is_symlink():
        target = str(link.resolve())
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    return ZoneInfo("UTC")


def weekly_summary_markdown(ledger: Ledger) -> str:
    """The weekly summary from `shared.summary` when it is installed, else the weekly
    report of the last eight weeks as a Markdown table."""
    from shared.config import load_settings

    settings = load_settings().settings
    try:
        summary: Any = importlib.import_module("shared.summary")
    except ImportError:
        summary = None
    if summary is not None and hasattr(summary, "weekly_markdown"):
        return str(summary.weekly_markdown(ledger, settings))
    return weekly_report_markdown(ledger, local_zone())


def weekly_report_markdown(ledger: Ledger, tz: ZoneInfo, weeks: int = 8) -> str:
    since = datetime.now(tz).date() - timedelta(weeks=weeks)
    report = period_report(ledger, "weekly", Filters(since=since - timedelta(days=6), tz=tz))
    lines = [
        "# burnmeter: weekly agent spend",
        "",
        "| Week | Models | Input | Output | Cache Create | Cache Read | Total Tokens | Cost |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for row in report["weekly"]:
        models = ", ".join(short_model(m) for m in sorted(row.get("models", {})))
        lines.append(
            f"| {row['week']} | {models} | {row['input_tokens']:,} | {row['output_tokens']:,} | "
            f"{row['cache_write_tokens']:,} | {row['cache_read_tokens']:,} | "
            f"{row['total_tokens']:,} | {money(row['cost_usd'])} |"
        )
    totals = report["totals"]
    lines.append(
        f"| **Total** | | {totals['input_tokens']:,} | {totals['output_tokens']:,} | "
        f"{totals['cache_write_tokens']:,} | {totals['cache_read_tokens']:,} | "
        f"{totals['total_tokens']:,} | **{money(totals['cost_usd'])}** |"
    )
    if not report["weekly"]:
        lines.append("")
        lines.append(f"No agent calls since {since.isoformat()}.")
    return "\n".join(lines) + "\n"


def setup(server: BurnmeterServer) -> None:
    @server.command(WEEKLY_SUMMARY)
    async def weekly_summary(ls: BurnmeterServer, *args: Any) -> str:
        return await ls.hub.run_slow(weekly_summary_markdown)

    @server.command(SESSIONS)
    async def sessions(ls: BurnmeterServer, *args: Any) -> list[dict[str, Any]]:
        now_ms = int(time.time() * 1000)
        running_ms = ls.settings.running_minutes * 60_000
        rows = await ls.hub.query(workspace_sessions, ls.workspace_folders(), 500)
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
