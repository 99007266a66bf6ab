"""The live engine: keeps the ledger current while logs are written, in whichever process
gets there first.

The first process to start holds the writer lock: it watches every log root with watchdog
and ingests appended bytes (debounced) through `shared.ingest.ingest`, so a live ledger is
exactly what `burnmeter ingest` would have built. A file or folder that comes or goes is
handled by its own path (`shared.live.changes`); a full scan of every root runs at the
start, when a root appears or goes, when the watch lost events, and now and then as a
safety net. Every other process is a reader: it polls `PRAGMA data_version` and takes over
the lock when the writer goes away.

`on_change` runs on the engine's background thread after every commit that changed
something, the writer's own or (the writer polls `data_version` too) another process's;
front ends hand it over to their own event loop.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from shared.ingest import IngestCancelled, ProgressCallback, ingest
from shared.ingest.planning import mark_missing
from shared.ledger import (
    Ledger,
    LedgerCorrupt,
    LedgerError,
    LedgerTooNew,
    open_ledger,
    said_in_words,
)
from shared.live import changes
from shared.live.lock import WriterLock
from shared.sources.cowork import cowork_sessions, outside_sessions
from shared.sources.roots import LogFile, LogRoot, is_log_name, ledger_key, log_file_at

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver, ObservedWatch

    from shared.pricing import PriceBook

log = logging.getLogger(__name__)

POLL_S = 0.2
# A full rescan now and then catches anything the file watcher missed: every minute where
# it may miss changes without a word (macOS's FSEvents drops them silently, a network file
# system does not report other machines' writes, an older watchdog does not report a
# queue that overflowed), every ten minutes where it says when it lost any (inotify,
# Windows) and every folder is watched. A rescan of a 16,000-file history costs 0.2-0.6
# CPU s: every minute that was 0.3-1 % of a core for an idle tray.
RESCAN_S = 60.0
RESCAN_WATCHED_S = 600.0
# How long `stop` lets an ingest under way end between chunks before interrupting its
# statement, then how long it waits for the thread after that.
STOP_GRACE_S = 2.0
STOP_WAIT_S = 10.0
# A failed ingest is tried again after RETRY_FIRST_S, then after twice as long each time it
# fails again, up to RETRY_MAX_S; a success starts over. It was tried again every second
# or so forever, with the same traceback logged each time.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


class LiveEngine:
    def __init__(
        self,
        roots: list[LogRoot],
        ledger_file: Path,
        *,
        on_change: Callable[[], None],
        prices: Callable[[], PriceBook] | None = None,
        debounce_s: float = 0.05,
        poll_s: float = POLL_S,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.roots = list(roots)
        self.ledger_file = ledger_file
        self._on_change = on_change
        self._prices = prices
        self._debounce_s = debounce_s
        self._poll_s = poll_s
        self._lock = WriterLock(ledger_file.parent)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._paused = False
        self._mutex = threading.Lock()
        self._pending_paths: set[str] = set()
        # Paths the watch saw come (created, moved to) and go (deleted, moved away).
        self._created: set[str] = set()
        self._deleted: set[str] = set()
        # Where each folder linked into a root is linked (`changes.location` of the link).
        self._links: set[str] = set()
        # Whether the watch says when it lost events and watches every root, on local disks
        # (set at each full scan), and whether watchdog has complained since.
        self._watch_reports_losses = False
        self._watch_trouble = threading.Event()
        self._trouble_handler = _TroubleHandler(self._watch_trouble, self._wake)
        # Folders under a root reached through a symbolic link, by real path: watched
        # apart (see _plan_watches).
        self._linked_roots: dict[str, LogRoot] = {}
        # Cowork folders among the roots, by real path, each watched whole; their sessions
        # (each its `.claude/projects/`, by real path, made or not) and the folders new
        # sessions appear in: a folder made in one brings a full scan. Set at each full
        # scan.
        self._cowork_tops: tuple[str, ...] = ()
        self._cowork_roots: list[LogRoot] = []
        self._cowork_folders: set[str] = set()
        self._full_scan = True
        self._thread: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._watches: dict[tuple[str, bool], ObservedWatch] = {}
        self._ledger: Ledger | None = None
        self._progress = progress
        # Failed ingests in a row, what the last one was (its traceback or message: a
        # different failure is logged in full again), and when to try again.
        self._failures = 0
        self._poll_failing = False
        self._last_failure: str | None = None
        self._retry_at = 0.0
        # Why the engine stopped on its own (a damaged ledger), for the front end to show.
        self.failure: str | None = None
        # Set when `stop` cut an ingest short: what became of it, for the front end to say.
        self.stopped_ingest: str | None = None

    @property
    def is_writer(self) -> bool:
        return self._lock.held

    @property
    def is_paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        """Open the ledger, take the writer lock if it is free, and run in the background.

        `is_writer` is settled when this returns; the first ingest runs on the thread."""
        if self._thread is not None:
            return
        self._ledger = open_ledger(self.ledger_file)
        self._lock.try_acquire()
        self._thread = threading.Thread(target=self._run, name="burnmeter-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the engine: an ingest under way stops between parsed chunks (a first
        import, one transaction, is rolled back whole) and a long statement (a first
        import's index builds) is interrupted. The ledger is closed only once the thread
        that uses it has ended: closing it under a running statement crashed the process
        (SIGSEGV) or hung it."""
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=STOP_GRACE_S)
            if thread.is_alive() and self._ledger is not None:
                self._ledger.conn.interrupt()
                thread.join(timeout=STOP_WAIT_S)
        self._stop_observer()
        self._lock.release()
        if thread is not None and thread.is_alive():
            # Still inside something that cannot be interrupted (waiting for another
            # process's import): the connection is left to the process's exit.
            log.warning("live engine: the ingest thread did not stop; leaving the ledger open")
            return
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def pause(self) -> None:
        """Stop ingesting (writer) or reporting changes (reader) until `resume`."""
        self._paused = True

    def resume(self) -> None:
        with self._mutex:
            self._paused = False
            self._full_scan = True
        self._wake.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the first ingest (writer) or first poll (reader) is done."""
        return self._ready.wait(timeout)

    def settled(self) -> bool:
        """Whether the first ingest or poll is done, or an ingest failed (it is retried
        later: waiting longer for it would be waiting out the back-off). The language
        server stops holding requests back for the first ingest then."""
        return self._ready.is_set() or self._failures > 0

    def request_rescan(self) -> None:
        with self._mutex:
            self._full_scan = True
        self._wake.set()

    def _run(self) -> None:
        last_version: int | None = None
        while not self._stopping.is_set():
            if not self._lock.held and not self._lock.try_acquire():
                last_version = self._poll_data_version(last_version)
                self._ready.set()
                self._stopping.wait(self._poll_s)
                continue
            try:
                self._run_as_writer()
            except Exception as exc:
                delay = self._failed(exc, with_traceback=True)
                self._stop_observer()
                self._lock.release()
                self._stopping.wait(delay)

    def _poll_data_version(self, last_version: int | None) -> int | None:
        assert self._ledger is not None
        try:
            version = self._ledger.data_version()
        except sqlite3.Error as exc:
            if not self._poll_failing:  # said once, not five times a second
                self._poll_failing = True
                log.warning("cannot poll the ledger: %s", exc)
                if self._lock.held:
                    self.request_rescan()  # an ingest says what is wrong, or stops on it
            return last_version
        self._poll_failing = False
        if last_version is not None and version != last_version and not self._paused:
            self._notify()
        elif self._paused:
            return last_version
        return version

    def _run_as_writer(self) -> None:
        if not self._failures:  # not said again on each retry after a failure
            log.info("live engine: this process writes the ledger")
        with self._mutex:
            self._full_scan = True
        self._start_observer()
        # Commits by other processes (`burnmeter ingest`, a report's own ingest, `reprice`)
        # are noticed as a reader notices them: they change `data_version` (this
        # connection's own commits do not). The front end heard of them only at its next
        # timer, up to 30 s later, or never when they had taken the lines this writer was
        # about to read.
        version = self._poll_data_version(None)
        last_rescan = -math.inf
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= last_rescan + self._rescan_interval():
                self.request_rescan()
                last_rescan = now
            # After a failure, changes wait for the retry (`_retry_later`'s back-off).
            due = not self._failures or time.monotonic() >= self._retry_at
            if not self._paused and due:
                self._ingest_pending()
            self._ready.set()
            while not self._wake.is_set() and not self._stopping.is_set():
                wake_at = last_rescan + self._rescan_interval()
                if self._failures:
                    wake_at = min(wake_at, self._retry_at)
                left = wake_at - time.monotonic()
                if left <= 0 or self._wake.wait(timeout=min(left, self._poll_s)):
                    break
                version = self._poll_data_version(version)
            if self._stopping.is_set():
                break
            # Let a burst of writes settle into one ingest.
            self._stopping.wait(self._debounce_s)
            self._wake.clear()

    def _rescan_interval(self) -> float:
        """How long until the next safety rescan: see RESCAN_WATCHED_S."""
        observer = self._observer
        trusted = (
            self._watch_reports_losses
            and not self._watch_trouble.is_set()
            and observer is not None
            and all(emitter.is_alive() for emitter in observer.emitters)
        )
        return RESCAN_WATCHED_S if trusted else RESCAN_S

    def _ingest_pending(self) -> None:
        assert self._ledger is not None
        with self._mutex:
            full, self._full_scan = self._full_scan, False
            paths, self._pending_paths = self._pending_paths, set()
            created, self._created = self._created, set()
            deleted, self._deleted = self._deleted, set()
        # A failed try is tried again as a full scan when files came or went.
        full_on_retry = full or bool(created or deleted)
        conn = self._ledger.conn
        before = conn.total_changes
        try:
            files: list[LogFile] | None = None
            gone: set[str] = set()
            if not full:
                with said_in_words(self.ledger_file):
                    targeted = self._targeted(paths, created, deleted)
                if targeted is None:
                    full = True
                else:
                    files, gone = targeted
                    if not files and not gone:
                        return
            if full:
                self._plan_watches()
            if files is None or files:
                ingest(
                    self._ledger,
                    self.roots,
                    prices=self._prices,
                    files=files,
                    progress=self._progress,
                    cancel=self._stopping,
                )
            if gone:
                with said_in_words(self.ledger_file):
                    mark_missing(self._ledger, sorted(gone))
        except IngestCancelled as exc:
            self.stopped_ingest = str(exc)
            return
        except sqlite3.OperationalError as exc:
            if self._stopping.is_set():
                # `stop` interrupted a statement: nothing of the transaction was kept.
                self.stopped_ingest = f"stopped while writing ({exc}); it was rolled back"
                return
            self._retry_later(exc, paths, full_on_retry)
            return
        except (LedgerCorrupt, LedgerTooNew) as exc:
            # Retrying cannot mend the file (nor make this burnmeter newer), and each try
            # would write to it: stop here.
            log.error("%s", exc)
            self.failure = str(exc)
            # The writer role goes too: a newer burnmeter (or one started once the file is
            # mended) takes it at once instead of waiting for this process to end.
            self._stop_observer()
            self._lock.release()
            self._stopping.set()
            self._ready.set()
            return
        except (sqlite3.Error, LedgerError) as exc:
            self._retry_later(exc, paths, full_on_retry)
            return
        self._succeeded()
        if conn.total_changes != before:
            self._notify()

    def _retry_later(self, exc: Exception, paths: set[str], full: bool) -> None:
        """Keep what this ingest was to read for a retry after the back-off."""
        self._retry_at = time.monotonic() + self._failed(exc)
        with self._mutex:
            self._pending_paths |= paths
            self._full_scan = self._full_scan or full

    def _failed(self, exc: Exception, *, with_traceback: bool = False) -> float:
        """Count a failed ingest and log it: in full the first time and whenever it differs
        from the previous failure (an unexpected error at ERROR with its traceback, a
        database error as a warning), else in one line. How long to wait before the next
        try."""
        self._failures += 1
        delay = min(RETRY_MAX_S, RETRY_FIRST_S * 2.0 ** min(self._failures - 1, 30))
        # The same failure: the same type raised from the same place (its message may
        # vary: a path, a count), or for a database error the same message.
        if with_traceback:
            frames = traceback.extract_tb(exc.__traceback__)
            failure = repr([type(exc)] + [(f.filename, f.lineno, f.name) for f in frames])
        else:
            failure = f"{type(exc).__name__}: {exc}"
        if failure != self._last_failure:
            self._last_failure = failure
            if with_traceback:
                log.error(
                    "live ingest failed; giving up the writer role, retrying in %g s",
                    delay,
                    exc_info=exc,
                )
            else:
                log.warning("live ingest failed, retrying in %g s: %s", delay, exc)
        else:
            log.warning(
                "live ingest failed again (%d times in a row: %s: %s); retrying in %g s",
                self._failures,
                type(exc).__name__,
                exc,
                delay,
            )
        return delay

    def _succeeded(self) -> None:
        if self._failures:
            log.info("live ingest works again after %d failed tries", self._failures)
        self._failures = 0
        self._last_failure = None
        self._retry_at = 0.0

    def _targeted(
        self, paths: set[str], created: set[str], deleted: set[str]
    ) -> tuple[list[LogFile], set[str]] | None:
        """The log files to read and the keys of those gone after these events, each found
        by its own path, as a full scan would find them; None where only a full scan is
        sure to be exact (see `changes`): a root or a folder on the way to one, or a folder
        linked into a root, came or went; a log file went that the ledger never knew (a
        link to one, say); a file came that is another path's too."""
        assert self._ledger is not None
        for path in created | deleted:
            where = changes.location(path)
            if self._on_the_way_to_a_root(path) or any(
                changes.at_or_under(link, where) for link in self._links
            ):
                return None
            if os.path.dirname(where) in self._cowork_folders and os.path.isdir(path):
                return None  # a new Cowork session (or account): only a scan finds its roots
        gone: set[str] = set()
        unknown: list[str] = []
        for path in deleted:
            root = self._root_of(path)
            if root is None:
                continue
            keys = changes.keys_gone(self._ledger, path)
            if keys is None:
                return None
            gone |= keys
            if os.path.lexists(path):
                created.add(path)  # gone and back (replaced): read as it is now
            elif not keys and is_log_name(root.agent, os.path.basename(path)):
                unknown.append(ledger_key(changes.location(path)))
        if unknown and len(changes.known_keys(self._ledger, unknown)) < len(unknown):
            return None
        files: list[LogFile] = []
        for path in created:
            root = self._root_of(path)
            if root is None:
                continue
            if not os.path.isdir(path):
                paths.add(path)
            elif os.path.islink(path) or linked_folders(path):
                return None  # a folder linked in: it needs a watch of its own
            else:
                files.extend(changes.files_in_folder(root, path))
        files = changes.unique(files + self._log_files(paths))
        moved = changes.same_files_elsewhere(self._ledger, files, gone) if files else set()
        if moved is None:
            return None
        return files, gone | moved

    def _on_the_way_to_a_root(self, path: str) -> bool:
        """Whether `path` is a root, a folder a root lies in, or a folder linked into one."""
        bases = [p for root in self.roots for p in (str(root.path), os.path.realpath(root.path))]
        bases += [str(root.path) for root in self._cowork_roots]  # real paths already
        return any(changes.at_or_under(base, path) for base in [*bases, *self._linked_roots])

    def _log_files(self, paths: set[str]) -> list[LogFile]:
        files = []
        for path in paths:
            root = self._root_of(path)
            if root is None:
                continue
            log_file = log_file_at(root.agent, path)
            if log_file is not None:
                files.append(log_file)
        return files

    def _root_of(self, path: str) -> LogRoot | None:
        for root in self.roots:
            if root.cowork:
                continue  # only its sessions' `projects/` hold logs (an audit.jsonl does not)
            for base in {str(root.path), os.path.realpath(root.path)}:
                if path.startswith(base.rstrip(os.sep) + os.sep):
                    return root
        for root in self._cowork_roots:
            if path.startswith(str(root.path).rstrip(os.sep) + os.sep):
                return root
        for folder, root in self._linked_roots.items():
            if path.startswith(folder.rstrip(os.sep) + os.sep):
                return root
        return None

    def _notify(self) -> None:
        try:
            self._on_change()
        except Exception:
            log.exception("on_change callback failed")

    def _on_fs_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        if kind == "modified" and event.is_directory:
            return  # its entries' own events say what changed
        src = _text(event.src_path)
        if self._cowork_tops and kind in (
            "modified",
            "closed",
            "attrib",
            "created",
            "deleted",
            "moved",
        ):
            dest = _text(event.dest_path) if kind == "moved" and event.dest_path else src
            if self._cowork_noise(src) and self._cowork_noise(dest):
                return
        with self._mutex:
            if kind in ("modified", "closed", "attrib") and not event.is_directory:
                self._pending_paths.add(src)
            elif kind == "created":
                self._created.add(src)
            elif kind == "deleted":
                self._deleted.add(src)
            elif kind == "moved":
                self._deleted.add(src)
                if event.dest_path:
                    self._created.add(_text(event.dest_path))
            else:
                # Events lost (a queue overflowed), a folder's permissions changed, or an
                # event this watchdog is new in: only a full scan is sure to be exact.
                self._full_scan = True
        self._wake.set()

    def _cowork_noise(self, path: str) -> bool:
        """Whether `path` lies in a Cowork folder outside its sessions' logs (an
        audit.jsonl, a task's outputs): its events wake nothing."""
        for top in self._cowork_tops:
            if path.startswith(top + os.sep):
                return outside_sessions(top, path)
        return False

    def _start_observer(self) -> None:
        from watchdog.observers import Observer

        if self._observer is None:
            self._watch_trouble.clear()
            logging.getLogger("watchdog.observers").addHandler(self._trouble_handler)
            self._observer = Observer()
            self._observer.daemon = True
            self._observer.start()
        self._plan_watches()

    def _plan_watches(self) -> None:
        """Watch each root recursively, and each folder under it reached through a symbolic
        link (a recursive watch does not follow links); for a root that does not exist
        yet, watch its nearest existing ancestor (not recursively) so its creation is
        noticed. A Cowork folder is watched whole, once (each watch is a thread of its
        own: a watch per session would be hundreds); its sessions' `projects/` folders
        are roots as the others, made or not, and the events of its other files are
        dropped as they come (`_cowork_noise`)."""
        observer = self._observer
        if observer is None:
            return
        wanted: set[tuple[str, bool]] = set()
        linked_roots: dict[str, LogRoot] = {}
        links: set[str] = set()
        # Each root, and whether it needs a watch of its own.
        plan: list[tuple[LogRoot, bool]] = []
        tops: list[str] = []
        cowork_roots: list[LogRoot] = []
        cowork_folders: set[str] = set()
        for root in self.roots:
            if not (root.cowork and root.exists):
                plan.append((root, True))
                continue
            top = os.path.realpath(root.path)
            tops.append(top)
            wanted.add((top, True))
            sessions, folders = cowork_sessions(root)
            cowork_roots += sessions
            cowork_folders.update(folders)
            # A session's `.claude/` linked in from elsewhere needs a watch of its own.
            plan += [(s, not changes.at_or_under(str(s.path), top)) for s in sessions]
        self._cowork_tops = tuple(tops)
        self._cowork_roots = cowork_roots
        self._cowork_folders = cowork_folders
        for root, own_watch in plan:
            if root.path.is_dir():
                if own_watch:
                    wanted.add((str(root.path), True))
                for linked in linked_folders(str(root.path)):
                    # Watched by its real path (a watch on the link would watch the link):
                    # its events then carry real paths, which _root_of knows.
                    real = os.path.realpath(linked)
                    linked_roots[real] = root
                    links.add(changes.location(linked))
                    wanted.add((real, True))
                continue
            if not own_watch:
                continue  # the Cowork folder's watch sees it made
            ancestor = root.path.parent
            while not ancestor.is_dir() and ancestor != ancestor.parent:
                ancestor = ancestor.parent
            if ancestor.is_dir():
                wanted.add((str(ancestor), False))
        self._linked_roots = linked_roots
        self._links = links
        handler = _Handler(self._on_fs_event)
        for key in set(self._watches) - wanted:
            with contextlib.suppress(KeyError, OSError):
                observer.unschedule(self._watches.pop(key))
        every_root = True
        for key in wanted - set(self._watches):
            path, recursive = key
            try:
                self._watches[key] = observer.schedule(handler, path, recursive=recursive)
            except OSError as exc:
                every_root = False
                log.warning("cannot watch %s: %s", path, exc)
        self._watch_reports_losses = (
            every_root
            and _reports_lost_events(observer)
            and all(changes.on_local_disk(path) for path, _ in self._watches)
        )

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        self._watches.clear()
        logging.getLogger("watchdog.observers").removeHandler(self._trouble_handler)
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)


