"""Errors and Qt's own messages go to Python logging, never silently to nowhere.

An uncaught exception in a slot would otherwise only print to a stderr nobody sees (the
tray is usually started from a launcher); here it is logged with its traceback and the app
keeps running.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("burnmeter.tray")
qt_log = logging.getLogger("burnmeter.qt")

QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


class ProblemLog:
    """Each problem logged once while it lasts, not at every tick that meets it again (an
    unreadable ledger logged two tracebacks every 30 s); a line says when it is over.
    Problems are kept by topic ("read", "extras"): a new text for a topic is a new problem."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._current: dict[str, str] = {}

    def problem(self, topic: str, text: str, level: int = logging.ERROR) -> None:
        if self._current.get(topic) == text:
            return
        self._current[topic] = text
        self._log.log(level, "%s", text)

    def over(self, topic: str, text: str) -> None:
        """The problem of `topic` is over (a read worked again): said once, if there was one."""
        if self._current.pop(topic, None) is not None:
            self._log.info("%s", text)

    def current(self, topic: str) -> str | None:
        return self._current.get(topic)


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.error("uncaught exception", exc_info=(kind, value, tb))


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    where = f" ({context.category})" if context.category and context.category != "default" else ""
    qt_log.log(QT_LEVELS.get(kind, logging.WARNING), "%s%s", message, where)


def install(verbose: bool = False) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    # watchdog logs every inotify event at DEBUG: --verbose is for burnmeter's own lines.
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    sys.excepthook = _excepthook
    qInstallMessageHandler(_qt_message)
