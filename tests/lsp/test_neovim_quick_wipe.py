"""Neovim 0.7-0.9 fail in their code lens answer's handler when the buffer was wiped
meanwhile (`Invalid buffer id` from nvim_buf_attach in vim.lsp.codelens.save): opening a
file and wiping it at once (`:e file | bwipeout`) made burnmeter.lua's refresh, sent on
attach and BufEnter, end in an error message. The module now fetches lenses on those
versions with a handler that drops an answer for a buffer that is gone."""

from __future__ import annotations

from pathlib import Path

from tests.lsp.conftest import Workspace
from tests.lsp.test_neovim_e2e import pytestmark as needs_nvim
from tests.lsp.test_neovim_e2e import run_readme_setup


@needs_nvim
def test_a_buffer_wiped_before_its_lens_came_is_no_error(
    workspace: Workspace, tmp_path: Path
) -> None:
    (workspace.folder / ".git").mkdir()
    seen = run_readme_setup(
        workspace,
        tmp_path,
        [workspace.main_py, workspace.util_py],
        script="nvim_quick_wipe.lua",
    )
    assert seen["lenses"], seen  # the first file's lens is there all along
    assert "Invalid buffer id" not in seen["stderr"], seen["stderr"]
    assert "Error" not in seen["stderr"], seen["stderr"]
    assert seen["errmsg"] == "", seen
