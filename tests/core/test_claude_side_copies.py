"""A Claude Code side question (`/btw`) writes `<session>/subagents/agent-aside_question-*.jsonl`,
which opens with copies of earlier main-thread replies: sidechain lines with the reply's
`message.id`, session and times, but a request id of their own (ccusage#913). Each copy
counts as the reply it copies, whichever file is read first, in one ingest or several, row
by row or in a bulk load; the side question's own answer counts. Tool calls and files stay
with the call that counts, and the trigger-kept tables are what a rebuild gives. A ledger
an older burnmeter filled with the copies loses them on upgrade."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shared.ingest.pool
import shared.ingest.run
import shared.ingest.writer
from shared.ingest.chunks import ChunkResult, ChunkTask
from shared.ingest.side_copies import SideCopies
from shared.ledger import Ledger, open_ledger
from shared.schema import CLAUDE_SIDE_COPIES_V16, MIGRATIONS
from tests.core.helpers import (
    derived_tables,
    events,
    ingest_env,
    rebuilt_derived_tables,
    snapshot,
    totals,
)
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    tool_use_block,
    write_lines,
)

CWD = "/home/dev/shop"
SESSION = "5d1c9a43-btw"
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
EDIT = tool_use_block(
    "toolu_edit", "Edit", {"file_path": f"{CWD}/app.py", "old_string": "a", "new_string": "b"}
)
USAGE_A = claude_usage(10, 100, cache_read=5_000, write_5m=1_000)
USAGE_B = claude_usage(20, 200, cache_read=6_000, write_5m=2_000)
USAGE_C = claude_usage(5, 50, cache_read=8_000)  # the side question's own answer
REPLIES = ["cc:msg_a:req_a", "cc:msg_b:req_b", "cc:msg_c:req_c"]
READ_ORDERS = [
    "one ingest",
    "main thread, then side question",
    "side question, then main thread",
    "one ingest, side question first",
    "bulk load, main thread first",
    "bulk load, side question first",
]


def _project(home: Path) -> Path:
    return claude_project_dir(home / ".claude", CWD)


def _main_path(home: Path) -> Path:
    return _project(home) / f"{SESSION}.jsonl"


def _aside_path(home: Path) -> Path:
    return _project(home) / SESSION / "subagents" / "agent-aside_question-4f2a9c.jsonl"


def _transcripts(
    *, main_request_ids: bool = True, usage_a: dict[str, Any] = USAGE_A
) -> tuple[ClaudeSession, ClaudeSession]:
    """The main thread's two replies (the first edits app.py), and the side question's
    transcript: copies of both under new request ids, then its own answer."""
    main = ClaudeSession(SESSION, cwd=CWD)
    aside = ClaudeSession(SESSION, cwd=CWD, agent_id="aside_question-4f2a9c")
    replies = [
        (T0, [text_block("plan"), EDIT], usage_a, "msg_a"),
        (T0 + timedelta(minutes=1), [text_block("done")], USAGE_B, "msg_b"),
    ]
    for at, blocks, usage, message_id in replies:
        request_id = message_id.replace("msg", "req") if main_request_ids else None
        main.reply(at, blocks, usage, message_id=message_id, request_id=request_id)
        aside.reply(at, blocks, usage, message_id=message_id, request_id=f"req_copy_{message_id}")
    aside.prompt("btw, which file was it?", T0 + timedelta(minutes=2))
    aside.reply(
        T0 + timedelta(minutes=2),
        [text_block("app.py")],
        USAGE_C,
        message_id="msg_c",
        request_id="req_c",
    )
    return main, aside


def _sum(*usages: dict[str, Any]) -> dict[str, int]:
    return {
        "input_tokens": sum(u["input_tokens"] for u in usages),
        "output_tokens": sum(u["output_tokens"] for u in usages),
        "cache_read_tokens": sum(u["cache_read_input_tokens"] for u in usages),
    }


def _side_question_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files read one at a time, the side question's first, each committed on its own."""
    real = shared.ingest.pool.results_inline

    def reordered(tasks: list[ChunkTask]) -> Iterator[ChunkResult]:
        return real(sorted(tasks, key=lambda task: "subagents" not in task.path))

    monkeypatch.setattr(shared.ingest.pool, "results_inline", reordered)
    monkeypatch.setattr(shared.ingest.writer, "BATCH_ROWS", 1)


