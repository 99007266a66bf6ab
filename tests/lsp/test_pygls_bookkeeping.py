"""pygls 2.1 keeps bookkeeping it never drops: the token of every work-done progress that
ended (pygls issue #607), and the result type (and, unanswered, the future) of every
request the server sent that the client answered with an error or never answered (#608).
A real server, in this process so that its dictionaries can be counted, driven over a
pair of pipes by a bare JSON-RPC client that answers the server's requests with a result,
an error or not at all."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lsp_server import code_lens
from lsp_server.hub import LedgerHub
from lsp_server.server import BurnmeterServer
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.lsp.conftest import Workspace
from tests.lsp.rpc import Peer

# The fixture's latest workspace session ended two hours ago: running with a window of 3
# hours, not with 1. Each switch starts or ends the running session's progress.
RUNNING, NOT_RUNNING = 180, 60


class Client:
    """`answer` is "result", "error" or None (never answers the server's requests)."""

    def __init__(self, peer: Peer, answer: str | None) -> None:
        self.peer = peer
        self.answer = answer
        self.requests: dict[str, int] = {}
        self.next_id = 0

    def pump(self, until: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            incoming = self.peer.read(deadline - time.monotonic())
            assert incoming is not None, "the server went quiet"
            method = incoming.get("method")
            if method is not None and "id" in incoming:
                self.requests[method] = self.requests.get(method, 0) + 1
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": incoming["id"]}
                if self.answer == "result":
                    self.peer.send(reply | {"result": None})
                elif self.answer == "error":
                    error = {"code": -32603, "message": "the client failed"}
                    self.peer.send(reply | {"error": error})
            if until(incoming):
                return

    def request(self, method: str, params: Any = None) -> None:
        self.next_id += 1
        msg_id = self.next_id
        self.peer.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        # Answered after everything sent before it: the client's answers are handled.
        self.pump(lambda m: m.get("id") == msg_id and "method" not in m)

    def notify(self, method: str, params: Any) -> None:
        self.peer.send({"jsonrpc": "2.0", "method": method, "params": params})

    def refreshes(self, count: int) -> None:
        """`count` settings changes, each of which refreshes the lenses as a ledger change
        does, and wait for the last refresh."""
        for _ in range(count):
            self.notify(
                "workspace/didChangeConfiguration",
                {"settings": {"burnmeter": {"codeLens": True}}},
            )
        self.pump(lambda m: self.requests.get("workspace/codeLens/refresh") == count)

    def running_minutes(self, minutes: int) -> None:
        settings = {"burnmeter": {"runningMinutes": minutes}}
        self.notify("workspace/didChangeConfiguration", {"settings": settings})


@pytest.fixture
def in_process(workspace: Workspace) -> Iterator[tuple[BurnmeterServer, Peer]]:
    hub = LedgerHub(
        [LogRoot(CLAUDE, workspace.projects)],
        Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite",
        live=False,
    )
    hub.start()
    server = BurnmeterServer(hub)
    to_server_r, to_server_w = os.pipe()
    to_client_r, to_client_w = os.pipe()
    stdin, stdout = os.fdopen(to_server_r, "rb"), os.fdopen(to_client_w, "wb")
    thread = threading.Thread(target=server.start_io, args=(stdin, stdout), daemon=True)
    thread.start()
    try:
        yield server, Peer(to_client_r, to_server_w)
    finally:
        os.close(to_server_w)  # end of input: the server stops
        thread.join(10)
        hub.stop()
        for file in (stdin, stdout):
            file.close()
        os.close(to_client_r)


def start(peer: Peer, workspace: Workspace, answer: str | None) -> Client:
    client = Client(peer, answer)
    capabilities = {
        "window": {"workDoneProgress": True},
        "workspace": {"codeLens": {"refreshSupport": True}},
    }
    params = {
        "processId": None,
        "rootUri": workspace.uri(workspace.folder),
        "capabilities": capabilities,
        "initializationOptions": {"burnmeter": {"runningMinutes": NOT_RUNNING}},
    }
    client.request("initialize", params)
    client.notify("initialized", {})
    client.pump(lambda m: m.get("method") == "burnmeter/status")
    return client


def progress_kind(message: dict[str, Any]) -> str | None:
    if message.get("method") != "$/progress":
        return None
    kind: str | None = message["params"]["value"]["kind"]
    return kind


def test_ended_progress_leaves_no_token(
    in_process: tuple[BurnmeterServer, Peer], workspace: Workspace
) -> None:
    """One work-done progress per session that starts running: pygls kept each ended
    token and its future (~1.7 KB) in `Progress.tokens` for the life of the server."""
    server, peer = in_process
    client = start(peer, workspace, "result")
    for _ in range(5):
        client.running_minutes(RUNNING)
        client.pump(lambda m: progress_kind(m) == "begin")
        assert len(server.work_done_progress.tokens) == 1
        client.running_minutes(NOT_RUNNING)
        client.pump(lambda m: progress_kind(m) == "end")
    assert client.requests["window/workDoneProgress/create"] == 5
    assert server.work_done_progress.tokens == {}


def test_requests_the_client_fails_leave_no_bookkeeping(
    in_process: tuple[BurnmeterServer, Peer], workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that answers `workspace/codeLens/refresh` (one per ledger change) or
    `window/workDoneProgress/create` with an error: pygls dropped a request's result type
    only when a result came, so each failed request stayed in `_result_types`. A refused
    progress is asked for once (it was asked for again, with an ERROR and a traceback in
    the log, on every status change)."""
    server, peer = in_process
    caplog.set_level(logging.INFO, logger="lsp_server")
    client = start(peer, workspace, "error")
    for _ in range(5):
        for minutes in (RUNNING, NOT_RUNNING):
            client.running_minutes(minutes)
            client.pump(lambda m: m.get("method") == "burnmeter/status")
    client.request("shutdown")
    assert client.requests["workspace/codeLens/refresh"] >= 10
    assert client.requests["window/workDoneProgress/create"] == 1
    assert server.protocol._result_types == {}
    assert server.protocol._request_futures == {}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("refused a work-done progress" in r.getMessage() for r in caplog.records)


def test_refreshes_the_client_never_answers_are_bounded(
    in_process: tuple[BurnmeterServer, Peer], workspace: Workspace
) -> None:
    """A client that claims `refreshSupport` but never answers: pygls kept every
    refresh's future and result type (~1.7 KB a ledger change) for the life of the
    server. Now the oldest of UNANSWERED_REFRESHES waiting is given up."""
    server, peer = in_process
    client = start(peer, workspace, None)
    client.refreshes(40)
    assert "window/workDoneProgress/create" not in client.requests  # nothing running
    assert len(server.protocol._result_types) <= code_lens.UNANSWERED_REFRESHES < 40
    # A given-up refresh's future is dropped on the loop's next turn (BurnmeterProtocol.
    # _forget_request), which may come just after the last refresh reached the client.
    deadline = time.monotonic() + 5
    while (
        len(server.protocol._request_futures) > code_lens.UNANSWERED_REFRESHES
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert len(server.protocol._request_futures) <= code_lens.UNANSWERED_REFRESHES


def test_shutdown_with_requests_the_client_never_answered(
    in_process: tuple[BurnmeterServer, Peer], workspace: Workspace
) -> None:
    """pygls's `shutdown` cancels the server's pending requests while it iterates over
    `_request_futures`: a cancelled request's bookkeeping, dropped there and then, failed
    the shutdown with "dictionary changed size during iteration" (a Neovim test run hit
    it). It is dropped once the loop moves on instead."""
    server, peer = in_process
    client = start(peer, workspace, None)
    client.refreshes(3)
    assert len(server.protocol._request_futures) == 3
    answers: list[dict[str, Any]] = []

    def answered(message: dict[str, Any]) -> bool:
        if message.get("id") == 99 and "method" not in message:
            answers.append(message)
            return True
        return False

    peer.send({"jsonrpc": "2.0", "id": 99, "method": "shutdown"})
    client.pump(answered)
    (answer,) = answers
    assert "error" not in answer and answer["result"] is None
    deadline = time.monotonic() + 5
    while server.protocol._request_futures and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.protocol._request_futures == {}
    assert server.protocol._result_types == {}
