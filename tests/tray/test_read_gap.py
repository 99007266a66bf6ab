"""While agents write, the ledger changes many times a second and each change asked the
tray for a snapshot, read back to back (28-42 % of a core with three agents at work). A
read asked for during one now starts at least MIN_READ_GAP_MS after the last one began;
after a quiet spell a read starts at once. Through the real app on a real ledger."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

import tray_app.app
from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now, tray_app_for
from tray_app.app import MIN_READ_GAP_MS


def test_a_stream_of_changes_reads_a_snapshot_at_most_every_gap(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest_now(roots, ledger_file)
    starts: list[float] = []
    real = tray_app.app.read_snapshot

    def counted(*args: Any, **kwargs: Any) -> Any:
        starts.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(tray_app.app, "read_snapshot", counted)
    app = tray_app_for(roots, ledger_file)
    app.dashboard.quit_on_close = False
    try:
        # A lone change after a quiet spell is read at once.
        app.refresh()
        qtbot.waitUntil(lambda: len(starts) == 1, timeout=5_000)
        qtbot.waitUntil(lambda: not app._reading, timeout=5_000)
        # A change every 5 ms for 1.5 s, as a live engine committing agents' lines.
        stream = QTimer()
        stream.timeout.connect(app.refresh)
        first = len(starts)
        began = time.monotonic()
        stream.start(5)
        qtbot.wait(1500)
        stream.stop()
        took = time.monotonic() - began
        qtbot.waitUntil(lambda: not app._reading, timeout=5_000)
        reads = starts[first:]
        assert reads, "the stream's changes were never read"
        gaps = [b - a for a, b in itertools.pairwise(reads)]
        assert all(gap >= MIN_READ_GAP_MS / 1000 - 0.005 for gap in gaps), gaps
        assert len(reads) <= took * 1000 / MIN_READ_GAP_MS + 2
        # The last change is read: the icon ends current.
        assert reads[-1] >= began + took - (MIN_READ_GAP_MS / 1000) - 0.5
    finally:
        app.shutdown()
