"""Ledger work off the GUI thread: a function runs in the global `QThreadPool` and its
result (or exception) comes back to the GUI thread through a queued Signal.

Every job reports on one relay that lives as long as the application, which waits for the
global pool's jobs before it deletes its children. A relay per job, deleted on the GUI
thread once its report arrived, could be deleted while the pool thread was still inside
the emit that sent the report (PySide lets go of the GIL there, and Qt's activation reads
the sender once more after posting the event): the tray died with SIGSEGV in
libQt6Core's signal activation on a "Thread (pooled)", now and then on a busy machine.

The pool thread holds nothing of a job but its number: the function, the callbacks and the
outcome stay in `_jobs` until the GUI thread takes them, so the last reference to any of
them (a window's bound method, a tray's closure, a result) is dropped on the GUI thread.
Let go in a pool thread, it freed Qt objects there: their timers stayed registered with the
GUI thread and later fired into freed memory (SIGSEGV in QTimerInfoList::activateTimers,
seen with a single relay whose callbacks the GUI thread let go first, 9c7ac61).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sqlite3
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, Signal, Slot

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


@dataclass(eq=False)
class _Job:
    worker: weakref.ref[Worker]
    fn: Callable[[], Any]
    on_done: Callable[[Any], None]
    on_error: Callable[[Exception], None] | None
    failed: bool = False
    outcome: Any = None


# Submitted jobs by number, from `submit` until the GUI thread takes their outcome. Only
# the GUI thread adds and removes; a pool thread reads its own job and sets its outcome.
_jobs: dict[int, _Job] = {}
_numbers = itertools.count()
# Numbers travel as a C++ int; they wrap long before any job could still be waiting.
_NUMBER_LIMIT = 2**31


class _Relay(QObject):
    """Tells the GUI thread which job finished. One for the process (see the module's doc)."""

    finished = Signal(int)

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self.finished.connect(self.deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(int)
    def deliver(self, number: int) -> None:
        job = _jobs.pop(number, None)
        if job is None:
            return
        worker = job.worker()
        if worker is None or not shiboken6.isValid(worker):
            return  # its owner (the tray, a window) is gone: nobody left to tell
        if not job.failed:
            job.on_done(job.outcome)
        elif job.on_error is not None:
            job.on_error(job.outcome)


_relay: _Relay | None = None


def _the_relay() -> _Relay:
    """The process's relay, made on the GUI thread by the first `submit`; again if the
    application it belonged to was deleted (a test's process can make another)."""
    global _relay
    if _relay is None or not shiboken6.isValid(_relay):
        _relay = _Relay(QCoreApplication.instance())
    return _relay


def _run(relay: _Relay, number: int) -> None:
    """What the pool runs. A plain callable, not a Python `QRunnable` subclass: PySide6
    (6.11) keeps ~1.6 KB of every such runnable handed to `QThreadPool.start` for good,
    which made a tray that refreshes all day grow by tens of MB an hour."""
    job = _jobs[number]
    try:
        job.outcome = job.fn()
    except Exception as exc:
        _log_failure(exc, job.on_error is not None)
        # Without this frame: the traceback would hold `job` (and so itself) in a cycle.
        exc.__traceback__ = exc.__traceback__.tb_next if exc.__traceback__ else None
        job.failed, job.outcome = True, exc
    del job
    # A job still running when the app shut down has nobody left to tell.
    with contextlib.suppress(RuntimeError):
        relay.finished.emit(number)


class Worker(QObject):
    """Runs jobs in the pool and calls their callbacks on the GUI thread, as long as the
    worker itself (and so its parent) is alive."""

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        number = next(_numbers) % _NUMBER_LIMIT
        _jobs[number] = _Job(weakref.ref(self), fn, on_done, on_error)
        QThreadPool.globalInstance().start(partial(_run, _the_relay(), number))


def wait_for_pool(timeout_ms: int = 10_000) -> bool:
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
