"""How the server process starts and ends, through real processes: the exit code the LSP
spec asks for, SIGTERM and SIGINT (the `--demo` folder removed), a client's mistakes
logged without tracebacks, and the one message when there are no logs at all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.conftest import Workspace, server_env
from tests.lsp.rpc import Peer


class Server:
    def __init__(self, process: subprocess.Popen[bytes], peer: Peer, stderr: Path) -> None:
        self.process = process
        self.peer = peer
        self.stderr = stderr

    def log(self) -> str:
        return self.stderr.read_text()

    def initialize(self, root_uri: str) -> None:
        reply = self.peer.request(
            "initialize", {"processId": None, "rootUri": root_uri, "capabilities": {}}
        )
        assert "result" in reply, reply
        self.peer.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    started: list[Server] = []

    def start_server(env: dict[str, str], *args: str) -> Server:
        stderr = tmp_path / f"stderr-{len(started)}.txt"
        with stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "shared", "lsp", *args],
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        server = Server(process, Peer(process.stdout.fileno(), process.stdin.fileno()), stderr)
        started.append(server)
        return server

    yield start_server
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(10)


def test_exit_without_shutdown_exits_with_code_1(start: Any, workspace: Workspace) -> None:
    server = start(server_env(workspace.root))
    server.initialize(workspace.uri(workspace.folder))
    server.peer.send({"jsonrpc": "2.0", "method": "exit"})
    assert server.process.wait(20) == 1


def test_an_unknown_command_is_an_error_reply_not_a_logged_traceback(
    start: Any, workspace: Workspace
) -> None:
    server = start(server_env(workspace.root))
    server.initialize(workspace.uri(workspace.folder))
    reply = server.peer.request(
        "workspace/executeCommand", {"command": "burnmeter.nope", "arguments": []}
    )
    assert reply["error"]["code"] == -32602
    assert "burnmeter.nope" in reply["error"]["message"]
    assert server.peer.request("shutdown")["result"] is None
    server.peer.send({"jsonrpc": "2.0", "method": "exit"})
    assert server.process.wait(20) == 0
    log = server.log()
    assert "unknown command 'burnmeter.nope'" in log
    assert "Traceback" not in log and " ERROR " not in log, log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_demo_server_and_removes_its_folder(
    start: Any, workspace: Workspace, tmp_path: Path, signum: int
) -> None:
    env = server_env(workspace.root)
    env["TMPDIR"] = str(tmp_path / "tmp")  # where the demo's throwaway folder goes
    (tmp_path / "tmp").mkdir()
    server = start(env, "--demo")
    server.initialize("file:///home/demo/src/payments-api")
    [demo] = list((tmp_path / "tmp").glob("burnmeter-demo-*"))
    assert (demo / "ledger.sqlite").exists()
    # Some reply traffic first, so stdin is being read when the signal comes.
    server.peer.request("workspace/executeCommand", {"command": "burnmeter.sessions"})
    server.process.send_signal(signum)
    assert server.process.wait(20) == 0, server.log()
    assert not demo.exists()
    assert "Traceback" not in server.log()


def test_no_logs_at_all_is_said_once_with_where_burnmeter_looked(
    start: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-home"
    empty.mkdir()
    server = start(server_env(empty))
    server.initialize((empty / "project").as_uri())

    def shown() -> list[dict[str, Any]]:
        return [n for n in server.peer.notifications if n["method"] == "window/showMessage"]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not shown():
        # A request's round trip collects the notifications sent before its reply.
        server.peer.request("workspace/executeCommand", {"command": "burnmeter.sessions"})
        time.sleep(0.1)
    # ... and nothing more after a while.
    time.sleep(0.5)
    server.peer.request("workspace/executeCommand", {"command": "burnmeter.sessions"})
    messages = shown()
    assert len(messages) == 1, server.peer.notifications
    params = messages[0]["params"]
    assert params["type"] == 3  # Info
    message = params["message"]
    assert message.startswith("No Claude Code or Codex logs found. burnmeter looked in:")
    assert ".claude" in message and "(missing)" in message
    assert "CLAUDE_CONFIG_DIR" in message and "CODEX_HOME" in message
    # An editor's demo is the server's own (it suggested `burnmeter report daily --demo`).
    assert "`burnmeter lsp --demo` as the server command" in message
    assert "report daily --demo" not in message


def test_a_signal_ends_the_server_even_when_an_exit_hook_hangs(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Stopped during a first import, the server ran multiprocessing's exit hook, which
    joins parser workers that may never end: 1 SIGTERM in 3 left it hanging (an exit hook
    that sleeps stands for them here)."""
    code = (
        "import atexit, time, sys; atexit.register(time.sleep, 60); "
        "from shared.cli import main; sys.exit(main(['lsp']))"
    )
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", code], env=server_env(workspace.root),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    try:
        assert process.stdin is not None and process.stdout is not None
        server = Server(process, Peer(process.stdout.fileno(), process.stdin.fileno()), stderr)
        server.initialize(workspace.uri(workspace.folder))
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, server.log()
        assert time.monotonic() - asked < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
