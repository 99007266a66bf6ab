"""Ctrl-C around the parser pool: noted instead of raised while the pool's locks are taken,
and held back while its workers start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupt_deferred() -> Iterator[None]:
    """Ctrl-C noted instead of raised inside the block, then handed to its handler at the
    block's end if it came.

    Only the main thread runs Python's signal handlers, and only it may swap them; in any
    other thread (the tray's or the language server's ingest) this does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler):
        # Ignored (a background job of a script), the default (the process just ends) or
        # set outside Python: nothing is raised inside the block, so nothing to defer.
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda number, _: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
    if caught:
        handler(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt


@contextmanager
def interrupt_held_back() -> Iterator[None]:
    """Ctrl-C held back while this thread starts the workers, then raised if it came.

    The signal is blocked in this thread, and the workers inherit the blocked signal through
    a fork and through the exec of a spawn: none can be interrupted before `start_worker`
    ignores it (a worker's interrupted start-up prints a traceback of its own). In the main
    thread its Python handler is also deferred: with other threads running (the progress
    bar's), one of them takes the signal, and the main thread would otherwise raise in the
    middle of writing a spawned worker's start-up data."""
    import signal

    with interrupt_deferred():
        mask = None
        if hasattr(signal, "pthread_sigmask"):  # not on Windows, which has no Ctrl-C group
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
