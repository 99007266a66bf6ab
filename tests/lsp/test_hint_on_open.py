"""A tier hint is published when it changes, and clients drop some: eglot those of a file
that was not open when they came, Neovim those of a buffer it wiped. Opening a file
(`textDocument/didOpen`) sends it its hints again."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import Workspace, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def open_file(client: LanguageClient, uri: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text="print('x')\n"
            )
        )
    )


async def test_an_opened_file_gets_its_hint_again(
    client: LanguageClient, workspace: Workspace
) -> None:
    uri = workspace.uri(workspace.hinted_py)
    assert await wait_until(lambda: uri in client.diagnostics, timeout=15)
    [first] = client.diagnostics[uri]
    # What a client that dropped the hint has: nothing for the file.
    del client.diagnostics[uri]
    open_file(client, uri)
    assert await wait_until(lambda: uri in client.diagnostics, timeout=5), client.log_messages
    [again] = client.diagnostics[uri]
    assert again.message == first.message
    assert again.severity == types.DiagnosticSeverity.Hint

    # Closed and opened again (Neovim's `:bwipeout`, then `:edit`): sent once more.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    del client.diagnostics[uri]
    open_file(client, uri, version=2)
    assert await wait_until(lambda: uri in client.diagnostics, timeout=5)


async def test_a_file_without_hints_gets_none_on_open(
    client: LanguageClient, workspace: Workspace
) -> None:
    hinted = workspace.uri(workspace.hinted_py)
    assert await wait_until(lambda: hinted in client.diagnostics, timeout=15)
    uri = workspace.uri(workspace.main_py)
    open_file(client, uri)
    # A request answered after the didOpen: the server has handled it by then.
    await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert uri not in client.diagnostics
