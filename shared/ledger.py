"""The ledger: one SQLite file per developer holding every model call burnmeter has read.

Schema changes are numbered migrations applied in place (`PRAGMA user_version`); an old
ledger is upgraded, never dropped. A file that is not a burnmeter ledger is reported,
never touched.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from shared.paths import ledger_path, make_data_dir

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# "BRNM": marks the file as ours, so a foreign SQLite file is never migrated by mistake.
APPLICATION_ID = 0x42524E4D
BUCKET_MS = 15 * 60 * 1000  # 15-minute buckets convert to any zone, half-hour ones included

TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "total_tokens",
)


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


def _bucket_trigger_sql() -> str:
    columns = ", ".join(TOKEN_COLUMNS)

    def values(row: str, sign: str) -> str:
        parts = [f"{sign}{row}.{col}" for col in TOKEN_COLUMNS]
        parts.append(f"{sign}coalesce({row}.cost_usd, 0)")
        parts.append(f"{sign}(1 - {row}.priced)")
        parts.append(f"{sign}1")
        return ", ".join(parts)

    updates = ", ".join(f"{col} = {col} + excluded.{col}" for col in TOKEN_COLUMNS)
    updates += ", cost_usd = cost_usd + excluded.cost_usd"
    updates += ", unpriced_calls = unpriced_calls + excluded.unpriced_calls"
    updates += ", calls = calls + excluded.calls"

    def upsert(row: str, sign: str) -> str:
        return (
            f"INSERT INTO usage_buckets (bucket, agent, model, {columns}, cost_usd, "
            f"unpriced_calls, calls) VALUES ({row}.ts_ms / {BUCKET_MS}, {row}.agent, "
            f"{row}.model, {values(row, sign)}) "
            f"ON CONFLICT (bucket, agent, model) DO UPDATE SET {updates};"
        )

    return f"""
    CREATE TRIGGER usage_events_ai AFTER INSERT ON usage_events BEGIN
        {upsert("new", "")}
    END;
    CREATE TRIGGER usage_events_ad AFTER DELETE ON usage_events BEGIN
        {upsert("old", "-")}
    END;
    CREATE TRIGGER usage_events_au AFTER UPDATE ON usage_events BEGIN
        {upsert("old", "-")}
        {upsert("new", "")}
    END;
    """


SCHEMA_V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    device INTEGER NOT NULL DEFAULT 0,
    inode INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    offset INTEGER NOT NULL DEFAULT 0,
    state BLOB,
    lines INTEGER NOT NULL DEFAULT 0,
    rejected_lines INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE usage_events (
    event_key TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    session_id TEXT NOT NULL,
    source_id INTEGER,
    ts_ms INTEGER NOT NULL,
    model TEXT NOT NULL,
    speed TEXT NOT NULL DEFAULT 'standard',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    priced INTEGER NOT NULL DEFAULT 1,
    free INTEGER NOT NULL DEFAULT 0,
    is_sidechain INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX usage_events_session ON usage_events (session_id, ts_ms);
CREATE INDEX usage_events_ts ON usage_events (ts_ms);
CREATE TABLE usage_buckets (
    bucket INTEGER NOT NULL,
    agent TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    unpriced_calls INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, agent, model)
) WITHOUT ROWID;
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    project_path TEXT NOT NULL DEFAULT '',
    repo TEXT,
    git_branch TEXT NOT NULL DEFAULT '',
    first_ts_ms INTEGER NOT NULL,
    last_ts_ms INTEGER NOT NULL
);
CREATE TABLE tool_calls (
    tool_id TEXT PRIMARY KEY,
    event_key TEXT,
    session_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    tool_name TEXT NOT NULL,
    input_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tool_calls_session ON tool_calls (session_id, ts_ms);
CREATE INDEX tool_calls_event ON tool_calls (event_key);
CREATE TABLE tool_files (
    tool_id TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (tool_id, path)
) WITHOUT ROWID;
CREATE INDEX tool_files_path ON tool_files (path);
CREATE TABLE tool_errors (tool_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE rate_limits (
    agent TEXT NOT NULL,
    session_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    primary_used_percent REAL,
    primary_window_minutes INTEGER,
    primary_resets_at INTEGER,
    secondary_used_percent REAL,
    secondary_window_minutes INTEGER,
    secondary_resets_at INTEGER,
    plan_type TEXT,
    PRIMARY KEY (session_id, ts_ms)
) WITHOUT ROWID;
{_bucket_trigger_sql()}
"""

