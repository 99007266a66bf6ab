"""The ledger: one SQLite file per developer holding every model call burnmeter has read.

Schema changes are numbered migrations (shared.schema) applied in place (`PRAGMA
user_version`); an old ledger is upgraded, never dropped. A file that is not a burnmeter
ledger is reported, never touched.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from shared.paths import ledger_path, make_data_dir
from shared.schema import MIGRATIONS, SCHEMA_VERSION, statements

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# "BRNM": marks the file as ours, so a foreign SQLite file is never migrated by mistake.
APPLICATION_ID = 0x42524E4D


class LedgerError(Exception):
    """A ledger that cannot be used; the message says which file and what to do."""


class LedgerCorrupt(LedgerError):
    pass


class LedgerForeign(LedgerError):
    pass


class LedgerTooNew(LedgerError):
    pass


def begin_write(ledger: Ledger) -> None:
    """Open a write transaction, once sure that no newer burnmeter has upgraded the ledger
    since this process opened it: a long-running one (the tray, `watch`, the language
    server) would otherwise go on writing rows a newer schema may not expect."""
    conn = ledger.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except BaseException:
        rollback_if_open(conn)  # the callers' clean-up starts after this returns
        raise
    if version > SCHEMA_VERSION:
        conn.execute("ROLLBACK")
        raise _too_new(
            ledger.path,
            version,
            ": a newer burnmeter upgraded it while this one ran. Nothing more is written to "
            "it; restart burnmeter after upgrading it.",
        )


def _too_new(path: Path, version: int, what_now: str) -> LedgerTooNew:
    return LedgerTooNew(
        f"The ledger at {path} has schema version {version}, newer than this burnmeter "
        f"understands ({SCHEMA_VERSION}){what_now}"
    )


class Ledger:
    """An open ledger: the raw connection for hot paths, `db` (sqlite-utils) for the rest."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @property
    def db(self) -> Any:
        # Imported on first use: sqlite-utils costs ~100 ms of start-up a warm report skips.
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        self.conn.close()

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def has_calls(self) -> bool:
        """Whether any model call is stored."""
        return self.conn.execute("SELECT 1 FROM usage_events LIMIT 1").fetchone() is not None

    def data_version(self) -> int:
        """Changes when another connection commits; cheap to poll."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def _create_private_file(path: Path) -> None:
    # A data folder burnmeter makes is the user's alone (0700, whatever the umask): its
    # other files (the price cache, the tray's notes) follow the umask.
    make_data_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _keep_private(path: Path) -> None:
    """A ledger copied in or left by an older version may be readable by others; the WAL
    and shared-memory files SQLite creates copy the main file's mode, so fix it first."""
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass


