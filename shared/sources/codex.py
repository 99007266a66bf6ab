"""Codex rollouts (`sessions/YYYY/MM/DD/rollout-*.jsonl`) into usage events.

Codex logs a cumulative `total_token_usage` after each model call and often re-emits it
unchanged; a model call is a change of that cumulative total, and its usage is the line's
`last_token_usage` (which Codex adds to the total), so a total that starts again (an older
Codex resuming a session in the same rollout, a fork seeded with its parent's total) counts
each call once. Keys are built from the session id and the cumulative totals, so the same
rollout read twice (say once as `.jsonl`, later archived as `.jsonl.zst`) gives the same
keys and counts once.

A rollout may open with a copy of another thread's history: a fork (`forked_from_id` in
its own `session_meta`), and a subagent spawned with `thread_spawn`, whose copy starts with
the parent's `session_meta` right after its own (another id, before any model call of its
own). The copy holds the parent's `session_meta`, turns and `token_count` lines; it is read
only as the baseline of the cumulative total, never as new spend: the parent's own rollout
counts those calls (a parent's rollout never read counts none of them). The copy ends at the
first record whose `ordinal` reaches `subagent_history_start_ordinal` (newer rollouts); or,
when its lines keep their original times (earlier than the rollout's own header), at the
first line from the header's time on; or, when they were re-stamped at the fork instant and
written in one burst, at the fork's own `thread_settings_applied` event or the first pause of
a second or more between records (the child's own first model call is a round trip later).

Codex 0.154 and later also log each model response's usage on its own
(`token_usage_record`, with the `response_id`). A remote compaction's request is in no
`token_count` total (the next total does not move): its record, the one whose `response_id`
a `compacted` line names as `compaction_response_id` (in either order), is counted as a call
of its own, keyed by that id, unless an advancing `token_count` took it in first (a local
compaction's does: its change, or its total, is the record's usage, or `thread_token_usage`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.sources.claude import looks_like_json_object, normalise_path
from shared.sources.events import (
    CODEX,
    ParsedChunk,
    RateLimitRow,
    ToolCall,
    count_of,
    has_absurd_count,
)
from shared.sources.hashing import input_hash
from shared.sources.jsonline import load_line
from shared.sources.timeutil import iso_to_ms

# A patch's file lines: `*** Add File: PATH`, `*** Update File: PATH`, `*** Delete File: PATH`
# and `*** Move to: PATH`, each at the start of a line (checked by `_patch_paths`). Starting
# with a literal lets the regex engine jump from one `*** ` to the next; a `^` anchor in
# MULTILINE mode made it try every character (0.25 of the Codex parser's ~2 CPU s on the
# bench history, now 0.02).
# An id: no space, no quote, not over 128 bytes (a byte that is not UTF-8 stays, see
# _read_tool_output).
CALL_ID_IN_LINE = re.compile(rb'"call_id"\s*:\s*"([^"\s\\]{1,128})"')
PATCH_LINE = re.compile(r"\*\*\* (?:(Add|Update|Delete) File|Move to): ([^\n]+)")
FAILED_EXIT = re.compile(
    rb'exit_code\\?"\s*:\s*[1-9]|(?:Process exited with code|Exit code:) [1-9]'
)
EXIT_CODE_FAILED = re.compile(rb'exit_code\\?"\s*:\s*[1-9]')
# The shell tool's output is JSON text inside the JSON line: {"output":…,"metadata":{…}}.
SHELL_EXIT_CODE = b'\\"metadata\\":{\\"exit_code\\"'
# Codex's own answer to a tool call it refused or could not run: the whole output is its
# message (codex-rs `FunctionCallError::RespondToModel`, written as a plain string; the
# `success: false` kept beside it is never logged). For apply_patch: a patch that does not
# fit the file (`apply_patch verification failed: Failed to find expected lines in …`, or
# a malformed hunk), one the handler cannot read (`apply_patch handler received invalid
# patch input`), one the safety check or the user declined (`patch rejected: …`, `patch
# rejected by user`), and a sandbox or runtime error (`execution error: …`). Such a
# patch changed nothing. Matched at the start of the line's first `"output"` key: the
# same words inside a command's output (escaped, or after a status header) are not it.
REFUSED_OUTPUT = re.compile(
    rb'"output"\s*:\s*"(?:apply_patch verification failed|apply_patch handler received '
    rb"|patch rejected|execution error: )"
)

# Counters in a cumulative total, in the order they are kept in the state. The fifth,
# written by Codex 0.145 and later, is the part of `input_tokens` written to the prompt
# cache (GPT-5.6 and later bill it apart, at 1.25x input); it is not in a call's key, so
# rollouts read before it was counted keep their keys.
COUNTERS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "cache_write_input_tokens",
)
KEYED_COUNTERS = 4
# Codex's service tiers (`service_tier` in its thread settings), as the `speed` a call is
# stored and priced with: priority ("Fast mode", also written `fast`) and flex have prices
# of their own; the default tier (`default`, null, none) is "standard".
TIER_SPEEDS = {"priority": "fast", "fast": "fast", "flex": "flex"}
# The longest pause between two lines of one copied-history burst.
COPY_MAX_GAP_MS = 1000
COPY_BURST = "burst"
COPY_ORDINAL = "ordinal"
# A copy whose lines kept their original times: it ends at the first line from the
# rollout's own header's time on.
COPY_ORIGINAL = "original"
# A spawned subagent naming a parent in `forked_from_id` (Codex 0.144 and later name it
# for every spawned thread, CodexBar#2193): a copy only where its lines show one
# (`_spawned_opening`); otherwise its own work starts at once, and its first call may come
# within a second, which the pause rule of a fork's burst took for the copy.
COPY_SPAWNED = "spawned"
# `token_usage_record`s kept while no `compacted` line has named them, and compaction ids
# named before their record came: the newest few (a compaction's pair is a line or two apart).
KEPT_RECORDS = 8


@dataclass
class CodexState:
    """What a rollout's earlier lines told us; persisted with the file offset."""

    session_id: str = ""
    cwd: str = ""
    git_branch: str = ""
    model: str = ""
    # The service tier's speed (TIER_SPEEDS) for the calls that follow.
    speed: str = "standard"
    cumulative: list[int] | None = None
    # The time of the rollout's own header (its first `session_meta`).
    started_ms: int | None = None
    # Inside a copy of another thread's history: COPY_BURST, COPY_ORIGINAL or
    # COPY_ORDINAL, else "".
    copying: str = ""
    copy_until_ordinal: int = 0
    copy_last_ms: int | None = None
    # Usage records no advancing total has taken in yet, newest last: [response id, time,
    # counts (COUNTERS), `thread_token_usage` counts or None, model, speed].
    usage_records: list[list[Any]] = field(default_factory=list)
    # The id of the newest usage record while an advancing total may still take it in.
    open_record: str = ""
    # Compaction ids (`compacted` lines) whose usage record has not come yet.
    compactions: list[str] = field(default_factory=list)
    pending_tools: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> CodexState:
        if not raw:
            return cls()
        loaded = orjson.loads(raw)
        state = cls()
        for key, value in loaded.items():
            if hasattr(state, key):
                setattr(state, key, value)
        return state


