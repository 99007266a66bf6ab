"""Claude Code parsing rules: a tool error written with a space after the colon, calls without
a message id that share their usage, the out-of-range boundary of a line's token counts,
rejected-line counting, and `<synthetic>` calls on the typed reader."""

from __future__ import annotations

from typing import Any

import pytest

from shared.sources import claude
from shared.sources.claude import parse_claude_lines
from shared.sources.events import MAX_COUNT
from tests.core.logwriters import iso, line


@pytest.fixture(autouse=True)
def lenient_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lenient reader alone, whatever another test switched on in this process."""
    monkeypatch.setattr(claude, "_typed", None)


def _assistant(at: float, usage: dict[str, Any], **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"model": "claude-sonnet-4-5", "role": "assistant", "usage": usage}
    message.update(extra.pop("message", {}))
    return {
        "type": "assistant",
        "timestamp": iso(at),
        "sessionId": "s1",
        "cwd": "/home/dev/shop",
        "message": message,
        **extra,
    }


def test_a_tool_error_written_with_a_space_after_the_colon_is_counted() -> None:
    """`"is_error": true` (JSON written with spaces) is a failed tool call just like the
    compact `"is_error":true` Claude Code writes."""
    spaced = (
        b'{"type": "user", "timestamp": "2026-03-10T09:00:00.000Z", "sessionId": "s1", '
        b'"message": {"role": "user", "content": [{"type": "tool_result", '
        b'"tool_use_id": "toolu_spaced", "content": "boom", "is_error": true}]}}\n'
    )
    compact = line(
        {
            "type": "user",
            "timestamp": iso(1),
            "sessionId": "s1",
            "message": {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_compact", "is_error": True}
                ],
            },
        }
    )
    chunk = parse_claude_lines(spaced + compact, "fallback")
    assert sorted(chunk.tool_errors) == ["toolu_compact", "toolu_spaced"]
    # The same on the line-by-line path that CRLF line endings take.
    crlf = parse_claude_lines((spaced + compact).replace(b"\n", b"\r\n"), "fallback")
    assert sorted(crlf.tool_errors) == ["toolu_compact", "toolu_spaced"]


def test_calls_without_message_id_or_uuid_with_the_same_usage_at_other_times_are_two_calls() -> (
    None
):
    """A line with no message id and no uuid is keyed by a hash of its usage and its time:
    two such calls with identical usage minutes apart are both counted, not merged."""
    usage = {"input_tokens": 10, "output_tokens": 20}
    data = line(_assistant(0, usage)) + line(_assistant(300, dict(usage)))
    chunk = parse_claude_lines(data, "fallback")
    assert len(chunk.calls.events) == 2
    # The same line read twice is still one call.
    again = parse_claude_lines(line(_assistant(0, usage)) * 2, "fallback")
    assert len(again.calls.events) == 1


def test_a_uuid_that_is_not_a_short_id_never_enters_a_calls_key() -> None:
    """A line without a message id is keyed by its `uuid`: one that was an object or a text
    was put in the key as it was, `cc:line:{'note': 'SECRET'}:…` (privacy audit)."""
    usage = {"input_tokens": 10, "output_tokens": 20}
    odd = [{"note": "SECRETUUIDOBJ"}, ["SECRETLIST"], "SECRET " * 40]
    data = b"".join(line(_assistant(n, usage, uuid=uuid)) for n, uuid in enumerate(odd))
    keys = list(parse_claude_lines(data, "fallback").calls.events)
    assert len(keys) == 3 and all("SECRET" not in key for key in keys), keys
    # A real uuid still keys its line (the same line read again is the same call).
    real = line(_assistant(0, usage, uuid="5c6d0c11-9f4d-4cc4-9220-47ee6912d95c"))
    (key,) = parse_claude_lines(real * 2, "fallback").calls.events
    assert key.startswith("cc:line:5c6d0c11-9f4d-4cc4-9220-47ee6912d95c:")


def test_a_line_whose_token_counts_reach_max_count_is_rejected() -> None:
    """Counts summing to MAX_COUNT (2**53, beyond exact float range) are a damaged line:
    rejected, never a call of quadrillions of tokens; one token fewer is still read."""
    at_limit = _assistant(
        0, {"input_tokens": MAX_COUNT - 1, "output_tokens": 1}, message={"id": "msg_a"}
    )
    below = _assistant(
        1, {"input_tokens": MAX_COUNT - 2, "output_tokens": 1}, message={"id": "msg_b"}
    )
    chunk = parse_claude_lines(line(at_limit) + line(below), "fallback")
    assert [key for key in chunk.calls.events] == ["cc:msg_b"]
    assert chunk.rejected_lines == 1


def test_a_cut_line_that_mentions_a_tool_result_without_error_is_counted_rejected() -> None:
    """A damaged line (not `{...}`) holding `"is_error":false` is neither a call nor an
    error, and counts as a rejected line, as it does on the line-by-line (CRLF) path."""
    cut = b'{"type":"user","message":{"content":[{"type":"tool_result","is_error":false,"con\n'
    assert parse_claude_lines(cut, "fallback").rejected_lines == 1
    assert parse_claude_lines(cut.replace(b"\n", b"\r\n"), "fallback").rejected_lines == 1


def _both_readers(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(typed reader's rows, lenient reader's rows) for the same lines."""
    from shared.sources import claude_typed

    def rows(chunk: Any) -> tuple[Any, ...]:
        return (chunk.calls.events, chunk.tool_rows, chunk.lines, chunk.rejected_lines)

    with monkeypatch.context() as patch:
        patch.setattr(claude, "_typed", claude_typed.read_usage_line)
        fast = rows(parse_claude_lines(data, "fallback"))
    return fast, rows(parse_claude_lines(data, "fallback"))


def test_the_typed_reader_marks_synthetic_calls_free_like_the_lenient_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A `<synthetic>` reply (an API error or usage-limit notice) is a free call on the
    ingest's fast path too, with nothing else setting it apart (no isApiErrorMessage)."""
    synthetic = _assistant(
        0,
        {"input_tokens": 0, "output_tokens": 0},
        message={"id": "msg_syn", "model": "<synthetic>"},
    )
    fast, lenient = _both_readers(line(synthetic), monkeypatch)
    assert fast == lenient
    (row,) = fast[0].values()
    assert row[13] == 1  # `free`