def _primary_code(exc: BaseException) -> int:
    """SQLite's primary result code of an error (0 if it is not SQLite's): the low byte of
    the extended code, so that SQLITE_BUSY_RECOVERY is SQLITE_BUSY, SQLITE_IOERR_SHMOPEN is
    SQLITE_IOERR."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


# SQLite's answers when it cannot open, lock or write the file: about where the ledger is,
# not about what is in it.
ACCESS_CODES = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR}
)


def _access_problem(exc: sqlite3.Error, path: Path) -> LedgerError | None:
    """A LedgerError that says why the ledger file could not be opened for use, when the
    cause is its place (a read-only file system, a folder or file without write access, a
    disk error) rather than its contents; None otherwise. Such a ledger is not damaged:
    moving it aside, as for a damaged one, would throw its history away."""
    if _primary_code(exc) not in ACCESS_CODES:
        return None
    folder = path.parent
    try:
        read_only_fs = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        read_only_fs = False
    if read_only_fs:
        reason = f"{folder} is on a read-only file system"
    elif not os.access(folder, os.W_OK | os.X_OK):
        reason = f"{folder} is not writable by this user"
    elif path.exists() and not os.access(path, os.R_OK | os.W_OK):
        reason = "the file is not readable and writable by this user"
    else:
        reason = str(exc)
    return LedgerError(
        f"Cannot open the ledger at {path}: {reason} (SQLite needs to write the ledger and "
        "its -wal and -shm files beside it). The ledger was left untouched and is not "
        "damaged. Make the folder writable, or point BURNMETER_DATA_DIR at another folder "
        "(moving the ledger there keeps its history)."
    )


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        # One statement, so one snapshot: read apart, a ledger that another burnmeter process
        # is creating could show tables but not yet its application id, and look foreign.
        app_id, version, tables = conn.execute(
            "SELECT (SELECT application_id FROM pragma_application_id), "
            "(SELECT user_version FROM pragma_user_version), "
            "(SELECT count(*) FROM sqlite_master)"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        access = _access_problem(exc, path)
        if access is not None:
            raise access from exc
        raise LedgerCorrupt(
            f"The ledger at {path} is not a readable SQLite file ({exc}). burnmeter left it "
            f"untouched. Move it aside (or set BURNMETER_DATA_DIR to another folder) and run "
            f"`burnmeter ingest` to rebuild the ledger from the agents' logs."
        ) from exc
    if app_id != APPLICATION_ID and (tables or version):
        raise LedgerForeign(
            f"{path} is an SQLite file that burnmeter did not write (application_id "
            f"{app_id:#x}). burnmeter left it untouched. Point BURNMETER_DATA_DIR at another "
            f"folder, or move the file aside."
        )
    if version > SCHEMA_VERSION:
        raise _too_new(path, version, ". Upgrade burnmeter; the file was left untouched.")


# The page size of a new ledger. Its tables are keyed by long text ids inserted in no
# particular order; twice SQLite's default 4 KiB halves the page splits and cells moved.
# The first import's writer, fed the bench history's parsed rows, took 12 % less CPU with
# 8 KiB than with 4 KiB (median of 5 interleaved runs each, 2.83 vs 3.21 s:
# `python -m bench.ingest_phases --skip-parsers --skip-writer --writer-replay 5`); 16 KiB
# gained less in a first try. A ledger that exists keeps the size it was made with (SQLite
# fixes it at the first write).
NEW_LEDGER_PAGE_SIZE = 8192

# How long opening the ledger waits for another process's lock (also SQLite's busy timeout).
LOCK_WAIT_SECONDS = 30

READ_ONLY = "the file or its folder is read-only"


def storage_problem(exc: BaseException) -> str | None:
    """In words, what keeps SQLite from writing the ledger file, if that is what `exc` is
    (a full disk, an I/O error, a read-only file); None for any other error."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    code = _primary_code(exc)
    if code == sqlite3.SQLITE_FULL:
        return "the disk it is on is full"
    if code == sqlite3.SQLITE_IOERR:
        return f"the disk reported an I/O error ({exc})"
    if code == sqlite3.SQLITE_READONLY:
        return READ_ONLY
    return None


# SQLite's answers when what it reads of the file is not a consistent database: a page
# overwritten by something else, a file cut short after it was opened.
DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def damaged(exc: BaseException, path: Path, *, checked: bool = False) -> LedgerCorrupt | None:
    """The LedgerCorrupt to report if `exc` says the ledger file is damaged inside (found
    while reading or writing it, not when opening it; `checked`: what SQLite's integrity
    check found); None for any other error."""
    if not checked and (
        not isinstance(exc, sqlite3.DatabaseError) or _primary_code(exc) not in DAMAGE_CODES
    ):
        return None
    found = f"its integrity check found: {exc}" if checked else f"SQLite found {exc} while using it"
    return LedgerCorrupt(
        f"The ledger at {path} is damaged: {found}. burnmeter stopped and kept nothing of "
        "this run; the file was not deleted. Move it aside (or "
        "set BURNMETER_DATA_DIR to another folder) and run `burnmeter ingest` to rebuild "
        "the ledger from the agents' logs; `sqlite3 FILE .recover` can save what the logs "
        "no longer hold. `burnmeter doctor` checks the file."
    )


class _LastOpened:
    """The ledger file this process opened last: what a damaged-file error that reaches
    the command line is about (one value, whatever a long-running process opens)."""

    path: Path | None = None


def last_opened() -> Path | None:
    return _LastOpened.path