# Serde writes every rollout line as {"timestamp":…,"type":T,"payload":{"type":P,…}}. These
# records never carry usage, tool calls, session facts or exit codes, and they hold most of
# a rollout's bytes (reasoning, messages), so a line whose head names one of them is skipped
# without searching the rest of it. Any other line gets the full marker test below. A
# `compacted` line matters only when it names a remote compaction's response
# (COMPACTION_ID); a `token_usage_record` line always.
SKIP_RECORDS = {b"compacted"}
USAGE_RECORD = b"token_usage_record"
COMPACTION_ID = b'"compaction_response_id"'
SKIP_PAYLOADS = {
    b"response_item": {b"reasoning", b"message"},
    b"event_msg": {
        b"agent_reasoning",
        b"agent_message",
        b"user_message",
        b"task_started",
        b"task_complete",
        b"context_compacted",
    },
}
# Tool outputs: only their exit status is read, from the bytes.
TOOL_OUTPUTS = {b"function_call_output", b"custom_tool_call_output"}
# A tool output's own `"type"` key, as JSON writes it (the same words inside a string
# value have their quotes escaped, so they do not match).
TOOL_OUTPUT_TYPE = re.compile(rb'"type"\s*:\s*"(?:function_call_output|custom_tool_call_output)"')
# The head serde writes on every line: {"timestamp":…,"type":T,"payload":{"type":P. One
# regex match reads T and P (one C call instead of several searches per line).
HEAD = re.compile(
    rb'\{"timestamp":"[^"]{0,40}","type":"([^"]{0,39})"(?:,"payload":\{"type":"([^"]{0,39})")?'
)


TokenCountReader = Callable[[bytes, "CodexState", str, ParsedChunk, list[tuple[str, str]]], bool]
# The typed fast way to read `token_count` lines (shared.sources.codex_typed), once a
# process has switched it on: the ingest's parser workers do, as for Claude's usage lines
# (`shared.sources.claude.use_typed_reader`). Both ways give the same rows.
_typed: TokenCountReader | None = None


def use_typed_reader() -> None:
    global _typed
    if _typed is not None:
        return
    from shared.sources.codex_typed import read_token_count_line

    _typed = read_token_count_line


