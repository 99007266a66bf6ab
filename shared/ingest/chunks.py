"""The units an ingest works in: one read of one file (`ChunkTask`), the rows it adds to
the ledger (`ChunkRows`), and both with where the next read starts (`ChunkResult`). Plain
classes with slots: thousands of them cross between processes on a big ingest."""

from __future__ import annotations

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# How much one read of a file asks for (an archive: one piece of its text). Looked up when a
# task is made, so that tests can make it small.
CHUNK_BYTES = 8 * 1024 * 1024
# The `error` of a read whose file was deleted between the scan and the read.
VANISHED = "vanished while being read"


class ChunkTask:
    """One read of one file: where it starts and what the parser carried over."""

    # Plain classes, not dataclasses: building one costs a warm report's start-up ~0.8 ms.
    __slots__ = ("agent", "compressed", "max_bytes", "offset", "path", "size", "source_id", "state")

    def __init__(
        self,
        source_id: int,
        agent: str,
        path: str,
        offset: int,
        state: bytes | None,
        compressed: bool,
        max_bytes: int | None = None,
        size: int | None = None,
    ) -> None:
        self.source_id = source_id
        self.agent = agent
        self.path = path
        self.offset = offset
        self.state = state
        self.compressed = compressed
        self.max_bytes = CHUNK_BYTES if max_bytes is None else max_bytes
        # Size seen when the ingest was planned: the first read asks for no more than that.
        self.size = size

    def next_read(self) -> int:
        if self.size is None or self.size <= self.offset:
            return self.max_bytes
        # A little slack, so a file that grew since it was planned is still read to its end.
        return min(self.max_bytes, self.size - self.offset + 64 * 1024)


class ChunkRows:
    """What one read of one file adds to the ledger, as plain tuples."""

    __slots__ = (
        "events",
        "events_read",
        "lines",
        "rate_limits",
        "rejected_lines",
        "sessions",
        "tool_calls",
        "tool_errors",
        "tool_files",
        "tool_links",
    )

    def __init__(
        self,
        events: list[tuple[Any, ...]] | None = None,
        sessions: list[tuple[Any, ...]] | None = None,
        tool_calls: list[tuple[Any, ...]] | None = None,
        tool_files: list[tuple[str, str]] | None = None,
        tool_links: list[tuple[str, str]] | None = None,
        tool_errors: list[tuple[str]] | None = None,
        rate_limits: list[tuple[Any, ...]] | None = None,
        events_read: int = 0,
        lines: int = 0,
        rejected_lines: int = 0,
    ) -> None:
        self.events = [] if events is None else events
        self.sessions = [] if sessions is None else sessions
        self.tool_calls = [] if tool_calls is None else tool_calls
        self.tool_files = [] if tool_files is None else tool_files
        self.tool_links = [] if tool_links is None else tool_links
        self.tool_errors = [] if tool_errors is None else tool_errors
        self.rate_limits = [] if rate_limits is None else rate_limits
        self.events_read = events_read
        self.lines = lines
        self.rejected_lines = rejected_lines

    def row_count(self) -> int:
        return len(self.events) + len(self.tool_calls) + len(self.rate_limits)


class ChunkResult:
    """A read of one file, parsed: its rows and where the next read starts."""

    __slots__ = ("at_end", "error", "new_offset", "new_state", "rows", "tail_hash", "task")

    def __init__(
        self,
        task: ChunkTask,
        rows: ChunkRows,
        new_offset: int,
        new_state: bytes | None,
        at_end: bool,
        error: str | None = None,
        tail_hash: int | None = None,
    ) -> None:
        self.task = task
        self.rows = rows
        self.new_offset = new_offset
        self.new_state = new_state
        self.at_end = at_end
        self.error = error
        # Checksum of the bytes just before `new_offset` (`tail_checksum`), when this read
        # consumed any: stored with the offset, so a file rewritten in place is noticed.
        self.tail_hash = tail_hash


def continuation(task: ChunkTask, result: ChunkResult) -> ChunkTask:
    return ChunkTask(
        task.source_id,
        task.agent,
        task.path,
        result.new_offset,
        result.new_state,
        task.compressed,
        task.max_bytes,
        task.size,
    )
