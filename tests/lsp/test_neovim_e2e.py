"""End to end with a real editor: headless Neovim (Debian's package) attaches
`burnmeter lsp` with the README's Neovim config to a file a fixture session touched and
reads the code lens it displays."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.lsp.conftest import Workspace, server_env

NVIM = shutil.which("nvim")


@pytest.mark.skipif(NVIM is None, reason="neovim is not installed (apt-get install neovim)")
def test_neovim_shows_the_code_lens_of_a_touched_file(workspace: Workspace, tmp_path: Path) -> None:
    assert NVIM is not None
    out = tmp_path / "lenses.txt"
    env = server_env(workspace.root)
    env.update(
        BURNMETER_NVIM_LUA=str(REPO_ROOT / "resources" / "editors" / "neovim"),
        BURNMETER_TEST_PYTHON=sys.executable,
        BURNMETER_TEST_FILE=str(workspace.main_py),
        BURNMETER_TEST_OUT=str(out),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    script = Path(__file__).with_name("nvim_codelens.lua")
    done = subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {script}"],
        env=env, cwd=workspace.folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.exists(), done.stderr
    lines = out.read_text().splitlines()
    assert lines, done.stderr
    assert not lines[0].startswith("ERROR"), (lines, done.stderr)
    assert "agent spend · 1 session · opus-4-7 2h ago" in lines[0]