def _read(home: Path, ledger: Ledger, order: str, monkeypatch: pytest.MonkeyPatch) -> None:
    main, aside = _transcripts()
    if order.startswith("bulk load"):
        monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
        monkeypatch.setattr(shared.ingest.writer, "BATCH_ROWS", 1)
    if order.endswith("side question first"):
        _side_question_first(monkeypatch)
    if order == "main thread, then side question":
        main.write(_main_path(home))
        ingest_env(ledger)
        aside.write(_aside_path(home))
    elif order == "side question, then main thread":
        aside.write(_aside_path(home))
        ingest_env(ledger)
        assert len(events(ledger)) == 3  # the copies count while their replies are unread
        main.write(_main_path(home))
    else:
        main.write(_main_path(home))
        aside.write(_aside_path(home))
    ingest_env(ledger)


def _assert_counted_once(ledger: Ledger) -> None:
    rows = events(ledger)
    assert sorted(rows) == REPLIES
    assert {row["is_sidechain"] for key, row in rows.items() if key != REPLIES[2]} == {0}
    got = totals(ledger)
    assert {name: got[name] for name in _sum(USAGE_A)} == _sum(USAGE_A, USAGE_B, USAGE_C)
    links = ledger.conn.execute("SELECT tool_id, event_key FROM tool_calls").fetchall()
    assert links == [("toolu_edit", "cc:msg_a:req_a")]
    assert ledger.conn.execute("SELECT event_key, path FROM call_files").fetchall() == [
        ("cc:msg_a:req_a", f"{CWD}/app.py")
    ]
    ((calls, cost),) = ledger.conn.execute(
        "SELECT calls, cost_usd FROM file_stats WHERE path = ?", (f"{CWD}/app.py",)
    )
    assert (calls, cost) == (1, pytest.approx(rows["cc:msg_a:req_a"]["cost_usd"], rel=1e-12))
    assert derived_tables(ledger.conn) == rebuilt_derived_tables(ledger)


