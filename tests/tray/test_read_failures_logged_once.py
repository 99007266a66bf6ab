"""A ledger that cannot be read while the tray runs is logged once, in one line, not with
two tracebacks at every tick; its traceback only with --verbose (DEBUG)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now, tray_app_for
from tray_app.app import BurnmeterApp

TICKS = 4


def make_app(roots: list[LogRoot], ledger_file: Path) -> BurnmeterApp:
    app = tray_app_for(roots, ledger_file)
    app.dashboard.quit_on_close = False
    return app


def tick(qtbot: QtBot, app: BurnmeterApp) -> None:
    """What the 30-second timer does, with the dashboard open: both read the ledger."""
    app.refresh()
    qtbot.waitUntil(lambda: not app._reading and not app.dashboard._loading, timeout=10_000)


def ledger_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level and r.name.startswith("tray_app")]


def test_a_ledger_that_cannot_be_read_is_logged_once_not_at_every_tick(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest_now(roots, ledger_file)
    good = ledger_file.with_name("good.sqlite")
    shutil.copyfile(ledger_file, good)
    app = make_app(roots, ledger_file)
    try:
        app.start()
        app.open_dashboard()
        tick(qtbot, app)
        caplog.clear()
        caplog.set_level(logging.INFO)
        # Damaged while the tray runs (a disk error, a bad copy over it).
        ledger_file.write_bytes(b"this is not an SQLite file\n" * 100)
        for _ in range(TICKS):
            tick(qtbot, app)
        assert app.tray.status_line.startswith("Cannot read the ledger: ")
        told = [r.getMessage() for r in ledger_lines(caplog, logging.WARNING)]
        assert len(told) == 1, told
        assert told[0].startswith(f"cannot read the ledger: The ledger at {ledger_file} is not")
        assert not any(r.exc_info for r in caplog.records), "no traceback without --verbose"

        caplog.clear()
        shutil.copyfile(good, ledger_file)
        tick(qtbot, app)
        tick(qtbot, app)
        assert [r.getMessage() for r in ledger_lines(caplog, logging.INFO)] == [
            "the ledger can be read again"
        ]
        assert app.tray.status_line == ""
    finally:
        app.shutdown()


def test_with_verbose_the_traceback_is_logged_at_debug(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file)
    try:
        app.start()
        tick(qtbot, app)
        caplog.set_level(logging.DEBUG)
        ledger_file.write_bytes(b"this is not an SQLite file\n" * 100)
        tick(qtbot, app)
        debug = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
        assert debug and "not a readable SQLite file" in debug[0].getMessage()
        assert not [r for r in caplog.records if r.levelno > logging.DEBUG and r.exc_info]
    finally:
        app.shutdown()


def test_an_unexpected_failure_logs_its_traceback_once(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    from tray_app.worker import Worker, wait_for_pool

    worker = Worker()
    failures: list[Exception] = []

    def broken() -> None:
        raise ValueError("a bug in a reader")

    caplog.set_level(logging.INFO)
    for _ in range(3):
        worker.submit(broken, lambda _: None, failures.append)
        wait_for_pool()
    qtbot.waitUntil(lambda: len(failures) == 3, timeout=5_000)
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]
    assert len(tracebacks) == 1
