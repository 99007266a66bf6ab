"""The typed fast path for Codex `token_count` lines (msgspec) gives exactly the rows and the
rollout state of the lenient reader (orjson and a look at each field), on real-shaped
rollouts and on mangled ones; lines it cannot take whole go to the lenient reader."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.sources import codex, codex_typed
from shared.sources.codex import CodexState, parse_codex_lines
from shared.sources.events import MAX_COUNT, ParsedChunk
from tests.core.helpers import CountingReader
from tests.core.logwriters import BASE_TIME, CodexRollout, codex_rollout_path, write_history
from tests.core.test_mangled_lines import _damage_byte, _mangle

REAL_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"


@pytest.fixture(autouse=True)
def _lenient_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the typed reader off, as in a process that never forked parser
    workers (one that did keeps it on)."""
    monkeypatch.setattr(codex, "_typed", None)


def _counting() -> CountingReader:
    return CountingReader(codex_typed.read_token_count_line)


def _parsed(data: bytes) -> tuple[object, ...]:
    state = CodexState()
    chunk = parse_codex_lines(data, state, "fallback")
    return _rows(chunk), state


def _rows(chunk: ParsedChunk) -> tuple[object, ...]:
    return (
        chunk.calls.events,
        chunk.calls.sessions,
        chunk.calls.read,
        chunk.tool_calls,
        chunk.tool_links,
        chunk.tool_errors,
        chunk.rate_limits,
        chunk.lines,
        chunk.rejected_lines,
    )


