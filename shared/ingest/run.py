"""`ingest`: plan what is new, read it (on every core when there is much), write it, and say
what happened; and the lock that keeps two big reads of one ledger from overlapping."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from shared.gcpause import cycle_collection_paused
from shared.ingest.chunks import VANISHED, ChunkResult, ChunkTask
from shared.ingest.planning import plan_tasks, scan
from shared.ledger import Ledger, LedgerError, said_in_words, storage_problem
from shared.sources.roots import LogFile, LogRoot, all_roots, ledger_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Iterator

    from shared.live.lock import WriterLock
    from shared.pricing import PriceBook

# Below this much new data a process pool costs more than it saves.
PARALLEL_THRESHOLD_BYTES = 32 * 1024 * 1024

# A first ingest of at least this much into an empty ledger is one transaction that fills
# the trigger-kept tables once at the end (see shared.schema.REBUILD_DERIVED); smaller ones
# commit as they go, so their progress survives a kill.
BULK_THRESHOLD_BYTES = 256 * 1024 * 1024
# SQLite settings for the length of a big ingest (defaults: 2 MiB, 1000 pages).
BIG_CACHE_KIB = 96 * 1024
BIG_CHECKPOINT_PAGES = 20_000

ProgressCallback = Callable[[int, int, str], None]
# The `path` a progress callback gets once every byte is read, while a big first ingest
# builds the ledger's indexes and totals (a second or two on a large history).
FINISHING_LEDGER = "<finishing the ledger>"
# ... and while it waits for another process's big read of the same ledger to end.
WAITING_FOR_INGEST = "<waiting for another ingest>"
INGEST_LOCK_FILENAME = "ingest.lock"


class FirstImportInterrupted(KeyboardInterrupt):
    """Ctrl-C during a first import, which is one transaction: nothing of it was kept
    (unlike an interrupted ordinary ingest, which keeps every batch it committed)."""


class IngestCancelled(Exception):
    """The caller asked the ingest to stop (`cancel` set: the live engine shutting down).
    What was committed stays; a first import, one transaction, is rolled back whole."""

    def __init__(self, first_import: bool) -> None:
        super().__init__(
            "stopped during the first import; nothing of it was kept"
            if first_import
            else "stopped; what was committed is kept"
        )
        self.first_import = first_import


class IngestSummary:
    """What one ingest found and read."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self, files_seen: int = 0, roots: list[LogRoot] | None = None) -> None:
        self.files_seen = files_seen
        self.files_read = 0
        self.bytes_read = 0
        self.events_read = 0
        self.new_calls = 0
        self.rejected_lines = 0
        # Warnings: files that could not be read, folders that could not be listed.
        self.unreadable: list[str] = []
        self.unlisted_folders: list[str] = []
        self.roots: list[LogRoot] = roots or []
        # Seconds spent waiting for another process's big read of the same ledger.
        self.waited_s = 0.0
        # Files deleted between finding and reading them.
        self.vanished = 0