# What Claude Code last passed to `burnmeter statusline`, one row per session: counts,
# times, the model id and plan-limit percentages, never text. Plan-limit readings also go
# to rate_limits (agent 'claude-code') when they change.
STATUSLINE_V2 = """
CREATE TABLE statusline (
    session_id TEXT PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    model_id TEXT NOT NULL DEFAULT '',
    cwd TEXT NOT NULL DEFAULT '',
    session_cost_usd REAL,
    duration_ms INTEGER,
    api_duration_ms INTEGER,
    lines_added INTEGER,
    lines_removed INTEGER,
    context_used_tokens INTEGER,
    context_window_tokens INTEGER,
    five_hour_used_percent REAL,
    five_hour_resets_at INTEGER,
    seven_day_used_percent REAL,
    seven_day_resets_at INTEGER
) WITHOUT ROWID;
CREATE INDEX rate_limits_agent_ts ON rate_limits (agent, ts_ms);
"""

# Where a session's project path and branch came from, so the main thread wins over its
# subagents whatever order their files are read in (see LedgerWriter._write_sessions).
SESSION_RANKS_V3 = """
ALTER TABLE sessions ADD COLUMN path_rank INTEGER;
ALTER TABLE sessions ADD COLUMN branch_rank INTEGER;
"""

# Per-agent time index: the statusline finds the current 5-hour block by index seeks.
AGENT_TS_V4 = "CREATE INDEX IF NOT EXISTS usage_events_agent_ts ON usage_events (agent, ts_ms);"

# Per-session and per-file totals kept current by triggers, so the language server's status
# and code lens read one row instead of scanning calls (p95 <= 20 ms on 1M calls).
# A call's cost is split evenly over the distinct files its tools touched (`call_files`);
# when a call gains a file, the shares of its other files shrink in the same statement.
# How each table is filled from the base tables: by the migration for an existing ledger,
# and by `rebuild_derived` after a bulk load (see there).
_FILL_SESSION_TOTALS = (
    ("INSERT INTO session_totals (session_id, calls, cost_usd, total_tokens, last_ts_ms)")
    + """
    SELECT session_id, count(*), sum(coalesce(cost_usd, 0)), sum(total_tokens), max(ts_ms)
    FROM usage_events GROUP BY session_id;
UPDATE session_totals SET last_model = coalesce((SELECT model FROM usage_events u
    WHERE u.session_id = session_totals.session_id ORDER BY ts_ms DESC LIMIT 1), '');"""
)
_FILL_CALL_FILES = """INSERT OR IGNORE INTO call_files
    SELECT tc.event_key, tf.path, tc.session_id, tc.ts_ms FROM tool_files tf
    JOIN tool_calls tc ON tc.tool_id = tf.tool_id WHERE tc.event_key IS NOT NULL;"""
_FILL_FILE_STATS = """INSERT INTO file_stats (path, calls, cost_usd, last_ts_ms)
    SELECT cf.path, count(*), sum(coalesce(ue.cost_usd, 0) / k.files), max(cf.ts_ms)
    FROM call_files cf
    JOIN (SELECT event_key, count(*) AS files FROM call_files GROUP BY event_key) k
        ON k.event_key = cf.event_key
    LEFT JOIN usage_events ue ON ue.event_key = cf.event_key
    GROUP BY cf.path;
UPDATE file_stats SET last_model = coalesce((SELECT ue.model FROM call_files cf
    JOIN usage_events ue ON ue.event_key = cf.event_key
    WHERE cf.path = file_stats.path ORDER BY cf.ts_ms DESC LIMIT 1), '');"""
