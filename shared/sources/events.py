"""The typed records every source yields. They carry counts, names, paths and hashes, never text."""

from __future__ import annotations

from dataclasses import dataclass, field

CLAUDE = "claude-code"
CODEX = "codex"
AGENTS = (CLAUDE, CODEX)
# No real token count comes near this; a line claiming more is malformed (and would not
# fit SQLite's 64-bit integers once summed).
MAX_COUNT = 2**53


def has_absurd_count(*usages: object) -> bool:
    """True if any integer in these usage dicts (one level of nesting) is out of range."""
    # Plain loops: this runs for every usage line, and a generator per value costs more
    # than the test itself.
    for usage in usages:
        if not isinstance(usage, dict):
            continue
        for value in usage.values():
            if isinstance(value, dict):
                for inner in value.values():
                    if isinstance(inner, int) and not -MAX_COUNT < inner < MAX_COUNT:
                        return True
            elif isinstance(value, int) and not -MAX_COUNT < value < MAX_COUNT:
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


@dataclass(slots=True)
class RateLimitSample:
    """A plan-limit reading as an agent logged it (Codex `rate_limits`)."""

    agent: str
    session_id: str
    ts_ms: int
    primary_used_percent: float | None
    primary_window_minutes: int | None
    primary_resets_at: int | None
    secondary_used_percent: float | None
    secondary_window_minutes: int | None
    secondary_resets_at: int | None
    plan_type: str | None


@dataclass(slots=True)
class ParsedChunk:
    """What one read of a file produced, and where the next read starts."""

    events: list[UsageEvent] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_errors: list[str] = field(default_factory=list)
    rate_limits: list[RateLimitSample] = field(default_factory=list)
    # (tool id, event key) for Codex tool calls read before the model call they belong to.
    tool_links: list[tuple[str, str]] = field(default_factory=list)
    rejected_lines: int = 0
    lines: int = 0
