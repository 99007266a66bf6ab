"""Sidechain copies of main-thread Claude Code replies, counted as the reply they copy.

A side question (`/btw`) writes a transcript of its own,
`<session>/subagents/agent-aside_question-*.jsonl`, that opens with copies of earlier
main-thread replies: sidechain lines with the reply's `message.id`, session and times but a
request id of their own (ccusage#913), so their keys (`cc:{message.id}:{requestId}`) are
not the reply's, and each would count as a model call again. A sidechain call whose message
a main-thread call of the same session has is such a copy: the main-thread reading is the
call's (a copy's reading never replaces it, even with more tokens; ccusage keeps the
main-thread line too), and the copy's tool calls go to that call. This does not depend on
which file is read first, nor on which ingest reads it: a copy read after its reply is
dropped before it is written; a reply read after its copy takes the copy's row (and its
advisors' calls) out of the ledger, moving the tool calls (and the files they touched)
that were linked to the copy. Were a copy's reading merged into the reply's call instead,
a message the main thread logs under two request ids could keep one reply's reading in
the other's call for good when the copy is read in an earlier ingest than its own reply
(tests/core/test_side_copy_split_reads.py). The tool calls go
to the reply's session too, which is not the copy's when a resumed session's transcript
(which repeats the reply, key and all) was read before the reply's own
(`shared.ingest.attribution_repair`).

A sidechain call whose message no main-thread call of its session has stays a call of its
own: the side question's own answer, a subagent's work, or a copy whose reply's transcript
is gone.

A key holds its message id before its last colon (`shared.sources.claude.message_of`), so
the calls of one message are a key range, `cc:{id}` and `cc:{id}:…`, found on the primary
key without a column of their own. A bulk load (an empty ledger and one transaction, with
no other writer) keeps the messages it has written in memory instead and never looks them
up in the ledger: a look-up costs more than the rest of a call's write there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from operator import itemgetter
from typing import Any

from shared.ingest.attribution_repair import follow_calls
from shared.sources.agents import CLAUDE
from shared.sources.claude import KEY_PREFIX, NO_MESSAGE_PREFIX, message_of
from shared.sources.events import ADVISOR_KEY

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

Row = tuple[Any, ...]
# A message: (session id, message id).
Message = tuple[str, str]
# A copy to take out of the ledger: its key, its reply's key, their message.
Retired = tuple[str, str, Message]

# Positions in the ledger's usage_events rows (shared.ingest.writer._priced_rows), and of
# the sidechain flag in the parsers' (shared.sources.events.CallRows).
KEY, AGENT, SESSION, SIDECHAIN = 0, 1, 2, 17
PARSED_SIDECHAIN = 14
_PARSED_KEY = itemgetter(KEY)
_PARSED_SESSION = itemgetter(SESSION)
_PARSED_SIDECHAIN = itemgetter(PARSED_SIDECHAIN)
KEY_PREFIX_LENGTH = len(KEY_PREFIX)

# The stored calls of one message in one session: its key without a request id, and its
# keys with one (the range also holds advisors' calls and longer ids, which
# `message_of` sets aside). On the primary key: `+session_id` keeps SQLite off the session
# index, which would read every call of the session.
_STORED = """SELECT event_key, is_sidechain FROM usage_events
    WHERE event_key = ?2 AND +session_id = ?1
    UNION ALL SELECT event_key, is_sidechain FROM usage_events
    WHERE event_key > ?3 AND event_key < ?4 AND +session_id = ?1"""
# The same in any session (on the primary key alone).
_ANY_SESSION = """SELECT event_key, is_sidechain FROM usage_events WHERE event_key = ?1
    UNION ALL SELECT event_key, is_sidechain FROM usage_events
    WHERE event_key > ?2 AND event_key < ?3"""
# How many calls a session holds, and all of them (its index, then a look-up per call).
_SESSION_CALLS = "SELECT calls FROM session_totals WHERE session_id = ?"
_SESSION_KEYS = "SELECT event_key, is_sidechain FROM usage_events WHERE session_id = ?"
# The calls of one message under a key and its advisors' keys.
_DELETE_CALL_AND_ADVISORS = """DELETE FROM usage_events WHERE event_key = ?1
    OR (event_key > ?1 || ':advisor:' AND event_key < ?1 || ':advisor;')"""
# The files a moved copy's tool calls touched go to the reply's call (a file both had
# stays once). Their file_stats are summed again from call_files once the batch is written
# (the triggers keep them as calls come and go, not as a call's files change hands), as
# shared.schema fills them.
_FILES_OF = "SELECT path FROM call_files WHERE event_key = ?"
_MOVE_CALL_FILES = "UPDATE OR IGNORE call_files SET event_key = ?1 WHERE event_key = ?2"
_DROP_CALL_FILES = "DELETE FROM call_files WHERE event_key = ?"
_DROP_FILE_STATS = "DELETE FROM file_stats WHERE path = ?"
_FILL_FILE_STATS = """INSERT INTO file_stats (path, calls, cost_usd, last_ts_ms, last_model)
    SELECT ?1, count(*), sum(coalesce(ue.cost_usd, 0)
            / (SELECT count(*) FROM call_files k WHERE k.event_key = cf.event_key)),
        max(cf.ts_ms), coalesce((SELECT latest.model FROM call_files lf
            JOIN usage_events latest ON latest.event_key = lf.event_key
            WHERE lf.path = ?1 ORDER BY lf.ts_ms DESC LIMIT 1), '')
    FROM call_files cf LEFT JOIN usage_events ue ON ue.event_key = cf.event_key
    WHERE cf.path = ?1 HAVING count(*) > 0"""
# Tool calls are found by session (an index; a bulk load has dropped it and scans once).
_PAIRS_PER_RELINK = 400


def _stored_key_range(message_id: str) -> tuple[str, str, str]:
    key = f"{KEY_PREFIX}{message_id}"
    return key, key + ":", key + ";"


class SideCopies:
    """Finds the sidechain copies among a batch's calls and the ledger's, for one writer."""

    def __init__(self) -> None:
        # A bulk load's messages written so far, in the sessions that have a sidechain
        # call: their main-thread calls' keys, and the sidechain calls kept as calls of
        # their own. The main-thread keys of the other sessions wait unread (most calls are
        # in sessions with no sidechain call at all, whose messages are never looked up).
        self._mains: dict[Message, list[str]] = {}
        self._sides: dict[Message, list[str]] = {}
        self._watched: set[str] = set()
        self._unread: dict[str, list[str]] = {}
        # The last batch's copies: copy key -> reply key (for its tool calls).
        self.moved: dict[str, str] = {}
        # The files whose calls changed hands in this batch.
        self._files: set[str] = set()
        # The batch's replies that took stored copies' tool calls.
        self._replies: set[str] = set()

    def resolve(
        self,
        conn: sqlite3.Connection,
        rows: list[Row],
        parsed: Iterable[list[Row]],
        bulk: bool,
    ) -> list[Row]:
        """The batch's rows without the copies of replies; copies already in the ledger
        whose reply is in the batch are taken out of it. Sets `moved` (copy key -> reply
        key) for the batch's tool calls. `parsed`: the batch's calls as
        each chunk's parser gave them (one file's, so of one agent), which a bulk load
        sorts a chunk at a time."""
        moved: dict[str, str] = {}
        self.moved = moved
        mains: dict[Message, list[str]] = {}
        sides: dict[Message, list[str]] = {}
        calls: Iterable[tuple[str, str, int]]
        if bulk:
            calls = self._to_match(parsed)
        else:
            calls = (
                (row[KEY], row[SESSION], row[SIDECHAIN]) for row in rows if row[AGENT] == CLAUDE
            )
        for key, session_id, is_sidechain in calls:
            # `message_of`, spelled out: this loop runs for every call of a bulk load.
            if key.startswith(NO_MESSAGE_PREFIX) or ADVISOR_KEY in key:
                continue
            head, colon, tail = key[KEY_PREFIX_LENGTH:].rpartition(":")
            message = (session_id, head if colon else tail)
            calls_of = sides if is_sidechain else mains
            found = calls_of.get(message)
            if found is None:
                calls_of[message] = [key]
            else:
                found.append(key)
        if not sides and not mains:
            return rows
        retired: list[Retired] = []
        if bulk:
            self._match_in_memory(mains, sides, moved, retired)
        else:
            _match_in_ledger(conn, mains, sides, moved, retired)
        if retired:
            self._retire(conn, retired, bulk)
            for side, reply, _message in retired:
                moved[side] = reply
        if not moved:
            return rows
        return [row for row in rows if not (row[SIDECHAIN] and _target(row[KEY], moved))]

    def _to_match(self, parsed: Iterable[list[Row]]) -> list[tuple[str, str, int]]:
        """A bulk load's Claude calls to match: those of the sessions it has seen a
        sidechain call of. A chunk of one session's main-thread calls in a session with
        none has its keys put aside whole (most chunks)."""
        watched = self._watched
        unread = self._unread
        to_match: list[tuple[str, str, int]] = []
        for calls in parsed:
            if not calls or calls[0][AGENT] != CLAUDE:
                continue
            session_id = calls[0][SESSION]
            if (
                session_id not in watched
                and not any(map(_PARSED_SIDECHAIN, calls))
                and all(map(session_id.__eq__, map(_PARSED_SESSION, calls)))
            ):
                keys = unread.get(session_id)
                if keys is None:
                    unread[session_id] = list(map(_PARSED_KEY, calls))
                else:
                    keys.extend(map(_PARSED_KEY, calls))
                continue
            for call in calls:
                session_id = call[SESSION]
                if session_id not in watched:
                    if not call[PARSED_SIDECHAIN]:
                        unread.setdefault(session_id, []).append(call[KEY])
                        continue
                    self._watch(session_id)
                to_match.append((call[KEY], session_id, call[PARSED_SIDECHAIN]))
        return to_match

    def _watch(self, session_id: str) -> None:
        """A bulk load's first sidechain call of a session: its main-thread calls so far
        are read into messages, and the session's later ones as they come."""
        self._watched.add(session_id)
        known_mains = self._mains
        for key in self._unread.pop(session_id, ()):
            message_id = message_of(key)
            if message_id is not None:
                known_mains.setdefault((session_id, message_id), []).append(key)

    def _match_in_memory(
        self,
        mains: dict[Message, list[str]],
        sides: dict[Message, list[str]],
        moved: dict[str, str],
        retired: list[Retired],
    ) -> None:
        """A bulk load's matching, from the messages it has written, which it then updates
        with what the batch leaves in the ledger. Most messages are a main-thread call's
        alone or a subagent's alone, and take the short ways."""
        known_mains = self._mains
        known_sides = self._sides
        for message, keys in mains.items():
            if message not in known_sides and message not in sides:
                known = known_mains.get(message)
                if known is None:
                    known_mains[message] = keys
                else:
                    known.extend(key for key in keys if key not in known)
                continue
            _match(
                message,
                known_mains.get(message, ()),
                known_sides.pop(message, ()),
                mains,
                sides,
                moved,
                retired,
            )
            known = known_mains.setdefault(message, [])
            known.extend(key for key in keys if key not in known)
        for message, keys in sides.items():
            if message in mains:
                continue  # matched above
            known = known_mains.get(message)
            if known is not None:
                _match(message, known, (), mains, sides, moved, retired)
                continue
            kept = known_sides.get(message)
            if kept is None:
                known_sides[message] = keys
            else:
                kept.extend(key for key in keys if key not in kept)

    def _retire(self, conn: sqlite3.Connection, retired: list[Retired], bulk: bool) -> None:
        """Take stored copies (and their advisors' calls) out of the ledger, their tool
        calls and files over to the reply's call."""
        self._replies.update(reply for _side, reply, _message in retired)
        conn.executemany(_DELETE_CALL_AND_ADVISORS, [(side,) for side, _reply, _m in retired])
        for start in range(0, len(retired), _PAIRS_PER_RELINK):
            part = retired[start : start + _PAIRS_PER_RELINK]
            cases = " ".join("WHEN ? THEN ?" for _ in part)
            sessions = sorted({message[0] for _side, _reply, message in part})
            conn.execute(
                f"UPDATE tool_calls SET event_key = CASE event_key {cases} END "
                f"WHERE session_id IN ({','.join('?' * len(sessions))}) "
                f"AND event_key IN ({','.join('?' * len(part))})",
                [
                    *(value for side, reply, _m in part for value in (side, reply)),
                    *sessions,
                    *(side for side, _reply, _m in part),
                ],
            )
        if not bulk:  # a bulk load fills call_files from the tool calls when it ends
            for side, reply, _message in retired:
                for key in (side, reply):
                    self._files.update(path for (path,) in conn.execute(_FILES_OF, (key,)))
            conn.executemany(_MOVE_CALL_FILES, [(reply, side) for side, reply, _m in retired])
            conn.executemany(_DROP_CALL_FILES, [(side,) for side, _reply, _m in retired])

    def follow_replies(self, conn: sqlite3.Connection, bulk: bool) -> None:
        """Once the batch is written: the tool calls a reply took from its stored copies go
        to the reply's session, should another session's file have brought the reply first
        (a resumed session's copy of it: the copy and its reply are of one session, their
        tool calls of that session until then)."""
        # follow_calls moves only what sits in another session than its call's.
        if self._replies:
            replies, self._replies = self._replies, set()
            follow_calls(conn, sorted(replies), derived=not bulk)

    def count_files_again(self, conn: sqlite3.Connection) -> None:
        """Once the batch is written: the file_stats of the files whose calls changed hands."""
        if self._files:
            paths = [(path,) for path in sorted(self._files)]
            self._files.clear()
            conn.executemany(_DROP_FILE_STATS, paths)
            conn.executemany(_FILL_FILE_STATS, paths)


