"""The typed records every source yields. They carry counts, names, paths and hashes, never text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Re-exported: the agent names live in shared.sources.agents.
from shared.sources.agents import AGENTS as AGENTS
from shared.sources.agents import CLAUDE as CLAUDE
from shared.sources.agents import CODEX as CODEX

# No real token count comes near this; a line claiming more is malformed (and would not
# fit SQLite's 64-bit integers once summed).
MAX_COUNT = 2**53
# No single call runs this many web searches (Anthropic caps them per request at a few
# dozen); a larger number is a damaged field and counts as none rather than as a bill.
MAX_WEB_SEARCHES = 100_000


def web_searches_of(value: object) -> int:
    """A logged web-search count (`usage.server_tool_use.web_search_requests`): an
    in-range positive whole number (as `count_of` reads one), anything else 0."""
    count = count_of(value)
    return count if count < MAX_WEB_SEARCHES else 0


def count_of(value: object) -> int:
    """A logged token count: a positive whole number (`100`, or `100.0` as JavaScript
    reads it), anything else (missing, null, negative, a string, a fraction, `true`)
    counts as 0."""
    # `type(...) is int`, not isinstance: JSON's `true` is a Python int, and is no count.
    if type(value) is int:
        return value if value > 0 else 0
    if type(value) is float and value > 0 and value.is_integer():
        return int(value)
    return 0


def has_absurd_count(*usages: object) -> bool:
    """True if any number in these usage dicts (one level of nesting) is out of range (an
    integer beyond 64 bits reaches here as a float)."""
    # Plain loops: this runs for every usage line, and a generator per value costs more
    # than the test itself.
    for usage in usages:
        if not isinstance(usage, dict):
            continue
        for value in usage.values():
            if isinstance(value, dict):
                for inner in value.values():
                    if isinstance(inner, int | float) and not -MAX_COUNT < inner < MAX_COUNT:
                        return True
            elif isinstance(value, int | float) and not -MAX_COUNT < value < MAX_COUNT:
                return True
    return False


@dataclass(slots=True)
class UsageEvent:
    """One model call. Token fields follow the ledger's JSON contract.

    `input_tokens` is non-cached input; `output_tokens` includes reasoning.
    """

    event_key: str
    agent: str
    session_id: str
    ts_ms: int
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    speed: str = "standard"
    # A model call that costs nothing by rule (`<synthetic>`, API error lines).
    free: bool = False
    is_sidechain: bool = False
    cwd: str = ""
    git_branch: str = ""
    # Server-side web searches the call ran (Claude's web search tool, billed per search).
    web_search_requests: int = 0
    # Where the call ran, as Claude logs it (`usage.inference_geo`): "us" is US-only
    # inference, billed at a premium on newer models; "", "global", "not_available" not.
    inference_geo: str = ""

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
            + self.cache_read_tokens
        )


@dataclass(slots=True)
class ToolCall:
    """One tool invocation inside a model call, with the files it touched."""

    tool_id: str
    event_key: str | None
    session_id: str
    ts_ms: int
    tool_name: str
    input_hash: str = ""
    paths: list[str] = field(default_factory=list)


# A plan-limit reading as an agent logged it (Codex `rate_limits`): agent, session_id,
# ts_ms, primary used percent, window minutes, resets at, the same three for the secondary
# window, plan type.
RateLimitRow = tuple[
    str,
    str,
    int,
    float | None,
    int | None,
    int | None,
    float | None,
    int | None,
    int | None,
    str | None,
]


# Added to a sidechain call's rank so that any main-thread call ranks before it.
SIDECHAIN_RANK = 1 << 52
# Row positions in `CallRows.events` values: key, agent, session_id, ts_ms, model, speed,
# input, output, cache_write_5m, cache_write_1h, cache_read, reasoning, total, free,
# is_sidechain, web_search_requests, inference_geo (the last two as the ledger's columns,
# which came later).
ROW_TS, ROW_MODEL, ROW_SPEED, ROW_WRITE_5M, ROW_TOTAL, ROW_WEB = 3, 4, 5, 8, 12, 15
ROW_SIDECHAIN = 14


# A Claude Code advisor's call is keyed by the call it was made in (see
# shared.sources.claude.ADVISOR_ITERATION): `{call key}:advisor:{index in iterations}`.
ADVISOR_KEY = ":advisor:"


def advisor_key(call_key: str, index: int) -> str:
    """The key of the advisor's call at `index` of `iterations` in the call `call_key`."""
    return f"{call_key}{ADVISOR_KEY}{index}"


