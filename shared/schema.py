"""The ledger's schema: its tables and the triggers that keep the derived ones, as numbered
migrations (`MIGRATIONS[n]` takes a ledger from version n to n + 1), and the statements
that fill the derived tables in one go after a bulk load or a reprice."""

from __future__ import annotations

import sqlite3

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

# What makes the next ingest read a log again from its start, as if new (a step's WHERE
# says which logs): calls, tool calls and readings are keyed, so they count once.
_READ_AGAIN = """UPDATE sources SET offset = 0, state = NULL, lines = 0, rejected_lines = 0,
    tail_hash = NULL, tail_offset = NULL"""

# The Codex reader changed what it keeps from lines it had read (only the account's plan
# limit, not a model's own written beside it; tool calls whose line holds `_output"`; web
# searches; the flat windows of Codex ~0.40). Its files are read again from the start,
# those missing now too (when they come back): calls, tool calls and errors are keyed, so
# a second reading upserts the same rows and adds what was missed. The plan-limit readings
# of sessions read from files on disk are dropped first, since a model's own limit
# (Spark's 3 % for an account at 92 %) would otherwise stay the newest reading; those of
# sessions whose files are gone are kept (a ledger never drops what it cannot read again).
# Gone means not readable now (`readable_file`, as schema 15 asks): `sources.missing` is
# set by an ingest, so a rollout deleted since the last one still read as present and its
# session's readings were dropped for good (573 of one real session's).
CODEX_REREAD_V12 = f"""
DELETE FROM rate_limits WHERE agent = 'codex' AND session_id NOT IN (
    SELECT e.session_id FROM usage_events e JOIN sources s ON s.id = e.source_id
    WHERE e.agent = 'codex' GROUP BY e.session_id HAVING max(readable_file(s.path)) = 0
);
{_READ_AGAIN}
WHERE agent = 'codex';
"""

# Schema 13: the readers count what they did not before (a Claude Code advisor's model
# call, inside its line's `usage.iterations`; the cache writes and the service tier of a
# Codex call), so every log is read again once from its start. Calls already stored are
# matched by their keys and count once: an advisor's call is new; a Codex call read
# again takes its cache writes and tier by the upsert's tie rule (the same tokens, said
# more precisely; shared.sources.events.wins_tie).
REREAD_ALL_V13 = f"""
{_READ_AGAIN};
"""

# Schema 14: the Codex reader marks a patch Codex refused as a failed tool call (its output
# is Codex's message, `apply_patch verification failed: …`; shared.sources.codex
# REFUSED_OUTPUT), which it took for a success: a session of rejected patches read as a
# change with no error, no loop and an `uncommitted` outcome. Only the Codex files are read
# again from the start (the other readers did not change): calls, tool calls and plan-limit
# readings are keyed and come back as they were; only the failures are new.
CODEX_REREAD_V14 = f"""
{_READ_AGAIN}
WHERE agent = 'codex';
"""

# Schema 15: the Codex reader no longer counts a spawned subagent's copy of its parent's
# history (`thread_spawn`, the parent's `session_meta` and token counts repeated with their
# original times; a fork's copy that kept them) as the child's calls, and counts a remote
# compaction's request (`token_usage_record` named by `compacted`). The copies were stored
# under the child's keys, so reading again cannot replace them: the Codex calls that files
# still on disk gave (`readable_file`, registered by shared.ledger's migration step) are
# dropped with what hangs on them (the sessions, plan-limit readings and tool calls, with
# their files and failures, of sessions made only of them; the per-call file rows), a tool
# call of another session linked to one of them waits for its call again (a rollout gone
# from disk links none), the per-session and per-file totals are filled again from what
# is left, and every Codex rollout is read again from its start. Calls of rollouts no
# longer on disk stay as they were: a ledger never drops what it cannot read again.
CODEX_COPIES_V15 = f"""
CREATE TEMP TABLE reread_sources AS
    SELECT id FROM sources WHERE agent = 'codex' AND readable_file(path);
CREATE TEMP TABLE reread_calls AS
    SELECT event_key, session_id FROM usage_events
    WHERE agent = 'codex' AND source_id IN (SELECT id FROM reread_sources);
CREATE TEMP TABLE reread_sessions AS
    SELECT session_id FROM reread_calls
    EXCEPT SELECT session_id FROM usage_events
    WHERE agent = 'codex'
        AND (source_id IS NULL OR source_id NOT IN (SELECT id FROM reread_sources));
CREATE TEMP TABLE reread_tools AS
    SELECT tool_id FROM tool_calls
    WHERE event_key IN (SELECT event_key FROM reread_calls)
        AND session_id IN (SELECT session_id FROM reread_sessions);
DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM reread_sessions);
DELETE FROM rate_limits
WHERE agent = 'codex' AND session_id IN (SELECT session_id FROM reread_sessions);
DELETE FROM tool_files WHERE tool_id IN (SELECT tool_id FROM reread_tools);
DELETE FROM tool_errors WHERE tool_id IN (SELECT tool_id FROM reread_tools);
DELETE FROM tool_calls WHERE tool_id IN (SELECT tool_id FROM reread_tools);
UPDATE tool_calls SET event_key = NULL WHERE event_key IN (SELECT event_key FROM reread_calls);
DELETE FROM call_files WHERE event_key IN (SELECT event_key FROM reread_calls);
DELETE FROM usage_events WHERE event_key IN (SELECT event_key FROM reread_calls);
DELETE FROM session_totals;
{_FILL_SESSION_TOTALS}
DELETE FROM file_stats;
{_FILL_FILE_STATS}
DELETE FROM file_sessions;
{_FILL_FILE_SESSIONS}
{_READ_AGAIN}
WHERE agent = 'codex';
DROP TABLE reread_sources;
DROP TABLE reread_calls;
DROP TABLE reread_sessions;
DROP TABLE reread_tools;
"""

