"""Claude Code transcripts (`projects/<encoded-cwd>/<session>.jsonl`) into usage events.

Claude Code writes one line per content block of a streamed reply, all sharing
`message.id` and `requestId`; only the last carries the real `output_tokens`. Each line
becomes an event with the same dedupe key and the ledger keeps the largest, so the
result does not depend on how the file was split across reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from sys import intern
from typing import Any

from stringzilla import find as find_bytes

from shared.sources.events import (
    ADVISOR_KEY,
    CLAUDE,
    MAX_COUNT,
    ParsedChunk,
    advisor_key,
    count_of,
    web_searches_of,
)
from shared.sources.hashing import input_hash
from shared.sources.jsonline import load_line
from shared.sources.timeutil import iso_to_ms

PATH_KEYS = ("file_path", "path", "notebook_path")
# Claude Code's own file tools, whose path arguments are file paths. Another tool's (an MCP
# server's) `path` can be an API path with a query string or a SQL text: kept only when it
# looks like a file path, so no query, secret or statement reaches the ledger.
FILE_TOOLS = frozenset(
    {"Read", "Edit", "Write", "MultiEdit", "NotebookEdit", "NotebookRead", "Grep", "Glob", "LS"}
)
# A value an MCP tool calls `path` is stored only when it reads as a file path: POSIX or
# Windows (`C:\\proj\\notes.md`, `C:/proj/notes.md`), made of path characters, with a
# folder separator or a file extension, and with spaces only in an absolute path: words
# ("DROP TABLE customers", "my password is … and/or …", "the key is … see notes.md") are
# not kept; an API path with a query is not either.
PLAIN_PATH = re.compile(r"(?:[A-Za-z]:[\\/])?[\w ./~@+\\-]+")
PATH_SHAPE = re.compile(r"[\\/]|\.[A-Za-z0-9]{1,10}$")
ABSOLUTE = re.compile(r"[/~]|[A-Za-z]:[\\/]")
# Claude Code's own tools are given file paths, but a model can hand Read a URL (with its
# query and token) or Grep a glob (`src/**/*.py`): neither names a file, neither is kept.
NOT_A_FILE = re.compile(r"://|\*")


def is_file_path(value: str, own_tool: bool) -> bool:
    """Whether a tool's path argument is kept as a file it touched (see PLAIN_PATH)."""
    if NOT_A_FILE.search(value):
        return False
    if own_tool:
        return True
    return (
        PLAIN_PATH.fullmatch(value) is not None
        and PATH_SHAPE.search(value) is not None
        and (" " not in value or ABSOLUTE.match(value) is not None)
    )


# A call's key: `cc:{message.id}:{requestId}`, or `cc:{message.id}` for a line without a
# request id, or `cc:line:{uuid or hash}:{time}` for one without a message id (both readers
# spell them out, `_read_assistant` and `shared.sources.claude_typed`, on their hot paths).
KEY_PREFIX = "cc:"
MAX_LINE_ID = 128
NO_MESSAGE_PREFIX = "cc:line:"


def message_of(key: str) -> str | None:
    """The `message.id` a Claude call's key was made from: None for a line that had none
    (`cc:line:…`), for an advisor's call (it follows the call it was made in) and for
    another agent's key. Request ids (`req_…`) hold no colon, so the id is what comes before
    the key's last colon; a message id with a colon of its own, on a line with no request
    id, reads as shorter (a gateway's ids; Anthropic's are `msg_…`)."""
    if not key.startswith(KEY_PREFIX) or key.startswith(NO_MESSAGE_PREFIX) or ADVISOR_KEY in key:
        return None
    head, colon, tail = key[len(KEY_PREFIX) :].rpartition(":")
    return head if colon else tail


def looks_like_json_object(line: bytes) -> bool:
    """Cheap shape check for lines the prefilter does not parse: a line that is not
    `{...}` is counted as rejected without paying for a parse."""
    stripped = line.strip()
    return not stripped or (stripped[:1] == b"{" and stripped[-1:] == b"}")


