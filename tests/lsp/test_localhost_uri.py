"""`file://localhost/path` is `file:///path` (RFC 8089): pygls read it as the path
`//localhost/path`, so a file named so got no code lens (nor hover, nor hints), and a
workspace folder named so had no sessions."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def localhost(uri: str) -> str:
    assert uri.startswith("file:///")
    return "file://localhost/" + uri.removeprefix("file:///")


async def test_localhost_uris_name_the_local_files(workspace: Workspace) -> None:
    client: LanguageClient = await start_client(workspace, "visual-studio-code")
    try:
        uri = localhost(workspace.uri(workspace.main_py))
        document = types.TextDocumentIdentifier(uri=uri)
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=document)
        )
        assert lenses and lenses[0].command is not None, lenses
        assert "agent spend · 1 session · opus-4-7 2h ago" in lenses[0].command.title
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=document, position=types.Position(line=0, character=0))
        )
        assert hover is not None and "agent spend" in str(hover.contents)
        # An open document named so gets its hints under that name.
        hinted = localhost(workspace.uri(workspace.hinted_py))
        assert await wait_until(lambda: bool(client.diagnostics), timeout=15)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=hinted, language_id="python", version=1, text="x = 1\n"
                )
            )
        )
        assert await wait_until(lambda: bool(client.diagnostics.get(hinted)), timeout=5)
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_localhost_workspace_folder_has_its_sessions(workspace: Workspace) -> None:
    folder = localhost(workspace.uri(workspace.folder))
    client: LanguageClient = await start_client(workspace, "neovim")
    try:
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(
                    added=[types.WorkspaceFolder(uri=folder, name="app")],
                    removed=[
                        types.WorkspaceFolder(uri=workspace.uri(workspace.folder), name="app")
                    ],
                )
            )
        )
        sessions = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="burnmeter.sessions", arguments=[])
        )
        ids = sorted(str(row["session_id"]) for row in sessions)
        assert ids == ["sess-app-1", "sess-app-explore"], sessions
    finally:
        await client.shutdown_session()
        await client.stop()
