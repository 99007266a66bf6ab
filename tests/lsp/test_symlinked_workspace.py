"""A workspace folder opened through a symbolic link (`ln -s ~/work/app link`, then the
editor opens `link`): the agents log the real working directory and file paths, and the
server compared the link's path only, so the file showed no lens and the workspace no
sessions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lsprotocol import types

from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


async def test_a_folder_opened_through_a_link_has_its_lens_and_sessions(
    workspace: Workspace,
) -> None:
    link = workspace.root / "link-to-app"
    link.symlink_to(workspace.folder, target_is_directory=True)
    through_link = replace(workspace, folder=link)
    client = await start_client(through_link, "neovim")
    try:
        assert await wait_until(lambda: bool(workspace.statuses))
        ids = [s["session_id"] for s in workspace.statuses[-1]["sessions"]]
        assert ids == ["sess-app-1", "sess-app-explore"]
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(
                text_document=types.TextDocumentIdentifier(
                    uri=workspace.uri(link / "src" / "main.py")
                )
            )
        )
        assert lenses and lenses[0].command is not None
        assert "agent spend · 1 session" in lenses[0].command.title
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_path_that_is_no_link_is_matched_as_before(workspace: Workspace) -> None:
    client = await start_client(workspace, "neovim")
    try:
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(
                text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py))
            )
        )
        assert lenses and lenses[0].command is not None
        assert "agent spend · 1 session" in lenses[0].command.title
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_file_opened_through_a_link_gets_its_hints(workspace: Workspace) -> None:
    """The agents log the real path, so the hints were published for it only: an editor that
    opened the file through the link (VS Code keeps the link's path) showed none. An open
    document that is that file gets them under its own URI (and the real path's are
    cleared, so a problems list does not show them twice); closed, they go back."""
    link = workspace.root / "link-to-app"
    link.symlink_to(workspace.folder, target_is_directory=True)
    client = await start_client(replace(workspace, folder=link), "visual-studio-code")
    real = workspace.uri(workspace.hinted_py)
    through_link = workspace.uri(link / "src" / "hinted.py")
    try:
        assert await wait_until(lambda: bool(client.diagnostics.get(real)), timeout=15)
        [hint] = client.diagnostics[real]
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=through_link, language_id="python", version=1, text="x = 1\n"
                )
            )
        )
        assert await wait_until(lambda: bool(client.diagnostics.get(through_link)), timeout=5)
        assert [d.message for d in client.diagnostics[through_link]] == [hint.message]
        assert await wait_until(lambda: list(client.diagnostics[real]) == [], timeout=5)
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=through_link)
            )
        )
        assert await wait_until(lambda: bool(client.diagnostics.get(real)), timeout=5)
        assert list(client.diagnostics[through_link]) == []
    finally:
        await client.shutdown_session()
        await client.stop()