_FILL_FILE_SESSIONS = "INSERT OR IGNORE INTO file_sessions SELECT path, session_id FROM call_files;"
_CALL_COST = "coalesce((SELECT cost_usd FROM usage_events WHERE event_key = new.event_key), 0)"
_CALL_FILES = "(SELECT count(*) FROM call_files WHERE event_key = {key})"
LIVE_TOTALS_V5 = f"""
CREATE INDEX sessions_project_path ON sessions (project_path);
CREATE TABLE session_totals (
    session_id TEXT PRIMARY KEY,
    calls INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    last_ts_ms INTEGER NOT NULL DEFAULT 0,
    last_model TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
{_FILL_SESSION_TOTALS}
CREATE TABLE call_files (
    event_key TEXT NOT NULL,
    path TEXT NOT NULL,
    session_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (event_key, path)
) WITHOUT ROWID;
CREATE INDEX call_files_path ON call_files (path, ts_ms);
{_FILL_CALL_FILES}
CREATE TABLE file_stats (
    path TEXT PRIMARY KEY,
    calls INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    last_ts_ms INTEGER NOT NULL DEFAULT 0,
    last_model TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
{_FILL_FILE_STATS}
CREATE TABLE file_sessions (
    path TEXT NOT NULL,
    session_id TEXT NOT NULL,
    PRIMARY KEY (path, session_id)
) WITHOUT ROWID;
{_FILL_FILE_SESSIONS}

CREATE TRIGGER session_totals_ai AFTER INSERT ON usage_events BEGIN
    INSERT INTO session_totals VALUES (new.session_id, 1, coalesce(new.cost_usd, 0),
        new.total_tokens, new.ts_ms, new.model)
    ON CONFLICT (session_id) DO UPDATE SET
        calls = calls + 1,
        cost_usd = cost_usd + excluded.cost_usd,
        total_tokens = total_tokens + excluded.total_tokens,
        last_model = CASE WHEN excluded.last_ts_ms >= last_ts_ms
            THEN excluded.last_model ELSE last_model END,
        last_ts_ms = max(last_ts_ms, excluded.last_ts_ms);
END;
CREATE TRIGGER session_totals_au AFTER UPDATE ON usage_events BEGIN
    UPDATE session_totals SET calls = calls - 1, cost_usd = cost_usd - coalesce(old.cost_usd, 0),
        total_tokens = total_tokens - old.total_tokens WHERE session_id = old.session_id;
    INSERT INTO session_totals VALUES (new.session_id, 1, coalesce(new.cost_usd, 0),
        new.total_tokens, new.ts_ms, new.model)
    ON CONFLICT (session_id) DO UPDATE SET
        calls = calls + 1,
        cost_usd = cost_usd + excluded.cost_usd,
        total_tokens = total_tokens + excluded.total_tokens,
        last_model = CASE WHEN excluded.last_ts_ms >= last_ts_ms
            THEN excluded.last_model ELSE last_model END,
        last_ts_ms = max(last_ts_ms, excluded.last_ts_ms);
END;
CREATE TRIGGER session_totals_ad AFTER DELETE ON usage_events BEGIN
    UPDATE session_totals SET calls = calls - 1, cost_usd = cost_usd - coalesce(old.cost_usd, 0),
        total_tokens = total_tokens - old.total_tokens WHERE session_id = old.session_id;
END;

CREATE TRIGGER tool_files_call_files AFTER INSERT ON tool_files BEGIN
    INSERT OR IGNORE INTO call_files
        SELECT tc.event_key, new.path, tc.session_id, tc.ts_ms FROM tool_calls tc
        WHERE tc.tool_id = new.tool_id AND tc.event_key IS NOT NULL;
END;
CREATE TRIGGER tool_calls_linked_call_files AFTER UPDATE OF event_key ON tool_calls
WHEN old.event_key IS NULL AND new.event_key IS NOT NULL BEGIN
    INSERT OR IGNORE INTO call_files
        SELECT new.event_key, tf.path, new.session_id, new.ts_ms FROM tool_files tf
        WHERE tf.tool_id = new.tool_id;
END;
CREATE TRIGGER call_files_ai AFTER INSERT ON call_files BEGIN
    UPDATE file_stats SET cost_usd = cost_usd + {_CALL_COST}
        * (1.0 / {_CALL_FILES.format(key="new.event_key")}
           - 1.0 / ({_CALL_FILES.format(key="new.event_key")} - 1))
    WHERE path IN (SELECT path FROM call_files
        WHERE event_key = new.event_key AND path != new.path);
    INSERT INTO file_stats VALUES (new.path, 1,
        {_CALL_COST} / {_CALL_FILES.format(key="new.event_key")}, new.ts_ms,
        coalesce((SELECT model FROM usage_events WHERE event_key = new.event_key), ''))
    ON CONFLICT (path) DO UPDATE SET
        calls = calls + 1,
        cost_usd = cost_usd + excluded.cost_usd,
        last_model = CASE WHEN excluded.last_ts_ms >= last_ts_ms AND excluded.last_model != ''
            THEN excluded.last_model ELSE last_model END,
        last_ts_ms = max(last_ts_ms, excluded.last_ts_ms);
    INSERT OR IGNORE INTO file_sessions VALUES (new.path, new.session_id);
END;
CREATE TRIGGER usage_events_file_stats_ai AFTER INSERT ON usage_events
WHEN EXISTS (SELECT 1 FROM call_files WHERE event_key = new.event_key) BEGIN
    UPDATE file_stats SET
        cost_usd = cost_usd + coalesce(new.cost_usd, 0)
            / {_CALL_FILES.format(key="new.event_key")},
        last_model = CASE WHEN last_model = '' THEN new.model ELSE last_model END
    WHERE path IN (SELECT path FROM call_files WHERE event_key = new.event_key);
END;
CREATE TRIGGER usage_events_file_stats_au AFTER UPDATE OF cost_usd ON usage_events
WHEN coalesce(old.cost_usd, 0) != coalesce(new.cost_usd, 0)
    AND EXISTS (SELECT 1 FROM call_files WHERE event_key = new.event_key) BEGIN
    UPDATE file_stats SET cost_usd = cost_usd
        + (coalesce(new.cost_usd, 0) - coalesce(old.cost_usd, 0))
            / {_CALL_FILES.format(key="new.event_key")}
    WHERE path IN (SELECT path FROM call_files WHERE event_key = new.event_key);
END;
CREATE TRIGGER usage_events_file_stats_ad AFTER DELETE ON usage_events
WHEN EXISTS (SELECT 1 FROM call_files WHERE event_key = old.event_key) BEGIN
    UPDATE file_stats SET cost_usd = cost_usd - coalesce(old.cost_usd, 0)
        / {_CALL_FILES.format(key="old.event_key")}
    WHERE path IN (SELECT path FROM call_files WHERE event_key = old.event_key);
END;
"""

