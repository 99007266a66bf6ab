"""Sidechain copies of a Claude Code reply whose `message.id` the session's main thread logs
under more than one key (a request of its own, or once without a request id): the calls must
come out as the README's rules give them, and the same whether the files are read in one
ingest or as they grow (the oracle test's saved failure, appending in byte pieces, reduced
to its core; /work/audit/fix-oracle).

The main thread has (msg_x, req_b); a subagent's transcript holds a copy of the main-thread
reply (msg_x, req_a), flagged as sidechain and keeping its request id, with more tokens and
an earlier time. A main-thread reading is the call's, whatever a copy holds: the copy never
adds to (msg_x, req_b), whose message has a main-thread call, and (msg_x, req_a) is its own
main-thread line's once that is read. (The copy's reading used to join (msg_x, req_b) until
then, for good when that was in an earlier ingest.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

import shared.ingest.run
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE, CallRows
from tests.core.helpers import ingest_env
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    write_lines,
)

CWD = "/home/dev/alpha"
SESSION = "5e55-split"
T0 = datetime(2026, 3, 10, 23, 59, 40, tzinfo=UTC)
BIG = claude_usage(1150, 790, cache_read=628, write_5m=1901, write_1h=3533)
SMALL = claude_usage(689, 642, write_5m=1215, write_1h=119)
MAIN, SUBAGENT = 0, 1


def _flagged(line: bytes) -> bytes:
    record = orjson.loads(line)
    record["isSidechain"] = True
    record["agentId"] = "ab00015"
    return orjson.dumps(record) + b"\n"


def _lines() -> tuple[list[bytes], list[bytes], list[bytes]]:
    """The main thread's (msg_x, req_b) reply, a subagent's sidechain copy of the main
    thread's (msg_x, req_a) reply, and that reply's own main-thread line."""
    main = ClaudeSession(SESSION, cwd=CWD)
    reply_a = main.reply(
        T0, [text_block("say")], BIG, message_id="msg_x", request_id="req_a", early_output=0
    )
    reply_b = main.reply(
        T0 + timedelta(days=1),
        [text_block("say")],
        SMALL,
        message_id="msg_x",
        request_id="req_b",
        early_output=0,
    )
    return reply_b, [_flagged(line) for line in reply_a], reply_a


def _paths(home: Path) -> tuple[Path, Path]:
    project = claude_project_dir(home / ".claude", CWD)
    return project / f"{SESSION}.jsonl", project / SESSION / "subagents" / "agent-ab00015.jsonl"


def _calls(
    home: Path, steps: list[list[tuple[int, list[bytes]]]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[Any]]:
    """Each step's lines appended to their file, an ingest after each; the calls (key ->
    time, model, tokens, main-thread or not)."""
    monkeypatch.setenv("HOME", str(home))
    paths = _paths(home)
    ledger = open_ledger(home / "ledger.sqlite")
    try:
        for step in steps:
            for which, lines in step:
                write_lines(paths[which], lines, append=True)
            ingest_env(ledger)
        return {
            key: rest
            for key, *rest in ledger.conn.execute(
                "SELECT event_key, ts_ms, model, input_tokens, output_tokens, "
                "cache_write_5m_tokens + cache_write_1h_tokens, cache_read_tokens, "
                "is_sidechain FROM usage_events ORDER BY event_key"
            )
        }
    finally:
        ledger.close()


def _call(at: datetime, usage: dict[str, Any]) -> list[Any]:
    return [
        int(at.timestamp() * 1000),
        "claude-opus-4-7",
        usage["input_tokens"],
        usage["output_tokens"],
        usage["cache_creation_input_tokens"],
        usage.get("cache_read_input_tokens", 0),
        0,
    ]


# Each reply its own call, with its own reading.
BOTH = {"cc:msg_x:req_a": _call(T0, BIG), "cc:msg_x:req_b": _call(T0 + timedelta(days=1), SMALL)}


def test_a_main_thread_reading_after_a_sidechain_one_makes_a_main_thread_call() -> None:
    """Within one read, as the ledger's upsert does across reads."""
    calls = CallRows()
    for is_sidechain in (True, False, True):
        calls.add(
            "cc:msg_x:req_a",
            CLAUDE,
            SESSION,
            1,
            "claude-opus-4-7",
            "standard",
            (1, 2, 0, 0, 0, 0),
            False,
            is_sidechain,
            CWD,
            "main",
        )
    assert calls.events["cc:msg_x:req_a"][14] == 0


@pytest.mark.parametrize("bulk", [False, True], ids=["row by row", "bulk load"])
@pytest.mark.parametrize("copy_first", [True, False], ids=["copy first", "reply first"])
def test_a_reply_and_its_copy_in_one_subagent_file_are_the_replys_call(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool, copy_first: bool
) -> None:
    """A subagent's transcript that holds a flagged copy of a reply and the reply's own
    main-thread line, in either order: the reply is a main-thread call, its message's other
    main-thread call keeps its own reading. With the copy first, the copy's reading once
    made the whole call a sidechain copy, which went into (msg_x, req_b): one call, with
    req_a's tokens and time."""
    if bulk:
        monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    reply_b, copy, reply_a = _lines()
    subagent = copy + reply_a if copy_first else reply_a + copy
    assert _calls(isolated_home, [[(MAIN, reply_b), (SUBAGENT, subagent)]], monkeypatch) == BOTH


def test_one_ingest_gives_each_reply_its_own_call(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply_b, copy, reply_a = _lines()
    steps = [[(MAIN, reply_b), (SUBAGENT, copy), (MAIN, reply_a)]]
    assert _calls(isolated_home, steps, monkeypatch) == BOTH


def test_a_copy_read_before_its_own_reply_gives_the_calls_of_one_ingest(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as the files grow: first (msg_x, req_b) and the copy, then req_a's own line.
    The copy's reading (more tokens, earlier) once joined req_b's call and stayed there:
    req_a's tokens counted twice, req_b's lost."""
    reply_b, copy, reply_a = _lines()
    steps = [[(MAIN, reply_b), (SUBAGENT, copy)], [(MAIN, reply_a)]]
    assert _calls(isolated_home, steps, monkeypatch) == BOTH