USAGE_MARK = b'"usage"'
ERROR_MARK = b'"is_error":'
TypedReader = Callable[[bytes, str, "ParsedChunk"], bool]
# The typed fast way to read usage lines (shared.sources.claude_typed), once a process has
# switched it on: the ingest's parser workers do. A small read (a report while an agent
# works) keeps to the lenient way alone, since importing msgspec (~25 ms) costs more than
# the fast way saves below ~45 MB. Both ways give the same rows.
_typed: TypedReader | None = None


def use_typed_reader() -> None:
    global _typed
    if _typed is not None:
        return
    from shared.sources.claude_typed import read_usage_line

    _typed = read_usage_line


def parse_claude_lines(
    data: bytes, fallback_session_id: str, into: ParsedChunk | None = None
) -> ParsedChunk:
    """Parse complete lines (the buffer ends at a newline or is empty); with `into`, add to
    that chunk.

    Only lines that carry usage or a tool error are parsed. They are found by searching
    the whole buffer for the two markers instead of testing line by line; every other
    line only gets its first and last byte looked at. The marker searches are the
    parser's biggest cost: stringzilla's SIMD search does them ~4x faster than
    `bytes.find` (0.27 against 1.12 CPU s on the 886 MB Claude half of the bench history),
    whose skip table stalls on the `"` that ends `"usage"` and fills JSON.
    """
    chunk = ParsedChunk() if into is None else into
    typed = _typed
    if b"\r" in data:
        # Unusual line endings: take the simple line-by-line path, same results.
        return _parse_split_lines(data, fallback_session_id, chunk, typed)
    find = data.find
    end = len(data)
    next_usage = find_bytes(data, USAGE_MARK)
    next_error = find_bytes(data, ERROR_MARK)
    if next_usage < 0:
        next_usage = end
    if next_error < 0:
        next_error = end
    lines = 0
    pos = 0
    while pos < end:
        nl = find(b"\n", pos)
        if nl < 0:
            nl = end
        if next_usage < nl or next_error < nl:
            line = data[pos:nl]
            lines += 1
            has_usage = next_usage < nl
            has_error = next_error < nl and (
                b'"is_error":true' in line or b'"is_error": true' in line
            )
            if has_usage:
                next_usage = find_bytes(data, USAGE_MARK, nl)
                if next_usage < 0:
                    next_usage = end
            if next_error < nl:
                next_error = find_bytes(data, ERROR_MARK, nl)
                if next_error < 0:
                    next_error = end
            if has_usage or has_error:
                _read_line(line, has_usage, has_error, fallback_session_id, chunk, typed)
            elif not looks_like_json_object(line):
                chunk.rejected_lines += 1
        elif data[pos] == 0x7B and data[nl - 1] == 0x7D:  # "{...}": a JSON object's shape
            lines += 1
        else:
            stripped = data[pos:nl].strip()
            if stripped:
                lines += 1
                if not (stripped[:1] == b"{" and stripped[-1:] == b"}"):
                    chunk.rejected_lines += 1
        pos = nl + 1
    chunk.lines += lines
    return chunk


def _parse_split_lines(
    data: bytes, fallback_session_id: str, chunk: ParsedChunk, typed: TypedReader | None
) -> ParsedChunk:
    for line in data.splitlines():
        if not line.strip():
            continue
        chunk.lines += 1
        has_usage = USAGE_MARK in line
        has_error = b'"is_error":true' in line or b'"is_error": true' in line
        if not (has_usage or has_error):
            if not looks_like_json_object(line):
                chunk.rejected_lines += 1
            continue
        _read_line(line, has_usage, has_error, fallback_session_id, chunk, typed)
    return chunk