def advisor_parent(key: str) -> str | None:
    """The key of the call an advisor's call was made in; None for any other call."""
    parent, marker, _index = key.partition(ADVISOR_KEY)
    return parent if marker else None


def wins_tie(
    speed: str,
    written: int,
    web: int,
    geo: str,
    known_speed: str,
    known_written: int,
    known_web: int,
    known_geo: str,
) -> bool:
    """Whether a reading of a call replaces the one kept when both have as many tokens (the
    ledger's upsert, shared.ingest.writer._BETTER, decides the same way): one that says
    "fast" (early streamed lines carry no `speed`) or "flex" over a standard one; at the
    same speed, one with more of its input as cache writes, 5-minute and 1-hour together
    (a Codex rollout read again by a reader that counts them); with those equal too, one
    with more web searches, then one that says where it ran over one that does not (a
    Claude log read again by a reader that counts them: the searches are paid apart, US
    inference at 1.1×; a ledger an older reader wrote kept neither)."""
    if speed == "fast" and known_speed != "fast":
        return True
    if speed == "flex" and known_speed == "standard":
        return True
    if speed != known_speed:
        return False
    if written != known_written:
        return written > known_written
    return web > known_web or (web == known_web and bool(geo) and not known_geo)


# Session entry: agent, cwd, branch, first, last, path_rank, branch_rank.
S_CWD, S_BRANCH, S_FIRST, S_LAST, S_PATH_RANK, S_BRANCH_RANK = 1, 2, 3, 4, 5, 6


