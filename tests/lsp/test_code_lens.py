"""`textDocument/codeLens` through the real server."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import Workspace

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


async def lenses(client: LanguageClient, uri: str) -> list[types.CodeLens]:
    result = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return list(result or [])


async def test_touched_file_shows_cost_sessions_model_and_age(
    client: LanguageClient, workspace: Workspace
) -> None:
    main = await lenses(client, workspace.uri(workspace.main_py))
    assert len(main) == 1
    lens = main[0]
    assert lens.range.start.line == 0
    assert lens.command is not None
    title = lens.command.title
    assert "agent spend" in title
    assert "1 session" in title
    assert "opus-4-7 2h ago" in title

    util = (await lenses(client, workspace.uri(workspace.util_py)))[0]
    assert util.command is not None
    # util.py got half of one call; main.py half of it plus all of another.
    main_cost = float(title.split(" ")[0].lstrip("$"))
    util_cost = float(util.command.title.split(" ")[0].lstrip("$"))
    assert 0 < util_cost < main_cost


async def test_untouched_and_non_file_uris_get_no_lens(
    client: LanguageClient, workspace: Workspace
) -> None:
    assert await lenses(client, workspace.uri(workspace.untouched_py)) == []
    assert await lenses(client, "untitled:Untitled-1") == []
    assert await lenses(client, "file:///definitely/not/here.py") == []
