"""Tier hints in real editors: headless Neovim (Debian's 0.7) with the README's set-up and
batch Emacs with eglot and the README's snippet. The server published a hint once, when it
changed, and each editor dropped it in a common case: Neovim with a wiped buffer
(`:bwipeout`, then the file opened again: no hint), eglot for a file not open when it came
(the hint of a file opened second never showed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.lsp.conftest import Workspace, server_env
from tests.lsp.test_emacs_eglot_e2e import EMACS, SNIPPET, burnmeter_on_path, needs_eglot
from tests.lsp.test_neovim_e2e import pytestmark as needs_nvim
from tests.lsp.test_neovim_e2e import run_readme_setup

HINT = "would cost $"


@needs_nvim
def test_neovim_shows_the_hint_of_a_file_opened_again_after_bwipeout(
    workspace: Workspace, tmp_path: Path
) -> None:
    (workspace.folder / ".git").mkdir()  # the workspace: the folder the sessions ran in
    workspace.hinted_py.write_text("print('hinted')\n")
    seen = run_readme_setup(
        workspace, tmp_path, [workspace.hinted_py, workspace.main_py], script="nvim_hints.lua"
    )
    assert len(seen["first"]) == 1 and HINT in seen["first"][0], seen
    assert seen["again"] == seen["first"], seen


@needs_eglot
def test_eglot_shows_the_hint_of_a_file_opened_second(workspace: Workspace, tmp_path: Path) -> None:
    assert EMACS is not None
    subprocess.run(["git", "init", "-q", str(workspace.folder)], check=True)
    workspace.hinted_py.write_text("print('hinted')\n")
    bin_dir = tmp_path / "bin"
    burnmeter_on_path(bin_dir)
    out = tmp_path / "eglot.json"
    env = server_env(workspace.root)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        BURNMETER_EGLOT_SNIPPET=str(SNIPPET),
        BURNMETER_TEST_FILE=str(workspace.main_py),
        BURNMETER_TEST_SECOND=str(workspace.hinted_py),
        BURNMETER_TEST_OUT=str(out),
    )
    done = subprocess.run(
        [EMACS, "--batch", "-l", str(Path(__file__).with_name("emacs_eglot_hints.el"))],
        env=env, cwd=workspace.folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.exists(), done.stderr
    text = out.read_text()
    assert not text.startswith("ERROR"), (text, done.stderr)
    result = json.loads(text)
    assert result["first"] == [], result  # main.py has no hint
    assert len(result["second"]) == 1 and HINT in result["second"][0], result
    # eglot shows the source and code before the message: "burnmeter" once.
    assert result["second"][0].startswith("burnmeter [tier-hint]: session sess-app — "), result