def parse_codex_lines(
    data: bytes, state: CodexState, fallback_session_id: str, into: ParsedChunk | None = None
) -> ParsedChunk:
    """Parse complete lines; with `into`, add to that chunk (one archive read in pieces
    gives the rows of one read of the whole)."""
    chunk = ParsedChunk() if into is None else into
    links = chunk.tool_links
    if b"\r" in data:
        # Unusual line endings: take the simple line-by-line path, same results.
        for line in data.splitlines():
            if line.strip():
                _read_line(line, state, fallback_session_id, chunk, links)
        return chunk
    find = data.find
    head_of = HEAD.match
    typed = _typed
    end = len(data)
    pos = 0
    while pos < end:
        nl = find(b"\n", pos)
        if nl < 0:
            nl = end
        if data[pos] == 0x7B and data[nl - 1] == 0x7D:
            head = None if state.copying else head_of(data, pos, nl)
            if head is not None:
                kind, payload_type = head.groups()
                if kind in SKIP_RECORDS:
                    chunk.lines += 1
                    if find(COMPACTION_ID, pos, nl) >= 0:
                        _read_full(data[pos:nl], state, fallback_session_id, chunk, links)
                    pos = nl + 1
                    continue
                if kind == USAGE_RECORD:
                    chunk.lines += 1
                    _read_full(data[pos:nl], state, fallback_session_id, chunk, links)
                    pos = nl + 1
                    continue
                if payload_type is not None and payload_type in SKIP_PAYLOADS.get(kind, ()):
                    chunk.lines += 1
                    pos = nl + 1
                    continue
                if kind == b"response_item" and payload_type in TOOL_OUTPUTS:
                    # What the marker tests in _read_line would conclude after several
                    # searches of these long lines (a quarter of a rollout's bytes).
                    chunk.lines += 1
                    _read_tool_output(data[pos:nl], chunk)
                    pos = nl + 1
                    continue
                line = data[pos:nl]
                if (
                    payload_type == b"token_count"
                    and kind == b"event_msg"
                    and typed is not None
                    and typed(line, state, fallback_session_id, chunk, links)
                ):
                    chunk.lines += 1
                    pos = nl + 1
                    continue
            else:
                line = data[pos:nl]
        else:
            line = data[pos:nl]
            if not line.strip():
                pos = nl + 1
                continue
        _read_line(line, state, fallback_session_id, chunk, links)
        pos = nl + 1
    return chunk


def _read_line(
    line: bytes,
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
    links: list[tuple[str, str]],
) -> None:
    chunk.lines += 1
    if state.copying and _read_copied_history(line, state, chunk):
        return
    # Only these records matter (plain `in` tests: cheaper than a loop over a tuple).
    if not (
        b'"token_count"' in line
        or b'"turn_context"' in line
        or b'"session_meta"' in line
        or b'"function_call"' in line
        or b'"custom_tool_call"' in line
        or b'"local_shell_call"' in line
        or b'"web_search_call"' in line
        or b'"thread_settings_applied"' in line
        or b"_output" in line
        or b'"token_usage_record"' in line
        or COMPACTION_ID in line
    ):
        if not looks_like_json_object(line):
            chunk.rejected_lines += 1
        return
    if (
        b'_output"' in line
        and b'"token_count"' not in line
        and TOOL_OUTPUT_TYPE.search(line) is not None
    ):
        # Tool output can be huge; only its exit status matters, read from the bytes. (A
        # tool call whose name or arguments end in `_output`, `ci__get_job_output` or
        # `rm -rf build_output`, is not one: it was dropped as one.)
        _read_tool_output(line, chunk)
        return
    _read_full(line, state, fallback_session_id, chunk, links)


def _read_full(
    line: bytes,
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
    links: list[tuple[str, str]],
) -> None:
    """Decode a line (not counted here) and read the record it holds."""
    try:
        record = load_line(line)
    except ValueError:
        chunk.rejected_lines += 1
        return
    if not isinstance(record, dict):
        chunk.rejected_lines += 1
        return
    if not isinstance(record.get("payload"), dict):
        # Valid JSON with nothing to read: Codex before mid-2025 wrote its items bare, with
        # no `payload` envelope (and no token counts). Counted as malformed, such a file
        # was reported in every `doctor` for good.
        return
    _read_record(record, state, fallback_session_id, chunk, links)


def _read_tool_output(line: bytes, chunk: ParsedChunk) -> None:
    """A failing tool output marks its call as failed (only that: no output text is kept)."""
    if not (_refused(line) or _failed_exit(line)):
        return
    # An id's bytes only: on a torn line (two records run together) everything up to the
    # next quote could be some other record's text (found by the privacy audit).
    match = CALL_ID_IN_LINE.search(line)
    if match:
        # Bytes that are not UTF-8 become U+FFFD, as load_line reads them in the tool call.
        chunk.tool_errors.append(f"cx:{match.group(1).decode('utf-8', 'replace')}")


def _refused(line: bytes) -> bool:
    """Whether a tool output is Codex's message that it refused or could not run the call
    (REFUSED_OUTPUT). The first `"output"` in the line is the payload's key: inside a
    string value its quotes are escaped, and the item's own type (`custom_tool_call_output`)
    has no quote before `output`."""
    found = line.find(b'"output"')
    return found >= 0 and REFUSED_OUTPUT.match(line, found) is not None


