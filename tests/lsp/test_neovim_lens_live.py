"""A file's code lens in Neovim follows an agent at work. Neovim does not support
`workspace/codeLens/refresh`, and the README's set-ups refreshed lenses on BufEnter,
CursorHold and InsertLeave only: the lens stayed as it was while an agent worked, until a
key was pressed. They now refresh the lenses of the buffers shown when the server's
`burnmeter/status` comes (the ledger changed), at most every 2 s. Headless Neovim presses
no key and fires none of those autocmds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.logfixtures import claude_call
from tests.lsp.conftest import Workspace
from tests.lsp.test_neovim_e2e import pytestmark as needs_nvim
from tests.lsp.test_neovim_e2e import run_readme_setup
from tests.lsp.test_neovim_readme_snippet import NVIM as RECENT_NVIM
from tests.lsp.test_neovim_readme_snippet import pytestmark as needs_recent_nvim
from tests.lsp.test_neovim_readme_snippet import readme_snippet


def watch_the_lens(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> dict[str, Any]:
    """Open main.py, wait for its lens, then have the session edit main.py again now."""
    (workspace.folder / ".git").mkdir()
    line = tmp_path / "line.jsonl"
    line.write_text(
        claude_call(
            message_id="m-live", session_id="sess-app-1", cwd=str(workspace.folder),
            ts_ms=int(time.time() * 1000), model="claude-opus-4-7",
            input_tokens=50_000, output_tokens=5_000,
            tools=[("t-live", "Edit", {"file_path": str(workspace.main_py)})],
        )
    )  # fmt: skip
    # Passed on to Neovim's environment: the driver appends the line itself, once the lens
    # is shown.
    monkeypatch.setenv("BURNMETER_TEST_APPEND_FROM", str(line))
    monkeypatch.setenv("BURNMETER_TEST_APPEND_TO", str(workspace.session_log))
    return run_readme_setup(
        workspace, tmp_path, [workspace.main_py], script="nvim_lens_live.lua", **options
    )


def check(seen: dict[str, Any]) -> None:
    assert seen["before"] and "opus-4-7 2h ago" in seen["before"][0], seen
    assert seen["after"] and "opus-4-7 just now" in seen["after"][0], seen
    # The status comes within 0.1 s of the change, the refresh 2 s after it.
    assert seen["seconds"] < 10, seen


@needs_nvim
def test_the_module_refreshes_the_lens_while_an_agent_works(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(watch_the_lens(workspace, tmp_path, monkeypatch))


@needs_recent_nvim
def test_the_snippet_refreshes_the_lens_while_an_agent_works(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = watch_the_lens(
        workspace, tmp_path, monkeypatch, nvim=RECENT_NVIM, init_lua=readme_snippet()
    )
    check(seen)
