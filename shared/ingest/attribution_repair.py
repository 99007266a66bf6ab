"""Tool calls in the session of their model call: the writer's follow-up for calls whose
tool calls were linked to them after another session's file had brought them, and the
repair of ledgers an older burnmeter wrote.

A resumed Claude Code session's transcript copies earlier replies of the session it
resumes, under their message ids: the call is stored once, in one of the two sessions.
The writer puts each tool call in its call's session (`shared.ingest.writer`
UPSERT_TOOL_CALL); an older one put it in the session of the file it was first read from,
which was not always the call's (the call's first reading a streamed line without the
tool call, the files read in another order or cut in other chunks). A session then held
tool calls (their failures, their files) of a call it does not have, and `report
sessions`, which lists sessions by their calls, showed them nowhere when the session had
no call of its own. Totals and costs never moved.

What follows a tool call's session: `call_files.session_id` (the session of the first tool
call that touched the file in the call) and `file_sessions` (which sessions touched a file,
exactly the distinct pairs of `call_files`, as `shared.schema.REBUILD_DERIVED` fills it).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.schema import TOOLS_FOLLOW_CALLS_V17, statements

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

# Keys per statement (SQLite allows 32,766 parameters; a few hundred keep each statement
# small).
_KEYS_PER_STATEMENT = 400


def repair(conn: sqlite3.Connection) -> None:
    """Schema 17's step, inside the caller's transaction (what shared.ledger's migration
    runs once the step is in `shared.schema.MIGRATIONS`)."""
    for statement in statements(TOOLS_FOLLOW_CALLS_V17):
        conn.execute(statement)


def follow_calls(conn: sqlite3.Connection, keys: Sequence[str], derived: bool) -> None:
    """The tool calls linked to these stored calls into each call's session, and with
    `derived` (a write whose triggers keep the file tables; a bulk load fills them from the
    tool calls when it ends) their `call_files` and `file_sessions` rows."""
    for start in range(0, len(keys), _KEYS_PER_STATEMENT):
        part = list(keys[start : start + _KEYS_PER_STATEMENT])
        marks = ",".join("?" * len(part))
        moved = conn.execute(
            f"""SELECT t.tool_id, e.session_id FROM tool_calls t
                JOIN usage_events e ON e.event_key = t.event_key
                WHERE t.event_key IN ({marks}) AND t.session_id != e.session_id""",
            part,
        ).fetchall()
        if moved:
            conn.executemany("UPDATE tool_calls SET session_id = ?2 WHERE tool_id = ?1", moved)
        if not derived:
            continue
        files = conn.execute(
            f"""SELECT cf.event_key, cf.path, e.session_id FROM call_files cf
                JOIN usage_events e ON e.event_key = cf.event_key
                WHERE cf.event_key IN ({marks}) AND cf.session_id != e.session_id""",
            part,
        ).fetchall()
        if not files:
            continue
        conn.executemany(
            "UPDATE call_files SET session_id = ?3 WHERE event_key = ?1 AND path = ?2", files
        )
        paths = sorted({(path,) for _key, path, _session in files})
        conn.executemany("DELETE FROM file_sessions WHERE path = ?", paths)
        conn.executemany(
            "INSERT OR IGNORE INTO file_sessions SELECT path, session_id FROM call_files "
            "WHERE path = ?",
            paths,
        )