def _failed_exit(line: bytes) -> bool:
    """Whether a tool output reports a failing exit status, by plain byte searches (outputs
    are long). The shell tool's JSON output puts `metadata.exit_code` after the output
    text, so its last occurrence counts; exec output starts with a status header, so the
    first occurrence counts. Either way the output text cannot pose as the status."""
    found = line.rfind(SHELL_EXIT_CODE)
    if found >= 0:
        return bool(EXIT_CODE_FAILED.match(line, found + SHELL_EXIT_CODE.index(b"exit_code")))
    for needle in (b"Process exited with code ", b"Exit code: "):
        found = line.find(needle)
        if found >= 0:
            digit = found + len(needle)
            return digit < len(line) and 0x31 <= line[digit] <= 0x39
    return False


def _read_copied_history(line: bytes, state: CodexState, chunk: ParsedChunk) -> bool:
    """True if the line belongs to a copy of another thread's history; such a line only
    moves the cumulative baseline (and the model). False once the copy has ended."""
    try:
        record = load_line(line)
    except ValueError:
        chunk.rejected_lines += 1
        return True
    if not isinstance(record, dict):
        chunk.rejected_lines += 1
        return True
    return _copied(record, state)


def _copied(record: dict[str, Any], state: CodexState) -> bool:
    """`_read_copied_history` for a decoded record."""
    payload = record.get("payload") if isinstance(record.get("payload"), dict) else {}
    assert isinstance(payload, dict)
    if state.copying == COPY_SPAWNED:
        return _spawned_opening(record, payload, state)
    if state.copying == COPY_ORDINAL:
        ordinal = record.get("ordinal")
        if not (isinstance(ordinal, int) and ordinal < state.copy_until_ordinal):
            state.copying = ""
            return False
    elif (
        record.get("type") == "event_msg"
        and payload.get("type") == "thread_settings_applied"
        and payload.get("thread_id") == state.session_id
    ):
        state.copying = ""
        _read_thread_settings(payload, state)
        return True
    else:
        ts_ms = iso_to_ms(record.get("timestamp"))
        started = state.started_ms
        if ts_ms is None:
            pass
        elif state.copying == COPY_ORIGINAL:
            if started is None or ts_ms >= started:
                state.copying = ""
                return False
        elif state.copy_last_ms is None and started is not None and ts_ms < started:
            # The copy's first line is older than the rollout itself: the copy kept the
            # parent's times, and the rollout's own lines are the ones from its start on.
            state.copying = COPY_ORIGINAL
        else:
            last = state.copy_last_ms
            state.copy_last_ms = ts_ms
            if last is not None and ts_ms - last >= COPY_MAX_GAP_MS:
                state.copying = ""
                return False
    kind = record.get("type")
    if kind == "turn_context":
        if isinstance(payload.get("model"), str):
            state.model = payload["model"]
        _read_turn_tier(payload, state)
    elif kind == "event_msg" and payload.get("type") == "token_count":
        info = payload.get("info")
        if isinstance(info, dict) and isinstance(info.get("total_token_usage"), dict):
            state.cumulative = [_count(info["total_token_usage"], name) for name in COUNTERS]
    elif kind == "event_msg" and payload.get("type") == "thread_settings_applied":
        _read_thread_settings(payload, state)
    return True


def _read_record(
    record: dict[str, Any],
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
    links: list[tuple[str, str]],
) -> None:
    kind = record.get("type")
    payload: dict[str, Any] = record["payload"]
    if kind == "session_meta":
        _read_session_meta(payload, record, state)
    elif kind == "turn_context":
        if isinstance(payload.get("model"), str):
            state.model = payload["model"]
        if isinstance(payload.get("cwd"), str):
            state.cwd = payload["cwd"]
        _read_turn_tier(payload, state)
    elif kind == "response_item":
        _read_tool_call(payload, record, state, fallback_session_id, chunk)
    elif kind == "event_msg" and payload.get("type") == "token_count":
        _read_token_count(payload, record, state, fallback_session_id, chunk, links)
    elif kind == "event_msg" and payload.get("type") == "thread_settings_applied":
        _read_thread_settings(payload, state)
    elif kind == "token_usage_record":
        _read_usage_record(payload, record, state, fallback_session_id, chunk)
    elif kind == "compacted":
        _read_compacted(payload, state, fallback_session_id, chunk)


def tier_speed(tier: object) -> str:
    """The `speed` of calls run on a Codex service tier (TIER_SPEEDS)."""
    return TIER_SPEEDS.get(tier, "standard") if isinstance(tier, str) else "standard"


def _read_thread_settings(payload: dict[str, Any], state: CodexState) -> None:
    """`thread_settings_applied` (Codex from mid-2026) carries the thread's settings whole,
    so a tier it does not name (null, left out) is the default one."""
    settings = payload.get("thread_settings")
    if not isinstance(settings, dict):
        settings = payload
    state.speed = tier_speed(settings.get("service_tier"))


def _read_turn_tier(payload: dict[str, Any], state: CodexState) -> None:
    # Older turn contexts say nothing of the tier: the one set before still holds.
    if "service_tier" in payload:
        state.speed = tier_speed(payload["service_tier"])


