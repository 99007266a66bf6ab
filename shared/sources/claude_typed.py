"""The fast way to read a Claude Code usage line, switched on in the ingest's parser
workers (`shared.sources.claude.use_typed_reader`).

msgspec decodes only the fields below, checking their types as it goes, and skips the rest
(the text) without building it: 15-21 % less CPU for the whole Claude parser than orjson and
a look at each field (bench history: 1.89-1.95 against 2.31-2.39 CPU s). A line it cannot
take whole (a field of another type or not UTF-8, a null or negative count, a string cut
through an emoji, no message id) is left to the lenient reader,
`shared.sources.claude._read_assistant`. On every line both take they give the same rows:
tests/core/test_claude_fast_path.py compares them on generated, mangled, byte-damaged and
real lines.
"""

from __future__ import annotations

from sys import intern
from typing import Annotated

import msgspec

from shared.sources.claude import ADVISOR_ITERATION, add_advisor_call, add_tool_use
from shared.sources.events import CLAUDE, MAX_COUNT, ParsedChunk, advisor_key, web_searches_of
from shared.sources.jsonline import load_line
from shared.sources.timeutil import iso_to_ms

# A negative count (which `count_of` reads as 0) sends the line to the lenient reader.
_Count = Annotated[int, msgspec.Meta(ge=0)]


class _CacheSplit(msgspec.Struct):
    ephemeral_1h_input_tokens: _Count = 0
    ephemeral_5m_input_tokens: _Count = 0


class _ServerTools(msgspec.Struct):
    # Not `_Count`: a web-search count out of range counts as none (`web_searches_of`)
    # and leaves the tokens as they are, on either reader.
    web_search_requests: int | None = None


class _Iteration(msgspec.Struct):
    # One model call of the line's request (`usage.iterations`); only an advisor's is read
    # (`shared.sources.claude.ADVISOR_ITERATION`).
    type: str | None = None
    model: str | None = None
    input_tokens: _Count = 0
    output_tokens: _Count = 0
    cache_creation_input_tokens: _Count = 0
    cache_read_input_tokens: _Count = 0
    cache_creation: _CacheSplit | None = None


class _Usage(msgspec.Struct):
    input_tokens: _Count
    output_tokens: _Count
    cache_creation_input_tokens: _Count = 0
    cache_read_input_tokens: _Count = 0
    cache_creation: _CacheSplit | None = None
    speed: str | None = None
    server_tool_use: _ServerTools | None = None
    inference_geo: str | None = None
    iterations: list[_Iteration] | None = None


class _Block(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    # Undecoded: orjson reads it only for a tool use, exactly as the whole line would be.
    input: msgspec.Raw = msgspec.Raw()  # empty when the block has none


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    content: list[_Block] | str | None = None


class _UsageLine(msgspec.Struct):
    # The log's own field names.
    timestamp: str | None = None
    requestId: str | None = None
    sessionId: str | None = None
    cwd: str | None = None
    gitBranch: str | None = None
    isSidechain: bool = False
    isApiErrorMessage: bool = False
    advisorModel: str | None = None
    message: _Message | None = None


_decode_usage_line = msgspec.json.Decoder(_UsageLine).decode


def read_usage_line(line: bytes, fallback_session_id: str, chunk: ParsedChunk) -> bool:
    """Read a usage line on the fast path; False (and nothing added) if it cannot."""
    try:
        record = _decode_usage_line(line)
    except (ValueError, RecursionError):
        # msgspec.DecodeError, UnicodeDecodeError for a field it decodes whose bytes are
        # not UTF-8 (the lenient reader replaces them), and RecursionError for a value
        # nested deeper than Python's recursion limit, even one it only skips.
        return False
    message = record.message
    if message is None:
        return True
    usage = message.usage
    if usage is None:
        return True
    message_id = message.id
    if not message_id:
        return False  # the key then comes from a hash of the usage dict
    ts_ms = iso_to_ms(record.timestamp)
    if ts_ms is None:
        return False
    content = message.content
    tool_inputs: list[tuple[_Block, object]] = []
    if isinstance(content, list):
        for block in content:
            if block.type == "tool_use" and block.id is not None and block.name is not None:
                raw = block.input
                try:
                    tool_inputs.append((block, load_line(bytes(raw)) if raw else None))
                except ValueError:
                    return False
    counts = _counts(usage)
    if counts[0] + counts[1] + counts[2] + counts[3] + counts[4] >= MAX_COUNT:
        return False  # out of range: the lenient reader decides, as it always has
    model = message.model
    model = intern(model) if model else "unknown"
    request_id = record.requestId
    key = f"cc:{message_id}:{request_id}" if request_id else f"cc:{message_id}"
    session_id = record.sessionId
    session_id = intern(session_id) if session_id else fallback_session_id
    cwd = record.cwd
    cwd = intern(cwd) if cwd is not None else ""
    branch = record.gitBranch
    speed = usage.speed
    server_tools = usage.server_tool_use
    chunk.calls.add(
        key,
        CLAUDE,
        session_id,
        ts_ms,
        model,
        speed if speed else "standard",
        counts,
        model == "<synthetic>" or record.isApiErrorMessage,
        record.isSidechain,
        cwd,
        intern(branch) if branch is not None else "",
        0 if server_tools is None else web_searches_of(server_tools.web_search_requests),
        "" if usage.inference_geo is None else intern(usage.inference_geo),
    )
    if usage.iterations:
        for index, iteration in enumerate(usage.iterations):
            if iteration.type == ADVISOR_ITERATION:
                add_advisor_call(
                    chunk,
                    advisor_key(key, index),
                    session_id,
                    ts_ms,
                    iteration.model or record.advisorModel or "unknown",
                    _counts(iteration),
                    record.isSidechain,
                    cwd,
                    intern(branch) if branch is not None else "",
                )
    for block, tool_input in tool_inputs:
        add_tool_use(str(block.id), str(block.name), tool_input, key, session_id, ts_ms, cwd, chunk)
    return True


def _counts(usage: _Usage | _Iteration) -> tuple[int, int, int, int, int, int]:
    """As `shared.sources.claude.usage_counts` reads a usage object."""
    cache_write_total = usage.cache_creation_input_tokens
    split = usage.cache_creation
    if split is not None:
        write_1h = split.ephemeral_1h_input_tokens
        write_5m = split.ephemeral_5m_input_tokens
        unexplained = cache_write_total - write_1h - write_5m
        if unexplained > 0:
            write_5m += unexplained
    else:
        write_1h, write_5m = 0, cache_write_total
    return (
        usage.input_tokens,
        usage.output_tokens,
        write_5m,
        write_1h,
        usage.cache_read_input_tokens,
        0,
    )
