"""Codex plan limits, tool outputs and web searches (`shared.sources.codex`,
`codex_typed`): the cases the existing tests left open (found by mutation testing)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.sources import codex
from shared.sources.codex import CodexState, parse_codex_lines
from tests.core.test_codex_fast_path import HEADER, _both_ways, _counting, _item, _token_count


@pytest.fixture(autouse=True)
def _lenient_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codex, "_typed", None)


def _limits_read(limits: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The plan-limit rows of one token_count line, the same by both readers."""
    data = HEADER + b"\n" + _token_count(limits=limits).encode() + b"\n"
    fast, lenient = _both_ways(data, monkeypatch, _counting())
    assert fast == lenient
    return parse_codex_lines(data, CodexState(), "f").rate_limits


@pytest.mark.parametrize("used", [0, 150.0, 1000])
def test_a_percentage_past_the_limit_is_still_a_reading(
    used: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the limit a window can pass 100 %; only beyond 1000 is it no reading."""
    ((_, _, _, primary, *_rest),) = _limits_read({"primary": {"used_percent": used}}, monkeypatch)
    assert primary == used


def test_a_zero_percentage_is_taken_by_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _counting()
    data = HEADER + b"\n" + _token_count(limits={"primary": {"used_percent": 0}}).encode() + b"\n"
    with monkeypatch.context() as patch:
        patch.setattr(codex, "_typed", counter)
        parse_codex_lines(data, CodexState(), "f")
    assert counter.taken == 1 and counter.handed_on == 0


def test_a_limit_id_that_is_not_a_name_is_the_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    (row,) = _limits_read({"limit_id": 7, "primary": {"used_percent": 40.0}}, monkeypatch)
    assert row[3] == 40.0


def test_flat_windows_keep_both_window_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Codex ~0.40's flat windows, read by the fast path as by the lenient reader."""
    flat = {
        "primary_used_percent": 12.5,
        "primary_window_minutes": 300,
        "secondary_used_percent": 40,
        "secondary_window_minutes": 10080,
    }
    counter = _counting()
    data = HEADER + b"\n" + _token_count(limits=flat).encode() + b"\n"
    with monkeypatch.context() as patch:
        patch.setattr(codex, "_typed", counter)
        (row,) = parse_codex_lines(data, CodexState(), "f").rate_limits
    assert counter.taken == 1 and counter.handed_on == 0
    assert row[3:5] + row[6:8] == (12.5, 300, 40.0, 10080)


def test_a_flat_window_length_out_of_range_is_no_length(monkeypatch: pytest.MonkeyPatch) -> None:
    flat = {"primary_used_percent": 12.5, "primary_window_minutes": 2**62 + 5}
    (row,) = _limits_read(flat, monkeypatch)
    assert row[3:5] == (12.5, None)


def test_a_failed_custom_tool_is_an_error_with_either_line_ending() -> None:
    """Lines ending in CR LF are read one by one; a `custom_tool_call_output` is still one."""
    lines = [
        HEADER,
        _item({"type": "custom_tool_call", "name": "apply_patch", "call_id": "c1", "input": "x"}),
        _item({"type": "custom_tool_call_output", "call_id": "c1", "output": "Exit code: 1\n"}),
        _token_count().encode(),
    ]
    for ending in (b"\n", b"\r\n"):
        chunk = parse_codex_lines(ending.join(lines) + ending, CodexState(), "f")
        assert chunk.tool_errors == ["cx:c1"], ending
        assert [call.tool_id for call in chunk.tool_calls] == ["cx:c1"]


def test_a_tool_named_after_a_tool_output_is_a_tool_call() -> None:
    """Only a line whose own `type` is a tool output is one: a tool whose name ends in the
    words (`ci__function_call_output`) was read as an output and dropped."""
    call = {
        "type": "function_call",
        "name": "ci__function_call_output",
        "arguments": "{}",
        "call_id": "c2",
    }
    lines = [HEADER, _item(call), _token_count().encode()]
    chunk = parse_codex_lines(b"\n".join(lines) + b"\n", CodexState(), "f")
    assert [call.tool_name for call in chunk.tool_calls] == ["ci__function_call_output"]


SEARCH = {"type": "web_search_call", "status": "completed", "action": {"query": "wal"}}


def test_web_searches_with_their_own_ids_are_kept_apart() -> None:
    """Two searches of the same words at the same moment are two, when Codex gave ids."""
    lines = [
        HEADER,
        _item({**SEARCH, "id": "ws_1"}),
        _item({**SEARCH, "call_id": "ws_2"}),
        _token_count().encode(),
    ]
    chunk = parse_codex_lines(b"\n".join(lines) + b"\n", CodexState(), "f")
    assert [call.tool_id for call in chunk.tool_calls] == ["cx:ws_1", "cx:ws_2"]


def test_a_web_search_without_a_time_is_not_read() -> None:
    lines = [HEADER, _item(SEARCH, at="not a time"), _token_count().encode()]
    chunk = parse_codex_lines(b"\n".join(lines) + b"\n", CodexState(), "f")
    assert chunk.tool_calls == []


def test_a_web_search_read_before_its_model_call_in_another_piece_is_linked() -> None:
    """A rollout read in pieces: the search in one, the model call after it in the next."""
    state = CodexState()
    first = parse_codex_lines(HEADER + b"\n" + _item(SEARCH) + b"\n", state, "f")
    (search,) = first.tool_calls
    second = parse_codex_lines(_token_count().encode() + b"\n", state, "f")
    assert second.tool_links == [(search.tool_id, "cx:sess-1:1200:200:90:40")]