def _read_session_meta(payload: dict[str, Any], record: dict[str, Any], state: CodexState) -> None:
    """The rollout's own header: its session, folder, branch and time, and whether a copy
    of another thread's history follows (a fork's; numbered records up to
    `subagent_history_start_ordinal`, a spawned subagent's too)."""
    if state.session_id:
        # Only the rollout's own header (its first line) describes it. Another thread's
        # header before any model call of the rollout's own opens a copy of that thread's
        # history (a subagent spawned with `thread_spawn`).
        other = payload.get("id")
        if (
            isinstance(other, str)
            and other
            and other != state.session_id
            and state.cumulative is None
            and not state.copying
        ):
            state.copying, state.copy_last_ms = COPY_BURST, None
            _copied(record, state)
        return
    if isinstance(payload.get("id"), str):
        state.session_id = payload["id"]
    state.started_ms = iso_to_ms(record.get("timestamp")) or iso_to_ms(payload.get("timestamp"))
    if isinstance(payload.get("cwd"), str):
        state.cwd = payload["cwd"]
    git = payload.get("git")
    if isinstance(git, dict) and isinstance(git.get("branch"), str):
        state.git_branch = git["branch"]
    if payload.get("history_base"):
        return
    start = payload.get("subagent_history_start_ordinal")
    if isinstance(start, int) and not isinstance(start, bool):
        state.copying, state.copy_until_ordinal = COPY_ORDINAL, start
    elif payload.get("forked_from_id"):
        state.copying = COPY_SPAWNED if _spawned(payload) else COPY_BURST


def _spawned_opening(record: dict[str, Any], payload: dict[str, Any], state: CodexState) -> bool:
    """`_copied` for a spawned subagent's lines until one shows how it opens: a line older
    than its header starts a copy that kept the parent's times; the parent's header
    starts a re-stamped copy (the caller reads it: `_read_session_meta`); a first total
    that holds more than its own call was inherited from the parent (Codex Desktop's
    fan-outs, CodexBar#3524) and is only the baseline; a first total that is its call's
    own is the subagent's first call. Other lines are read as any line."""
    ts_ms = iso_to_ms(record.get("timestamp"))
    if ts_ms is not None and state.started_ms is not None and ts_ms < state.started_ms:
        state.copying = COPY_ORIGINAL
        return _copied(record, state)
    kind = record.get("type")
    if kind == "session_meta":
        state.copying = ""
        return False
    if kind != "event_msg" or payload.get("type") != "token_count":
        return False
    info = payload.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
        return False
    state.copying = ""
    total = [_count(info["total_token_usage"], name) for name in COUNTERS]
    last = info.get("last_token_usage")
    if isinstance(last, dict) and total[:KEYED_COUNTERS] == [
        _count(last, name) for name in COUNTERS[:KEYED_COUNTERS]
    ]:
        return False
    state.cumulative = total
    return True


def _spawned(payload: dict[str, Any]) -> bool:
    """Whether a rollout's header says a parent thread spawned it (`thread_spawn`)."""
    source = payload.get("source")
    subagent = source.get("subagent") if isinstance(source, dict) else None
    return isinstance(subagent, dict) and "thread_spawn" in subagent


def _read_tool_call(
    payload: dict[str, Any],
    record: dict[str, Any],
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
) -> None:
    item_type = payload.get("type")
    if item_type == "web_search_call":
        _read_web_search(payload, record, state, fallback_session_id, chunk)
        return
    if item_type not in ("function_call", "custom_tool_call", "local_shell_call"):
        return
    call_id = payload.get("call_id") or payload.get("id")
    if not isinstance(call_id, str):
        return
    ts_ms = iso_to_ms(record.get("timestamp")) or 0
    name = payload.get("name") if isinstance(payload.get("name"), str) else item_type
    raw_input = (
        payload.get("input") if item_type == "custom_tool_call" else payload.get("arguments")
    )
    if item_type == "local_shell_call":
        raw_input = payload.get("action")
    shell_patch = _shell_patch(name, raw_input)
    if shell_patch is not None:
        # Older Codex ran apply_patch through its shell tool: it is a change all the same.
        name = "apply_patch"
        patch_text, workdir = shell_patch
        # A relative working folder is the session's folder's.
        folder = os.path.join(state.cwd, workdir) if workdir else state.cwd
        paths = _paths_in_patch(patch_text, folder)
    else:
        paths = _patch_paths(name, raw_input, state.cwd)
    _add_tool(
        ToolCall(
            tool_id=f"cx:{call_id}",
            event_key=None,
            session_id=state.session_id or fallback_session_id,
            ts_ms=ts_ms,
            tool_name=str(name),
            input_hash=input_hash(raw_input),
            paths=paths,
        ),
        state,
        chunk,
    )