@contextlib.contextmanager
def said_in_words(path: Path) -> Iterator[None]:
    """A database error from the ledger at `path` said in words: damaged inside
    (LedgerCorrupt), a full disk or a read-only file (LedgerError); any other goes on as
    it is. Whatever the statement had begun is rolled back by then."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        corrupt = damaged(exc, path)
        if corrupt is not None:
            raise corrupt from exc
        problem = storage_problem(exc)
        if problem is None:
            raise
        raise write_failed(path, problem) from exc


def write_failed(path: Path, problem: str) -> LedgerError:
    remedy = "Make it writable" if problem == READ_ONLY else "Free some space (or fix the disk)"
    return LedgerError(
        f"Cannot write the ledger at {path}: {problem}. Nothing after its last complete "
        f"commit was kept, so the next ingest reads on from there with exact totals. {remedy}, "
        "or point BURNMETER_DATA_DIR at another folder."
    )


def stayed_locked(path: Path, exc: BaseException) -> LedgerError | None:
    """The LedgerError to report if `exc` says another process held the ledger's lock
    for the whole wait; None for any other error."""
    if not isinstance(exc, sqlite3.OperationalError) or not _is_busy(exc):
        return None
    return LedgerError(
        f"The ledger at {path} stayed locked by another process for {LOCK_WAIT_SECONDS} s "
        f"({exc}); nothing was changed. Try again when the other burnmeter (an ingest, the "
        "tray) is done, or resume it if it is stopped (Ctrl-Z: `fg`). `report`, `budgets`, "
        "`summary` and `doctor` show the ledger as it is with --no-ingest."
    )


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return _primary_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the ledger in WAL mode (stored in the file: a new ledger switches once). While
    another process holds the new file's write lock (it is creating the ledger too), SQLite
    fails the switch at once instead of waiting (a read cannot wait to become a write, or
    two could wait for each other), so the wait happens here."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def open_ledger(path: Path | None = None, *, readonly: bool = False) -> Ledger:
    """Open (creating and migrating if needed) the ledger at `path` or the default location."""
    path = path or ledger_path()
    if not readonly and not path.exists():
        try:
            _create_private_file(path)
        except OSError as exc:
            blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
            reason = f"{blocker} is a file, not a folder" if blocker else str(exc)
            raise LedgerError(
                f"Cannot create the ledger at {path}: {reason}. Point BURNMETER_DATA_DIR at "
                f"a folder you can write to."
            ) from exc
    # Quoted: `?`, `#` or `%` in a folder name would otherwise end or change the path.
    location = f"file:{quote(str(path))}"
    uri = f"{location}?mode=ro" if readonly else location
    try:
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=LOCK_WAIT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.OperationalError as exc:
        raise LedgerError(f"Cannot open the ledger at {path}: {exc}") from exc
    try:
        _check_identity(conn, path)
        if not readonly:
            _keep_private(path)
            # Takes effect only on a file that holds nothing yet, before WAL mode is set.
            conn.execute(f"PRAGMA page_size = {NEW_LEDGER_PAGE_SIZE}")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(conn)
        conn.execute("PRAGMA foreign_keys = OFF")
    except sqlite3.OperationalError as exc:
        conn.close()
        access = _access_problem(exc, path)
        if access is not None:
            raise access from exc
        held = stayed_locked(path, exc)  # waited for LOCK_WAIT_SECONDS: held, not damaged
        if held is not None:
            raise held from exc
        raise LedgerCorrupt(
            f"The ledger at {path} is damaged ({exc}). burnmeter left it untouched; move it "
            f"aside and run `burnmeter ingest` to rebuild it from the agents' logs."
        ) from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LedgerCorrupt(
            f"The ledger at {path} is damaged ({exc}). burnmeter left it untouched; move it "
            f"aside and run `burnmeter ingest` to rebuild it from the agents' logs."
        ) from exc
    except LedgerError:
        conn.close()
        raise
    _LastOpened.path = path
    return Ledger(path=path, conn=conn)


def _readable_file(path: object) -> bool:
    """Whether `path` names a file this process can read (a log an ingest can read again)."""
    return isinstance(path, str) and os.path.isfile(path) and os.access(path, os.R_OK)


def add_migration_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions migrations call: `readable_file(path)` (a log that is still there,
    so its rows can be dropped and read again)."""
    conn.create_function("readable_file", 1, _readable_file)


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the missing migrations, one transaction per step: a killed upgrade leaves the
    old version. The version is read inside the write transaction, so two processes
    opening a new (or old) ledger at once never apply the same step twice."""
    if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
        # Up to date (the usual case): no write lock, which would make a report wait for
        # an ingest that holds it.
        return
    add_migration_functions(conn)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            for statement in statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            rollback_if_open(conn)
            raise


def rollback_if_open(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if there still is one: a Ctrl-C can land just after
    COMMIT, and after some errors (a full disk, an I/O error) SQLite has rolled back
    itself. A bare ROLLBACK would then fail and hide the original exception."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
