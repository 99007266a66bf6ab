"""One read of one file turned into ledger rows: in a parser worker on a big ingest, in the
ingesting process on a small one."""

from __future__ import annotations

import os

from shared.gcpause import cycle_collection_paused
from shared.ingest.chunks import VANISHED, ChunkResult, ChunkRows, ChunkTask
from shared.ingest.reading import (
    TAIL_BYTES,
    LongLines,
    each_archive_piece,
    read_complete_lines,
    read_tail,
    tail_checksum,
    unended_warning,
)
from shared.sources.agents import CLAUDE
from shared.sources.roots import ledger_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from shared.sources.events import ParsedChunk


def _session_from_path(path: str) -> str:
    """The session id a file's name implies, for lines that carry none (valid UTF-8, as
    the ledger stores paths)."""
    name = ledger_key(os.path.basename(path))
    for suffix in (".jsonl.zst", ".jsonl"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def parse_chunk(task: ChunkTask) -> ChunkResult:
    """Read and parse one chunk of one file. Runs in a worker process for big ingests.

    A `.jsonl.zst` archive no longer grows: it is one chunk (its offset records the
    compressed size once it is read), decompressed and parsed piece by piece into the
    same rows, so its text is never in memory whole."""
    # Imported here: a warm report that finds nothing new never needs the parsers.
    from shared.sources.claude import parse_claude_lines
    from shared.sources.codex import CodexState, parse_codex_lines
    from shared.sources.events import ParsedChunk

    parsed = ParsedChunk()
    tail_hash: int | None = None
    fallback = _session_from_path(task.path)
    state = None if task.agent == CLAUDE else CodexState.from_json(task.state)

    def take(data: bytes) -> None:
        if state is None:
            parse_claude_lines(data, fallback, parsed)
        else:
            parse_codex_lines(data, state, fallback, parsed)

    long_lines = LongLines()
    try:
        if task.compressed:
            new_offset = each_archive_piece(
                task.path, task.offset, take, long_lines, task.max_bytes
            )
            at_end = True
        else:
            data, new_offset, at_end = read_complete_lines(
                task.path, task.offset, task.next_read(), long_lines
            )
            take(data)
            if new_offset > task.offset:
                # What was parsed is the checksum's bytes when it reaches back 4 KiB or to
                # the file's start; only a short read after an offset reads them again (a
                # second read, which a rewrite in between could make disagree).
                # (Not after a line too long to read was skipped: then nothing was kept.)
                whole = len(data) >= TAIL_BYTES or (task.offset == 0 and len(data) == new_offset)
                tail = data if whole else read_tail(task.path, new_offset)
                tail_hash = tail_checksum(tail)
            del data
    except FileNotFoundError:
        # Deleted since the scan (Claude Code prunes old transcripts): nothing to read, and
        # the next scan marks it gone. Not an error worth a warning.
        return ChunkResult(task, ChunkRows(), task.offset, task.state, True, VANISHED)
    except OSError as exc:
        # The path is shown with the message already: only the reason, once.
        reason = exc.strerror or str(exc)
        return ChunkResult(task, ChunkRows(), task.offset, task.state, True, reason)
    if long_lines.unended:
        # Nothing was read (the line starts at the offset): a warning until it ends.
        return ChunkResult(
            task, ChunkRows(), task.offset, task.state, True, unended_warning(long_lines)
        )
    # A line too long to read is a malformed line, as one that is not JSON.
    parsed.lines += long_lines.skipped
    parsed.rejected_lines += long_lines.skipped
    new_state = task.state if state is None else state.to_json()
    return ChunkResult(task, rows_of(parsed), new_offset, new_state, at_end, tail_hash=tail_hash)


def parse_group(tasks: list[ChunkTask]) -> list[ChunkResult]:
    """The first chunk of each of several files, in one worker round trip."""
    # Parsing makes only acyclic objects (dicts, tuples, events): the cycle collector would
    # walk them again and again for nothing.
    with cycle_collection_paused():
        return [parse_chunk(task) for task in tasks]


def rows_of(parsed: ParsedChunk) -> ChunkRows:
    """Plain tuples for the ledger (the parsers have already merged each model call's
    readings, see `CallRows`)."""
    from shared.sources.hashing import stored_input_hash

    # The inputs' hashes are keyed here, where every tool row passes on its way out.
    tool_calls: list[tuple[Any, ...]] = [
        (*row[:5], stored_input_hash(row[5])) for row in parsed.tool_rows
    ]
    tool_files: list[tuple[str, str]] = list(parsed.tool_file_rows)
    for call in parsed.tool_calls:
        tool_calls.append(
            (
                call.tool_id,
                call.event_key,
                call.session_id,
                call.ts_ms,
                call.tool_name,
                stored_input_hash(call.input_hash),
            )
        )
        tool_files.extend((call.tool_id, path) for path in call.paths)
    return ChunkRows(
        events=list(parsed.calls.events.values()),
        sessions=[(session_id, *entry) for session_id, entry in parsed.calls.sessions.items()],
        tool_calls=tool_calls,
        tool_files=tool_files,
        tool_links=parsed.tool_links,
        tool_errors=[(tool_id,) for tool_id in parsed.tool_errors],
        rate_limits=parsed.rate_limits,
        events_read=parsed.calls.read,
        lines=parsed.lines,
        rejected_lines=parsed.rejected_lines,
    )