def _add_tool(tool: ToolCall, state: CodexState, chunk: ParsedChunk) -> None:
    """A tool call, waiting for the model call after it (the token count that follows)."""
    chunk.tool_calls.append(tool)
    state.pending_tools.append(tool.tool_id)


def _read_web_search(
    payload: dict[str, Any],
    record: dict[str, Any],
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
) -> None:
    """Codex's own web search, a tool call named `web_search` (it explores, as Claude's
    WebSearch does). Its items carry no call id: the search is known by its session, time
    and a hash of what it searched, the same however often the rollout is read."""
    ts_ms = iso_to_ms(record.get("timestamp"))
    if ts_ms is None:
        return
    session_id = state.session_id or fallback_session_id
    given = payload.get("call_id") or payload.get("id")
    searched = input_hash(payload.get("action"))
    tool_id = f"cx:{given}" if isinstance(given, str) else f"cx:ws:{session_id}:{ts_ms}:{searched}"
    _add_tool(
        ToolCall(
            tool_id=tool_id,
            event_key=None,
            session_id=session_id,
            ts_ms=ts_ms,
            tool_name=WEB_SEARCH_TOOL,
            input_hash=searched,
        ),
        state,
        chunk,
    )


WEB_SEARCH_TOOL = "web_search"


def _patch_paths(name: object, raw_input: object, cwd: str) -> list[str]:
    if name != "apply_patch":
        return []
    text = raw_input
    if isinstance(raw_input, str) and raw_input.startswith("{"):
        try:
            decoded = orjson.loads(raw_input)
        except orjson.JSONDecodeError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("input"), str):
            text = decoded["input"]
    if not isinstance(text, str):
        return []
    return _paths_in_patch(text, cwd)


# Codex's shell tools, through which older versions (2025) ran `apply_patch`.
SHELL_TOOLS = frozenset(
    {"shell", "local_shell", "local_shell_call", "exec_command", "container.exec", "unified_exec"}
)


def _shell_patch(name: object, raw_input: object) -> tuple[str, str | None] | None:
    """The patch text and working folder of a shell call that runs `apply_patch`
    (`["apply_patch", PATCH]`, or a script, `bash -lc "apply_patch <<'EOF' …"`, that starts
    with it, after an optional `cd DIR &&`), else None. A command that only mentions
    apply_patch (a grep for it) is no patch."""
    if name not in SHELL_TOOLS:
        return None
    arguments = raw_input
    if isinstance(arguments, str):
        if "*** Begin Patch" not in arguments:
            return None  # the usual shell call: not decoded again
        try:
            arguments = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(arguments, dict):
        return None
    command = arguments.get("command", arguments.get("cmd"))
    workdir = arguments.get("workdir", arguments.get("working_directory"))
    folder = workdir if isinstance(workdir, str) and workdir else None
    if isinstance(command, list) and command and all(isinstance(p, str) for p in command):
        if os.path.basename(command[0]) == "apply_patch":
            return "\n".join(command[1:]), folder
        if len(command) >= 3 and command[-2] in ("-lc", "-c"):
            command = command[-1]  # a shell's script
    if not isinstance(command, str):
        return None
    script = command.lstrip()
    cd = re.match(r"cd\s+(\S+)\s*&&\s*", script)
    if cd is not None:
        target = cd.group(1).strip("'\"")
        folder = os.path.join(folder, target) if folder else target
        script = script[cd.end() :]
    if not script.startswith("apply_patch") or "*** Begin Patch" not in script:
        return None
    return script, folder


def _paths_in_patch(text: str, cwd: str) -> list[str]:
    # Files added, updated or deleted first, then the targets of moves.
    headers: list[str] = []
    moves: list[str] = []
    for match in PATCH_LINE.finditer(text):
        start = match.start()
        if start and text[start - 1] != "\n":
            continue
        (headers if match.group(1) else moves).append(match.group(2))
    return list(dict.fromkeys(normalise_path(path.strip(), cwd) for path in headers + moves))


def _read_token_count(
    payload: dict[str, Any],
    record: dict[str, Any],
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
    links: list[tuple[str, str]],
) -> None:
    ts_ms = iso_to_ms(record.get("timestamp"))
    info = payload.get("info")
    if ts_ms is None or (
        isinstance(info, dict)
        and has_absurd_count(info.get("total_token_usage"), info.get("last_token_usage"))
    ):
        chunk.rejected_lines += 1
        return
    session_id = state.session_id or fallback_session_id
    limits = payload.get("rate_limits")
    if isinstance(limits, dict) and is_account_limit(limits.get("limit_id")):
        chunk.rate_limits.append(_rate_limit_row(limits, session_id, ts_ms))
    if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
        return
    last = info.get("last_token_usage")
    add_token_count(
        state,
        session_id,
        ts_ms,
        [_count(info["total_token_usage"], name) for name in COUNTERS],
        [_count(last, name) for name in COUNTERS] if isinstance(last, dict) else None,
        chunk,
        links,
        # Some Codex versions name the tier on the count itself.
        tier_speed(payload["service_tier"]) if "service_tier" in payload else state.speed,
    )


