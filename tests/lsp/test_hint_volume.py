"""Tier hints through a real server while agents work: a running session's figures move
with every call, and each pass (every 2 s) sent every file it edited its hints again (the
audit: 800 notifications, 6.2 MB in 30 s for 50 files), with every session's hint stacked
on line 1 (17 hints, 4.7 KB per file). A file's diagnostics are now sent again only when a
hint appears, goes, suggests another model or its saving moves by more than 10% (at most
every 10 s), and a file shows three hints and a line counting the others."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.logfixtures import append, claude_call, session_file
from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def exploring_session(ws: Workspace, session_id: str, edited: Path, reads: int = 3) -> Path:
    """A frontier session that mostly read (a tier hint, ~$1.50 a read), then edited
    `edited`; running (its last call a minute ago)."""
    log = session_file(ws.projects, str(ws.folder), session_id)
    now = int(time.time() * 1000)
    for n in range(reads):
        append(
            log,
            claude_call(
                message_id=f"{session_id}-r{n}", session_id=session_id, cwd=str(ws.folder),
                ts_ms=now - 120_000 + n * 1000, model="claude-opus-4-7",
                input_tokens=300_000, output_tokens=1_000,
                tools=[(f"{session_id}-tr{n}", "Read", {"file_path": str(ws.folder / "big.py")})],
            ),
        )  # fmt: skip
    append(
        log,
        claude_call(
            message_id=f"{session_id}-e", session_id=session_id, cwd=str(ws.folder),
            ts_ms=now - 60_000, model="claude-opus-4-7", input_tokens=1_000, output_tokens=100,
            tools=[(f"{session_id}-te", "Edit", {"file_path": str(edited)})],
        ),
    )  # fmt: skip
    return log


class Recorded(dict[str, Sequence[types.Diagnostic]]):
    """pytest-lsp's `client.diagnostics`, keeping every publishDiagnostics it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, list[str]]] = []

    def __setitem__(self, uri: str, diagnostics: Any) -> None:
        self.sent.append((uri, [d.message for d in diagnostics]))
        super().__setitem__(uri, diagnostics)


def read_call(ws: Workspace, session_id: str, n: int, input_tokens: int) -> str:
    return claude_call(
        message_id=f"{session_id}-live{n}", session_id=session_id, cwd=str(ws.folder),
        ts_ms=int(time.time() * 1000), model="claude-opus-4-7",
        input_tokens=input_tokens, output_tokens=200,
        tools=[(f"{session_id}-tl{n}", "Read", {"file_path": str(ws.folder / "big.py")})],
    )  # fmt: skip


async def test_a_running_sessions_hint_is_sent_again_only_when_it_moves(
    workspace: Workspace,
) -> None:
    edited = workspace.folder / "src" / "live.py"
    log = exploring_session(workspace, "sess-live", edited)
    client = await start_client(workspace, "neovim")
    client.diagnostics = recorded = Recorded()
    uri = workspace.uri(edited)

    def sent() -> list[list[str]]:
        return [messages for to, messages in recorded.sent if to == uri]

    def tokens() -> int:
        sessions = workspace.statuses[-1]["sessions"] if workspace.statuses else []
        return next((s["total_tokens"] for s in sessions if s["session_id"] == "sess-live"), 0)

    try:
        assert await wait_until(lambda: bool(sent()), timeout=20)
        [first] = sent()
        assert len(first) == 1 and "would cost $" in first[0], first
        # An agent at work: 12 small reads over ~6 s (each ~0.3% more saving), three passes
        # or more. Every pass sent the file its hint again, the call count and costs moved.
        for n in range(12):
            append(log, read_call(workspace, "sess-live", n, input_tokens=3_000))
            await asyncio.sleep(0.5)
        seen = tokens()
        await asyncio.sleep(2.5)  # the last pass
        assert tokens() == seen and seen > 0
        assert sent() == [first], sent()
        # A read as large as the first ones (+33% saving): the hint is worded again (10 s
        # after it was first shown at the earliest).
        append(log, read_call(workspace, "sess-live", 99, input_tokens=300_000))
        assert await wait_until(lambda: len(sent()) == 2, timeout=20), sent()
        assert sent()[1] != first and "would cost $" in sent()[1][0]
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_file_edited_by_many_hinted_sessions_shows_three_hints(
    workspace: Workspace,
) -> None:
    shared_py = workspace.folder / "src" / "shared.py"
    for n in range(5):
        exploring_session(workspace, f"sess-many-{n}", shared_py, reads=3 + n)
    client: LanguageClient = await start_client(workspace, "visual-studio-code")
    uri = workspace.uri(shared_py)
    try:
        assert await wait_until(lambda: uri in client.diagnostics, timeout=20)
        shown = [d.message for d in client.diagnostics[uri]]
        assert len(shown) == 4, shown
        # The largest savings first: the sessions with the most reads, 7, 6 and 5.
        spent = [float(m.split(" instead of $")[1].split(" ")[0]) for m in shown[:3]]
        assert spent == sorted(spent, reverse=True), shown
        for message, calls in zip(shown[:3], (7, 6, 5), strict=True):
            assert f"went to {calls} calls" in message, shown
        assert "2 more sessions that edited this file have a tier hint" in shown[3]
    finally:
        await client.shutdown_session()
        await client.stop()
