"""Codex 0.154 and later log each response's usage in a `token_usage_record`; a remote
compaction's request is in no `token_count` total (openai/codex#47003), only in the record
that its `compacted` line names (format audit, case x01: $0.1925 counted of $0.3575)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.ledger import open_ledger
from shared.sources import codex, codex_typed
from shared.sources.codex import CodexState, parse_codex_lines
from shared.sources.events import ROW_TOTAL
from tests.core.helpers import CountingReader, ingest_env
from tests.core.logwriters import CodexRollout, codex_rollout_path, codex_usage
from tests.core.test_codex_fast_path import _both_ways

SESSION = "019e-compact"


def _usage(input_tokens: int, cached: int, output: int, reasoning: int) -> dict[str, int]:
    """A rollout's usage counts as a `token_usage_record` writes them (with cache writes)."""
    return {**codex_usage(input_tokens, cached, output, reasoning), "cache_write_input_tokens": 0}


def _record(
    rollout: CodexRollout,
    at: float,
    response_id: str,
    usage: dict[str, int],
    thread_total: dict[str, int] | None = None,
) -> None:
    payload: dict[str, object] = {
        "thread_id": rollout.session_id,
        "turn_id": "t",
        "response_id": response_id,
        "usage": usage,
    }
    if thread_total is not None:
        payload["thread_token_usage"] = thread_total
    rollout.add("token_usage_record", payload, at)


def _compacted(rollout: CodexRollout, at: float, response_id: str) -> None:
    rollout.add(
        "compacted",
        {"message": "", "replacement_history": [], "compaction_response_id": response_id},
        at,
    )


def _call_with_record(rollout: CodexRollout, at: float, response_id: str, *usage: int) -> None:
    """An ordinary response: its record, then the total that takes it in."""
    _record(rollout, at, response_id, _usage(*usage))
    input_tokens, cached, output, reasoning = usage
    rollout.call(at + 0.01, input_tokens, output, cached=cached, reasoning=reasoning)


COMPACTION = (150_000, 120_000, 4_000, 1_000)


def _remote_compaction(*, marker_first: bool = False) -> CodexRollout:
    """x01: two calls, then a remote compaction whose total does not move."""
    rollout = CodexRollout(SESSION, started=0, model="gpt-5.4")
    rollout.turn(1)
    _call_with_record(rollout, 5, "resp_1", 100_000, 80_000, 2_000, 500)
    _call_with_record(rollout, 60, "resp_2", 130_000, 110_000, 1_000, 300)
    if marker_first:
        _compacted(rollout, 119, "resp_compact")
    _record(rollout, 120, "resp_compact", _usage(*COMPACTION), _usage(*rollout.total))
    if not marker_first:
        _compacted(rollout, 121, "resp_compact")
    # The total after the compaction, unchanged.
    rollout.call(121.01, 0, 0)
    return rollout


def _ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    return ledger


def _rows(ledger) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return ledger.conn.execute(
        "SELECT event_key, (ts_ms - 1773133200000) / 1000.0, model, input_tokens, "
        "cache_read_tokens, output_tokens, reasoning_tokens FROM usage_events ORDER BY ts_ms"
    ).fetchall()


EXPECTED = [
    (f"cx:{SESSION}:100000:80000:2000:500", 5.01, "gpt-5.4", 20_000, 80_000, 2_000, 500),
    (f"cx:{SESSION}:230000:190000:3000:800", 60.01, "gpt-5.4", 20_000, 110_000, 1_000, 300),
    (f"cx:{SESSION}:compaction:resp_compact", 120.0, "gpt-5.4", 30_000, 120_000, 4_000, 1_000),
]


@pytest.mark.parametrize("marker_first", [False, True], ids=["record-first", "marker-first"])
def test_a_remote_compactions_request_is_a_call(
    isolated_home: Path, tmp_path: Path, marker_first: bool
) -> None:
    rollout = _remote_compaction(marker_first=marker_first)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    assert _rows(_ledger(tmp_path)) == EXPECTED


def test_a_compaction_read_again_or_archived_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Keyed by its response id: a second ingest, the rollout archived beside itself, or
    the file read a line at a time (the record in one read, its `compacted` line in the
    next) give the one call."""
    rollout = _remote_compaction()
    home = isolated_home / ".codex"
    rollout.write(codex_rollout_path(home, rollout, "archived_sessions"))
    path = codex_rollout_path(home, rollout)
    path.parent.mkdir(parents=True)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    for count in range(1, len(rollout.lines) + 1):
        path.write_bytes(b"".join(rollout.lines[:count]))
        ingest_env(ledger)
    ingest_env(ledger)
    assert _rows(ledger) == EXPECTED


def test_a_local_compactions_request_already_in_the_total_is_not_added() -> None:
    """A local compaction's request moves the total (its `last_token_usage` is the record's
    usage) before the `compacted` line: that call is counted once, from the total."""
    rollout = CodexRollout(SESSION, started=0)
    rollout.turn(1)
    _call_with_record(rollout, 5, "resp_1", 10_000, 0, 100, 0)
    _call_with_record(rollout, 10, "resp_local", 30_000, 5_000, 300, 0)
    _compacted(rollout, 11, "resp_local")
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert [row[ROW_TOTAL] for row in chunk.calls.events.values()] == [10_100, 30_300]


def test_a_record_whose_thread_total_a_reading_reached_is_not_added() -> None:
    """A record naming the thread's total after it (`thread_token_usage`) is in the first
    reading that reaches that total, though the reading's own usage differs."""
    rollout = CodexRollout(SESSION, started=0)
    rollout.turn(1)
    _record(rollout, 5, "resp_1", _usage(300, 0, 30, 0), _usage(400, 0, 50, 0))
    rollout.call(5.01, 400, 50)  # the first reading: the session's whole total
    _compacted(rollout, 6, "resp_1")
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert [row[ROW_TOTAL] for row in chunk.calls.events.values()] == [450]


def test_records_without_their_pair_add_nothing() -> None:
    """A record no `compacted` line names (an ordinary response), and a `compacted` line
    without a record, or an older one naming no response, are no calls."""
    rollout = CodexRollout(SESSION, started=0)
    rollout.turn(1)
    _record(rollout, 5, "resp_lonely", _usage(5_000, 0, 10, 0))
    _compacted(rollout, 6, "resp_other")
    rollout.add("compacted", {"message": "summary"}, 7)
    _record(rollout, 8, "resp_zero", _usage(0, 0, 0, 0))
    _compacted(rollout, 9, "resp_zero")
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert chunk.calls.events == {}
    assert chunk.rejected_lines == 0


def test_the_typed_reader_and_the_lenient_one_agree_on_compactions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rollout = _remote_compaction()
    # A local compaction too: a record a `token_count` (the typed reader's) takes in.
    _call_with_record(rollout, 200, "resp_local", 20_000, 10_000, 100, 0)
    _compacted(rollout, 201, "resp_local")
    counter = CountingReader(codex_typed.read_token_count_line)
    fast, lenient = _both_ways(b"".join(rollout.lines), monkeypatch, counter)
    assert fast == lenient
    assert counter.taken > 0
    assert codex._typed is None
    rows, _state = fast
    assert isinstance(rows, tuple)
    events = rows[0]
    assert isinstance(events, dict)
    assert sorted(key.rsplit(":", 1)[-1] for key in events if ":compaction:" in key) == [
        "resp_compact"
    ]