def _read_line(
    line: bytes,
    has_usage: bool,
    has_error: bool,
    fallback_session_id: str,
    chunk: ParsedChunk,
    typed: TypedReader | None,
) -> None:
    if (
        typed is not None
        and has_usage
        and not has_error
        and typed(line, fallback_session_id, chunk)
    ):
        return
    try:
        record = load_line(line)
    except ValueError:
        chunk.rejected_lines += 1
        return
    if not isinstance(record, dict):
        chunk.rejected_lines += 1
        return
    message = record.get("message")
    if not isinstance(message, dict):
        return
    if has_usage:
        _read_assistant(record, message, fallback_session_id, chunk)
    if has_error:
        _read_tool_errors(message, chunk)


def _read_assistant(
    record: dict[str, Any], message: dict[str, Any], fallback_session_id: str, chunk: ParsedChunk
) -> None:
    # The hottest code of an ingest: one pass over the fields, no object per call.
    usage = message.get("usage")
    if not isinstance(usage, dict) or "input_tokens" not in usage or "output_tokens" not in usage:
        return
    get = record.get
    ts_ms = iso_to_ms(get("timestamp"))
    if ts_ms is None:
        chunk.rejected_lines += 1
        return
    usage_get = usage.get
    counts = usage_counts(usage)
    # No count is negative here, so the sum is beyond range if any count is.
    if counts[0] + counts[1] + counts[2] + counts[3] + counts[4] >= MAX_COUNT:
        chunk.rejected_lines += 1
        return
    model = message.get("model")
    # Interned: a chunk's rows then share one string per model, session, folder and branch,
    # which pickle sends once (rows travel from the parser processes to the writer).
    model = intern(model) if isinstance(model, str) and model else "unknown"
    message_id = message.get("id")
    request_id = get("requestId")
    if isinstance(message_id, str) and message_id:
        if isinstance(request_id, str) and request_id:
            key = f"cc:{message_id}:{request_id}"
        else:
            key = f"cc:{message_id}"
    else:
        # An id only: a `uuid` that is not a short string (an object, a text) became part of
        # the key as it was, text and all (found by the privacy audit).
        line_id = get("uuid")
        if not (isinstance(line_id, str) and 0 < len(line_id) <= MAX_LINE_ID):
            line_id = input_hash(usage)
        key = f"cc:line:{line_id}:{ts_ms}"

    session_id = get("sessionId")
    if isinstance(session_id, str) and session_id:
        session_id = intern(session_id)
    else:
        session_id = fallback_session_id
    cwd = get("cwd")
    cwd = intern(cwd) if isinstance(cwd, str) else ""
    branch = get("gitBranch")
    speed = usage_get("speed")
    server_tools = usage_get("server_tool_use")
    chunk.calls.add(
        key,
        CLAUDE,
        session_id,
        ts_ms,
        model,
        speed if isinstance(speed, str) and speed else "standard",
        counts,
        model == "<synthetic>" or bool(get("isApiErrorMessage")),
        bool(get("isSidechain")),
        cwd,
        intern(branch) if isinstance(branch, str) else "",
        web_searches_of(server_tools.get("web_search_requests"))
        if isinstance(server_tools, dict)
        else 0,
        intern(geo) if isinstance(geo := usage_get("inference_geo"), str) else "",
    )
    iterations = usage_get("iterations")
    if isinstance(iterations, list):
        advisor = get("advisorModel")
        for index, iteration in enumerate(iterations):
            if isinstance(iteration, dict) and iteration.get("type") == ADVISOR_ITERATION:
                advisor_model = iteration.get("model")
                if not (isinstance(advisor_model, str) and advisor_model):
                    # The line names the advisor too, should the entry not.
                    advisor_model = advisor if isinstance(advisor, str) and advisor else "unknown"
                add_advisor_call(
                    chunk,
                    advisor_key(key, index),
                    session_id,
                    ts_ms,
                    advisor_model,
                    usage_counts(iteration),
                    bool(get("isSidechain")),
                    cwd,
                    intern(branch) if isinstance(branch, str) else "",
                )
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                _read_tool_use(block, key, session_id, ts_ms, cwd, chunk)


