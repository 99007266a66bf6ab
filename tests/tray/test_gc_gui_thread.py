"""The running tray collects cyclic garbage on the GUI thread only (tray_app.gc_gui): a
collection that fell in a pool thread freed GUI-thread Qt objects there, and the process
died in a segfault. Here a cycle is dropped in a worker thread that then allocates enough
to trip the automatic collector: with the tray running it is freed on the GUI thread, by
the tray's timer; the automatic collector freed it in the worker."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

from pytestqt.qtbot import QtBot

from shared.sources.roots import LogRoot
from tests.tray.conftest import tray_app_for


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


def _drop_a_cycle_and_allocate(freed_in: list[str], kept: list[object]) -> None:
    node = _Node()
    weakref.finalize(node, lambda: freed_in.append(threading.current_thread().name))
    del node
    # New containers, kept alive (as a read's rows are, for a while): enough to pass every
    # generation's threshold, so a collection is due.
    kept.extend([] for _ in range(50_000))


def _freed_where(qtbot: QtBot) -> str:
    freed_in: list[str] = []
    kept: list[object] = []
    worker = threading.Thread(
        target=_drop_a_cycle_and_allocate, args=(freed_in, kept), name="pool-like"
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(freed_in), timeout=5_000)
    return freed_in[0]


def test_the_running_tray_frees_cycles_on_the_gui_thread(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    gc.collect()
    assert gc.isenabled()
    app = tray_app_for(roots, ledger_file)
    app.dashboard.quit_on_close = False
    app.start()
    try:
        assert not gc.isenabled()
        assert _freed_where(qtbot) == threading.main_thread().name
    finally:
        app.shutdown()
    # Automatic collection as it was once the tray is gone (the test run goes on).
    assert gc.isenabled()
    assert _freed_where(qtbot) == "pool-like"
