"""A tool call belongs to the session of its model call, whatever order the files holding
the call are read in and however they are cut.

A resumed Claude Code session's transcript opens with copies of the replies of the session
it resumes (same `message.id`; a reply logged without a `requestId` is keyed by the message
id alone, so the copy is the same call). The call is stored once, in the session of the
first line of it read, and its tool calls (their failures, the files they touched) go with
it: `report sessions` lists a session by its calls, so a tool call left in the other
session showed nowhere when that session had no call of its own, or in the wrong row.
Here the figures of `report sessions` are counted by hand for each read order: the copy's
file read first, the original's first, and the copy's first line (a streamed reply's
thinking block, no tool call in it) read before the original and the rest after; in one
batch, a batch per read, a bulk load and separate ingests.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

import shared.ingest.chunks
import shared.ingest.pool
import shared.ingest.run
import shared.ingest.writer
import shared.ledger
from shared.ingest.attribution_repair import repair
from shared.ingest.chunks import ChunkResult, ChunkTask
from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, sessions_report
from shared.schema import MIGRATIONS, TOOLS_FOLLOW_CALLS_V17
from tests.core.helpers import derived_tables, events, ingest_env, rebuilt_derived_tables, run_cli
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    thinking_block,
    tool_use_block,
    write_lines,
)

CWD = "/home/dev/shop"
ORIGINAL = "5e55-original"
RESUMED = "5e55-resumed"
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
APP = f"{CWD}/app.py"
README = f"{CWD}/readme.md"
COPIED_CALL = "cc:msg_x"  # logged without a requestId: the copy has the original's key
EDIT = tool_use_block("toolu_x", "Edit", {"file_path": APP, "old_string": "a", "new_string": "b"})
READ = tool_use_block("toolu_a", "Read", {"file_path": README})
BASH = tool_use_block("toolu_b", "Bash", {"command": "ls"})

# Hand-counted `report sessions` figures: (tool calls, failed tool calls, files touched) per
# session, by the session the copied call (its Edit failed) is stored in.
EXPECTED = {
    ORIGINAL: {
        ORIGINAL: (2, 1, [APP, README]),
        RESUMED: (1, 0, []),
    },
    RESUMED: {
        ORIGINAL: (1, 0, [README]),
        RESUMED: (2, 1, [APP]),
    },
}


def _project(home: Path) -> Path:
    return claude_project_dir(home / ".claude", CWD)


def _transcripts(copy: str) -> dict[str, list[bytes]]:
    """The original session: a reply without a requestId whose Edit fails (a thinking
    line, then the tool call's line), then a reply that reads a file. The resumed one: a
    copy of the first reply (all of it with its tool result, or only its thinking line),
    then a reply that runs a command."""
    original = ClaudeSession(ORIGINAL, cwd=CWD)
    original.prompt("fix it", T0)
    copied = original.reply(
        T0 + timedelta(seconds=1),
        [thinking_block("hm"), EDIT],
        claude_usage(30, 300, cache_read=9_000, write_5m=700),
        model="claude-sonnet-4-5-20250929",
        message_id="msg_x",
        request_id=None,
    )
    result = original.tool_result("toolu_x", "no match", T0 + timedelta(seconds=4), is_error=True)
    original.prompt("and the readme?", T0 + timedelta(minutes=1))
    original.reply(
        T0 + timedelta(minutes=1, seconds=1),
        [READ],
        claude_usage(10, 40, cache_read=9_500),
        message_id="msg_a",
        request_id="req_a",
    )
    resumed = ClaudeSession(RESUMED, cwd=CWD)
    for raw in copied if copy == "full copy" else copied[:1]:
        resumed.lines.append(_restamped(raw))
    if copy == "full copy":
        resumed.lines.append(_restamped(result))
    resumed.prompt("list them", T0 + timedelta(hours=1))
    resumed.reply(
        T0 + timedelta(hours=1, seconds=1),
        [BASH],
        claude_usage(12, 60, cache_read=9_800),
        message_id="msg_b",
        request_id="req_b",
    )
    return {f"{ORIGINAL}.jsonl": original.lines, f"{RESUMED}.jsonl": resumed.lines}


def _restamped(raw: bytes) -> bytes:
    record = orjson.loads(raw)
    record["sessionId"] = RESUMED
    return orjson.dumps(record) + b"\n"


# How the files are read: (file, lines) in this order, None for the rest of the file; and
# the session the copied call is then stored in (that of the first line of it read).
ORDERS: dict[str, tuple[list[tuple[str, int | None]], str]] = {
    "copy first": ([(f"{RESUMED}.jsonl", None), (f"{ORIGINAL}.jsonl", None)], RESUMED),
    "original first": ([(f"{ORIGINAL}.jsonl", None), (f"{RESUMED}.jsonl", None)], ORIGINAL),
    "copy's first line, original, copy's rest": (
        [(f"{RESUMED}.jsonl", 1), (f"{ORIGINAL}.jsonl", None), (f"{RESUMED}.jsonl", None)],
        RESUMED,
    ),
}
WRITES = ["one batch", "a batch per read", "bulk load", "bulk load, a batch per read"]


def _read_in_order(monkeypatch: pytest.MonkeyPatch, steps: list[tuple[str, int | None]]) -> None:
    """One ingest reads the files a line at a time (a read of one byte reads one line), in
    the order of `steps`."""
    monkeypatch.setattr(shared.ingest.chunks, "CHUNK_BYTES", 1)
    real = shared.ingest.pool.results_inline

    def scheduled(tasks: list[ChunkTask]) -> Iterator[ChunkResult]:
        reads = {Path(task.path).name: real([task]) for task in tasks}
        for name, lines in steps:
            yield from itertools.islice(reads[name], lines)
        for left in reads.values():
            yield from left

    monkeypatch.setattr(shared.ingest.pool, "results_inline", scheduled)


def _by_session(ledger: Ledger) -> dict[str, tuple[int, int, list[str]]]:
    report = sessions_report(ledger, Filters())
    return {
        row["session_id"]: (row["tool_calls"], row["tool_errors"], row["files_touched"])
        for row in report["sessions"]
    }


def _assert_attributed(ledger: Ledger, call_in: str) -> None:
    rows = events(ledger)
    assert sorted(rows) == ["cc:msg_a:req_a", "cc:msg_b:req_b", COPIED_CALL]
    assert rows[COPIED_CALL]["session_id"] == call_in
    assert _by_session(ledger) == EXPECTED[call_in]
    conn = ledger.conn
    assert conn.execute(
        "SELECT session_id FROM tool_calls WHERE tool_id = 'toolu_x'"
    ).fetchall() == [(call_in,)]
    assert conn.execute("SELECT * FROM call_files ORDER BY path").fetchall() == [
        (COPIED_CALL, APP, call_in, rows[COPIED_CALL]["ts_ms"]),
        ("cc:msg_a:req_a", README, ORIGINAL, rows["cc:msg_a:req_a"]["ts_ms"]),
    ]
    assert sorted(conn.execute("SELECT * FROM file_sessions")) == [
        (APP, call_in),
        (README, ORIGINAL),
    ]
    assert derived_tables(conn) == rebuilt_derived_tables(ledger)


@pytest.mark.parametrize("copy", ["full copy", "thinking line only"])
@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("order", list(ORDERS))
def test_a_copied_calls_tool_calls_are_in_the_session_of_the_call(
    isolated_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    order: str,
    write: str,
    copy: str,
) -> None:
    for name, lines in _transcripts(copy).items():
        write_lines(_project(isolated_home) / name, lines)
    steps, call_in = ORDERS[order]
    _read_in_order(monkeypatch, steps)
    if write.startswith("bulk load"):
        monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    if write.endswith("a batch per read"):
        monkeypatch.setattr(shared.ingest.writer, "BATCH_ROWS", 1)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        ingest_env(ledger)
        _assert_attributed(ledger, call_in)
        ingest_env(ledger)  # nothing new: nothing moves
        _assert_attributed(ledger, call_in)
    finally:
        ledger.close()


@pytest.mark.parametrize("copy", ["full copy", "thinking line only"])
@pytest.mark.parametrize("order", list(ORDERS))
def test_the_same_when_the_files_grow_between_ingests(
    isolated_home: Path, tmp_path: Path, order: str, copy: str
) -> None:
    """Each step of the order written to the files, then read by an ingest of its own."""
    transcripts = _transcripts(copy)
    steps, call_in = ORDERS[order]
    written = dict.fromkeys(transcripts, 0)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        for name, lines in steps:
            end = len(transcripts[name]) if lines is None else written[name] + lines
            write_lines(
                _project(isolated_home) / name, transcripts[name][written[name] : end], append=True
            )
            written[name] = end
            ingest_env(ledger)
        _assert_attributed(ledger, call_in)
    finally:
        ledger.close()


def test_report_sessions_shows_the_tool_call_of_a_session_with_no_call_of_its_own(
    isolated_home: Path,
) -> None:
    """The user's view through the real CLI. The resumed session's file holds so far the
    first line of its copy of the original's reply (a thinking block: `burnmeter ingest`
    ran while Claude Code wrote it); the original's file, read next, has that reply whole
    and no other call. The failed Edit is the resumed session's, where its call is; it
    stayed with the original session, which has no call and so no row, and the report
    showed no tool call and no failure."""
    transcripts = _transcripts("full copy")
    original = transcripts[f"{ORIGINAL}.jsonl"]
    prompts = [index for index, raw in enumerate(original) if b'"content":"and the readme?"' in raw]
    project = _project(isolated_home)
    write_lines(project / f"{RESUMED}.jsonl", transcripts[f"{RESUMED}.jsonl"][:1])
    assert run_cli("ingest").returncode == 0
    write_lines(project / f"{ORIGINAL}.jsonl", original[: prompts[0]])
    done = run_cli("report", "sessions", "--json")
    assert done.returncode == 0, done.stderr
    rows = orjson.loads(done.stdout)["sessions"]
    assert [
        (row["session_id"], row["tool_calls"], row["tool_errors"], row["files_touched"])
        for row in rows
    ] == [(RESUMED, 1, 1, [APP])]


# --- a side question's copies (`/btw`) and a resumed session's ---------------------------------

ASIDE = "agent-aside_question-4f2a9c.jsonl"


def _with_side_question() -> dict[str, list[bytes]]:
    """The transcripts above (the copy whole), and the original session's side question:
    a sidechain copy of the first reply under a request id of its own (ccusage#913), tool
    call and all, then its own answer."""
    transcripts = _transcripts("full copy")
    aside = ClaudeSession(ORIGINAL, cwd=CWD, agent_id="aside_question-4f2a9c")
    aside.reply(
        T0 + timedelta(seconds=1),
        [thinking_block("hm"), EDIT],
        claude_usage(30, 300, cache_read=9_000, write_5m=700),
        model="claude-sonnet-4-5-20250929",
        message_id="msg_x",
        request_id="req_copy_x",
    )
    aside.prompt("btw, which file?", T0 + timedelta(minutes=2))
    aside.reply(
        T0 + timedelta(minutes=2),
        [text_block("app.py")],
        claude_usage(5, 50, cache_read=8_000),
        message_id="msg_c",
        request_id="req_c",
    )
    return {**transcripts, ASIDE: aside.lines}


def _aside_path(home: Path) -> Path:
    return _project(home) / ORIGINAL / "subagents" / ASIDE


@pytest.mark.parametrize("write", ["separate ingests", *WRITES])
def test_a_side_questions_copy_read_first_gives_its_tool_call_to_the_session_of_the_reply(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """The side question first (its copy counts as a call while its reply is unread, the
    tool call linked to it), then the resumed session (the reply's first reading: the call
    is stored there), then the original (the copy joins the reply, which stays in the
    resumed session): the Edit goes with the reply to the resumed session. Written in
    batches of their own, the copy is stored and then taken out (its tool call relinked to
    the reply); in one batch, it is matched before it is written."""
    transcripts = _with_side_question()
    project = _project(isolated_home)
    paths = {
        ASIDE: _aside_path(isolated_home),
        f"{RESUMED}.jsonl": project / f"{RESUMED}.jsonl",
        f"{ORIGINAL}.jsonl": project / f"{ORIGINAL}.jsonl",
    }
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        if write == "separate ingests":
            for name, path in paths.items():
                write_lines(path, transcripts[name])
                ingest_env(ledger)
        else:
            for name, path in paths.items():
                write_lines(path, transcripts[name])
            _read_in_order(monkeypatch, [(name, None) for name in paths])
            if write.startswith("bulk load"):
                monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
            if write.endswith("a batch per read"):
                monkeypatch.setattr(shared.ingest.writer, "BATCH_ROWS", 1)
            ingest_env(ledger)
        rows = events(ledger)
        assert sorted(rows) == ["cc:msg_a:req_a", "cc:msg_b:req_b", "cc:msg_c:req_c", COPIED_CALL]
        assert rows[COPIED_CALL]["session_id"] == RESUMED
        assert _by_session(ledger) == EXPECTED[RESUMED]
        assert ledger.conn.execute(
            "SELECT event_key, session_id FROM tool_calls WHERE tool_id = 'toolu_x'"
        ).fetchall() == [(COPIED_CALL, RESUMED)]
        assert sorted(ledger.conn.execute("SELECT * FROM file_sessions")) == [
            (APP, RESUMED),
            (README, ORIGINAL),
        ]
        assert derived_tables(ledger.conn) == rebuilt_derived_tables(ledger)
    finally:
        ledger.close()


# --- ledgers written before -------------------------------------------------------------------

OLD_UPSERT_TOOL_CALL = (
    "INSERT INTO tool_calls VALUES (?,?,?,?,?,?) ON CONFLICT (tool_id) DO UPDATE "
    "SET event_key = coalesce(tool_calls.event_key, excluded.event_key)"
)
OLD_LINK_TOOL_CALL = "UPDATE tool_calls SET event_key = ?1 WHERE tool_id = ?2 AND event_key IS NULL"


def the_older_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The row-by-row writer's tool-call statements as they were before tool calls
    followed their call's session (for tests that build a ledger an older burnmeter wrote;
    not a bulk load)."""
    monkeypatch.setattr(shared.ingest.writer, "UPSERT_TOOL_CALL", OLD_UPSERT_TOOL_CALL)
    monkeypatch.setattr(shared.ingest.writer, "LINK_TOOL_CALL", OLD_LINK_TOOL_CALL)


def _repaired(ledger: Ledger) -> None:
    conn = ledger.conn
    conn.execute("BEGIN IMMEDIATE")
    repair(conn)
    conn.execute("COMMIT")


TABLES = ("SELECT * FROM tool_calls", "SELECT * FROM call_files", "SELECT * FROM file_sessions")


def _tables(ledger: Ledger) -> list[list[tuple[Any, ...]]]:
    return [sorted(ledger.conn.execute(sql)) for sql in TABLES]


def test_an_upgraded_ledger_moves_the_tool_calls_an_older_writer_left_behind(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger whose tool call stayed in the session its line was read from (the older
    writer's statements, the copy's first line read first), upgraded, equals what the
    writer now stores; the step run again changes nothing."""
    for name, lines in _transcripts("full copy").items():
        write_lines(_project(isolated_home) / name, lines)
    steps, call_in = ORDERS["copy's first line, original, copy's rest"]
    _read_in_order(monkeypatch, steps)
    with monkeypatch.context() as old:
        the_older_writer(old)
        before = open_ledger(tmp_path / "before.sqlite")
        ingest_env(before)
        assert _by_session(before)[ORIGINAL] == (2, 1, [APP, README])  # the mistake
        before.close()
    # As the schema before the repair left it: opening runs the repair step (17) and after.
    with closing(sqlite3.connect(tmp_path / "before.sqlite")) as conn:
        conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(TOOLS_FOLLOW_CALLS_V17)}")
    now = open_ledger(tmp_path / "now.sqlite")
    upgraded = open_ledger(tmp_path / "before.sqlite")
    try:
        ingest_env(now)
        _assert_attributed(upgraded, call_in)
        assert _tables(upgraded) == _tables(now)
        _repaired(upgraded)
        assert _tables(upgraded) == _tables(now)
    finally:
        upgraded.close()
        now.close()
