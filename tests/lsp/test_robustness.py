"""The server survives what clients and networks do wrong: malformed JSON-RPC, unknown
methods and URIs, random and mutated messages (a few thousand, over a real pipe),
requests during shutdown, and a client that vanishes."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.conftest import Workspace, server_env
from tests.lsp.rpc import Peer, frame
from tests.procstatus import status_kib

FUZZ_MESSAGES = 3000


@pytest.fixture
def server(workspace: Workspace) -> Iterator[tuple[subprocess.Popen[bytes], Peer]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "shared", "lsp"],
        env=server_env(workspace.root),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    peer = Peer(process.stdout.fileno(), process.stdin.fileno())
    try:
        yield process, peer
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def initialize(peer: Peer, workspace: Workspace) -> None:
    reply = peer.request(
        "initialize",
        {"processId": None, "rootUri": workspace.uri(workspace.folder), "capabilities": {}},
    )
    assert "result" in reply
    peer.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})


def valid_messages(workspace: Workspace) -> list[dict[str, Any]]:
    uri = workspace.uri(workspace.main_py)
    doc = {"textDocument": {"uri": uri}}
    position = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
    return [
        {"jsonrpc": "2.0", "id": 1, "method": "textDocument/codeLens", "params": doc},
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": position},
        {"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand",
         "params": {"command": "burnmeter.sessions", "arguments": []}},
        {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
         "params": {"settings": {"burnmeter": {"codeLens": True}}}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}}},
        {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens",
         "params": {"textDocument": {"uri": "untitled:Untitled-1"}}},
        {"jsonrpc": "2.0", "id": 5, "method": "textDocument/codeLens",
         "params": {"textDocument": {"uri": "https://example.invalid/a.py"}}},
        {"jsonrpc": "2.0", "id": 6, "method": "no/suchMethod", "params": {}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 999999}},
        {"jsonrpc": "2.0", "id": 424242, "result": {"unexpected": True}},
    ]  # fmt: skip


JUNK_VALUES: list[Any] = [None, 0, -1, 2**63, 1.5, "", "x" * 300, [], {}, [1, 2], True, "file://"]


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and rng.random() < 0.8:
        value = dict(value)
        key = rng.choice(list(value))
        action = rng.random()
        if action < 0.3:
            del value[key]
        elif action < 0.6 or depth > 4:
            value[key] = rng.choice(JUNK_VALUES)
        else:
            value[key] = mutate(value[key], rng, depth + 1)
        return value
    if isinstance(value, list) and value:
        return [mutate(item, rng, depth + 1) for item in value]
    return rng.choice(JUNK_VALUES)


def fuzz_body(rng: random.Random, valid: list[dict[str, Any]]) -> bytes:
    kind = rng.random()
    if kind < 0.55:
        return json.dumps(mutate(rng.choice(valid), rng)).encode()
    if kind < 0.7:
        text = json.dumps(rng.choice(valid)).encode()
        cut = rng.randrange(len(text))
        return text[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(8)))
    if kind < 0.8:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind < 0.9:
        return json.dumps(rng.choice(JUNK_VALUES)).encode()
    message = dict(rng.choice(valid))
    message["jsonrpc"] = rng.choice(["1.0", "3", None, 2])
    return json.dumps(message).encode()


def test_fuzzed_messages_never_kill_the_server(
    server: tuple[subprocess.Popen[bytes], Peer], workspace: Workspace
) -> None:
    process, peer = server
    initialize(peer, workspace)
    rng = random.Random(20261123)
    valid = valid_messages(workspace)

    def fuzz() -> None:
        for _ in range(FUZZ_MESSAGES):
            if rng.random() < 0.05:
                peer.send_raw(b"X-Garbage-Header: yes\r\n")  # unknown headers are skipped
            peer.send_raw(frame(fuzz_body(rng, valid)))

    peer.discard_output_while(fuzz)
    assert process.poll() is None

    lens = peer.request(
        "textDocument/codeLens", {"textDocument": {"uri": workspace.uri(workspace.main_py)}}
    )
    assert "agent spend" in lens["result"][0]["command"]["title"]
    assert peer.request("shutdown") == {"jsonrpc": "2.0", "id": peer.next_id, "result": None}
    after = peer.request(
        "textDocument/codeLens", {"textDocument": {"uri": workspace.uri(workspace.main_py)}}
    )
    assert after["error"]["code"] == -32600
    peer.send({"jsonrpc": "2.0", "method": "exit"})
    assert process.wait(20) == 0


def test_a_client_that_vanishes_lets_the_server_exit(
    server: tuple[subprocess.Popen[bytes], Peer], workspace: Workspace
) -> None:
    process, peer = server
    initialize(peer, workspace)
    peer.send_raw(b'Content-Length: 50\r\n\r\n{"jsonrpc": "2.0"')  # cut off mid-message
    assert process.stdin is not None
    process.stdin.close()
    started = time.monotonic()
    process.wait(20)
    assert time.monotonic() - started < 20


def test_a_damaged_ledger_stops_watch_and_is_left_untouched(workspace: Workspace) -> None:
    """`burnmeter lsp` on such a file answers and says why instead
    (test_damaged_ledger.py)."""
    ledger = Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    garbage = b"this is not an SQLite file" * 100
    ledger.write_bytes(garbage)
    done = subprocess.run(
        [sys.executable, "-m", "shared", "watch"],
        env=server_env(workspace.root), capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert "left it untouched" in done.stderr
    assert "Traceback" not in done.stderr
    assert ledger.read_bytes() == garbage


def test_commands_leave_no_memory_behind(
    server: tuple[subprocess.Popen[bytes], Peer], workspace: Workspace
) -> None:
    """A client may poll `burnmeter.sessions` (the README's JSON command) all day. pygls
    2.1 kept every command's finished task and result for the life of the process
    (~3 KiB plus ~0.65 KiB per session returned): 1,500 calls on this small history grew
    the server by ~3 MiB; now ~160 KiB."""
    process, peer = server
    initialize(peer, workspace)
    file_cost = {"command": "burnmeter.fileCost", "arguments": [str(workspace.main_py)]}
    sessions = {"command": "burnmeter.sessions", "arguments": []}

    def run(count: int) -> None:
        for index in range(count):
            reply = peer.request("workspace/executeCommand", sessions if index % 2 else file_cost)
            assert "result" in reply, reply

    run(200)  # warm-up: caches, the ledger's pages
    before = status_kib("RssAnon", process.pid)
    run(1500)
    growth = status_kib("RssAnon", process.pid) - before
    assert growth < 1536, f"1,500 commands grew the server by {growth} KiB"
