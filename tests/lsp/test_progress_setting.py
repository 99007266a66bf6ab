"""The `progress` setting changed through `workspace/didChangeConfiguration` takes effect
at once, as `codeLens`, `tierHints` and `statusSessions` do: `false` ends the running
session's progress, `true` begins one again. Both waited for the next ledger change (the
status, which drives the progress, is sent again only when it changes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.logfixtures import append, claude_call
from tests.lsp.conftest import build_history, preingest, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def ended(client: LanguageClient) -> int:
    return sum(
        bool(reports) and isinstance(reports[-1], types.WorkDoneProgressEnd)
        for reports in client.progress_reports.values()
    )


def begun(client: LanguageClient) -> int:
    return sum(
        bool(reports) and isinstance(reports[0], types.WorkDoneProgressBegin)
        for reports in client.progress_reports.values()
    )


async def test_the_progress_setting_takes_effect_at_once(isolated_home: Path) -> None:
    ws = build_history(isolated_home)
    append(
        ws.session_log,
        claude_call(
            message_id="running", session_id="sess-app-1", cwd=str(ws.folder),
            ts_ms=int(time.time() * 1000), model="claude-opus-4-7",
            tools=[("tr", "Edit", {"file_path": str(ws.main_py)})],
        ),
    )  # fmt: skip
    preingest(isolated_home)
    client = await start_client(ws, "visual-studio-code")
    try:
        assert await wait_until(lambda: begun(client) == 1)
        statuses = len(ws.statuses)

        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"progress": False})
        )
        assert await wait_until(lambda: ended(client) == 1)

        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"progress": True})
        )
        assert await wait_until(lambda: begun(client) == 2)
        assert ended(client) == 1
        # Nothing in the ledger changed: the status was not what moved the progress.
        assert len(ws.statuses) == statuses
    finally:
        await client.shutdown_session()
        await client.stop()
