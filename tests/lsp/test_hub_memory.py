"""The language server's two read connections keep SQLite's own small page cache and map
none of the ledger: with a 64 MiB cache and a 256 MiB map each, a server on a 1M-call
ledger held ~140 MiB more anonymous memory and peaked at 633 MiB resident against 202 MiB,
for no measurable speed (bench/RESULTS-lsp.md)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from lsp_server.hub import LedgerHub
from shared.ledger import Ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.lsp.conftest import Workspace

# SQLite's default cache is 2,000 KiB (`PRAGMA cache_size = -2000`); allow a little more.
MAX_CACHE_KIB = 8 * 1024


def cache_kib(conn: sqlite3.Connection) -> float:
    """The page cache's bound in KiB (the pragma gives pages when positive, KiB when not)."""
    (size,) = conn.execute("PRAGMA cache_size").fetchone()
    if size < 0:
        return float(-size)
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    return size * page_size / 1024


def pragmas(ledger: Ledger) -> tuple[float, int]:
    (mmap_size,) = ledger.conn.execute("PRAGMA mmap_size").fetchone()
    return cache_kib(ledger.conn), mmap_size


def test_read_connections_keep_a_small_cache_and_no_map(workspace: Workspace) -> None:
    hub = LedgerHub(
        [LogRoot(CLAUDE, workspace.projects)],
        Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite",
        live=False,
    )
    hub.start()
    try:

        async def both() -> list[tuple[float, int]]:
            return [await hub.run(pragmas), await hub.run_slow(pragmas)]

        for cache, mmap_size in asyncio.run(both()):
            assert cache <= MAX_CACHE_KIB
            assert mmap_size == 0
    finally:
        hub.stop()