def _match(
    message: Message,
    stored_mains: Collection[str],
    stored_sides: Collection[str],
    mains: dict[Message, list[str]],
    sides: dict[Message, list[str]],
    moved: dict[str, str],
    retired: list[Retired],
) -> None:
    """One message's copies: the batch's into `moved`, the stored ones (when the batch
    brings a main-thread call) into `retired`. A sidechain call under a main-thread call's
    own key is that call read again, not a copy (the writer keeps its main-thread reading);
    a copy's tool calls go to the least key of the message's main-thread calls (one but
    for odd logs)."""
    batch_mains = mains.get(message, ())
    main_keys = {*stored_mains, *batch_mains}
    if not main_keys:
        return
    reply = min(main_keys)
    for key in sides.get(message, ()):
        if key not in main_keys:
            moved[key] = reply
    if batch_mains:
        retired.extend((side, reply, message) for side in stored_sides if side not in main_keys)


def _match_in_ledger(
    conn: sqlite3.Connection,
    mains: dict[Message, list[str]],
    sides: dict[Message, list[str]],
    moved: dict[str, str],
    retired: list[Retired],
) -> None:
    """The matching of a batch written row by row, from the stored calls of its messages:
    looked up a message at a time, or a whole session at once when it holds at most twice
    as many calls as the batch brings it messages (a first import's sessions hold none)."""
    messages = mains.keys() | sides.keys()
    wanted: dict[str, int] = {}
    for session_id, _message_id in messages:
        wanted[session_id] = wanted.get(session_id, 0) + 1
    whole = {
        session_id: _stored_session(conn, session_id)
        for session_id, count in wanted.items()
        if _stored_calls(conn, session_id) <= 2 * count
    }
    for message in messages:
        session = whole.get(message[0])
        if session is None:
            stored_mains, stored_sides = _stored(conn, message)
        else:
            stored_mains, stored_sides = session.get(message[1], _NOTHING_STORED)
        if not stored_mains and message in sides and message not in mains:
            # A resumed session's transcript repeats earlier replies under their keys, and
            # each is stored in the session first read; a side question asked after the
            # resume copies them in the new session, whose main thread logged them too.
            stored_mains = _stored_in_other_sessions(conn, message[1])
        if (stored_sides or message in sides) and (stored_mains or message in mains):
            _match(message, stored_mains, stored_sides, mains, sides, moved, retired)