def usage_counts(usage: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    """A usage object's counts in the order `ParsedChunk.calls.add` takes them (input,
    output, 5m and 1h cache writes, cache reads, reasoning); for a line's usage and for an
    advisor's iteration inside it alike."""
    usage_get = usage.get
    cache_write_total = count_of(usage_get("cache_creation_input_tokens"))
    split = usage_get("cache_creation")
    if isinstance(split, dict):
        write_1h = count_of(split.get("ephemeral_1h_input_tokens"))
        write_5m = count_of(split.get("ephemeral_5m_input_tokens"))
        # Whatever the split does not explain is priced at the 5m rate, like the old logs.
        write_5m += max(0, cache_write_total - write_1h - write_5m)
    else:
        write_1h, write_5m = 0, cache_write_total
    return (
        count_of(usage_get("input_tokens")),
        count_of(usage_get("output_tokens")),
        write_5m,
        write_1h,
        count_of(usage_get("cache_read_input_tokens")),
        0,
    )


# Claude Code's advisor tool (`/advisor`: a stronger model consulted mid-turn) writes the
# advisor's own model call as an entry of this type in `message.usage.iterations`, with
# its `model` and counts; the line's own usage covers only the main model's iterations.
# Entries of other types (`message`, the main model's; `fallback_message`, an attempt
# that failed over and is not billed) are already in the line's usage or cost nothing.
ADVISOR_ITERATION = "advisor_message"


def add_advisor_call(
    chunk: ParsedChunk,
    key: str,
    session_id: str,
    ts_ms: int,
    model: str,
    counts: tuple[int, int, int, int, int, int],
    is_sidechain: bool,
    cwd: str,
    branch: str,
) -> None:
    """An advisor's model call, timed and placed as the line it was logged in; a call of
    its own (the line's key and the entry's place in `iterations`), so the same entry read
    again from a later streamed line or a re-read counts once."""
    if not any(counts) or sum(counts) >= MAX_COUNT:
        return
    chunk.calls.add(
        key,
        CLAUDE,
        session_id,
        ts_ms,
        intern(model),
        "standard",
        counts,
        model == "<synthetic>",
        is_sidechain,
        cwd,
        branch,
    )


def _read_tool_use(
    block: dict[str, Any], event_key: str, session_id: str, ts_ms: int, cwd: str, chunk: ParsedChunk
) -> None:
    tool_id = block.get("id")
    name = block.get("name")
    if not isinstance(tool_id, str) or not isinstance(name, str):
        return
    add_tool_use(tool_id, name, block.get("input"), event_key, session_id, ts_ms, cwd, chunk)


def add_tool_use(
    tool_id: str,
    name: str,
    tool_input: object,
    event_key: str,
    session_id: str,
    ts_ms: int,
    cwd: str,
    chunk: ParsedChunk,
) -> None:
    if isinstance(tool_input, dict):
        own_tool = name in FILE_TOOLS
        for path_key in PATH_KEYS:
            value = tool_input.get(path_key)
            if isinstance(value, str) and value and is_file_path(value, own_tool):
                chunk.tool_file_rows.append((tool_id, normalise_path(value, cwd)))
        hashed: object = tool_input.get("command") if name == "Bash" else tool_input
    else:
        hashed = tool_input
    chunk.tool_rows.append((tool_id, event_key, session_id, ts_ms, name, input_hash(hashed)))


def _read_tool_errors(message: dict[str, Any], chunk: ParsedChunk) -> None:
    content = message.get("content")
    if not isinstance(content, list):
        return
    for block in content:
        if (
            isinstance(block, dict)
            and block.get("type") == "tool_result"
            and block.get("is_error") is True
            and isinstance(block.get("tool_use_id"), str)
        ):
            chunk.tool_errors.append(block["tool_use_id"])


def normalise_path(path: str, cwd: str) -> str:
    """Absolute, normalised path; relative paths are taken from the session's cwd."""
    if not os.path.isabs(path) and cwd and os.path.isabs(cwd):
        path = os.path.join(cwd, path)
    return os.path.normpath(path)
