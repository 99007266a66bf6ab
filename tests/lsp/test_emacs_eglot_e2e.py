"""End to end with a real editor: batch Emacs with Debian's eglot loads the README's eglot
snippet, starts `burnmeter lsp` for a file a fixture session touched, and asks the server
eglot connected for that file's code lens and hover."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.ledger import open_ledger
from tests.conftest import REPO_ROOT
from tests.lsp.conftest import Workspace, server_env

EMACS = shutil.which("emacs")
SNIPPET = REPO_ROOT / "resources" / "editors" / "emacs" / "burnmeter-eglot.el"
DRIVER = Path(__file__).with_name("emacs_eglot.el")


def eglot_installed() -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "--eval", "(require 'eglot)"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    return probe.returncode == 0


needs_eglot = pytest.mark.skipif(
    not eglot_installed(), reason="emacs or eglot is missing (apt-get install emacs-nox elpa-eglot)"
)


def burnmeter_on_path(bin_dir: Path) -> None:
    """The snippet runs `burnmeter lsp` from PATH: point that name at this checkout."""
    bin_dir.mkdir()
    shim = bin_dir / "burnmeter"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m shared "$@"\n')
    shim.chmod(0o755)


def main_py_cost(workspace: Workspace) -> float:
    """main.py's share, from the priced calls themselves: half of the first call (it read
    main.py and util.py) plus all of the second (it edited main.py alone)."""
    ledger = open_ledger(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    costs = [
        float(row[0])
        for row in ledger.conn.execute(
            "SELECT cost_usd FROM usage_events WHERE session_id = 'sess-app-1' ORDER BY ts_ms"
        )
    ]
    ledger.close()
    assert len(costs) == 2
    return costs[0] / 2 + costs[1]


def test_readme_has_the_tested_snippet() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"```elisp\n{SNIPPET.read_text()}```" in readme


@needs_eglot
def test_eglot_gets_code_lens_and_hover_of_a_touched_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    assert EMACS is not None
    # A git repository, so eglot's project (and so the LSP workspace folder) is the folder
    # the sessions ran in.
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
    started = time.monotonic()
    done = subprocess.run(
        [EMACS, "--batch", "-l", str(DRIVER)],
        env=env, cwd=workspace.folder, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert out.exists(), done.stderr
    text = out.read_text()
    assert not text.startswith("ERROR"), (text, done.stderr)
    result = json.loads(text)

    # eglot started the server named by the snippet.
    assert result["command"] == ["burnmeter", "lsp"]

    cost = main_py_cost(workspace)
    assert 0.01 <= cost < 100  # shown with two decimals
    cost_text = f"${cost:,.2f}"
    expected = f"{cost_text} agent spend · 1 session · opus-4-7 2h ago"
    lenses = result["lenses"]
    assert len(lenses) == 1, lenses
    assert lenses[0]["range"]["start"]["line"] == 0
    assert lenses[0]["command"]["title"] == expected

    # eglot asks for plain text without markdown-mode (as here), Markdown with it.
    hover = result["hover"]["contents"]
    lines = hover["value"].split("\n")
    if hover["kind"] == "plaintext":
        assert lines[0].endswith(f"{cost_text} agent spend, 2 model calls in 1 session")
        assert lines[2].split() == ["Session", "Model", "Calls", "Cost", "Last"]
        assert lines[3].split() == ["sess-app", "opus-4-7", "2", cost_text, "2h", "ago"]
    else:
        assert hover["kind"] == "markdown"
        assert "| Session | Model | Calls | Cost | Last |" in hover["value"]
        assert f"{cost_text} agent spend, 2 model calls in 1 session" in hover["value"]
        assert f"| sess-app | opus-4-7 | 2 | {cost_text} | 2h ago |" in hover["value"]
    assert elapsed < 30, elapsed
