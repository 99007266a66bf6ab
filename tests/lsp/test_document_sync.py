"""The server reads no document's text: it asks for openings and closings only
(`textDocumentSync`: openClose, change None), where it advertised incremental changes and
kept a copy of every open file's text, edited on every keystroke, for nothing. Opening
and closing still arrive (tier hints go to open documents); eglot sends changes whatever
the sync kind says, incremental: they are dropped without a word."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import Workspace, server_env, start_client
from tests.lsp.test_emacs_eglot_e2e import EMACS, SNIPPET, burnmeter_on_path, needs_eglot

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


async def test_the_server_asks_for_openings_and_closings_only(workspace: Workspace) -> None:
    client: LanguageClient = await start_client(workspace, "visual-studio-code")
    try:
        assert workspace.initialize_result is not None
        sync = workspace.initialize_result.capabilities.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions), sync
        assert sync.open_close is True
        assert sync.change == types.TextDocumentSyncKind.None_
    finally:
        await client.shutdown_session()
        await client.stop()


@needs_eglot
def test_eglot_opens_edits_and_closes_without_a_word_on_stderr(
    workspace: Workspace, tmp_path: Path
) -> None:
    assert EMACS is not None
    subprocess.run(["git", "init", "-q", str(workspace.folder)], check=True)
    bin_dir = tmp_path / "bin"
    burnmeter_on_path(bin_dir)
    out = tmp_path / "eglot.json"
    env = server_env(workspace.root)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        BURNMETER_EGLOT_SNIPPET=str(SNIPPET),
        BURNMETER_TEST_FILE=str(workspace.main_py),
        BURNMETER_TEST_OUT=str(out),
    )
    done = subprocess.run(
        [EMACS, "--batch", "-l", str(Path(__file__).with_name("emacs_eglot_sync.el"))],
        env=env, cwd=workspace.folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.exists(), done.stderr
    text = out.read_text()
    assert not text.startswith("ERROR"), (text, done.stderr)
    result = json.loads(text)
    assert result["sync"]["openClose"] is True and result["sync"]["change"] == 0, result
    methods = result["methods"]
    for method in ("textDocument/didOpen", "textDocument/didChange", "textDocument/didClose"):
        assert method in methods, methods
    assert result["lenses"], result  # the edited file still has its lens
    assert result["stderr"].strip() == "", result["stderr"]
