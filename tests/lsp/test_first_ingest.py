"""A fresh ledger: the client's first code lens and hover come before the server's first
ingest is done. A client that is never told to ask again (no `workspace/codeLens/refresh`:
Neovim 0.7) got no lens until the cursor moved (4 runs in 5 of the README's Neovim set-up
on a real history); now its requests wait for that ingest, up to FIRST_INGEST_WAIT_S.
The server's first ingest is made late on purpose (slow_first_ingest.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp.conftest import Workspace, build_history, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

LATE_SERVER = [sys.executable, str(Path(__file__).with_name("slow_first_ingest.py"))]


@pytest.fixture
def fresh(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The fixture history with no ledger yet, and a first ingest 2 s late."""
    monkeypatch.setenv("BURNMETER_TEST_INGEST_DELAY", "2")
    return build_history(isolated_home)


def before_the_first_ingest(ws: Workspace) -> bool:
    """No `burnmeter/status` with the history's cost has come yet: the first ingest, which
    writes the whole history at once, is not done (statuses before it count nothing)."""
    return all(status["workspace_cost_usd"] == 0 for status in ws.statuses)


def lens_params(ws: Workspace) -> types.CodeLensParams:
    return types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=ws.uri(ws.main_py)))


def hover_params(ws: Workspace) -> types.HoverParams:
    return types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=ws.uri(ws.main_py)),
        position=types.Position(line=0, character=0),
    )


async def test_a_client_without_lens_refresh_gets_the_lens_after_the_first_ingest(
    fresh: Workspace,
) -> None:
    client = await start_client(fresh, "neovim", program=LATE_SERVER)
    try:
        assert client.capabilities.workspace is None or not (
            client.capabilities.workspace.code_lens
            and client.capabilities.workspace.code_lens.refresh_support
        )
        lenses = await client.text_document_code_lens_async(lens_params(fresh))
        assert lenses and lenses[0].command is not None
        assert "agent spend · 1 session · opus-4-7 2h ago" in lenses[0].command.title
        hover = await client.text_document_hover_async(hover_params(fresh))
        assert hover is not None
        assert fresh.lens_refreshes == 0
    finally:
        await client.shutdown_session()
        await client.stop()


@pytest.mark.parametrize("capabilities", ["visual-studio-code", "neovim"])
async def test_a_hover_before_the_first_ingest_waits_for_it(
    fresh: Workspace, capabilities: str
) -> None:
    client = await start_client(fresh, capabilities, program=LATE_SERVER)
    try:
        hover = await client.text_document_hover_async(hover_params(fresh))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "agent spend, 2 model calls in 1 session" in hover.contents.value
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_client_with_lens_refresh_is_answered_at_once_then_told_to_ask_again(
    fresh: Workspace,
) -> None:
    client = await start_client(fresh, "visual-studio-code", program=LATE_SERVER)
    try:
        assert not await client.text_document_code_lens_async(lens_params(fresh))
        # Answered before the first ingest was done: the server had not yet told the client
        # to ask again, nor sent a status with the history's cost (both follow that ingest,
        # and the server's messages come in the order it sent them).
        assert fresh.lens_refreshes == 0
        assert before_the_first_ingest(fresh)
        assert await wait_until(lambda: fresh.lens_refreshes > 0, timeout=20)
        assert await client.text_document_code_lens_async(lens_params(fresh))
        assert await wait_until(lambda: not before_the_first_ingest(fresh))
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_the_wait_is_bounded(fresh: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BURNMETER_TEST_INGEST_DELAY", "8")
    monkeypatch.setenv("BURNMETER_TEST_FIRST_INGEST_WAIT", "0.5")
    client = await start_client(fresh, "neovim", program=LATE_SERVER)
    try:
        assert await wait_until(lambda: len(fresh.statuses) >= 1)  # sent after `initialized`
        assert not await client.text_document_code_lens_async(lens_params(fresh))
        assert await client.text_document_hover_async(hover_params(fresh)) is None
        # Both gave up waiting (0.5 s, not the 10 s default) before the first ingest, 8 s
        # late, was done: no status with the history's cost came before the answers; that
        # one comes once the ingest is done (the server's shutdown waits for it anyway).
        assert before_the_first_ingest(fresh)
        assert await wait_until(lambda: not before_the_first_ingest(fresh), timeout=30)
    finally:
        await client.shutdown_session()
        await client.stop()


@pytest.mark.skipif(shutil.which("nvim") is None, reason="neovim is not installed")
def test_the_readme_neovim_setup_shows_the_lens_on_a_fresh_ledger(
    fresh: Workspace, tmp_path: Path
) -> None:
    """The README's claim, on a fresh ledger: the lens Neovim asks for when the buffer
    attaches (it asks again only when the cursor rests) is the one it shows."""
    from tests.lsp.test_neovim_e2e import run_readme_setup

    seen = run_readme_setup(fresh, tmp_path, [fresh.main_py], program=LATE_SERVER)
    lenses = seen["lenses"][str(fresh.main_py)]
    assert lenses, seen
    assert "agent spend · 1 session · opus-4-7 2h ago" in lenses[0]