# Schema 16: a Claude Code side question (`/btw`) opens its transcript with copies of earlier
# main-thread replies: sidechain calls with a reply's message id and session under a request
# id of their own, which were counted as calls again (shared.ingest.side_copies). Each stored
# copy is taken out, with its advisors' calls; the tool calls linked to it, and the files
# they touched, go to the reply's call (those files' file_stats are summed again); the file
# it was read from is read again from the start, so that its reading joins the reply's (the
# one with the most tokens is kept). A key's message id is what comes before its last colon
# (shared.sources.claude.message_of): before its only colon, as a rule; else `rtrim` by
# every other character of the key leaves the key up to its last colon.
_KEY_BODY = "substr(event_key, 4)"
_FIRST_COLON = f"instr({_KEY_BODY}, ':')"
_MESSAGE_OF_KEY = f"""CASE WHEN {_FIRST_COLON} = 0 THEN {_KEY_BODY}
    WHEN instr(substr({_KEY_BODY}, {_FIRST_COLON} + 1), ':') = 0
        THEN substr({_KEY_BODY}, 1, {_FIRST_COLON} - 1)
    ELSE substr(rtrim(event_key, replace(event_key, ':', '')), 4,
        length(rtrim(event_key, replace(event_key, ':', ''))) - 4) END"""
CLAUDE_SIDE_COPIES_V16 = f"""
CREATE TEMP TABLE side_calls AS
    SELECT event_key AS side_key, session_id, source_id, {_MESSAGE_OF_KEY} AS message_id
    FROM usage_events WHERE is_sidechain = 1 AND agent = 'claude-code'
        AND substr(event_key, 1, 3) = 'cc:' AND substr(event_key, 1, 8) != 'cc:line:'
        AND instr(event_key, ':advisor:') = 0;
CREATE TEMP TABLE side_copies (side_key TEXT PRIMARY KEY, main_key TEXT NOT NULL,
    source_id INTEGER);
INSERT INTO side_copies SELECT c.side_key, min(m.event_key), c.source_id
    FROM side_calls c CROSS JOIN usage_events m
        ON m.event_key >= 'cc:' || c.message_id AND m.event_key < 'cc:' || c.message_id || ';'
    WHERE +m.session_id = c.session_id AND m.is_sidechain = 0
        AND (length(m.event_key) = length(c.message_id) + 3
            OR (substr(m.event_key, length(c.message_id) + 4, 1) = ':'
                AND instr(substr(m.event_key, length(c.message_id) + 5), ':') = 0))
    GROUP BY c.side_key;
CREATE TEMP TABLE side_copy_paths (path TEXT PRIMARY KEY);
INSERT OR IGNORE INTO side_copy_paths SELECT cf.path FROM side_copies c
    JOIN call_files cf ON cf.event_key IN (c.side_key, c.main_key);
DELETE FROM usage_events WHERE event_key IN (SELECT side_key FROM side_copies);
DELETE FROM usage_events WHERE event_key IN (SELECT u.event_key FROM side_copies c
    JOIN usage_events u ON u.event_key > c.side_key || ':advisor:'
        AND u.event_key < c.side_key || ':advisor;');
UPDATE tool_calls SET event_key =
        (SELECT main_key FROM side_copies WHERE side_key = tool_calls.event_key)
    WHERE event_key IN (SELECT side_key FROM side_copies);
UPDATE OR IGNORE call_files SET event_key =
        (SELECT main_key FROM side_copies WHERE side_key = call_files.event_key)
    WHERE event_key IN (SELECT side_key FROM side_copies);
DELETE FROM call_files WHERE event_key IN (SELECT side_key FROM side_copies);
DELETE FROM file_stats WHERE path IN (SELECT path FROM side_copy_paths);
INSERT INTO file_stats (path, calls, cost_usd, last_ts_ms)
    SELECT cf.path, count(*), sum(coalesce(ue.cost_usd, 0)
        / (SELECT count(*) FROM call_files k WHERE k.event_key = cf.event_key)), max(cf.ts_ms)
    FROM call_files cf LEFT JOIN usage_events ue ON ue.event_key = cf.event_key
    WHERE cf.path IN (SELECT path FROM side_copy_paths)
    GROUP BY cf.path;
UPDATE file_stats SET last_model = coalesce((SELECT ue.model FROM call_files cf
    JOIN usage_events ue ON ue.event_key = cf.event_key
    WHERE cf.path = file_stats.path ORDER BY cf.ts_ms DESC LIMIT 1), '')
    WHERE path IN (SELECT path FROM side_copy_paths);
{_READ_AGAIN}
WHERE id IN (SELECT source_id FROM side_copies);
DROP TABLE temp.side_copy_paths;
DROP TABLE temp.side_copies;
DROP TABLE temp.side_calls;
"""