class _Handler(FileSystemEventHandler):
    """Forwards every watchdog event to one callback."""

    def __init__(self, callback: Callable[[FileSystemEvent], None]) -> None:
        self._callback = callback

    def dispatch(self, event: FileSystemEvent) -> None:
        self._callback(event)


class _TroubleHandler(logging.Handler):
    """Notes a warning from watchdog's observers (a folder it could not watch: out of
    inotify watches; a queue that overflowed) and wakes the engine: the rescan runs every
    RESCAN_S from then on."""

    def __init__(self, trouble: threading.Event, wake: threading.Event) -> None:
        super().__init__(logging.WARNING)
        self._trouble = trouble
        self._wake = wake

    def emit(self, record: logging.LogRecord) -> None:
        self._trouble.set()
        self._wake.set()


def _reports_lost_events(observer: BaseObserver) -> bool:
    """Whether this watch says when it lost events (watchdog's EventsLostEvent, from
    inotify and Windows; macOS's FSEvents drops them without a word)."""
    import watchdog.events

    backend = type(observer).__module__.rsplit(".", 1)[-1]
    return hasattr(watchdog.events, "EventsLostEvent") and backend in (
        "inotify",
        "read_directory_changes",
    )


def _text(path: Any) -> str:
    return os.fsdecode(path)


def linked_folders(root: str) -> list[str]:
    """The folders under `root` that a symbolic link leads to, by the link's path; at any
    depth, each once. Only a link is resolved (a full scan runs this beside the scan of
    the logs, so a folder that is no link costs one listing): a link into a folder
    already watched (the root's own tree, or another link's) is left out, so a link back
    up ends the walk."""
    watched = [os.path.realpath(root)]
    linked: list[str] = []
    folders = [root]
    while folders:
        try:
            with os.scandir(folders.pop()) as listing:
                entries = list(listing)
        except OSError:
            continue  # gone, or not listable: the scan of the logs says so
        for entry in entries:
            try:
                if not entry.is_dir():
                    continue
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if any(real == top or real.startswith(top + os.sep) for top in watched):
                        continue
                    watched.append(real)
                    linked.append(entry.path)
            except OSError:
                continue
            folders.append(entry.path)
    return linked