# Each entry upgrades the ledger from version N to N+1. Append, never edit.
# Period reports sum buckets per UTC day (`bucket / 96`) and model (shared.reports): this
# index holds the buckets in that order with every column the sums read, so SQLite groups
# them as it scans, with no sort (half the work of a warm daily report's query). Within a
# day and model the buckets keep the table's order (bucket, agent): costs are summed in
# the same order as before, to the last bit.
BUCKET_DAY_V6 = """
CREATE INDEX usage_buckets_day ON usage_buckets (bucket / 96, model, bucket, agent, calls,
    input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
    cache_read_tokens, reasoning_tokens, total_tokens, cost_usd, unpriced_calls);
"""

# Two indexes that no query reads since `call_files` (v5) answers the per-file questions:
# the files report read tool calls by call key, nothing looks tool files up by path. Each
# cost a build in every first import (0.04 and 0.03 s on the bench history) and a random
# insert per row in every other ingest, and 10 MB of a 105 MB ledger.
UNREAD_INDEXES_V7 = """
DROP INDEX IF EXISTS tool_calls_event;
DROP INDEX IF EXISTS tool_files_path;
"""

# Claude's server-side web searches (`usage.server_tool_use.web_search_requests`), billed
# per search ($10 per 1,000 at Anthropic, as genai-prices has it) on top of the tokens.
# Calls stored before this version read as none: the logs they came from may be gone
# (Claude Code deletes old transcripts), and a ledger never drops what it holds.
WEB_SEARCHES_V8 = """
ALTER TABLE usage_events ADD COLUMN web_search_requests INTEGER NOT NULL DEFAULT 0;
"""

