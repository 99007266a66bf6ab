"""The hover follows the client's `textDocument.hover.contentFormat`: eglot without
markdown-mode asks for `plaintext` only and was sent Markdown source (pipes, `**`), which
it shows as it is. A client that prefers plain text gets an aligned text table; one that
prefers Markdown (or says nothing) gets the Markdown table as before."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from tests.lsp.conftest import Workspace, start_client

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def with_hover_formats(formats: list[types.MarkupKind]) -> types.ClientCapabilities:
    capabilities = client_capabilities("emacs")
    assert capabilities.text_document is not None
    capabilities.text_document.hover = types.HoverClientCapabilities(content_format=formats)
    return capabilities


async def hover_of(workspace: Workspace, capabilities: types.ClientCapabilities) -> types.Hover:
    client = await start_client(workspace, capabilities)
    try:
        answer = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py)),
                position=types.Position(line=0, character=0),
            )
        )
    finally:
        await client.shutdown_session()
        await client.stop()
    assert answer is not None
    return answer


@pytest.mark.parametrize(
    "formats",
    [[types.MarkupKind.PlainText], [types.MarkupKind.PlainText, types.MarkupKind.Markdown]],
)
async def test_a_client_preferring_plain_text_gets_an_aligned_table(
    workspace: Workspace, formats: list[types.MarkupKind]
) -> None:
    answer = await hover_of(workspace, with_hover_formats(formats))
    assert isinstance(answer.contents, types.MarkupContent)
    assert answer.contents.kind == types.MarkupKind.PlainText
    lines = answer.contents.value.split("\n")
    assert lines[0].startswith("burnmeter · main.py: $")
    assert lines[0].endswith("agent spend, 2 model calls in 1 session")
    header, row = lines[2], lines[3]
    assert header.split() == ["Session", "Model", "Calls", "Cost", "Last"]
    assert row.split()[:3] == ["sess-app", "opus-4-7", "2"] and row.endswith("2h ago")
    # Aligned: the right-aligned Calls column ends where its heading ends.
    assert row.index(" 2 ") + 2 == header.index("Calls") + len("Calls")
    assert not any(mark in answer.contents.value for mark in ("|", "**", "](command:"))


async def test_a_client_preferring_markdown_gets_markdown(workspace: Workspace) -> None:
    formats = [types.MarkupKind.Markdown, types.MarkupKind.PlainText]
    answer = await hover_of(workspace, with_hover_formats(formats))
    assert isinstance(answer.contents, types.MarkupContent)
    assert answer.contents.kind == types.MarkupKind.Markdown
    assert "| Session | Model | Calls | Cost | Last |" in answer.contents.value
