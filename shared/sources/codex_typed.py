"""The fast way to read a Codex `token_count` line, switched on with the Claude one in the
ingest's parser workers (`shared.sources.codex.use_typed_reader`).

These lines are a third of a rollout's usage lines and most of the Codex parser's time:
orjson built every dict of the line (rate-limit credits, the context window) for the few
counts read from it. msgspec decodes only the fields below, checking their types and
ranges as it goes. A line it cannot take whole (a count that is negative, a float, null or
out of range, a usage field it does not know, a field of another type, bytes that are not
UTF-8) is left to the lenient reader, `shared.sources.codex._read_line`, which decides as it
always has. On every line both take they give the same rows:
tests/core/test_codex_fast_path.py compares them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.sources.codex import (
    MAX_PERCENT,
    CodexState,
    add_token_count,
    is_account_limit,
    reset_time,
    tier_speed,
)
from shared.sources.events import CODEX, MAX_COUNT, ParsedChunk
from shared.sources.timeutil import iso_to_ms

# In range and not negative: the lenient reader reads a negative count as 0 and rejects a
# line with an absurd one; both cases go to it.
_Count = Annotated[int, msgspec.Meta(ge=0, lt=MAX_COUNT)]


class _Usage(msgspec.Struct, forbid_unknown_fields=True):
    # Every field known: the lenient reader rejects a line for an absurd value in any field
    # of these two dicts, so a field not checked here sends the line to it.
    input_tokens: _Count = 0
    cached_input_tokens: _Count = 0
    output_tokens: _Count = 0
    reasoning_output_tokens: _Count = 0
    total_tokens: _Count = 0
    cache_write_input_tokens: _Count = 0


class _Info(msgspec.Struct):
    total_token_usage: _Usage | None = None
    last_token_usage: _Usage | None = None


# The lenient reader stores an integer beyond this range, or a float, after a check or a
# conversion; such lines go to it, so the values here are stored as they are.
_Stored = Annotated[int, msgspec.Meta(gt=-(2**62), lt=2**62)]


# In range (`shared.sources.codex.MAX_PERCENT`); a value outside goes to the lenient reader.
_Percent = Annotated[float, msgspec.Meta(ge=0, le=MAX_PERCENT)]


class _Window(msgspec.Struct):
    used_percent: _Percent | None = None  # an integer in the line is read as a float, as there
    window_minutes: _Stored | None = None
    resets_at: _Stored | None = None
    resets_in_seconds: _Stored | None = None  # older Codex, instead of resets_at


class _Limits(msgspec.Struct):
    primary: _Window | None = None
    secondary: _Window | None = None
    plan_type: str | None = None
    limit_id: str | None = None  # which limit (`codex`: the account's); see is_account_limit
    # Codex around 0.40 wrote the windows flat.
    primary_used_percent: _Percent | None = None
    primary_window_minutes: _Stored | None = None
    secondary_used_percent: _Percent | None = None
    secondary_window_minutes: _Stored | None = None


class _Payload(msgspec.Struct):
    type: str = ""
    info: _Info | None = None
    rate_limits: _Limits | None = None
    # Left out (the thread's tier holds) is not null (the default tier).
    service_tier: str | msgspec.UnsetType | None = msgspec.UNSET


class _TokenCountLine(msgspec.Struct):
    payload: _Payload
    timestamp: str | None = None
    # Read again although the line's head named them: a key given twice counts by its last
    # value, as for the lenient reader.
    type: str = ""


_decode = msgspec.json.Decoder(_TokenCountLine).decode


def read_token_count_line(
    line: bytes,
    state: CodexState,
    fallback_session_id: str,
    chunk: ParsedChunk,
    links: list[tuple[str, str]],
) -> bool:
    """Read a line whose head says `event_msg`/`token_count`; False (and nothing added) if
    the lenient reader must decide. The line is not counted here."""
    try:
        record = _decode(line)
    except (ValueError, RecursionError):
        # msgspec.DecodeError and its ValidationError; RecursionError for a value nested
        # deeper than Python's recursion limit (the lenient reader then decides).
        return False
    payload = record.payload
    if record.type != "event_msg" or payload.type != "token_count":
        return False
    ts_ms = iso_to_ms(record.timestamp)
    if ts_ms is None:
        return False
    session_id = state.session_id or fallback_session_id
    limits = payload.rate_limits
    if limits is not None and is_account_limit(limits.limit_id):
        primary = limits.primary or _Window(
            limits.primary_used_percent, limits.primary_window_minutes
        )
        secondary = limits.secondary or _Window(
            limits.secondary_used_percent, limits.secondary_window_minutes
        )
        # The row of `shared.sources.codex._rate_limit_row`, its checks done by the decoder.
        chunk.rate_limits.append(
            (
                CODEX,
                session_id,
                ts_ms,
                primary.used_percent,
                primary.window_minutes,
                reset_time(primary.resets_at, primary.resets_in_seconds, ts_ms),
                secondary.used_percent,
                secondary.window_minutes,
                reset_time(secondary.resets_at, secondary.resets_in_seconds, ts_ms),
                limits.plan_type,
            )
        )
    info = payload.info
    if info is None:
        return True
    total = info.total_token_usage
    if total is None:
        return True
    last = info.last_token_usage
    add_token_count(
        state,
        session_id,
        ts_ms,
        _counts(total),
        None if last is None else _counts(last),
        chunk,
        links,
        state.speed if payload.service_tier is msgspec.UNSET else tier_speed(payload.service_tier),
    )
    return True


def _counts(usage: _Usage) -> list[int]:
    # In `shared.sources.codex.COUNTERS` order.
    return [
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
        usage.reasoning_output_tokens,
        usage.cache_write_input_tokens,
    ]
