"""Calls of a model with no price through the real server: the code lens, the hover, the
status, the progress message and `burnmeter.sessions` count them beside the cost, never
a bare `$0.00` (README, Prices). `<synthetic>` calls cost nothing by rule: not unpriced."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.format import cost_text
from lsp_server.progress import progress_message
from lsp_server.queries import SessionCost
from tests.logfixtures import append, claude_call, session_file
from tests.lsp.conftest import (
    HOUR_MS,
    NOW_MS,
    Workspace,
    build_history,
    preingest,
    start_client,
    wait_until,
)
from tests.lsp.test_code_lens import lenses
from tests.lsp.test_hover_and_commands import execute, hover

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def add_unpriced_session(ws: Workspace) -> tuple[Path, Path, Path]:
    """A workspace session of a model with no price: two calls edit odd.py (touched by
    nothing else), one of them with main.py (priced calls touched it before); a
    `<synthetic>` call (free) edits free.py."""
    odd, free = ws.folder / "src" / "odd.py", ws.folder / "src" / "free.py"
    log = session_file(ws.projects, str(ws.folder), "sess-odd")
    append(
        log,
        claude_call(
            message_id="o1", session_id="sess-odd", cwd=str(ws.folder),
            ts_ms=NOW_MS - HOUR_MS, model="odd-model-x",
            tools=[("to1", "Edit", {"file_path": str(odd)})],
        )
        + claude_call(
            message_id="o2", session_id="sess-odd", cwd=str(ws.folder),
            ts_ms=NOW_MS - HOUR_MS + 1000, model="odd-model-x",
            tools=[("to2", "Edit", {"file_path": str(odd)}),
                   ("to3", "Edit", {"file_path": str(ws.main_py)})],
        )
        + claude_call(
            message_id="o3", session_id="sess-odd", cwd=str(ws.folder),
            ts_ms=NOW_MS - HOUR_MS + 2000, model="<synthetic>",
            tools=[("to4", "Edit", {"file_path": str(free)})],
        ),
    )  # fmt: skip
    return odd, free, log


@pytest_asyncio.fixture
async def unpriced(isolated_home: Path) -> AsyncIterator[tuple[Workspace, Any, Path, Path]]:
    ws = build_history(isolated_home)
    odd, free, _ = add_unpriced_session(ws)
    preingest(isolated_home)
    client = await start_client(ws, "visual-studio-code")
    yield ws, client, odd, free
    await client.shutdown_session()
    await client.stop()


async def lens_title(client: LanguageClient, uri: str) -> str:
    found = await lenses(client, uri)
    assert len(found) == 1 and found[0].command is not None
    return found[0].command.title


async def test_lens_and_hover_count_unpriced_calls(
    unpriced: tuple[Workspace, LanguageClient, Path, Path],
) -> None:
    ws, client, odd, free = unpriced
    title = await lens_title(client, ws.uri(odd))
    assert title.startswith("unpriced (2 calls) agent spend · 1 session · odd-model-x")
    assert "$0.00" not in title
    # main.py: its priced calls plus one unpriced call.
    main = await lens_title(client, ws.uri(ws.main_py))
    assert "(+1 unpriced) agent spend · 2 sessions" in main
    assert not main.startswith("$0.00")
    # A free call is $0.00 by rule, not unpriced.
    assert (await lens_title(client, ws.uri(free))).startswith("$0.00 agent spend")

    result = await hover(client, ws.uri(odd))
    assert result is not None and isinstance(result.contents, types.MarkupContent)
    text = result.contents.value
    assert "unpriced (2 calls) agent spend, 2 model calls in 1 session" in text
    assert "| odd\\-model\\-x | 2 | unpriced (2 calls) |" not in text  # no stray escapes
    assert "| odd-model-x | 2 | unpriced (2 calls) |" in text
    assert "$0.00" not in text
    main_hover = await hover(client, ws.uri(ws.main_py))
    assert main_hover is not None and isinstance(main_hover.contents, types.MarkupContent)
    assert "(+1 unpriced) agent spend, 3 model calls in 2 sessions" in main_hover.contents.value
    assert "| odd-model-x | 1 | unpriced (1 call) |" in main_hover.contents.value


async def test_status_and_sessions_count_unpriced_calls(
    unpriced: tuple[Workspace, LanguageClient, Path, Path],
) -> None:
    ws, client, _, _ = unpriced
    assert await wait_until(lambda: len(ws.statuses) >= 1)
    status = ws.statuses[-1]
    assert status["workspace_unpriced_calls"] == 2
    # Today in UTC (the tests' zone): both calls, unless the run is just after midnight.
    # NOW_MS is when the suite started and the status was made since: a midnight between
    # the two (a CI run at 23:57) makes either day "today".
    calls = (NOW_MS - HOUR_MS, NOW_MS - HOUR_MS + 1000)
    todays = {
        sum(ts >= at // 86_400_000 * 86_400_000 for ts in calls)
        for at in (NOW_MS, int(time.time() * 1000))
    }
    assert status.get("today_unpriced_calls", 0) in todays
    by_id = {s["session_id"]: s for s in status["sessions"]}
    assert by_id["sess-odd"]["unpriced_calls"] == 2
    assert "unpriced_calls" not in by_id["sess-app-1"]  # only when there are some
    rows = await execute(client, "burnmeter.sessions")
    assert isinstance(rows, list)
    listed = {row["session_id"]: row for row in rows}
    assert listed["sess-odd"]["unpriced_calls"] == 2
    assert "unpriced_calls" not in listed["sess-app-explore"]


async def test_status_counts_a_new_unpriced_call_of_a_counted_session(
    unpriced: tuple[Workspace, LanguageClient, Path, Path],
) -> None:
    ws, _, odd, _ = unpriced
    assert await wait_until(lambda: ws.statuses and "workspace_unpriced_calls" in ws.statuses[-1])
    log = session_file(ws.projects, str(ws.folder), "sess-odd")
    append(
        log,
        claude_call(
            message_id="o4", session_id="sess-odd", cwd=str(ws.folder), ts_ms=NOW_MS,
            model="odd-model-x", tools=[("to5", "Edit", {"file_path": str(odd)})],
        ),
    )  # fmt: skip
    assert await wait_until(lambda: ws.statuses[-1].get("workspace_unpriced_calls") == 3)
    latest = ws.statuses[-1]["sessions"][0]
    assert latest["session_id"] == "sess-odd" and latest["unpriced_calls"] == 3


def test_cost_text_and_progress_message() -> None:
    assert cost_text(3.21) == "$3.21"
    assert cost_text(0.0) == "$0.00"
    assert cost_text(0.0, unpriced=1, calls=1) == "unpriced (1 call)"
    assert cost_text(0.0, unpriced=2, calls=5) == "$0.00 (+2 unpriced)"
    assert cost_text(1234.5, unpriced=1200, calls=3000) == "$1,234 (+1,200 unpriced)"
    session = SessionCost("s", "claude-code", "/w", "odd-model-x", 0.0, 10, 2, 0, 0, 2)
    assert progress_message(session) == "unpriced (2 calls) · odd-model-x · running session"
