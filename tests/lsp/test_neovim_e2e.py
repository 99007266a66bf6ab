"""End to end with a real editor: headless Neovim (Debian's package, 0.7 here as in CI)
set up exactly as the README says (resources/editors/neovim/burnmeter.lua in
~/.config/nvim/lua/, `require("burnmeter").setup()` in init.lua, `burnmeter` on PATH, or its
full path given to setup())
opens files a fixture session touched and shows their code lens by itself."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.lsp.conftest import Workspace, server_env

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="neovim is not installed (apt-get install neovim)"
)


def run_readme_setup(
    workspace: Workspace,
    tmp_path: Path,
    files: list[Path],
    no_lens: Path | None = None,
    program: list[str] | None = None,
    full_path: bool = False,
    script: str = "nvim_readme_setup.lua",
    nvim: str | None = None,
    init_lua: str | None = None,
) -> dict[str, Any]:
    """Open `files` in a headless Neovim configured as the README says (those under
    `no_lens` are not waited on for a lens); what it showed. `burnmeter` on its PATH runs
    `program` (default: this checkout's, `python -m shared`). `script` (in this folder)
    drives Neovim and writes what it saw to $BURNMETER_TEST_OUT; Neovim's stderr is added
    as "stderr". `nvim` is the Neovim to run (default: the one on PATH), `init_lua` its
    init.lua (default: the module's set-up)."""
    nvim = nvim or NVIM
    assert nvim is not None
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "nvim"
    (config / "lua").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "resources" / "editors" / "neovim" / "burnmeter.lua", config / "lua")
    # `burnmeter`: this checkout's, run by the test's Python; on PATH, or (`full_path`) in
    # a folder the editor's PATH lacks, named in setup() as the README says.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "burnmeter"
    command = shlex.join(program or [sys.executable, "-m", "shared"])
    shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    shim.chmod(0o755)
    env = server_env(workspace.root)
    if full_path:
        setup = f'require("burnmeter").setup({{ cmd = {{ "{shim}", "lsp" }} }})\n'
        assert shutil.which("burnmeter", path=env["PATH"]) is None
    else:
        setup = 'require("burnmeter").setup()\n'
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    (config / "init.lua").write_text(setup if init_lua is None else init_lua)
    out = tmp_path / "seen.json"
    env.update(
        BURNMETER_TEST_OUT=str(out),
        BURNMETER_TEST_MORE="|".join(str(path) for path in files[1:]),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    if no_lens is not None:
        env["BURNMETER_TEST_NO_LENS"] = str(no_lens)
    driver = Path(__file__).with_name(script)
    done = subprocess.run(
        [nvim, "--headless", "-i", "NONE", "-c", f"luafile {driver}", str(files[0])],
        env=env, cwd=workspace.folder, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert out.exists(), (done.stdout, done.stderr)
    seen: dict[str, Any] = json.loads(out.read_text())
    seen["stderr"] = done.stderr
    return seen


def test_the_readme_setup_shows_the_code_lens_of_a_touched_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    seen = run_readme_setup(workspace, tmp_path, [workspace.main_py])
    lenses = seen["lenses"][str(workspace.main_py)]
    assert lenses, seen
    assert "agent spend · 1 session · opus-4-7 2h ago" in lenses[0]


def test_setup_takes_the_full_path_of_a_burnmeter_not_on_the_path(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The first-screen install leaves burnmeter in .venv/bin, off the editor's PATH; the
    README said to give its full path, but setup() took no options and Neovim could not
    start `burnmeter`."""
    seen = run_readme_setup(workspace, tmp_path, [workspace.main_py], full_path=True)
    lenses = seen["lenses"][str(workspace.main_py)]
    assert lenses, seen
    assert "agent spend · 1 session · opus-4-7 2h ago" in lenses[0]


def test_the_readme_setup_runs_one_server_per_git_root(
    workspace: Workspace, tmp_path: Path
) -> None:
    (workspace.folder / ".git").mkdir()
    # A worktree (or submodule) has a `.git` file: a workspace of its own.
    worktree = workspace.folder / "worktree"
    worktree.mkdir()
    (worktree / ".git").write_text("gitdir: /elsewhere/.git/worktrees/w\n")
    loose = worktree / "deep" / "loose.py"
    loose.parent.mkdir()
    loose.write_text("x = 1\n")
    seen = run_readme_setup(
        workspace, tmp_path, [workspace.main_py, workspace.util_py, loose], no_lens=worktree
    )
    # One server for the two files of the repo (rooted at it, not at src/), one for the
    # worktree.
    roots = sorted(client["root"] for client in seen["clients"])
    assert roots == sorted([str(workspace.folder), str(worktree)]), seen
    for client in seen["clients"]:
        assert client["folders"] == [client["root"]], seen
    assert seen["lenses"][str(workspace.main_py)], seen
    assert seen["lenses"][str(workspace.util_py)], seen
