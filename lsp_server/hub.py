"""What all connections of one server process share: the live engine, one read
connection to the ledger on one database thread, and the list of connections to tell
when the ledger changes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from shared.ledger import Ledger, LedgerCorrupt, LedgerError, damaged, open_ledger
from shared.live import LiveEngine
from shared.sources.roots import LogRoot

if TYPE_CHECKING:
    from shared.pricing import PriceBook

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a code lens or hover asked for before the live engine's first ingest is done
# waits for it, and how often it looks.
FIRST_INGEST_WAIT_S = 10.0
FIRST_INGEST_POLL_S = 0.05


class LedgerUnusable(Exception):
    """The ledger cannot be used: it would not open, or a read found it damaged. The
    message says which file and what to do; requests answer empty results
    (BurnmeterProtocol) and the user is told once per connection."""


class LedgerHub:
    def __init__(
        self,
        roots: list[LogRoot],
        ledger_file: Path,
        prices: Callable[[], PriceBook] | None = None,
        *,
        live: bool = True,
    ) -> None:
        self.roots = roots
        self.ledger_file = ledger_file
        self._prices_factory = prices
        self._prices: PriceBook | None = None
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        # One thread owns the read connection: queries never overlap and never block the
        # event loop.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="burnmeter-db")
        self._ledger: Ledger | None = None
        # Slow passes (tier hints, weekly summary) get their own thread and connection, so
        # the status and code lens never queue behind them.
        self._slow_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="burnmeter-slow")
        self._slow_ledger: Ledger | None = None
        # Why the ledger cannot be used (it would not open, a read found it damaged): every
        # later use raises LedgerUnusable at once instead of reading the file again.
        self.unusable: str | None = None
        self._unusable_lock = threading.Lock()
        self.engine: LiveEngine | None = None
        if live:
            self.engine = LiveEngine(
                roots, ledger_file, on_change=self._changed, prices=prices, debounce_s=0.02
            )

    def start(self) -> None:
        """Open the ledger and start the live engine. A ledger that cannot be used (not an
        SQLite file, a foreign or newer one, not writable) is left untouched and makes the
        hub unusable: the server still answers, empty, and tells the user why. It exited
        with code 2 before answering `initialize`, and editors showed only that code."""
        try:
            if self.engine is not None:
                self.engine.start()
            self._ledger = self._executor.submit(self._open).result()
            self._slow_ledger = self._slow_executor.submit(self._open).result()
        except LedgerError as exc:
            self._give_up(str(exc))

    def _open(self) -> Ledger:
        # SQLite's own page cache (2 MiB) and no mmap. These connections had a 64 MiB cache
        # and a 256 MiB map each: on a 1M-call ledger that held ~140 MiB more anonymous
        # memory and up to ~300 MiB more resident file pages (peak RSS 633 against 202 MiB)
        # for no measurable gain: the lens, hover and status queries read a row or two of
        # indexed tables, and the kernel's page cache keeps the ledger's pages anyway.
        return open_ledger(self.ledger_file)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            self._executor.submit(ledger.close).result()
        if self._slow_ledger is not None:
            slow, self._slow_ledger = self._slow_ledger, None
            self._slow_executor.submit(slow.close).result()
        self._executor.shutdown(wait=False)
        self._slow_executor.shutdown(wait=False)

    def subscribe(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _changed(self) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:
                log.exception("ledger change listener failed")

    def prices(self) -> PriceBook:
        if self._prices is None:
            if self._prices_factory is not None:
                self._prices = self._prices_factory()
            else:
                from shared.pricing import PriceBook

                self._prices = PriceBook()
        return self._prices

    def ledger(self) -> Ledger:
        if self._ledger is None:
            raise RuntimeError("the ledger hub is not started")
        return self._ledger

    def first_ingest_done(self) -> bool:
        """Whether the live engine has done its first ingest (as writer) or first poll (as
        reader), stopped on its own, or failed an ingest (retried later); True without an
        engine or with an unusable ledger."""
        return self.engine is None or self.unusable is not None or self.engine.settled()

    async def wait_first_ingest(self, timeout: float | None = None) -> bool:
        """Wait, without holding the event loop, until `first_ingest_done` or `timeout`
        seconds (default FIRST_INGEST_WAIT_S) have passed; whether it is done. On a fresh
        ledger a client's first code lens came before the first ingest had written anything
        and got none, and a client that cannot be told to ask again (no
        `workspace/codeLens/refresh`: Neovim 0.7) showed none until the cursor moved."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (FIRST_INGEST_WAIT_S if timeout is None else timeout)
        while not self.first_ingest_done():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(FIRST_INGEST_POLL_S)
        return True

    async def query(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self._using(lambda: fn(self.ledger().conn, *args))
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(ledger, *args)` on the database thread (for shared.* report functions)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self._using(lambda: fn(self.ledger(), *args))
        )

    async def run_slow(self, fn: Callable[..., T], *args: Any) -> T:
        """Like `run`, on the slow thread with its own connection."""
        loop = asyncio.get_running_loop()

        def slow() -> T:
            if self._slow_ledger is None:
                raise RuntimeError("the ledger hub is not started")
            return fn(self._slow_ledger, *args)

        return await loop.run_in_executor(self._slow_executor, lambda: self._using(slow))

    def _using(self, read: Callable[[], T]) -> T:
        """`read()`, unless the ledger is known to be unusable; a read that finds it damaged
        makes it so (LedgerUnusable, not SQLite's error: a request answered with a
        traceback, "internal error", every time)."""
        if self.unusable is not None:
            raise LedgerUnusable(self.unusable)
        engine = self.engine
        if engine is not None and engine.failure is not None:
            # The live engine stopped on the file (a newer burnmeter upgraded it, or it is
            # damaged): answering from it went on with figures frozen while the ledger
            # moved on, and the user was told only in a log message.
            raise LedgerUnusable(self._give_up(engine.failure))
        try:
            return read()
        except sqlite3.DatabaseError as exc:
            corrupt = damaged(exc, self.ledger_file)
            if corrupt is None:
                raise
            raise LedgerUnusable(self._give_up(str(corrupt))) from exc
        except LedgerCorrupt as exc:
            raise LedgerUnusable(self._give_up(str(exc))) from exc

    def _give_up(self, problem: str) -> str:
        """Mark the ledger unusable (logged once) and stop writing to it, as `burnmeter
        watch` stops: an ingest would write into the damaged file. Returns the reason."""
        with self._unusable_lock:
            if self.unusable is not None:
                return self.unusable
            self.unusable = problem
        log.error("%s", problem)
        if self.engine is not None:
            self.engine.pause()
        return problem
