"""A busy agent changes the ledger several times a second, and every
`workspace/codeLens/refresh` makes the client ask again for the lens of every file it
shows (3,122 refreshes in 17 minutes of a stress run). Ledger changes now refresh the
lenses at most every `REFRESH_INTERVAL_S`, the last change of a burst included; a
settings change still refreshes at once (test_pygls_bookkeeping counts 40 in a row)."""

from __future__ import annotations

import time

from lsp_server import code_lens
from lsp_server.server import BurnmeterServer
from tests.lsp.conftest import Workspace
from tests.lsp.rpc import Peer
from tests.lsp.test_pygls_bookkeeping import in_process, start

__all__ = ["in_process"]  # the fixture, used by name below


def refresh_times(peer: Peer, client_answers: list[float], until: float) -> None:
    """Answer the server's requests until `until`, noting when each lens refresh came."""
    while (left := until - time.monotonic()) > 0:
        incoming = peer.read(left)
        if incoming is None:
            return
        if "id" in incoming and incoming.get("method"):
            peer.send({"jsonrpc": "2.0", "id": incoming["id"], "result": None})
            if incoming["method"] == "workspace/codeLens/refresh":
                client_answers.append(time.monotonic())


def test_a_burst_of_ledger_changes_refreshes_the_lenses_twice(
    in_process: tuple[BurnmeterServer, Peer], workspace: Workspace
) -> None:
    server, peer = in_process
    start(peer, workspace, "result")
    interval = code_lens.REFRESH_INTERVAL_S
    refreshes: list[float] = []
    began = time.monotonic()
    for _ in range(30):  # what the live engine does after each ingest that wrote
        server._ledger_changed_threadsafe()
        refresh_times(peer, refreshes, time.monotonic() + 0.02)
    refresh_times(peer, refreshes, began + interval + 1.5)
    assert len(refreshes) == 2, refreshes
    first, last = refreshes
    assert first - began < 0.5  # the first change is shown at once
    assert last - first >= interval - 0.05  # the rest waited for the interval, then came

    # Quiet for longer than the interval: the next change refreshes at once again.
    time.sleep(interval)
    again = time.monotonic()
    server._ledger_changed_threadsafe()
    refresh_times(peer, refreshes, again + 0.5)
    assert len(refreshes) == 3 and refreshes[2] - again < 0.5