_NOTHING_STORED: tuple[list[str], list[str]] = ([], [])


def _stored_calls(conn: sqlite3.Connection, session_id: str) -> int:
    row = conn.execute(_SESSION_CALLS, (session_id,)).fetchone()
    return 0 if row is None else int(row[0])


def _stored_session(
    conn: sqlite3.Connection, session_id: str
) -> dict[str, tuple[list[str], list[str]]]:
    """A session's stored calls by message id: its main-thread calls' keys and its
    sidechain calls'."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for key, is_sidechain in conn.execute(_SESSION_KEYS, (session_id,)):
        message_id = message_of(key)
        if message_id is not None:
            stored_mains, stored_sides = found.setdefault(message_id, ([], []))
            (stored_sides if is_sidechain else stored_mains).append(key)
    return found


def _stored(conn: sqlite3.Connection, message: Message) -> tuple[list[str], list[str]]:
    """A message's stored calls: its main-thread calls' keys and its sidechain calls'."""
    session_id, message_id = message
    mains: list[str] = []
    sides: list[str] = []
    for key, is_sidechain in conn.execute(_STORED, (session_id, *_stored_key_range(message_id))):
        if message_of(key) == message_id:
            (sides if is_sidechain else mains).append(key)
    return mains, sides


def _stored_in_other_sessions(conn: sqlite3.Connection, message_id: str) -> list[str]:
    """A message's stored main-thread calls in whichever session holds them."""
    return [
        key
        for key, is_sidechain in conn.execute(_ANY_SESSION, _stored_key_range(message_id))
        if not is_sidechain and message_of(key) == message_id
    ]


def _target(key: str, moved: dict[str, str]) -> str | None:
    """The key a row goes under: its reply's, or its reply's advisor's; None to stay."""
    target = moved.get(key)
    if target is None and ADVISOR_KEY in key:
        parent, marker, index = key.partition(ADVISOR_KEY)
        reply = moved.get(parent)
        if reply is not None:
            target = f"{reply}{marker}{index}"
    return target