# Where a Claude call ran (`usage.inference_geo`): US-only inference ("us") costs 1.1x on
# Claude 4.6 and later. Calls stored before read as "" (not US-only).
INFERENCE_GEO_V9 = """
ALTER TABLE usage_events ADD COLUMN inference_geo TEXT NOT NULL DEFAULT '';
"""

# The few calls of a model with no price, by key: the language server's code lens counts a
# file's unpriced calls from here (a look-up per such call) instead of looking up every
# call that touched the file (~9 ms for a file 5,000 calls touched, growing with them).
UNPRICED_CALLS_V10 = """
CREATE INDEX usage_events_unpriced ON usage_events (event_key) WHERE priced = 0;
"""

# A checksum of the bytes that end a file's stored offset (shared.ingest.reading's
# tail_checksum) and the offset it was taken at: a file rewritten in place whose new text
# happens to end a line exactly at the old offset (or has the old size) was taken for the
# old one grown, and its new lines before the offset were never read. The checksum counts only while
# `tail_offset` is the file's offset: an older burnmeter still running moves offsets
# without it. Files read before this version get theirs from the next ingest that finds
# them unchanged (shared.ingest.planning).
SOURCE_TAIL_V11 = """
ALTER TABLE sources ADD COLUMN tail_hash INTEGER;
ALTER TABLE sources ADD COLUMN tail_offset INTEGER;
"""
# A call read again with more tokens takes that reading's model too (shared.ingest.writer
# `_TAKEN`): the files whose latest call it is then name that model, as a rebuild does.
FILE_MODEL_V11 = """
CREATE TRIGGER usage_events_file_model_au AFTER UPDATE OF model ON usage_events
WHEN old.model != new.model AND EXISTS (SELECT 1 FROM call_files WHERE event_key = new.event_key)
BEGIN
    UPDATE file_stats SET last_model = new.model
    WHERE path IN (SELECT cf.path FROM call_files cf
        WHERE cf.event_key = new.event_key AND cf.ts_ms >= file_stats.last_ts_ms);
END;
"""