@pytest.mark.parametrize("order", READ_ORDERS)
def test_a_side_questions_copies_count_once_whichever_file_is_read_first(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        _read(isolated_home, ledger, order, monkeypatch)
        _assert_counted_once(ledger)
        ingest_env(ledger)  # nothing new: nothing moves
        _assert_counted_once(ledger)
    finally:
        ledger.close()


def test_every_read_order_leaves_the_same_ledger(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys, times, costs, sessions and tool calls alike, whatever the read order."""
    states = []
    for number, order in enumerate(READ_ORDERS):
        home = tmp_path / f"home-{number}"
        with monkeypatch.context() as patch:
            patch.setenv("HOME", str(home))
            ledger = open_ledger(tmp_path / f"ledger-{number}.sqlite")
            try:
                _read(home, ledger, order, patch)
                state = snapshot(ledger, skip=("sources",))
                state.update(derived_tables(ledger.conn))
                states.append(state)
            finally:
                ledger.close()
    assert all(state == states[0] for state in states[1:])


def test_copies_of_replies_written_without_a_request_id_count_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Claude Code builds that write no `requestId` key the reply `cc:{message.id}`; the
    side question's copies still carry one."""
    main, aside = _transcripts(main_request_ids=False)
    main.write(_main_path(isolated_home))
    aside.write(_aside_path(isolated_home))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        ingest_env(ledger)
        assert sorted(events(ledger)) == ["cc:msg_a", "cc:msg_b", "cc:msg_c:req_c"]
        got = totals(ledger)
        assert {name: got[name] for name in _sum(USAGE_A)} == _sum(USAGE_A, USAGE_B, USAGE_C)
    finally:
        ledger.close()


def test_a_copy_whose_main_transcript_is_gone_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    _main, aside = _transcripts()
    aside.write(_aside_path(isolated_home))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        ingest_env(ledger)
        rows = events(ledger)
        assert sorted(rows) == ["cc:msg_a:req_copy_msg_a", "cc:msg_b:req_copy_msg_b", REPLIES[2]]
        got = totals(ledger)
        assert {name: got[name] for name in _sum(USAGE_A)} == _sum(USAGE_A, USAGE_B, USAGE_C)
    finally:
        ledger.close()


def test_the_main_threads_reading_is_kept_over_a_copy_with_more_tokens(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy never replaces what the main thread logged, even with more tokens (here the
    main thread's last line was never written), whichever is read first; ccusage 20.0.24
    keeps the main-thread line too. (The copy's reading, the larger, was kept before: a
    copy read in an earlier ingest than its own reply could then stay in another call.)"""
    outputs = {}
    for order in ("main thread first", "side question first"):
        main, _copy = _transcripts(usage_a=claude_usage(10, 7, cache_read=5_000, write_5m=1_000))
        _main, aside = _transcripts()
        home = tmp_path / order
        main.write(_main_path(home))
        aside.write(_aside_path(home))
        with monkeypatch.context() as patch:
            patch.setenv("HOME", str(home))
            if order == "side question first":
                _side_question_first(patch)
            ledger = open_ledger(tmp_path / f"{order}.sqlite")
            try:
                ingest_env(ledger)
                rows = events(ledger)
                assert sorted(rows) == REPLIES
                outputs[order] = rows["cc:msg_a:req_a"]["output_tokens"]
            finally:
                ledger.close()
    assert outputs == {"main thread first": 7, "side question first": 7}


def test_an_advisors_call_in_a_copied_reply_counts_once(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised = claude_usage(10, 100, cache_read=5_000, write_5m=1_000)
    advised["iterations"].append(
        {
            "type": "advisor_message",
            "model": "claude-opus-4-7",
            "input_tokens": 900,
            "output_tokens": 90,
        }
    )
    main, aside = _transcripts(usage_a=advised)
    main.write(_main_path(isolated_home))
    aside.write(_aside_path(isolated_home))
    _side_question_first(monkeypatch)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        ingest_env(ledger)
        rows = events(ledger)
        assert sorted(rows) == sorted([*REPLIES, "cc:msg_a:req_a:advisor:1"])
        advisor = rows["cc:msg_a:req_a:advisor:1"]
        assert (advisor["model"], advisor["input_tokens"], advisor["is_sidechain"]) == (
            "claude-opus-4-7",
            900,
            0,
        )
    finally:
        ledger.close()


def _old_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer as it was before side questions' copies were matched to their replies."""

    def unmatched(self: SideCopies, conn: object, rows: list[Any], *_: object) -> list[Any]:
        self.moved = {}
        return rows

    monkeypatch.setattr(SideCopies, "resolve", unmatched)


@pytest.mark.parametrize("order", ["main thread first", "side question first"])
def test_an_upgraded_ledger_loses_the_copies_it_counted(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """A ledger an older burnmeter filled from the history (both readings of each copied
    reply, the tool call linked to whichever came first), upgraded and read on, equals a
    fresh ingest's."""
    main, aside = _transcripts()
    main.write(_main_path(isolated_home))
    aside.write(_aside_path(isolated_home))
    version = MIGRATIONS.index(CLAUDE_SIDE_COPIES_V16)
    old_file = tmp_path / "old.sqlite"
    with monkeypatch.context() as patch:
        _old_reader(patch)
        if order == "side question first":
            _side_question_first(patch)
        ledger = open_ledger(old_file)
        ingest_env(ledger)
        assert len(events(ledger)) == 5
        assert totals(ledger)["output_tokens"] == 2 * (100 + 200) + 50
    ledger.close()
    conn = sqlite3.connect(old_file, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()

    upgraded = open_ledger(old_file)
    try:
        assert upgraded.schema_version() == len(MIGRATIONS)
        # The upgrade alone: the copies are out, the totals right, before any read.
        assert sorted(events(upgraded)) == REPLIES
        assert totals(upgraded)["output_tokens"] == 100 + 200 + 50
        assert derived_tables(upgraded.conn) == rebuilt_derived_tables(upgraded)
        ingest_env(upgraded)  # the side question's file is read again
        fresh = open_ledger(tmp_path / "fresh.sqlite")
        try:
            ingest_env(fresh)
            _assert_counted_once(upgraded)
            assert snapshot(upgraded) == snapshot(fresh)
            assert derived_tables(upgraded.conn) == derived_tables(fresh.conn)
        finally:
            fresh.close()
    finally:
        upgraded.close()


# --- any history of this layout, read in any order ------------------------------------------


@dataclass
class _History:
    files: dict[str, list[bytes]]  # name -> lines
    plan: list[list[str]]  # the files each ingest finds new
    batch_rows: int
    bulk: bool


@st.composite
def _histories(draw: st.DrawFn) -> _History:
    """A session of main-thread replies (some without a request id, some with a tool call),
    side questions copying some of them (some of each copy's lines) under request ids of their
    own, with answers of their own; maybe a subagent's verbatim copy; maybe no main
    transcript left. Files found over one to three ingests, in any order."""
    main = ClaudeSession(SESSION, cwd=CWD)
    replies = []
    for index in range(draw(st.integers(1, 3))):
        at = T0 + timedelta(minutes=index)
        blocks = [text_block("x")]
        if draw(st.booleans()):
            blocks.append(tool_use_block(f"toolu_{index}", "Edit", {"file_path": f"f{index}.py"}))
        usage = claude_usage(10 + index, draw(st.integers(4, 900)), cache_read=1_000)
        request_id = f"req_{index}" if draw(st.integers(0, 3)) else None
        main.reply(at, blocks, usage, message_id=f"msg_{index}", request_id=request_id)
        replies.append((at, blocks, usage, f"msg_{index}"))
    files: dict[str, list[bytes]] = {}
    if draw(st.integers(0, 4)):
        files["main"] = main.lines
    for number in range(draw(st.integers(1, 2))):
        aside = ClaudeSession(SESSION, cwd=CWD, agent_id=f"aside_question-{number}")
        for at, blocks, usage, message_id in draw(st.lists(st.sampled_from(replies), max_size=3)):
            copied = aside.reply(
                at,
                blocks,
                {**usage, "output_tokens": draw(st.integers(4, 900))},
                message_id=message_id,
                request_id=f"req_copy{number}_{message_id}",
            )
            kept = draw(st.lists(st.sampled_from(copied), min_size=1, unique=True))
            aside.lines = [line for line in aside.lines if line not in copied or line in kept]
        if draw(st.booleans()):
            aside.reply(
                T0 + timedelta(minutes=5),
                [text_block("answer")],
                claude_usage(3, draw(st.integers(4, 90))),
                message_id=f"msg_answer{number}",
                request_id=f"req_answer{number}",
            )
        if aside.lines:
            files[f"aside{number}"] = aside.lines
    if draw(st.integers(0, 3)) == 0:
        files["agent"] = [_flagged_sidechain(line) for line in draw(st.permutations(main.lines))]
    names = draw(st.permutations(sorted(files)))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(names) - 1)), max_size=2)))
    plan = [list(names[a:b]) for a, b in zip([0, *cuts], [*cuts, len(names)], strict=True)]
    return _History(
        files=files,
        plan=[part for part in plan if part],
        batch_rows=draw(st.sampled_from([1, 40_000])),
        bulk=draw(st.booleans()),
    )


def _flagged_sidechain(line: bytes) -> bytes:
    record = orjson.loads(line)
    record["isSidechain"] = True
    record["agentId"] = "a77"
    return orjson.dumps(record) + b"\n"


def _path(home: Path, name: str) -> Path:
    if name == "main":
        return _main_path(home)
    if name == "agent":
        return _project(home) / SESSION / "subagents" / "agent-a77.jsonl"
    return _project(home) / SESSION / "subagents" / f"agent-aside_question-{name}.jsonl"


def _expected(files: dict[str, list[bytes]]) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Per call key its largest reading's token total, and per tool call the keys it may
    belong to: a sidechain line under a key of its own whose message has main-thread calls
    is a reading of the least of them; any other line is a reading of its own key."""
    lines = [orjson.loads(line) for name in files for line in files[name]]
    lines = [line for line in lines if line.get("type") == "assistant"]

    def key_of(line: dict[str, Any]) -> str:
        request = line.get("requestId")
        return f"cc:{line['message']['id']}" + (f":{request}" if request else "")

    main_keys: dict[str, set[str]] = {}
    for line in lines:
        if not line["isSidechain"]:
            main_keys.setdefault(line["message"]["id"], set()).add(key_of(line))
    totals: dict[str, int] = {}
    tools: dict[str, set[str]] = {}
    for line in lines:
        key = key_of(line)
        replies = main_keys.get(line["message"]["id"], set())
        copy = line["isSidechain"] and replies
        if copy and key not in replies:
            key = min(replies)
        usage = line["message"]["usage"]
        total = sum(
            usage[name]
            for name in (
                "input_tokens",
                "output_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
            )
        )
        totals[key] = max(0 if copy else total, totals.get(key, 0))
        for block in line["message"]["content"]:
            if block["type"] == "tool_use":
                tools.setdefault(block["id"], set()).add(key)
    return totals, tools


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=_histories())
def test_any_read_order_counts_each_reply_once(
    tmp_path_factory: pytest.TempPathFactory, history: _History
) -> None:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setattr(shared.ingest.writer, "BATCH_ROWS", history.batch_rows)
        if history.bulk:
            patch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
        ledger = open_ledger(home / "ledger.sqlite")
        try:
            for names in history.plan:
                for name in names:
                    write_lines(_path(home, name), history.files[name])
                ingest_env(ledger)
            want, tools = _expected(history.files)
            got = dict(ledger.conn.execute("SELECT event_key, total_tokens FROM usage_events"))
            assert got == want
            links = dict(ledger.conn.execute("SELECT tool_id, event_key FROM tool_calls"))
            assert links.keys() == tools.keys()
            assert all(links[tool_id] in keys for tool_id, keys in tools.items())
            assert derived_tables(ledger.conn) == rebuilt_derived_tables(ledger)
        finally:
            ledger.close()


def test_a_copy_read_after_its_reply_was_first_read_as_a_subagents_copy(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A subagent transcript that repeats a reply under its own keys, read first, makes a
    sidechain call of it; the reply's own line makes it a main-thread call again, so a side
    question's copy read later still finds it."""
    main, aside = _transcripts()
    subagent = ClaudeSession(SESSION, cwd=CWD, agent_id="a77")
    subagent.lines = [
        line.replace(b'"isSidechain":false', b'"isSidechain":true', 1) for line in main.lines
    ]
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        subagent.write(_project(isolated_home) / SESSION / "subagents" / "agent-a77.jsonl")
        ingest_env(ledger)
        assert {row["is_sidechain"] for row in events(ledger).values()} == {1}
        main.write(_main_path(isolated_home))
        ingest_env(ledger)
        assert {row["is_sidechain"] for row in events(ledger).values()} == {0}
        aside.write(_aside_path(isolated_home))
        ingest_env(ledger)
        _assert_counted_once(ledger)
    finally:
        ledger.close()