class CallRows:
    """The model calls of one read, as the ledger's row tuples, merged per dedupe key the
    way the ledger's upsert merges them: the first reading's identity, the earliest
    reading's time, the largest reading's model and tokens (on a tie, the reading that
    says "fast", since a streamed reply's early lines carry no `speed`), and a main-thread
    call once any reading of it is one, with that thread's readings alone (a subagent's
    copy of a reply, logged before or after the reply's own line, never replaces what the
    main thread logged: the call is the reply, not a sidechain copy of it). The model
    goes with the tokens: the price is the kept reading's, whatever order lines are read
    in.

    Parsers add calls here directly instead of building an object per call: on a big
    history this is the hottest path of an ingest."""

    __slots__ = ("events", "read", "sessions")

    def __init__(self) -> None:
        self.events: dict[str, tuple[Any, ...]] = {}
        self.sessions: dict[str, list[Any]] = {}
        # Readings added, duplicates included (the ingest summary's "usage records").
        self.read = 0

    def add(
        self,
        key: str,
        agent: str,
        session_id: str,
        ts_ms: int,
        model: str,
        speed: str,
        counts: tuple[int, int, int, int, int, int],
        free: bool,
        is_sidechain: bool,
        cwd: str,
        git_branch: str,
        web_searches: int = 0,
        inference_geo: str = "",
    ) -> None:
        """One reading of a call; `counts` are input, output, cache_write_5m,
        cache_write_1h, cache_read, reasoning (the first five make the total). The
        web-search count goes with the tokens: the reading kept is the largest."""
        self.read += 1
        total = counts[0] + counts[1] + counts[2] + counts[3] + counts[4]
        events = self.events
        known = events.get(key)
        if known is None:
            events[key] = (
                key,
                agent,
                session_id,
                ts_ms,
                model,
                speed,
                *counts,
                total,
                int(free),
                int(is_sidechain),
                web_searches,
                inference_geo,
            )
        elif known[ROW_SIDECHAIN] and not is_sidechain:
            # A call's first main-thread reading replaces a subagent's copy of it read
            # before, whatever their tokens and times (the ledger's upsert does the same).
            events[key] = (
                *known[:ROW_TS],
                ts_ms,
                model,
                speed,
                *counts,
                total,
                known[ROW_TOTAL + 1],
                0,
                web_searches,
                inference_geo,
            )
        elif known[ROW_SIDECHAIN] or not is_sidechain:
            # Two readings of one thread (a streamed reply's lines): the largest is kept.
            known_total = known[ROW_TOTAL]
            if total > known_total or (
                total == known_total
                and wins_tie(
                    speed,
                    counts[2] + counts[3],
                    web_searches,
                    inference_geo,
                    known[ROW_SPEED],
                    known[ROW_WRITE_5M] + known[ROW_WRITE_5M + 1],
                    known[ROW_WEB],
                    known[ROW_WEB + 1],
                )
            ):
                known = (
                    *known[:ROW_MODEL],
                    model,
                    speed,
                    *counts,
                    total,
                    *known[ROW_TOTAL + 1 : ROW_WEB],
                    web_searches,
                    inference_geo,
                )
            if ts_ms < known[ROW_TS]:
                known = (*known[:ROW_TS], ts_ms, *known[ROW_TS + 1 :])
            events[key] = known
        # Else a subagent's copy of a main-thread reading: it adds nothing to the call.
        self._note_session(agent, session_id, ts_ms, is_sidechain, cwd, git_branch)

    def _note_session(
        self, agent: str, session_id: str, ts_ms: int, is_sidechain: bool, cwd: str, branch: str
    ) -> None:
        """Sessions take their project path from the earliest main-thread call with a cwd
        and their branch from the latest one; a subagent's (sidechain) cwd and branch,
        often a worktree of its own, count only while the session has no main-thread
        call. Ranks make the result the same whatever order files and chunks are read in."""
        entry = self.sessions.get(session_id)
        if entry is None:
            entry = self.sessions[session_id] = [agent, "", "", ts_ms, ts_ms, None, None]
        elif ts_ms < entry[S_FIRST]:
            entry[S_FIRST] = ts_ms
        elif ts_ms > entry[S_LAST]:
            entry[S_LAST] = ts_ms
        side = SIDECHAIN_RANK if is_sidechain else 0
        if cwd and (entry[S_PATH_RANK] is None or side + ts_ms < entry[S_PATH_RANK]):
            entry[S_CWD], entry[S_PATH_RANK] = cwd, side + ts_ms
        if branch and (entry[S_BRANCH_RANK] is None or side - ts_ms < entry[S_BRANCH_RANK]):
            entry[S_BRANCH], entry[S_BRANCH_RANK] = branch, side - ts_ms


@dataclass(slots=True)
class ParsedChunk:
    """What one read of a file produced, and where the next read starts."""

    calls: CallRows = field(default_factory=CallRows)
    # Tool calls already as rows (tool_id, event_key, session_id, ts_ms, name, input_hash)
    # with their files (tool_id, path); Codex keeps `tool_calls` objects until it knows
    # which model call they belong to.
    tool_rows: list[tuple[str, str | None, str, int, str, str]] = field(default_factory=list)
    tool_file_rows: list[tuple[str, str]] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    # How many of `tool_calls` already know their model call (Codex links them in order).
    tools_linked: int = 0
    tool_errors: list[str] = field(default_factory=list)
    rate_limits: list[RateLimitRow] = field(default_factory=list)
    # (tool id, event key) for Codex tool calls read before the model call they belong to.
    tool_links: list[tuple[str, str]] = field(default_factory=list)
    rejected_lines: int = 0
    lines: int = 0
