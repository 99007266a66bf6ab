"""How SIGTERM (what editors and service managers send) and SIGINT stop the language
server: the ledger closed, the `--demo` folder removed, exit code 0.

Installed before anything heavy is imported, so that a signal during start-up stops the
server too (it got Python's default handling there: exit code -15, or the CLI's Ctrl-C
message and 130)."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any, NoReturn

# A stop was asked for.
signalled = threading.Event()
# The stop is under way: a later signal must not break its clean-up.
stopping = threading.Event()


def stop_on_signals() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)


def _stop(signum: int, frame: Any) -> None:
    if stopping.is_set():
        return
    signalled.set()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        # No event loop yet (start-up). Raised wherever the signal landed; should that be
        # inside a callback Python ignores exceptions of (an import's module-lock clean-up)
        # it is lost, so start-up also checks `signalled` (`stop_if_signalled`), and a
        # later signal raises again.
        raise KeyboardInterrupt from None
    # Raised by a callback of the loop's own, between two callbacks, not wherever the
    # signal landed: inside the callback that wakes a task up it lost that wake-up, the
    # task never finished, and asyncio.run's clean-up waited for it forever (`lsp --tcp`
    # stopped by SIGTERM right after a client left hung 1 time in 5).
    stopping.set()
    loop.call_soon_threadsafe(_interrupt)


def _interrupt() -> NoReturn:
    raise KeyboardInterrupt


def stop_if_signalled() -> None:
    """Raise KeyboardInterrupt if a stop was asked for and its interrupt may have been
    lost: called between the steps of start-up."""
    if signalled.is_set():
        raise KeyboardInterrupt
