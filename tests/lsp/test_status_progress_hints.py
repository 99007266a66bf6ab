"""`burnmeter/status`, work-done progress and tier-hint diagnostics through the real
server, including live updates when an agent appends to its log."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.logfixtures import append, claude_call
from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

STATUS_KEYS = {"today_cost_usd", "workspace_cost_usd", "sessions"}
SESSION_KEYS = {
    "session_id", "agent", "model", "cost_usd", "total_tokens", "started_at",
    "last_activity", "running",
}  # fmt: skip


def ledger_costs() -> dict[str, float]:
    conn = sqlite3.connect(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    try:
        return {
            str(sid): float(cost)
            for sid, cost in conn.execute(
                "SELECT session_id, sum(cost_usd) FROM usage_events GROUP BY session_id"
            )
        }
    finally:
        conn.close()


def today_cost() -> float:
    conn = sqlite3.connect(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    midnight = time.time() // 86400 * 86400 * 1000  # TZ=UTC in tests
    try:
        return float(
            conn.execute(
                "SELECT coalesce(sum(cost_usd), 0) FROM usage_events WHERE ts_ms >= ?",
                (midnight,),
            ).fetchone()[0]
        )
    finally:
        conn.close()


async def test_status_after_initialized_has_the_documented_shape(
    client: LanguageClient, workspace: Workspace
) -> None:
    assert await wait_until(lambda: len(workspace.statuses) >= 1)
    status = workspace.statuses[0]
    assert set(status) == STATUS_KEYS
    costs = ledger_costs()
    assert status["workspace_cost_usd"] == pytest.approx(
        costs["sess-app-1"] + costs["sess-app-explore"], abs=1e-6
    )
    assert status["today_cost_usd"] == pytest.approx(today_cost(), abs=1e-6)
    ids = [s["session_id"] for s in status["sessions"]]
    assert ids == ["sess-app-1", "sess-app-explore"]  # most recent first; not sess-other
    for session in status["sessions"]:
        assert set(session) == SESSION_KEYS
        assert session["running"] is False
        assert session["started_at"].endswith("Z")


@pytest.mark.parametrize("capabilities", ["visual-studio-code", "neovim"])
async def test_appended_line_updates_status_progress_and_lens(
    workspace: Workspace, capabilities: str
) -> None:
    client = await start_client(workspace, capabilities)
    try:
        assert await wait_until(lambda: len(workspace.statuses) >= 1)
        before = workspace.statuses[-1]["workspace_cost_usd"]
        append(
            workspace.session_log,
            claude_call(
                message_id="live1", session_id="sess-app-1", cwd=str(workspace.folder),
                ts_ms=int(time.time() * 1000), model="claude-opus-4-7",
                input_tokens=50_000, output_tokens=1_000,
                tools=[("tl1", "Edit", {"file_path": str(workspace.util_py)})],
            ),
        )  # fmt: skip
        assert await wait_until(
            lambda: workspace.statuses[-1]["workspace_cost_usd"] > before + 0.2, timeout=10
        )
        latest = workspace.statuses[-1]["sessions"][0]
        assert latest["session_id"] == "sess-app-1" and latest["running"] is True

        if capabilities == "visual-studio-code":
            # VS Code supports work-done progress and code lens refresh.
            assert await wait_until(lambda: any(client.progress_reports.values()))
            begin = next(iter(client.progress_reports.values()))[0]
            assert isinstance(begin, types.WorkDoneProgressBegin)
            assert begin.message is not None and "running session" in begin.message
            assert await wait_until(lambda: workspace.lens_refreshes >= 1)
        else:
            assert workspace.lens_refreshes == 0
    finally:
        await client.shutdown_session()
        await client.stop()


class ArrivalTimes(list[dict[str, Any]]):
    """`Workspace.statuses` that also notes when each status reached the client (the
    client's `burnmeter/status` handler appends to it on arrival)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def append(self, status: dict[str, Any]) -> None:
        self.arrived.append(time.monotonic())
        super().append(status)


async def test_statuses_are_at_least_100ms_apart(workspace: Workspace) -> None:
    statuses = workspace.statuses = ArrivalTimes()
    client = await start_client(workspace, "visual-studio-code")
    try:
        assert await wait_until(lambda: len(statuses) >= 1)
        # A burst of ~1.5 s: a line every 30 ms, each one changing the session's cost, so
        # a server without the throttle sends a status after (almost) every line.
        burst_start = time.monotonic()
        before = len(statuses)
        for n in range(50):
            append(
                workspace.session_log,
                claude_call(
                    message_id=f"burst{n}",
                    session_id="sess-app-1",
                    cwd=str(workspace.folder),
                    ts_ms=int(time.time() * 1000),
                    input_tokens=1000 + n,
                ),
            )
            await asyncio.sleep(0.03)
        costs = ledger_costs
        assert await wait_until(
            lambda: (
                statuses[-1]["sessions"][0]["cost_usd"]
                == pytest.approx(costs()["sess-app-1"], abs=1e-6)
            )
        )
        burst = statuses.arrived[before:]
        # The burst was seen as it happened, not only once at its end.
        assert len(burst) >= 5, burst
        # Sent at least 100 ms apart: no more statuses than 100 ms slots between the
        # burst's first line and the last status's arrival (CLOCK_MONOTONIC, one clock for
        # both processes), plus one that may have been on its way before the burst. Counted,
        # not measured gap by gap, so the client reading two notifications late together
        # (a loaded machine) cannot fail it; an unthrottled server sends about 50.
        slots = int((burst[-1] - burst_start) / 0.1) + 1
        assert len(burst) <= slots + 1, (len(burst), slots)
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_tier_hint_diagnostic_on_files_the_exploring_session_edited(
    client: LanguageClient, workspace: Workspace
) -> None:
    uri = workspace.uri(workspace.hinted_py)
    assert await wait_until(lambda: uri in client.diagnostics, timeout=15)
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.severity == types.DiagnosticSeverity.Hint
    assert diagnostic.range.start.line == 0
    assert diagnostic.source == "burnmeter"
    # The source says "burnmeter"; the message does not say it again.
    assert diagnostic.message.startswith("session sess-app — ")
    # The counterfactual is said once (the hint's reason says it).
    assert diagnostic.message.count("would cost $") == 1, diagnostic.message
    assert diagnostic.message.count(" instead of ") == 1, diagnostic.message
    # The editing-heavy session gets no hint.
    assert workspace.uri(workspace.main_py) not in client.diagnostics

    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"burnmeter": {"tierHints": False}})
    )
    ok = await wait_until(lambda: list(client.diagnostics.get(uri, [1])) == [], timeout=10)
    assert ok, (client.diagnostics.get(uri), client.log_messages, client.messages)
