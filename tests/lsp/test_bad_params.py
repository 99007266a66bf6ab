"""A request whose params do not fit its method gets error -32602, as JSON-RPC requires:
it got no answer at all, and cattrs tracebacks on stderr. A method the server does not
serve is answered -32601 (a request) or dropped (a notification, a `didChange` of a
document never opened) without a warning in the client's log: each sent "ignored a bad
message from the client" to it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lsp.conftest import Workspace, server_env
from tests.lsp.rpc import Peer


@pytest.fixture
def server(workspace: Workspace, tmp_path: Path) -> Iterator[tuple[Peer, Path]]:
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared", "lsp"], env=server_env(workspace.root),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    peer = Peer(process.stdout.fileno(), process.stdin.fileno())
    reply = peer.request(
        "initialize",
        {"processId": None, "rootUri": workspace.uri(workspace.folder), "capabilities": {}},
    )
    assert "result" in reply
    peer.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    try:
        yield peer, stderr
        assert peer.request("shutdown")["result"] is None
        peer.send({"jsonrpc": "2.0", "method": "exit"})
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def logged(peer: Peer) -> list[str]:
    return [
        str(n["params"]["message"])
        for n in peer.notifications
        if n["method"] == "window/logMessage"
    ]


def test_bad_params_are_answered_with_invalid_params(
    server: tuple[Peer, Path], workspace: Workspace
) -> None:
    peer, stderr = server
    for method, params in [
        ("textDocument/codeLens", {}),
        ("textDocument/hover", {"textDocument": 5, "position": {"line": 0, "character": 0}}),
        ("workspace/executeCommand", {"arguments": []}),
    ]:
        reply = peer.request(method, params, timeout=10)
        assert reply["error"]["code"] == -32602, reply
    # The server goes on serving.
    lens = peer.request(
        "textDocument/codeLens", {"textDocument": {"uri": workspace.uri(workspace.main_py)}}
    )
    assert "agent spend" in lens["result"][0]["command"]["title"]
    log = stderr.read_text()
    assert "Traceback" not in log and "Unable to deserialize" not in log, log


def test_methods_not_served_are_answered_without_a_warning(
    server: tuple[Peer, Path], workspace: Workspace
) -> None:
    peer, stderr = server
    position = {"textDocument": {"uri": "file:///x.py"}, "position": {"line": 0, "character": 0}}
    reply = peer.request("textDocument/completion", position)
    assert reply["error"]["code"] == -32601
    nope = {"uri": "file:///nope.py"}
    for method, params in [
        ("foo/bar", {"x": 1}),
        ("textDocument/didSave", {"textDocument": nope}),
        ("workspace/didChangeWatchedFiles", {"changes": []}),
        ("textDocument/didChange",
         {"textDocument": {**nope, "version": 2}, "contentChanges": [{"text": "y"}]}),
    ]:  # fmt: skip
        peer.send({"jsonrpc": "2.0", "method": method, "params": params})
    # A round trip: what the server said about those has arrived.
    lens = peer.request(
        "textDocument/codeLens", {"textDocument": {"uri": workspace.uri(workspace.main_py)}}
    )
    assert "result" in lens
    assert logged(peer) == []
    log = stderr.read_text()
    assert " WARNING " not in log and " ERROR " not in log, log
