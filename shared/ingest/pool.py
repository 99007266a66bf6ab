"""Parsing on every core: files go to worker processes in groups, each file's chunks in
order, and only the ingest decides what a Ctrl-C means; small reads are parsed inline."""

from __future__ import annotations

import os
import sys
import time
from contextlib import suppress

from shared.ingest.chunks import ChunkResult, ChunkTask, continuation
from shared.ingest.interrupts import interrupt_deferred, interrupt_held_back
from shared.ingest.parsing import parse_chunk, parse_group

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from concurrent.futures import Future
    from typing import Any

# Small files travel to a worker together, so a pool round trip is paid per group.
GROUP_BYTES = 2 * 1024 * 1024
GROUP_FILES = 128
# Groups queued per worker, so the workers keep parsing while the writer commits a batch
# (a commit can take longer than a few groups' parsing). On the bench history 16 against 2:
# median cold ingest 8.76 against 9.27 s in 7 interleaved runs each.
IN_FLIGHT_PER_WORKER = 16
# While waiting on the pool, a Ctrl-C is only noted (see `_parallel_results`); waits this
# long at most, so that it is acted on promptly.
WAIT_SLICE_SECONDS = 0.1

PARENT_CHECK_SECONDS = 0.5


def start_worker(parent_pid: int, hash_key: bytes = b"") -> None:
    """Run in each parser worker as it starts.

    Ctrl-C reaches every process of the terminal's group, but only the ingest decides what
    it means (it stops the pool and says what was kept): a worker interrupted outside a
    task (starting, or sending a result back) would print a traceback of its own. The
    typed readers (Claude usage lines, Codex token_count lines) pay their import here: the
    workers parse at least PARALLEL_THRESHOLD_BYTES between them (a forking parent has
    imported them already)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        # Blocked since the fork (see interrupt_held_back): a Ctrl-C pending since then
        # is now discarded, being ignored.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    typed_reader_for_workers()
    from shared.sources.hashing import use_key

    use_key(hash_key)  # a spawned worker has not inherited it
    end_with_parent(parent_pid)


def typed_reader_for_workers() -> None:
    from shared.sources import claude, codex

    # A build without msgspec reads the lenient way, which gives the same rows.
    with suppress(ImportError):
        claude.use_typed_reader()
        codex.use_typed_reader()


def end_with_parent(parent_pid: int) -> None:
    """End this worker once the ingest that started it is gone. A worker whose ingest was
    killed (SIGKILL, the OOM killer) would otherwise wait on its task queue forever,
    holding its memory and the ingest lock it inherited."""
    import threading

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def results_inline(tasks: list[ChunkTask]) -> Iterator[ChunkResult]:
    for task in tasks:
        while True:
            result = parse_chunk(task)
            yield result
            if result.at_end or result.error:
                break
            task = continuation(task, result)


def _groups(tasks: list[ChunkTask]) -> list[list[ChunkTask]]:
    """Files in groups of about GROUP_BYTES; a big file travels alone."""
    groups: list[list[ChunkTask]] = []
    current: list[ChunkTask] = []
    current_bytes = 0
    for task in tasks:
        size = max(0, (task.size or task.max_bytes) - task.offset)
        if current and (current_bytes + size > GROUP_BYTES or len(current) >= GROUP_FILES):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(task)
        current_bytes += size
    if current:
        groups.append(current)
    return groups


def _pool_context() -> Any:
    import multiprocessing
    import threading

    # Forking is the cheapest start, but only safe while this process has one thread (a
    # tray or LSP process has more): then workers start fresh instead. Qt starts threads
    # of its own that `threading` does not count, so a process that loaded it spawns too.
    if os.name == "posix" and threading.active_count() == 1 and not _qt_loaded():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _qt_loaded() -> bool:
    return "PySide6.QtCore" in sys.modules


def results_parallel(tasks: list[ChunkTask], workers: int) -> Iterator[ChunkResult | None]:
    """Parse files on all cores; chunks of one file stay in order because each next chunk
    is submitted only after the previous one came back. Yields None while the workers are
    all busy, so the writer can commit in that time."""
    # Imported here: the pool costs ~50 ms of start-up that small, warm ingests never need.
    from concurrent.futures import ProcessPoolExecutor

    from shared.sources.hashing import current_key

    # Biggest first, so a long file does not finish last on one core.
    pending = sorted(_groups(tasks), key=lambda g: sum((t.size or 0) - t.offset for t in g))
    context = _pool_context()
    if context.get_start_method() == "fork":
        typed_reader_for_workers()  # once here, inherited, instead of once per worker
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=start_worker,
        initargs=(os.getpid(), current_key()),
    ) as pool:
        running: set[Future[list[ChunkResult]]] = set()

        def submit_next() -> None:
            if pending:
                running.add(pool.submit(parse_group, pending.pop()))

        try:
            # The first submit forks the workers.
            with interrupt_held_back():
                for _ in range(workers * IN_FLIGHT_PER_WORKER):
                    submit_next()
            yield from _parallel_results(pool, running, submit_next)
        except BaseException:
            # Ctrl-C, an error, or the caller stopped reading: drop the queued groups
            # instead of parsing them all before the pool can shut down.
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _parallel_results(
    pool: Any, running: set[Future[list[ChunkResult]]], submit_next: Callable[[], None]
) -> Iterator[ChunkResult | None]:
    """The results as they come; `running` is shared with `submit_next`, so it is only
    ever changed in place.

    Every touch of the pool happens with Ctrl-C noted rather than raised: an interrupt
    raised while `wait` takes its futures' locks one by one leaves one held, the pool's
    manager thread then blocks on it, and Python's exit hook for the pool joins that thread
    forever. The interrupt is raised when the pool's locks are all free again."""
    while running:
        with interrupt_deferred():
            results = _take_done(pool, running, submit_next, 0)
        if results is None:
            # Nothing parsed yet: a good moment for the writer to commit what it holds.
            yield None
            while results is None:
                # In short waits, so that a noted Ctrl-C is acted on within one.
                with interrupt_deferred():
                    results = _take_done(pool, running, submit_next, WAIT_SLICE_SECONDS)
        yield from results


def _take_done(
    pool: Any,
    running: set[Future[list[ChunkResult]]],
    submit_next: Callable[[], None],
    timeout: float,
) -> list[ChunkResult] | None:
    """The results of the groups done within `timeout` (None if none is), with the next
    chunk of each file not yet read to its end, or else a new group, submitted."""
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
    if not done:
        return None
    running -= done
    taken: list[ChunkResult] = []
    for future in done:
        results = future.result()
        followups = [[continuation(r.task, r)] for r in results if not (r.at_end or r.error)]
        for followup in followups:
            running.add(pool.submit(parse_group, followup))
        if not followups:
            submit_next()
        taken.extend(results)
    return taken