def add_token_count(
    state: CodexState,
    session_id: str,
    ts_ms: int,
    cumulative: list[int],
    last: list[int] | None,
    chunk: ParsedChunk,
    links: list[tuple[str, str]],
    speed: str,
) -> None:
    """A model call if the cumulative total (COUNTERS' order) moved; `last` is the line's
    `last_token_usage`, the call's own usage; `speed`, its service tier's.

    Codex adds each call's `last_token_usage` to the total, so the change of the total is
    that usage, except across a restart of the total: an older Codex resuming a session in
    the same rollout started it again from 0, and the restarted total need not be lower in
    any counter than the one before it. So when the total moved by something other than
    `last` the call is `last` alone, provided `last` fits inside the new total (a call's
    usage is part of the total that includes it; a line where it is not is inconsistent
    and counts the change, as a line without `last` does). A total that went back counts
    `last` if present, else the total itself. A reading that adds no tokens (Codex writes
    an all-zero total after compacting a session that had no usage yet) is no call."""
    previous = state.cumulative
    if previous is not None and len(previous) < len(COUNTERS):
        # A state saved before the cache-write counter was read.
        previous = [*previous, *[0] * (len(COUNTERS) - len(previous))]
    if previous == cumulative:
        return
    state.cumulative = cumulative
    if previous is None:
        delta = cumulative
    else:
        delta = [now - before for now, before in zip(cumulative, previous, strict=True)]
    went_back = any(value < 0 for value in delta)
    if (
        last is not None
        and last != delta
        and (went_back or all(own <= now for own, now in zip(last, cumulative, strict=True)))
    ):
        delta = last
    elif went_back:
        delta = cumulative
    counts = call_counts(delta)
    if not any(counts):
        return
    if state.open_record:
        _take_in_record(state, delta, last, cumulative)
    key = f"cx:{session_id}:{':'.join(str(value) for value in cumulative[:KEYED_COUNTERS])}"
    chunk.calls.add(
        key,
        CODEX,
        session_id,
        ts_ms,
        state.model or "gpt-5",
        speed,
        counts,
        False,
        False,
        state.cwd,
        state.git_branch,
    )
    # The chunk's tool calls since the previous model call are the ones not linked yet.
    unlinked = chunk.tool_calls[chunk.tools_linked :]
    for call in unlinked:
        call.event_key = key
    chunk.tools_linked = len(chunk.tool_calls)
    if state.pending_tools:
        pending_here = {call.tool_id for call in unlinked}
        links.extend(
            (tool_id, key) for tool_id in state.pending_tools if tool_id not in pending_here
        )
        state.pending_tools = []


def call_counts(usage: list[int]) -> tuple[int, int, int, int, int, int]:
    """A call's stored counts (input, output, cache_write_5m, cache_write_1h, cache_read,
    reasoning) from its usage in COUNTERS' order."""
    d_input, d_cached, d_output, d_reasoning, d_written = usage
    d_cached = min(d_cached, d_input)
    # Cached and written input are apart: what was read from the cache was not written.
    d_written = min(d_written, d_input - d_cached)
    return (d_input - d_cached - d_written, d_output, d_written, 0, d_cached, d_reasoning)


def _take_in_record(
    state: CodexState, delta: list[int], last: list[int] | None, cumulative: list[int]
) -> None:
    """An advancing total that holds the newest usage record (its change or its own
    `last_token_usage` is the record's usage, or the total is the record's
    `thread_token_usage`): that record is counted with it, never as a compaction."""
    record = state.usage_records[-1] if state.usage_records else None
    if record is None or record[0] != state.open_record:
        state.open_record = ""
        return
    usage, thread_total = record[2][:KEYED_COUNTERS], record[3]
    if (
        delta[:KEYED_COUNTERS] == usage
        or (last is not None and last[:KEYED_COUNTERS] == usage)
        or (
            thread_total is not None
            and thread_total[:KEYED_COUNTERS] == cumulative[:KEYED_COUNTERS]
        )
    ):
        state.usage_records.pop()
        state.open_record = ""


def _read_usage_record(
    payload: dict[str, Any],
    record: dict[str, Any],
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
) -> None:
    """A `token_usage_record` (Codex 0.154 and later): one model response's usage, kept
    until a `compacted` line names it (a remote compaction's request, counted then) or an
    advancing total takes it in (add_token_count)."""
    state.open_record = ""
    response_id = payload.get("response_id")
    usage = payload.get("usage")
    ts_ms = iso_to_ms(record.get("timestamp"))
    if not isinstance(response_id, str) or not response_id.strip() or not isinstance(usage, dict):
        return
    thread_usage = payload.get("thread_token_usage")
    if ts_ms is None or has_absurd_count(usage, thread_usage):
        chunk.rejected_lines += 1
        return
    counts = [_count(usage, name) for name in COUNTERS]
    if not any(counts):
        return
    response_id = response_id.strip()
    model = payload.get("model")
    kept = [
        response_id,
        ts_ms,
        counts,
        [_count(thread_usage, name) for name in COUNTERS]
        if isinstance(thread_usage, dict)
        else None,
        model if isinstance(model, str) and model else state.model,
        tier_speed(payload["service_tier"]) if "service_tier" in payload else state.speed,
    ]
    if response_id in state.compactions:
        state.compactions.remove(response_id)
        _add_compaction(kept, state, fallback_session_id, chunk)
        return
    if any(known[0] == response_id for known in state.usage_records):
        return  # the first record of a response is the one kept
    state.usage_records.append(kept)
    del state.usage_records[:-KEPT_RECORDS]
    state.open_record = response_id