def ingest(
    ledger: Ledger,
    roots: list[LogRoot] | None = None,
    *,
    prices: Callable[[], PriceBook] | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    files: list[LogFile] | None = None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    """Read every new complete line under the roots into the ledger.

    `files` limits the run to those files (the live engine passes the ones that changed);
    other known files are then left as they are, not marked missing. Once `cancel` is set
    the ingest stops between parsed chunks with IngestCancelled.
    """
    roots = all_roots() if roots is None else roots
    with said_in_words(ledger.path), cycle_collection_paused():
        return _ingest(ledger, roots, prices, progress, workers, files, cancel)


def _ingest(
    ledger: Ledger,
    roots: list[LogRoot],
    prices: Callable[[], PriceBook] | None,
    progress: ProgressCallback | None,
    workers: int | None,
    files: list[LogFile] | None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    # While another process's big read holds the ingest lock (the tray's first import, a
    # `burnmeter ingest` in another terminal), its one long transaction holds SQLite's
    # write lock too: planning (which writes the files' states) would wait inside SQLite,
    # silently, deaf to Ctrl-C, and fail after LOCK_WAIT_SECONDS. The lock is waited for
    # here instead, said as such, and the plan made from the offsets it leaves.
    started = time.monotonic()
    lock = _wait_for_a_big_ingest(ledger, progress)
    waited_s = time.monotonic() - started if lock is not None else 0.0
    try:
        summary, tasks = _plan(ledger, roots, files)
        summary.waited_s = waited_s
        if _bytes_to_read(tasks) < PARALLEL_THRESHOLD_BYTES:
            return _read_into_ledger(ledger, summary, tasks, prices, progress, workers, cancel)
        if lock is None:
            # A big read (a first import, a long catch-up) takes the ingest lock beside
            # the ledger; one that began meanwhile is waited for, then the plan is made
            # again: the same bytes are not parsed twice on the same cores.
            started = time.monotonic()
            lock, waited = _take_big_ingest_lock(ledger, progress)
            if waited:
                summary, tasks = _plan(ledger, roots, files)
                summary.waited_s = time.monotonic() - started
        return _read_into_ledger(ledger, summary, tasks, prices, progress, workers, cancel)
    finally:
        if lock is not None:
            lock.release()


def _plan(
    ledger: Ledger, roots: list[LogRoot], files: list[LogFile] | None
) -> tuple[IngestSummary, list[ChunkTask]]:
    if files is not None:
        return IngestSummary(files_seen=len(files), roots=roots), plan_tasks(ledger, files)
    unlisted: list[str] = []
    found, changed, all_found = scan(ledger, roots, unlisted)
    summary = IngestSummary(files_seen=len(found), roots=roots)
    summary.unlisted_folders = unlisted
    summary.unreadable.extend(unlisted)
    if not changed and all_found:
        return summary, []  # a warm run: nothing new, nothing gone
    present = {ledger_key(path) for _, path, _ in found}
    return summary, plan_tasks(ledger, changed, present=present)


def _bytes_to_read(tasks: list[ChunkTask]) -> int:
    return sum(max(0, (t.size or 0) - t.offset) for t in tasks)


def ingest_lock(ledger_path: Path) -> WriterLock:
    """The lock a big read (a first import, a long catch-up) holds beside the ledger."""
    from shared.live.lock import WriterLock

    return WriterLock(ledger_path.parent, INGEST_LOCK_FILENAME)


def _wait_for_a_big_ingest(ledger: Ledger, progress: ProgressCallback | None) -> WriterLock | None:
    """None when no other process holds the ingest lock (the usual case: a probe, nothing
    taken); else the lock, once its holder is done."""
    try:
        if ingest_lock(ledger.path).is_free():
            return None
    except OSError:
        return None  # a folder without locks: SQLite's own lock still keeps order
    return _take_big_ingest_lock(ledger, progress)[0]


def _take_big_ingest_lock(
    ledger: Ledger, progress: ProgressCallback | None
) -> tuple[WriterLock | None, bool]:
    """The ingest lock (None where it cannot be had) and whether another holder was waited
    for. Without a lock (a file system without locks, a folder that takes no new file)
    big reads may overlap as before: slower, and the totals stay exact."""
    lock = ingest_lock(ledger.path)
    try:
        if lock.try_acquire():
            return lock, False
        if progress is not None:
            progress(0, 0, WAITING_FOR_INGEST)
        _wait_for(lock)
    except OSError:
        return None, False
    return lock, True


# How often a wait for the ingest lock looks again, and how long its holder may stay
# stopped before the wait ends with a message.
LOCK_POLL_S = 0.2
HOLDER_STOPPED_S = 2.0


class IngestHolderStopped(LedgerError):
    """The process holding the ingest lock is stopped (Ctrl-Z, SIGSTOP)."""


def _wait_for(lock: WriterLock) -> None:
    """Take `lock` once its holder lets it go. A holder stopped with Ctrl-Z would be
    waited for without end: every report said "waiting for another burnmeter process"
    for good, and the tray and the language server stopped updating, saying nothing.
    Such a wait ends after HOLDER_STOPPED_S with IngestHolderStopped: a command says who
    and what to do, a live engine tries again later."""
    stopped_since: float | None = None
    while not lock.try_acquire():
        pid = lock.holder_pid()
        if pid is not None and _is_stopped(pid):
            now = time.monotonic()
            stopped_since = stopped_since if stopped_since is not None else now
            if now - stopped_since >= HOLDER_STOPPED_S:
                raise IngestHolderStopped(
                    f"another burnmeter process (pid {pid}) is reading the logs and is "
                    f"stopped (suspended with Ctrl-Z?), so nothing was read. Resume it "
                    f"(`fg` in its terminal, or `kill -CONT {pid}`) or end it; "
                    "`--no-ingest` shows the ledger as it is."
                )
        else:
            stopped_since = None
        time.sleep(LOCK_POLL_S)


def _is_stopped(pid: int) -> bool:
    """Whether process `pid` is stopped (Linux's /proc; elsewhere never said)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in ("T", "t")


def _read_into_ledger(
    ledger: Ledger,
    summary: IngestSummary,
    tasks: list[ChunkTask],
    prices: Callable[[], PriceBook] | None,
    progress: ProgressCallback | None,
    workers: int | None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    if not tasks:
        return summary
    # Imported here: a warm run that finds nothing new needs neither parsers nor writer.
    from shared.ingest import bulk_load, pool
    from shared.ingest.writer import LedgerWriter
    from shared.machine_key import machine_key
    from shared.sources.hashing import use_key

    use_key(machine_key(ledger.path.parent))  # before the parser workers start
    total_bytes = _bytes_to_read(tasks)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    results: Iterator[ChunkResult | None]
    if total_bytes >= PARALLEL_THRESHOLD_BYTES and workers > 1:
        results = pool.results_parallel(tasks, workers)
    else:
        results = pool.results_inline(tasks)
    if prices is None:
        from shared.pricing import PriceBook

        prices = PriceBook
    writer = LedgerWriter(ledger, prices)
    big = total_bytes >= PARALLEL_THRESHOLD_BYTES
    if big:
        # A big ingest inserts into every index at random places: a page cache that holds
        # them saves re-reading pages, and rarer checkpoints save rewriting them.
        ledger.conn.execute(f"PRAGMA cache_size = -{BIG_CACHE_KIB}")
        ledger.conn.execute(f"PRAGMA wal_autocheckpoint = {BIG_CHECKPOINT_PAGES}")
        ledger.conn.execute(f"PRAGMA mmap_size = {BIG_CACHE_KIB * 1024}")
    bulk = total_bytes >= BULK_THRESHOLD_BYTES and bulk_load.possible(ledger)
    dropped = bulk_load.begin(ledger) if bulk else ([], [])
    writer.bulk = bulk
    done_bytes = 0
    files_read: set[int] = set()
    last_path = ""

    def commit() -> bool:
        try:
            summary.new_calls += writer.flush()
        except sqlite3.OperationalError as exc:
            if storage_problem(exc) is not None:
                # Every later batch would fail the same way: stop (`ingest` says why).
                raise
            if writer.bulk:
                # Part of the batch may be in the load: the whole load is rolled back.
                raise LedgerError(
                    f"The first import into {ledger.path} stopped: a ledger write failed "
                    f"({exc}). It was rolled back, nothing of it was kept; run the ingest "
                    "again."
                ) from exc
            # Nothing of the batch was kept; the next run reads those bytes again.
            summary.unreadable.append(f"{last_path}: ledger write failed: {exc}")
            return False
        if progress is not None:
            progress(min(done_bytes, total_bytes), total_bytes, last_path)
        return True

    try:
        for result in results:
            if cancel is not None and cancel.is_set():
                raise IngestCancelled(first_import=bulk)
            if result is None:
                if writer.worth_committing() and not commit():
                    break
                continue
            done_bytes += max(0, result.new_offset - result.task.offset)
            last_path = result.task.path
            if result.error == VANISHED:
                summary.vanished += 1
            elif result.error:
                summary.unreadable.append(f"{result.task.path}: {result.error}")
            if not result.error:
                files_read.add(result.task.source_id)
            summary.events_read += result.rows.events_read
            summary.rejected_lines += result.rows.rejected_lines
            if writer.add(result) and not commit():
                break
            if progress is not None:
                progress(min(done_bytes, total_bytes), total_bytes, last_path)
        else:
            commit()
        if cancel is not None and cancel.is_set():
            raise IngestCancelled(first_import=bulk)
        if bulk:
            if progress is not None:
                progress(min(done_bytes, total_bytes), total_bytes, FINISHING_LEDGER)
            bulk_load.finish(ledger, dropped)
            # The ledger was empty: every call in it is new. (The batches' counts add up
            # upserts, so a call that a later batch enlarged was counted twice.)
            (summary.new_calls,) = ledger.conn.execute(
                "SELECT count(*) FROM usage_events"
            ).fetchone()
    except BaseException as exc:
        # Not in a transaction any more: the load was committed just before a Ctrl-C (it
        # is kept), or SQLite rolled it back itself after an error.
        rolled_back = bulk and ledger.conn.in_transaction
        if rolled_back:
            ledger.conn.execute("ROLLBACK")
        if rolled_back and isinstance(exc, KeyboardInterrupt):
            raise FirstImportInterrupted from exc
        raise
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
        if big:
            ledger.conn.execute("PRAGMA cache_size = -2000")
            ledger.conn.execute("PRAGMA wal_autocheckpoint = 1000")
            ledger.conn.execute("PRAGMA mmap_size = 0")
    summary.files_read = len(files_read)
    summary.bytes_read = done_bytes
    return summary
