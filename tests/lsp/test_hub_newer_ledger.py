"""A newer burnmeter upgraded the ledger while the language server was its live writer:
the engine stopped (LedgerTooNew) but the hub went on answering from the file, its status
frozen at the last figures while the ledger moved on, and the user was told only in a log
message. Now the hub is unusable from then on: requests are answered empty and the user is
shown why once (LedgerUnusable, as for a damaged ledger)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from lsp_server.hub import LedgerHub, LedgerUnusable
from shared.ledger import Ledger
from shared.schema import SCHEMA_VERSION
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call
from tests.lsp.conftest import Workspace


def calls(ledger: Ledger) -> int:
    return int(ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])


def test_a_ledger_upgraded_by_a_newer_burnmeter_makes_the_hub_unusable(
    workspace: Workspace,
) -> None:
    ledger_file = Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    hub = LedgerHub([LogRoot(CLAUDE, workspace.projects)], ledger_file, live=True)
    hub.start()
    try:
        engine = hub.engine
        assert engine is not None and engine.is_writer and engine.wait_ready(20)
        assert asyncio.run(hub.run(calls)) > 0
        with closing(sqlite3.connect(ledger_file)) as conn, conn:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        log = next(workspace.projects.rglob("*.jsonl"))
        append(
            log,
            claude_call(
                message_id="msg-newer",
                session_id="s-newer",
                cwd="/work/app",
                ts_ms=int(time.time() * 1000),
            ),
        )
        engine.request_rescan()
        deadline = time.monotonic() + 20
        while engine.failure is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.failure is not None
        with pytest.raises(LedgerUnusable, match="newer than this burnmeter"):
            asyncio.run(hub.run(calls))
        assert hub.unusable is not None
    finally:
        hub.stop()