# Schema 17: every tool call linked to a stored call takes that call's session (an older
# writer left it in the session of the file it was first read from, which was not always
# the call's: shared.ingest.attribution_repair), with the rows filled from it; the files
# whose `call_files` rows changed session get their `file_sessions` again from
# `call_files`. Nothing is read again and no total changes.
TOOLS_FOLLOW_CALLS_V17 = """
CREATE TEMP TABLE moved_tools (tool_id TEXT PRIMARY KEY, session_id TEXT NOT NULL);
INSERT INTO moved_tools SELECT t.tool_id, e.session_id FROM tool_calls t
    JOIN usage_events e ON e.event_key = t.event_key
    WHERE t.session_id != e.session_id;
UPDATE tool_calls SET session_id =
        (SELECT m.session_id FROM moved_tools m WHERE m.tool_id = tool_calls.tool_id)
    WHERE tool_id IN (SELECT tool_id FROM moved_tools);
CREATE TEMP TABLE moved_call_files (event_key TEXT NOT NULL, path TEXT NOT NULL,
    session_id TEXT NOT NULL, PRIMARY KEY (event_key, path));
INSERT INTO moved_call_files SELECT cf.event_key, cf.path, e.session_id FROM call_files cf
    JOIN usage_events e ON e.event_key = cf.event_key
    WHERE cf.session_id != e.session_id;
UPDATE call_files SET session_id = (SELECT m.session_id FROM moved_call_files m
        WHERE m.event_key = call_files.event_key AND m.path = call_files.path)
    WHERE (event_key, path) IN (SELECT event_key, path FROM moved_call_files);
DELETE FROM file_sessions WHERE path IN (SELECT path FROM moved_call_files);
INSERT OR IGNORE INTO file_sessions SELECT path, session_id FROM call_files
    WHERE path IN (SELECT path FROM moved_call_files);
DROP TABLE temp.moved_call_files;
DROP TABLE temp.moved_tools;
"""

# Schema 18: the upsert's tie rule takes a reading's web searches and where it ran when
# they are all it adds (an older reader stored 0 and '' for a Claude call: its searches
# and the US-inference premium were missing from its cost, and no reprice could add them),
# and a main-thread reading makes a call first stored from a subagent's copy a main-thread
# call (an older writer kept the flag of whichever came first, so the side-question copies
# of that reply were not found and counted again). Every Claude Code log is read again
# from its start; calls are keyed, so they count once.
CLAUDE_REREAD_V18 = f"""
{_READ_AGAIN}
WHERE agent = 'claude-code';
"""

# Schema 19: the Codex reader no longer takes a spawned subagent's first calls for a copy
# of its parent's history when the header names the parent in `forked_from_id` (newer
# Codex does for every spawned thread) and those calls came within a second of each other
# (shared.sources.codex COPY_SPAWNED): they were dropped. The Codex rollouts are read again
# from the start: a call is keyed by its session and the total after it, so the calls
# stored come back as they were and the dropped ones are added.
CODEX_SPAWNED_V19 = f"""
{_READ_AGAIN}
WHERE agent = 'codex';
"""

# Schema 20: a side question's copy of a reply that a resumed session repeats (the reply
# stored in the session read first, the copy in the resumed one) was counted as a call
# again when the copy was read in a later ingest than the reply (shared.ingest.side_copies
# looked for the reply in the copy's session only). Schema 16's step again, matching a
# stored copy to its message's main-thread call in any session (those of its own session
# schema 16 took out), then schema 17's: the tool calls moved go to their call's session.
CLAUDE_RESUMED_COPIES_V20 = (
    CLAUDE_SIDE_COPIES_V16.replace(
        "WHERE +m.session_id = c.session_id AND m.is_sidechain = 0", "WHERE m.is_sidechain = 0"
    )
    + TOOLS_FOLLOW_CALLS_V17
)

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
    CODEX_REREAD_V12,
    REREAD_ALL_V13,
    CODEX_REREAD_V14,
    CODEX_COPIES_V15,
    CLAUDE_SIDE_COPIES_V16,
    TOOLS_FOLLOW_CALLS_V17,
    CLAUDE_REREAD_V18,
    CODEX_SPAWNED_V19,
    CLAUDE_RESUMED_COPIES_V20,
]
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
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
    for statement in statements(REBUILD_COSTS):
        conn.execute(statement)


def rebuild_derived(conn: sqlite3.Connection) -> None:
    """Fill every trigger-kept table from the base tables (inside the caller's transaction)."""
    for statement in statements(REBUILD_DERIVED):
        conn.execute(statement)