def _read_compacted(
    payload: dict[str, Any], state: CodexState, fallback_session_id: str, chunk: ParsedChunk
) -> None:
    """A `compacted` line naming the response that compacted the session (a remote
    compaction, Codex 0.154 and later): that response's usage record is a call."""
    response_id = payload.get("compaction_response_id")
    if not isinstance(response_id, str) or not response_id.strip():
        return
    response_id = response_id.strip()
    for index, kept in enumerate(state.usage_records):
        if kept[0] == response_id:
            del state.usage_records[index]
            if state.open_record == response_id:
                state.open_record = ""
            _add_compaction(kept, state, fallback_session_id, chunk)
            return
    if response_id not in state.compactions:
        state.compactions.append(response_id)
        del state.compactions[:-KEPT_RECORDS]


def _add_compaction(
    kept: list[Any], state: CodexState, fallback_session_id: str, chunk: ParsedChunk
) -> None:
    """A compaction request's call, keyed by its response id: read again (the rollout
    archived, a second ingest), it is the same call."""
    response_id, ts_ms, usage, _thread_total, model, speed = kept
    session_id = state.session_id or fallback_session_id
    chunk.calls.add(
        f"cx:{session_id}:compaction:{response_id}",
        CODEX,
        session_id,
        ts_ms,
        model or "gpt-5",
        speed,
        call_counts(usage),
        False,
        False,
        state.cwd,
        state.git_branch,
    )


def _count(usage: object, name: str) -> int:
    return count_of(usage.get(name)) if isinstance(usage, dict) else 0


def is_account_limit(limit_id: object) -> bool:
    """Whether a reading is the account's plan limit: newer Codex names each `limit_id`
    (`codex` for the account) and writes other limits beside it in the same rollout (a
    model's own, `codex_bengalfox` for GPT-5.3-Codex-Spark; `premium`), often more
    often: the newest reading then showed a model's 3 % for an account at 92 %."""
    return not isinstance(limit_id, str) or limit_id == ACCOUNT_LIMIT_ID


ACCOUNT_LIMIT_ID = "codex"


def _rate_limit_row(limits: dict[str, Any], session_id: str, ts_ms: int) -> RateLimitRow:
    primary = limits.get("primary")
    if not isinstance(primary, dict):
        primary = _flat_window(limits, "primary")
    secondary = limits.get("secondary")
    if not isinstance(secondary, dict):
        secondary = _flat_window(limits, "secondary")
    plan = limits.get("plan_type")
    return (
        CODEX,
        session_id,
        ts_ms,
        _percent(primary.get("used_percent")),
        _opt_int(primary.get("window_minutes")),
        reset_time(_opt_int(primary.get("resets_at")), primary.get("resets_in_seconds"), ts_ms),
        _percent(secondary.get("used_percent")),
        _opt_int(secondary.get("window_minutes")),
        reset_time(_opt_int(secondary.get("resets_at")), secondary.get("resets_in_seconds"), ts_ms),
        plan if isinstance(plan, str) else None,
    )


def _flat_window(limits: dict[str, Any], window: str) -> dict[str, Any]:
    """A window as Codex around 0.40 wrote it, flat: `primary_used_percent`,
    `primary_window_minutes` (no reset time)."""
    return {
        "used_percent": limits.get(f"{window}_used_percent"),
        "window_minutes": limits.get(f"{window}_window_minutes"),
    }


def reset_time(resets_at: int | None, resets_in_seconds: object, ts_ms: int) -> int | None:
    """A window's reset (Unix seconds): `resets_at`, else, as older Codex wrote it, the
    line's time plus `resets_in_seconds` ("legacy relative reset in seconds" upstream)."""
    if resets_at is not None:
        return resets_at
    relative = _opt_int(resets_in_seconds)
    return None if relative is None else ts_ms // 1000 + relative


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


# A plan window's use in percent; past the limit it can pass 100, but not by this much. A
# reading outside is no reading (1e308 printed as a 309-digit percentage).
MAX_PERCENT = 1000.0


def _percent(value: object) -> float | None:
    number = _float(value)
    return number if number is not None and 0 <= number <= MAX_PERCENT else None


def _opt_int(value: object) -> int | None:
    if not isinstance(value, int | float) or not -(2**62) < value < 2**62:
        return None
    return int(value)