def _both_ways(
    data: bytes, monkeypatch: pytest.MonkeyPatch, counter: CountingReader
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    with monkeypatch.context() as patch:
        patch.setattr(codex, "_typed", counter)
        fast = _parsed(data)
    # A process that has not switched the typed reader on reads the lenient way only.
    assert codex._typed is None
    return fast, _parsed(data)


def _compact(record: object) -> bytes:
    # The separators Codex writes: the line head the parser matches has no spaces.
    return json.dumps(record, separators=(",", ":")).encode()


def _rollouts(home: Path) -> list[list[bytes]]:
    write_history(home, claude_sessions=0, codex_rollouts=8, turns=10)
    return [path.read_bytes().splitlines() for path in sorted(home.rglob("rollout-*.jsonl"))]


def test_fast_path_takes_ordinary_lines_and_matches_the_lenient_reader(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _counting()
    for lines in _rollouts(isolated_home):
        fast, lenient = _both_ways(b"\n".join(lines) + b"\n", monkeypatch, counter)
        assert fast == lenient
    # Every token_count line went the fast way (else this test would compare nothing).
    assert counter.taken > 50 and counter.handed_on == 0


def test_fast_path_matches_the_lenient_reader_on_mangled_rollouts(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _counting()
    rng = random.Random(20261206)
    rollouts = [[json.loads(line) for line in lines] for lines in _rollouts(isolated_home)]
    for _ in range(6):
        for records in rollouts:
            data = b"\n".join(_compact(_mangle(record, rng)) for record in records) + b"\n"
            fast, lenient = _both_ways(data, monkeypatch, counter)
            assert fast == lenient, data
    assert counter.taken > 100 and counter.handed_on > 100


def _token_count(info: object = "default", limits: object = "default", **changes: Any) -> str:
    usage = {
        "input_tokens": 1200,
        "cached_input_tokens": 200,
        "output_tokens": 90,
        "reasoning_output_tokens": 40,
        "total_tokens": 1290,
    }
    payload: dict[str, Any] = {"type": "token_count"}
    payload["info"] = (
        {"total_token_usage": usage, "last_token_usage": usage, "model_context_window": 258400}
        if info == "default"
        else info
    )
    payload["rate_limits"] = (
        {
            "limit_id": "codex",
            "primary": {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1772568000},
            "secondary": {"used_percent": 3, "window_minutes": 10080, "resets_at": 1772668800},
            "credits": {"has_credits": False, "balance": None},
            "plan_type": "pro",
        }
        if limits == "default"
        else limits
    )
    record: dict[str, Any] = {
        "timestamp": "2026-11-20T10:00:01.250Z",
        "type": "event_msg",
        "payload": payload,
    }
    record.update(changes)
    return json.dumps(record, separators=(",", ":"))


def _usage(**changes: object) -> dict[str, object]:
    usage: dict[str, object] = {"input_tokens": 5000, "cached_input_tokens": 100}
    usage.update(output_tokens=300, reasoning_output_tokens=10, total_tokens=5300)
    usage.update(changes)
    return usage


HEADER = _compact(
    {
        "timestamp": "2026-11-20T10:00:00.000Z",
        "type": "session_meta",
        "payload": {"id": "sess-1", "cwd": "/home/dev/shop", "git": {"branch": "main"}},
    }
)
ODD_LINES = [
    _token_count(),
    # Counts the lenient reader reads as 0, or that make it reject the line.
    _token_count({"total_token_usage": _usage(input_tokens=-5)}),
    _token_count({"total_token_usage": _usage(input_tokens=None)}),
    _token_count({"total_token_usage": _usage(input_tokens=True)}),
    _token_count({"total_token_usage": _usage(input_tokens=12.0)}),
    _token_count({"total_token_usage": _usage(input_tokens=MAX_COUNT)}),
    _token_count({"total_token_usage": _usage(output_tokens=2**70)}),
    _token_count({"total_token_usage": _usage(), "last_token_usage": _usage(total_tokens=-1)}),
    _token_count({"total_token_usage": _usage(), "last_token_usage": {"x": {"y": 2**60}}}),
    _token_count({"total_token_usage": _usage(new_counter=4)}),
    _token_count({"total_token_usage": {}}),
    _token_count({"total_token_usage": None}),
    _token_count({"total_token_usage": [1, 2]}),
    _token_count(None),
    _token_count("info"),
    # Rate limits of every shape.
    _token_count(limits=None),
    _token_count(limits=[]),
    _token_count(limits={}),
    _token_count(limits={"primary": None, "secondary": "x", "plan_type": 5}),
    _token_count(limits={"primary": {"used_percent": True, "window_minutes": 300.0}}),
    _token_count(limits={"primary": {"window_minutes": 2**63, "resets_at": -(2**62)}}),
    _token_count(limits={"primary": {"used_percent": 10**30, "resets_at": "soon"}}),
    # Older Codex's relative resets, of every shape; resets_at wins over them.
    _token_count(limits={"primary": {"resets_in_seconds": 7200}, "secondary": {}}),
    _token_count(limits={"primary": {"resets_in_seconds": 7200.0}}),
    _token_count(limits={"primary": {"resets_in_seconds": -30, "resets_at": None}}),
    _token_count(limits={"primary": {"resets_in_seconds": "soon"}}),
    _token_count(limits={"primary": {"resets_in_seconds": True}}),
    _token_count(limits={"secondary": {"resets_in_seconds": 2**62}}),
    _token_count(limits={"secondary": {"resets_at": 1772668800, "resets_in_seconds": 60}}),
    # A restarted total lower in no counter; a total back at zero with an estimated
    # last total; a last usage larger than its total.
    _token_count(
        {
            "total_token_usage": _usage(cached_input_tokens=3000),
            "last_token_usage": _usage(cached_input_tokens=3000),
        }
    ),
    _token_count(
        {
            "total_token_usage": dict.fromkeys(_usage(), 0),
            "last_token_usage": {**dict.fromkeys(_usage(), 0), "total_tokens": 5000},
        }
    ),
    _token_count({"total_token_usage": _usage(), "last_token_usage": _usage(input_tokens=9000)}),
    # Odd timestamps, and keys given twice (the last one counts).
    _token_count(timestamp="2026-11-20 10:00:01"),
    _token_count(timestamp="2026-11-20T10:00:01+02:00"),
    _token_count()[:-1] + ',"type":"response_item"}',
    _token_count()[:-2] + ',"type":"agent_message"}}',
    _token_count()[:-2] + ',"info":null}}',
    # Another limit than the account's (a model's own: Spark), named or of odd types; the
    # flat windows of Codex around 0.40.
    _token_count(limits={"limit_id": "codex_bengalfox", "primary": {"used_percent": 3.0}}),
    _token_count(limits={"limit_id": "premium", "primary": {"used_percent": 3.0}}),
    _token_count(limits={"limit_id": None, "primary": {"used_percent": 3.0}}),
    _token_count(limits={"limit_id": 7, "primary": {"used_percent": 3.0}}),
    _token_count(limits={"primary_used_percent": 12.5, "secondary_used_percent": 40}),
    _token_count(
        limits={
            "primary_used_percent": 12,
            "primary_window_minutes": 300,
            "secondary_window_minutes": 10080.0,
            "primary_to_secondary_ratio_percent": 20,
        }
    ),
    _token_count(limits={"primary_used_percent": "12", "secondary_window_minutes": 2**63}),
    # Percentages no window can be at.
    _token_count(limits={"primary": {"used_percent": 1e308}, "secondary": {"used_percent": -5}}),
    _token_count(limits={"primary_used_percent": 1000.5, "secondary_used_percent": 1000}),
    # A string cut through an emoji, and a byte that is not UTF-8, in a field it decodes.
    _token_count(limits={"plan_type": "pr\\ud83d"}).replace("\\\\", "\\"),
]


@pytest.mark.parametrize("line", ODD_LINES)
def test_fast_path_matches_the_lenient_reader_on_odd_lines(
    line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After the rollout's header and a first call, so that a line can move the total (or
    # send it back: the deltas then come from the call's own usage).
    first = _token_count({"total_token_usage": _usage(input_tokens=3000, output_tokens=200)})
    data = b"\n".join([HEADER, first.encode(), line.encode()]) + b"\n"
    fast, lenient = _both_ways(data, monkeypatch, _counting())
    assert fast == lenient


def test_a_byte_that_is_not_utf8_in_a_decoded_field_goes_the_lenient_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = _token_count().encode().replace(b'"pro"', b'"p\xffo"')
    counter = _counting()
    fast, lenient = _both_ways(HEADER + b"\n" + line + b"\n", monkeypatch, counter)
    assert fast == lenient and counter.handed_on == 1
    chunk = parse_codex_lines(line + b"\n", CodexState(), "f")
    assert chunk.rate_limits[0][-1] == "p\ufffdo" and len(chunk.calls.events) == 1


AT_MS = int(datetime(2026, 11, 20, 10, 0, 1, 250_000, tzinfo=UTC).timestamp() * 1000)


def test_fast_path_reads_a_call_and_its_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the fast path takes it reads right (not only as the lenient reader does)."""
    counter = _counting()
    monkeypatch.setattr(codex, "_typed", counter)
    state = CodexState()
    chunk = parse_codex_lines(HEADER + b"\n" + _token_count().encode() + b"\n", state, "f")
    assert counter.taken == 1
    (event,) = chunk.calls.events.values()
    assert event[0] == "cx:sess-1:1200:200:90:40"
    assert event[6:12] == (1000, 90, 0, 0, 200, 40)  # input less cached; cached read
    assert chunk.rate_limits == [
        ("codex", "sess-1", AT_MS, 12.5, 300, 1772568000, 3.0, 10080, 1772668800, "pro")
    ]
    assert state.cumulative == [1200, 200, 90, 40, 0] and chunk.lines == 2


def test_fast_path_matches_the_lenient_reader_on_lines_damaged_byte_by_byte(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _counting()
    rng = random.Random(11)
    rollouts = _rollouts(isolated_home)
    for _ in range(400):
        lines = list(rng.choice(rollouts))
        for _ in range(rng.randint(1, 4)):
            index = rng.choice([i for i, line in enumerate(lines) if b"token_count" in line])
            line = bytearray(lines[index])
            _damage_byte(line, rng)
            lines[index] = bytes(line).replace(b"\n", b" ").replace(b"\r", b" ")
        fast, lenient = _both_ways(b"\n".join(lines) + b"\n", monkeypatch, counter)
        assert fast == lenient
    assert counter.taken > 1000 and counter.handed_on > 100


@pytest.mark.skipif(not REAL_CORPUS.exists(), reason="needs ../shared/corpus/real")
def test_fast_path_matches_the_lenient_reader_on_the_real_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((REAL_CORPUS / "home" / ".codex").rglob("*.jsonl"))
    assert files
    counter = _counting()
    for path in files:
        fast, lenient = _both_ways(path.read_bytes(), monkeypatch, counter)
        assert fast == lenient, path
    assert counter.taken > 500 and counter.handed_on == 0


def test_fast_path_matches_the_lenient_reader_on_restarts_and_legacy_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Totals that start again (resumed in the same rollout, back at zero after a
    compaction, recomputed unchanged) and relative resets: the fast path takes every one of
    these lines and gives the lenient reader's rows."""
    legacy = {
        "primary": {"used_percent": 42.0, "window_minutes": 299, "resets_in_seconds": 7200},
        "secondary": {"used_percent": 61.0, "window_minutes": 10079, "resets_in_seconds": 300},
    }
    rollout = CodexRollout("019c-restarts", started=0)
    rollout.turn(1)
    rollout.call(2.25, 8000, 50, reasoning=10, rate_limits=legacy)
    rollout.recompute(3, 900)
    rollout.restart_total()
    rollout.recompute(4, 700)
    rollout.call(5, 9000, 60, cached=8000, reasoning=20, reemit=2)
    rollout.restart_total()
    rollout.call(6, 9500, 70, cached=9000, rate_limits=legacy)
    rollout.call(7, 10000, 100, cached=9000, reasoning=20)
    counter = _counting()
    fast, lenient = _both_ways(b"".join(rollout.lines), monkeypatch, counter)
    assert fast == lenient
    assert counter.taken == 11 and counter.handed_on == 0
    rows = fast[0]
    assert isinstance(rows, tuple)
    events = rows[0]
    assert isinstance(events, dict) and len(events) == 4
    assert sorted(row[6:12] for row in events.values()) == [
        (500, 70, 0, 0, 9000, 0),
        (1000, 60, 0, 0, 8000, 20),
        (1000, 100, 0, 0, 9000, 20),
        (8000, 50, 0, 0, 0, 10),
    ]
    rate_limits = rows[6]
    assert isinstance(rate_limits, list)
    reset = int((BASE_TIME + timedelta(seconds=2)).timestamp())
    assert rate_limits[0][5::3] == (reset + 7200, reset + 300)


def test_only_the_accounts_plan_limit_is_kept_and_flat_windows_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Newer Codex writes a model's own limit (`codex_bengalfox`, GPT-5.3-Codex-Spark)
    beside the account's (`codex`), often later: the newest reading showed 3 % for an
    account at 92 %. Codex around 0.40 wrote the windows flat; they were stored empty."""
    account = {
        "limit_id": "codex",
        "primary": {"used_percent": 92.0, "window_minutes": 300, "resets_at": 1772568000},
        "secondary": {"used_percent": 74.0, "window_minutes": 10080, "resets_at": 1772668800},
    }
    spark = {
        "limit_id": "codex_bengalfox",
        "limit_name": "GPT-5.3-Codex-Spark",
        "primary": {"used_percent": 3.0, "window_minutes": 300, "resets_at": 1772568000},
        "secondary": {"used_percent": 1.0, "window_minutes": 10080, "resets_at": 1772668800},
    }
    flat = {
        "primary_used_percent": 12.5,
        "secondary_used_percent": 40,
        "primary_window_minutes": 300,
    }
    lines = [
        HEADER,
        _token_count(limits=account).encode(),
        _token_count(limits=spark, timestamp="2026-11-20T10:01:01.250Z").encode(),
        _token_count(limits=flat, timestamp="2026-11-20T10:02:01.250Z").encode(),
    ]
    fast, lenient = _both_ways(b"\n".join(lines) + b"\n", monkeypatch, _counting())
    assert fast == lenient
    chunk = parse_codex_lines(b"\n".join(lines) + b"\n", CodexState(), "f")
    assert [row[3:5] + row[6:8] for row in chunk.rate_limits] == [
        (92.0, 300, 74.0, 10080),
        (12.5, 300, 40.0, None),
    ]


def _item(payload: dict[str, Any], at: str = "2026-11-20T10:00:00.500Z") -> bytes:
    return _compact({"timestamp": at, "type": "response_item", "payload": payload})


def test_a_tool_call_whose_name_or_arguments_end_in_output_is_read() -> None:
    """A line with `_output"` in it was taken for a tool output and dropped unread: an MCP
    tool `ci__get_job_output`, a shell call on `build_output`."""
    lines = [
        HEADER,
        _item(
            {"type": "function_call", "name": "ci__get_job_output", "arguments": "{}",
             "call_id": "call_a"}
        ),
        _item(
            {"type": "function_call", "name": "ci__get_job_status", "arguments": "{}",
             "call_id": "call_b"}
        ),
        _item(
            {"type": "local_shell_call", "call_id": "call_c", "status": "completed",
             "action": {"type": "exec", "command": ["rm", "-rf", "build_output"]}}
        ),
        _item({"type": "function_call_output", "call_id": "call_a", "output": "Exit code: 1"}),
        _token_count().encode(),
    ]  # fmt: skip
    chunk = parse_codex_lines(b"\n".join(lines) + b"\n", CodexState(), "f")
    names = sorted(call.tool_name for call in chunk.tool_calls)
    assert names == ["ci__get_job_output", "ci__get_job_status", "local_shell_call"]
    assert chunk.tool_errors == ["cx:call_a"]  # the real output still read as one
    assert chunk.rejected_lines == 0


def test_a_torn_failed_output_line_keeps_no_text_as_a_call_id() -> None:
    """Two records run together on one line (a torn write), the first a failed output: the
    `call_id` read off the raw bytes took everything up to the next quote, and the ledger
    kept `cx:SECRET and the rest of some text` (privacy audit)."""
    failed = _item({"type": "function_call_output", "call_id": "call_a", "output": "Exit code: 1"})
    torn = failed.replace(b'"call_id":"call_a",', b"") + b' {"call_id":"SECRET and more text"}'
    chunk = parse_codex_lines(HEADER + b"\n" + torn + b"\n", CodexState(), "f")
    assert all("SECRET" not in error for error in chunk.tool_errors), chunk.tool_errors
    chunk = parse_codex_lines(HEADER + b"\n" + failed + b"\n", CodexState(), "f")
    assert chunk.tool_errors == ["cx:call_a"]


def test_items_written_bare_by_early_codex_are_not_malformed() -> None:
    """Codex before mid-2025 wrote items with no `payload` envelope (and no token counts):
    valid JSON, counted as malformed lines, and named in every `doctor`."""
    lines = [
        _compact({"id": "0b1c", "timestamp": "2025-05-20T09:00:00.000Z", "instructions": ""}),
        _compact({"record_type": "state"}),
        _compact({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"}),
        _compact({"type": "message", "role": "assistant", "content": []}),
    ]
    chunk = parse_codex_lines(b"\n".join(lines) + b"\n", CodexState(), "f")
    assert chunk.rejected_lines == 0 and chunk.lines == 4
    # Lines that are not JSON objects still are malformed.
    chunk = parse_codex_lines(b'["function_call"]\n{"function_call": \n', CodexState(), "f")
    assert chunk.rejected_lines == 2


def test_a_web_search_is_a_tool_call_of_the_model_call_after_it() -> None:
    """Codex's `web_search_call` items were skipped unread: a call that only searched the
    web was classed as chat, not exploring."""
    search = {
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "sqlite wal checkpoint"},
    }
    lines = [
        HEADER,
        _item(search),
        _item({**search, "action": {"type": "search", "query": "another"}}),
        _token_count().encode(),
    ]
    data = b"\n".join(lines) + b"\n"
    chunk = parse_codex_lines(data, CodexState(), "f")
    searches = [call for call in chunk.tool_calls if call.tool_name == "web_search"]
    assert len(searches) == 2 and len({call.tool_id for call in searches}) == 2
    assert all(call.event_key == "cx:sess-1:1200:200:90:40" for call in searches)
    # The query itself is never kept, only a hash of it.
    assert all(b"sqlite wal" not in repr(call).encode() for call in searches)
    # Read again, the same ids (a rollout is read in pieces, and again after a rewrite).
    again = parse_codex_lines(data, CodexState(), "f")
    assert [c.tool_id for c in again.tool_calls] == [c.tool_id for c in chunk.tool_calls]
    from shared.insights.tiers import tool_kind

    assert tool_kind("web_search") == "explore"


def test_a_ledger_read_by_the_older_codex_reader_is_read_again_on_upgrade(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The reader's fixes reached only files read after them: an upgraded ledger kept
    Spark's 3 % as the newest plan limit and the tool calls it had dropped (schema 12
    reads Codex files again)."""
    import sqlite3

    from shared.ingest import ingest
    from shared.ledger import open_ledger
    from shared.sources.roots import codex_roots

    rollout = CodexRollout("019c-upgrade", started=0)
    rollout.turn(1)
    rollout.function_call(2, "ci__get_job_output", {}, "call_out")
    rollout.call(3, 5000, 100)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    path = tmp_path / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest(ledger, codex_roots({"HOME": str(isolated_home)}))
    calls = ledger.conn.execute("SELECT event_key, total_tokens, cost_usd FROM usage_events")
    before = sorted(calls.fetchall())
    ledger.close()
    # As the older reader left it: the tool call dropped, a model's own limit stored as
    # the newest reading, schema 11.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM tool_calls")
    conn.execute(
        "INSERT INTO rate_limits (agent, session_id, ts_ms, primary_used_percent) "
        "VALUES ('codex', '019c-upgrade', 9999999999999, 3.0)"
    )
    # A Claude reading (from the status line) is no Codex reader's: it stays.
    conn.execute(
        "INSERT INTO rate_limits (agent, session_id, ts_ms, primary_used_percent) "
        "VALUES ('claude-code', 'claude-session', 9999999999998, 55.0)"
    )
    lines_before = conn.execute("SELECT lines, rejected_lines FROM sources").fetchall()
    conn.execute("PRAGMA user_version = 11")
    conn.close()

    upgraded = open_ledger(path)
    ingest(upgraded, codex_roots({"HOME": str(isolated_home)}))
    conn = upgraded.conn
    assert (
        sorted(conn.execute("SELECT event_key, total_tokens, cost_usd FROM usage_events")) == before
    )
    names = [row[0] for row in conn.execute("SELECT tool_name FROM tool_calls")]
    assert names == ["ci__get_job_output"]
    assert conn.execute(
        "SELECT count(*) FROM rate_limits WHERE ts_ms = 9999999999999"
    ).fetchone() == (0,)
    claude = "SELECT primary_used_percent FROM rate_limits WHERE agent = 'claude-code'"
    assert conn.execute(claude).fetchall() == [(55.0,)]
    # Read again from the start, the lines are counted once, not added to the old count.
    assert conn.execute("SELECT lines, rejected_lines FROM sources").fetchall() == lines_before
    upgraded.close()


def test_a_rollout_missing_at_the_upgrade_keeps_its_readings_and_is_read_again_later(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Schema 12 dropped every Codex plan-limit reading but read again only the rollouts on
    disk: a rollout moved away at the upgrade lost its readings for good, and when it came
    back it was read on from its old offset, never from the start."""
    import sqlite3

    from shared.ingest import ingest
    from shared.ledger import open_ledger
    from shared.sources.roots import codex_roots

    rollout = CodexRollout("019c-away", started=0)
    rollout.turn(1)
    rollout.function_call(2, "ci__get_job_output", {}, "call_out")
    rollout.call(3, 5000, 100, rate_limits={"primary": {"used_percent": 40.0}})
    where = codex_rollout_path(isolated_home / ".codex", rollout)
    rollout.write(where)
    roots = codex_roots({"HOME": str(isolated_home)})
    path = tmp_path / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest(ledger, roots)
    # Moved away, and found gone by an ingest of the older burnmeter.
    away = tmp_path / where.name
    where.rename(away)
    ingest(ledger, roots)
    ledger.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM tool_calls")  # as the older reader left it
    conn.execute("PRAGMA user_version = 11")
    conn.close()
    ledger = open_ledger(path)  # the upgrade, with the rollout gone
    ingest(ledger, roots)
    readings = "SELECT primary_used_percent FROM rate_limits WHERE agent = 'codex'"
    assert ledger.conn.execute(readings).fetchall() == [(40.0,)]
    away.rename(where)
    ingest(ledger, roots)
    names = [row[0] for row in ledger.conn.execute("SELECT tool_name FROM tool_calls")]
    assert names == ["ci__get_job_output"]
    assert ledger.conn.execute(readings).fetchall() == [(40.0,)]
    ledger.close()


def test_a_percentage_no_window_can_be_at_is_no_reading() -> None:
    """`used_percent: 1e308` printed as a 309-digit percentage in `budgets`; -5 as -5 %."""
    limits = {"primary": {"used_percent": 1e308}, "secondary": {"used_percent": -5}}
    chunk = parse_codex_lines(
        HEADER + b"\n" + _token_count(limits=limits).encode() + b"\n", CodexState(), "f"
    )
    ((_, _, _, primary, *_rest),) = chunk.rate_limits
    assert primary is None and chunk.rate_limits[0][6] is None
