"""Ledger work off the GUI thread: a function runs in the global `QThreadPool` and its
result (or exception) comes back to the GUI thread through a queued Signal."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, SignalInstance

from shared.ledger import LedgerError

log = logging.getLogger(__name__)

# Failures whose message says what is wrong (a ledger that cannot be opened, SQLite's own
# errors): a job with an error handler leaves saying them to it (once per distinct problem,
# see diagnostics.ProblemLog), and its traceback is logged only at DEBUG (`--verbose`). A
# tray whose ledger could not be read logged two tracebacks at every tick.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (LedgerError, sqlite3.Error)
# Any other failure logs its traceback once per distinct error; again, at DEBUG.
_TOLD_LIMIT = 200
_told: set[str] = set()


def _log_failure(exc: Exception, handled: bool) -> None:
    if handled and isinstance(exc, EXPECTED_ERRORS):
        log.debug("background job failed: %s", exc, exc_info=exc)
        return
    told = f"{type(exc).__name__}: {exc}"
    if told in _told:
        log.debug("background job failed again: %s", told, exc_info=exc)
        return
    if len(_told) >= _TOLD_LIMIT:
        _told.clear()
    _told.add(told)
    log.error("background job failed", exc_info=exc)


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


def _job(fn: Callable[[], Any], relay: _Relay, handled: bool) -> Callable[[], None]:
    """What the pool runs: `fn`, its outcome emitted on the relay.

    A plain callable, not a Python `QRunnable` subclass: PySide6 (6.11) keeps ~1.6 KB of
    every such runnable handed to `QThreadPool.start` for good, which made a tray that
    refreshes all day grow by tens of MB an hour; a callable leaves nothing behind."""

    def run() -> None:
        try:
            result = fn()
        except Exception as exc:
            _log_failure(exc, handled)
            _report(relay.failed, exc)
        else:
            _report(relay.done, result)

    return run


def _report(signal: SignalInstance, value: object) -> None:
    # A job still running when the app shut down has nobody left to tell.
    with contextlib.suppress(RuntimeError):
        signal.emit(value)


class Worker(QObject):
    """Runs jobs in the pool. Keeps each relay alive until its job reports back."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relays: set[_Relay] = set()

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        relay = _Relay(self)  # lives in the GUI thread: its signals arrive queued there
        self._relays.add(relay)

        def finish(result: Any) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            on_done(result)

        def fail(exc: Exception) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            if on_error is not None:
                on_error(exc)

        relay.done.connect(finish)
        relay.failed.connect(fail)
        QThreadPool.globalInstance().start(_job(fn, relay, on_error is not None))


def wait_for_pool(timeout_ms: int = 10_000) -> bool:
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
