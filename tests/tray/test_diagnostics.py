"""Qt's messages and uncaught exceptions end up in the log, in a real process."""

from __future__ import annotations

from tests.tray.offscreen import run_offscreen

SCRIPT = """
from PySide6.QtCore import qWarning
from tray_app import diagnostics
diagnostics.install()
qWarning("a message from Qt")
raise ValueError("nobody caught this")
"""


def test_qt_messages_and_uncaught_exceptions_are_logged() -> None:
    result = run_offscreen("-c", SCRIPT)
    assert "WARNING burnmeter.qt: a message from Qt" in result.stderr
    assert "ERROR burnmeter.tray: uncaught exception" in result.stderr
    assert "ValueError: nobody caught this" in result.stderr


VERBOSE_SCRIPT = """
import logging
from tray_app import diagnostics
diagnostics.install(verbose=True)
logging.getLogger("watchdog.observers.inotify_buffer").debug("in-event <InotifyEvent>")
logging.getLogger("watchdog.observers").warning("a watch could not be added")
logging.getLogger("tray_app.app").debug("a line of burnmeter's own")
"""


def test_verbose_keeps_burnmeters_debug_lines_but_not_watchdogs_event_flood() -> None:
    result = run_offscreen("-c", VERBOSE_SCRIPT)
    assert "DEBUG tray_app.app: a line of burnmeter's own" in result.stderr
    assert "InotifyEvent" not in result.stderr
    assert "WARNING watchdog.observers: a watch could not be added" in result.stderr
