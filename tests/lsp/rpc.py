"""A bare JSON-RPC peer for the tests that must speak below any LSP client library: the
TCP token checks and the fuzz test (malformed frames a real client would never send)."""

from __future__ import annotations

import json
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(payload: dict[str, Any]) -> bytes:
    return frame(json.dumps(payload).encode())


class Peer:
    """Speaks framed JSON-RPC over two file descriptors (a pipe pair or one socket)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.buffer = b""
        self.next_id = 1000
        self.notifications: list[dict[str, Any]] = []

    def discard_output_while(self, work: Callable[[], None]) -> None:
        """Run `work` while a thread reads and drops everything the server writes, so a
        flood of error replies can never fill the pipe and deadlock both sides."""
        stop = threading.Event()

        def drain() -> None:
            while not stop.is_set():
                ready, _, _ = select.select([self.read_fd], [], [], 0.05)
                if ready and not os.read(self.read_fd, 65536):
                    return

        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        try:
            work()
        finally:
            stop.set()
            thread.join(5)
        self.buffer = b""
        # Replies to the last fuzzed requests may still be on their way: let them pass.
        while self.read(0.5) is not None:
            pass

    def send_raw(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.write_fd, view)
            view = view[written:]

    def send(self, payload: dict[str, Any]) -> None:
        self.send_raw(message(payload))

    def request(self, method: str, params: Any = None, timeout: float = 20.0) -> dict[str, Any]:
        self.next_id += 1
        msg_id = self.next_id
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            payload["params"] = params
        self.send(payload)
        return self.response_to(msg_id, timeout)

    def response_to(self, msg_id: int, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            incoming = self.read(deadline - time.monotonic())
            if incoming is None:
                raise TimeoutError(f"no response to request {msg_id}")
            if incoming.get("id") == msg_id and "method" not in incoming:
                return incoming
            if "method" in incoming and "id" in incoming:
                # A request from the server (progress, refresh): answer it.
                self.send({"jsonrpc": "2.0", "id": incoming["id"], "result": None})
            elif "method" in incoming:
                self.notifications.append(incoming)

    def read(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if len(rest) >= length:
                    body, self.buffer = rest[:length], rest[length:]
                    result: dict[str, Any] = json.loads(body)
                    return result
            remaining = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