MIGRATIONS: list[str] = [
    SCHEMA_V1,
    STATUSLINE_V2,
    SESSION_RANKS_V3,
    AGENT_TS_V4,
    LIVE_TOTALS_V5,
    BUCKET_DAY_V6,
    UNREAD_INDEXES_V7,
    WEB_SEARCHES_V8,
    INFERENCE_GEO_V9,
    UNPRICED_CALLS_V10,
    SOURCE_TAIL_V11 + FILE_MODEL_V11,
]
SCHEMA_VERSION = len(MIGRATIONS)


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
        "tray) is done."
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
        if _is_busy(exc):
            # Waited for LOCK_WAIT_SECONDS: held, not damaged.
            raise LedgerError(
                f"The ledger at {path} stayed locked by another process for "
                f"{LOCK_WAIT_SECONDS} s ({exc}). Try again when the other burnmeter (an "
                f"ingest, the tray) is done."
            ) from exc
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


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the missing migrations, one transaction per step: a killed upgrade leaves the
    old version. The version is read inside the write transaction, so two processes
    opening a new (or old) ledger at once never apply the same step twice."""
    if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
        # Up to date (the usual case): no write lock, which would make a report wait for
        # an ingest that holds it.
        return
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            for statement in _statements(MIGRATIONS[version]):
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


def _statements(script: str) -> list[str]:
    """The statements of a migration script (trigger bodies kept whole); `executescript`
    cannot run inside a transaction the caller opened."""
    statements, pending = [], ""
    *parts, rest = script.split(";")
    for part in parts:
        pending += part + ";"
        # False while the `;` is inside a string or a trigger body.
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending)
            pending = ""
    if (pending + rest).strip():
        statements.append(pending + rest)
    return statements


# Every trigger that keeps a derived table, and how to fill those tables from the base
# tables (usage_events, tool_calls, tool_files) in one go. A big ingest into an empty
# ledger drops these triggers inside its transaction, loads, runs REBUILD_DERIVED and
# creates the triggers again before it commits: the same tables for a fraction of the
# per-row work. A trigger not listed here makes the ingest keep the row-by-row path, so
# a new derived table must add its trigger names and its rebuild here.
DERIVED_TRIGGERS = frozenset(
    {
        "usage_events_ai",
        "usage_events_ad",
        "usage_events_au",
        "session_totals_ai",
        "session_totals_au",
        "session_totals_ad",
        "tool_files_call_files",
        "tool_calls_linked_call_files",
        "call_files_ai",
        "usage_events_file_stats_ai",
        "usage_events_file_stats_au",
        "usage_events_file_stats_ad",
        "usage_events_file_model_au",
    }
)
_BUCKET_SUMS = ", ".join(f"sum({column})" for column in TOKEN_COLUMNS)
_FILL_USAGE_BUCKETS = f"""DELETE FROM usage_buckets;
INSERT INTO usage_buckets (bucket, agent, model, {", ".join(TOKEN_COLUMNS)}, cost_usd,
    unpriced_calls, calls)
    SELECT ts_ms / {BUCKET_MS}, agent, model, {_BUCKET_SUMS}, sum(coalesce(cost_usd, 0)),
        sum(1 - priced), count(*)
    FROM usage_events GROUP BY ts_ms / {BUCKET_MS}, agent, model;
"""
# call_files keeps the time of the first tool call that touched a file in a call, as its
# trigger does: rows go in in the order the tool calls were stored.
REBUILD_DERIVED = f"""
{_FILL_USAGE_BUCKETS}DELETE FROM session_totals;
{_FILL_SESSION_TOTALS}
DELETE FROM file_sessions;
DELETE FROM file_stats;
DELETE FROM call_files;
{_FILL_CALL_FILES.rstrip(";")} ORDER BY tc.rowid;
{_FILL_FILE_STATS}
{_FILL_FILE_SESSIONS}
"""


# The tables whose sums hold costs, filled again after costs alone changed (`reprice`):
# which calls touched which files (`call_files`, `file_sessions`) stays as it is.
REBUILD_COSTS = f"""
{_FILL_USAGE_BUCKETS}DELETE FROM session_totals;
{_FILL_SESSION_TOTALS}
DELETE FROM file_stats;
{_FILL_FILE_STATS}
"""


def rebuild_costs(conn: sqlite3.Connection) -> None:
    """Fill the cost-holding derived tables from the calls (inside the caller's transaction,
    with the triggers that keep them dropped)."""
    for statement in _statements(REBUILD_COSTS):
        conn.execute(statement)


def rebuild_derived(conn: sqlite3.Connection) -> None:
    """Fill every trigger-kept table from the base tables (inside the caller's transaction)."""
    for statement in _statements(REBUILD_DERIVED):
        conn.execute(statement)
