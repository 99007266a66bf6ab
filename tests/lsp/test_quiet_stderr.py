"""A stdio server's stderr: editors log all of it as errors (Neovim's lsp.log had `[ERROR]
... "stderr" "burnmeter-lsp INFO live engine: this process writes the ledger"` at every
start), so the server says only warnings and errors there unless BURNMETER_LSP_VERBOSE is
set. Over TCP, started by hand in a terminal, it says what it does as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.conftest import Workspace, server_env
from tests.lsp.rpc import Peer
from tests.lsp.test_neovim_e2e import pytestmark as needs_nvim
from tests.lsp.test_neovim_e2e import run_readme_setup


@needs_nvim
def test_neovims_lsp_log_has_no_info_lines_as_errors(workspace: Workspace, tmp_path: Path) -> None:
    seen = run_readme_setup(workspace, tmp_path, [workspace.main_py])
    assert seen["lenses"][str(workspace.main_py)], seen
    # Neovim 0.7 logs to stdpath("cache"), later ones to stdpath("state").
    logs = [
        Path(os.environ["XDG_CACHE_HOME"]) / "nvim" / "lsp.log",
        tmp_path / "state" / "nvim" / "lsp.log",
    ]
    text = "".join(log.read_text() for log in logs if log.exists())
    assert "burnmeter-lsp INFO" not in text, text


def run_stdio_server(workspace: Workspace, tmp_path: Path, env: dict[str, str], *flags: str) -> str:
    """Start, initialize, shut down and exit a stdio server; its stderr."""
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared", "lsp", *flags],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        peer = Peer(process.stdout.fileno(), process.stdin.fileno())
        folder = workspace.uri(workspace.folder)
        reply = peer.request(
            "initialize", {"processId": None, "rootUri": folder, "capabilities": {}}
        )
        assert "result" in reply, reply
        peer.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        assert peer.request("shutdown")["result"] is None
        peer.send({"jsonrpc": "2.0", "method": "exit"})
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    return stderr.read_text()


@pytest.mark.parametrize("value", ["1", "yes"])
def test_burnmeter_lsp_verbose_logs_info_lines(
    workspace: Workspace, tmp_path: Path, value: str
) -> None:
    env = server_env(workspace.root)
    env["BURNMETER_LSP_VERBOSE"] = value
    log = run_stdio_server(workspace, tmp_path, env)
    assert "burnmeter-lsp INFO burnmeter language server: ledger " in log, log


def test_a_stdio_server_says_nothing_on_stderr_by_default(
    workspace: Workspace, tmp_path: Path
) -> None:
    env = server_env(workspace.root)
    env["BURNMETER_LSP_VERBOSE"] = "0"
    assert run_stdio_server(workspace, tmp_path, env) == ""


def test_burnmeter_lsp_verbose_flag_logs_info_lines(workspace: Workspace, tmp_path: Path) -> None:
    env = server_env(workspace.root)
    env["BURNMETER_LSP_VERBOSE"] = "0"
    log = run_stdio_server(workspace, tmp_path, env, "--verbose")
    assert "burnmeter-lsp INFO burnmeter language server: ledger " in log, log
