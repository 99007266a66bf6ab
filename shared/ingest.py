"""Incremental ingest: new complete lines of every log file into the ledger, exactly once.

Each file's byte offset (with device, inode, size and the Codex parser state) moves in
the same transaction as the model calls read from those bytes, so killing an ingest at
any moment and running it again gives the totals of an uninterrupted run. Only complete
lines are consumed; a half-written last line waits for its newline. A file that shrank
or was replaced is read again from the start; dedupe keys keep totals right.

How it stays fast on a big history: files are parsed in worker processes (one per core)
in groups of small files, each worker turns what it read into plain row tuples (cheap to
send back, already deduplicated), and the writer commits many files' rows and offsets in
one transaction instead of one per file.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from shared.gcpause import cycle_collection_paused
from shared.ledger import (
    DERIVED_TRIGGERS,
    TOKEN_COLUMNS,
    Ledger,
    LedgerError,
    begin_write,
    damaged,
    rebuild_derived,
    rollback_if_open,
    storage_problem,
    write_failed,
)
from shared.repos import RepoFinder
from shared.sources.agents import CLAUDE
from shared.sources.roots import (
    FoundFile,
    LogFile,
    LogRoot,
    all_roots,
    find_log_files,
    ledger_key,
)

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from concurrent.futures import Future
    from io import FileIO
    from typing import Any, BinaryIO

    from shared.live.lock import WriterLock
    from shared.pricing import PriceBook
    from shared.sources.events import ParsedChunk

CHUNK_BYTES = 8 * 1024 * 1024
# The longest line read. The longest real lines are Claude Code tool results that carry a
# file inline as base64 (an image, or a PDF of up to the API's 32 MB request limit, ~43 MB
# as base64, the text sometimes twice: in `message` and in `toolUseResult`), so tens of MB;
# 256 MiB leaves room for that and more. What a crash can leave (a run of NUL bytes of the
# size of the file, GBs, with no newline) is never gathered whole: such a line is skipped
# and counted as malformed once it ends, and until then it waits like a half-written line,
# with a warning. A module constant, so that tests can make it small.
MAX_LINE_BYTES = 256 * 1024 * 1024
# The reads that look for the end of a line longer than one read (nothing of it is kept).
SCAN_BYTES = 1024 * 1024
# Below this much new data a process pool costs more than it saves.
PARALLEL_THRESHOLD_BYTES = 32 * 1024 * 1024
# Small files travel to a worker together, so a pool round trip is paid per group.
GROUP_BYTES = 2 * 1024 * 1024
GROUP_FILES = 128
# Groups queued per worker, so the workers keep parsing while the writer commits a batch
# (a commit can take longer than a few groups' parsing). On the bench history 16 against 2:
# median cold ingest 8.76 against 9.27 s in 7 interleaved runs each.
IN_FLIGHT_PER_WORKER = 16
# While waiting on the pool, a Ctrl-C is only noted (see `_parallel_results`); waits this
# long at most, so that it is acted on promptly.
WAIT_SLICE_SECONDS = 0.1
# A transaction is committed once it holds about this much, or after this long: few
# commits on a cold ingest, yet progress is saved (and shown) often.
BATCH_ROWS = 40_000
BATCH_SECONDS = 0.25
BATCH_MAX_SECONDS = 2.0

# A first ingest of at least this much into an empty ledger is one transaction that fills
# the trigger-kept tables once at the end (see shared.ledger.REBUILD_DERIVED); smaller ones
# commit as they go, so their progress survives a kill.
BULK_THRESHOLD_BYTES = 256 * 1024 * 1024
# SQLite settings for the length of a big ingest (defaults: 2 MiB, 1000 pages).
BIG_CACHE_KIB = 96 * 1024
BIG_CHECKPOINT_PAGES = 20_000

ProgressCallback = Callable[[int, int, str], None]
# The `path` a progress callback gets once every byte is read, while a big first ingest
# builds the ledger's indexes and totals (a second or two on a large history).
FINISHING_LEDGER = "<finishing the ledger>"
# ... and while it waits for another process's big read of the same ledger to end.
WAITING_FOR_INGEST = "<waiting for another ingest>"
INGEST_LOCK_FILENAME = "ingest.lock"

# A model with no price is cached as None; this marks "not looked up yet".
MISSING: Any = object()


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
        max_bytes: int = CHUNK_BYTES,
        size: int | None = None,
    ) -> None:
        self.source_id = source_id
        self.agent = agent
        self.path = path
        self.offset = offset
        self.state = state
        self.compressed = compressed
        self.max_bytes = max_bytes
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


class FirstImportInterrupted(KeyboardInterrupt):
    """Ctrl-C during a first import, which is one transaction: nothing of it was kept
    (unlike an interrupted ordinary ingest, which keeps every batch it committed)."""


class IngestCancelled(Exception):
    """The caller asked the ingest to stop (`cancel` set: the live engine shutting down).
    What was committed stays; a first import, one transaction, is rolled back whole."""

    def __init__(self, first_import: bool) -> None:
        super().__init__(
            "stopped during the first import; nothing of it was kept"
            if first_import
            else "stopped; what was committed is kept"
        )
        self.first_import = first_import


class IngestSummary:
    """What one ingest found and read."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self, files_seen: int = 0, roots: list[LogRoot] | None = None) -> None:
        self.files_seen = files_seen
        self.files_read = 0
        self.bytes_read = 0
        self.events_read = 0
        self.new_calls = 0
        self.rejected_lines = 0
        # Warnings: files that could not be read, folders that could not be listed.
        self.unreadable: list[str] = []
        self.unlisted_folders: list[str] = []
        self.roots: list[LogRoot] = roots or []
        # Seconds spent waiting for another process's big read of the same ledger.
        self.waited_s = 0.0
        # Files deleted between finding and reading them.
        self.vanished = 0


def _session_from_path(path: str) -> str:
    """The session id a file's name implies, for lines that carry none (valid UTF-8, as
    the ledger stores paths)."""
    name = ledger_key(os.path.basename(path))
    for suffix in (".jsonl.zst", ".jsonl"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class LongLines:
    """What `read_complete_lines` met past MAX_LINE_BYTES: lines skipped, and the length so
    far of a last line that grew past it without ending (0 if none)."""

    __slots__ = ("skipped", "unended")

    def __init__(self) -> None:
        self.skipped = 0
        self.unended = 0


def read_complete_lines(
    path: str, offset: int, max_bytes: int, long_lines: LongLines | None = None
) -> tuple[bytes, int, bool]:
    """Bytes from `offset` up to the last newline within about `max_bytes`.

    Returns (data, new offset, reached the end of the complete lines). A line longer
    than `max_bytes` is read whole rather than split. One longer than MAX_LINE_BYTES is
    never held in memory: once its newline comes it is skipped (the offset moves past it,
    no data, counted in `long_lines.skipped`); until then it waits like any half-written
    line, its length so far in `long_lines.unended`.
    """
    # No read is longer than a line may be, so every line of a read is short enough.
    max_bytes = min(max_bytes, MAX_LINE_BYTES)
    with open(path, "rb", buffering=0) as handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
        if len(data) < max_bytes:
            cut = data.rfind(b"\n") + 1
            return data[:cut], offset + cut, True
        cut = data.rfind(b"\n") + 1
        if cut:
            return data[:cut], offset + cut, False
        # One line longer than max_bytes: find its end first, keeping nothing of it, then
        # read it whole in one read (gathering it in pieces held it twice, and held a line
        # of any length).
        del data
        end, size = _line_end(handle, offset + max_bytes)
        if end < 0:
            if long_lines is not None and size - offset > MAX_LINE_BYTES:
                long_lines.unended = size - offset
            return b"", offset, True  # still being written: it waits, as ever
        if end - offset > MAX_LINE_BYTES:
            if long_lines is not None:
                long_lines.skipped += 1
            return b"", end, False
        handle.seek(offset)
        line = handle.read(end - offset)
        if len(line) != end - offset or not line.endswith(b"\n"):
            return b"", offset, True  # rewritten meanwhile: the next ingest sees to it
        return line, end, False


def _line_end(handle: FileIO, start: int) -> tuple[int, int]:
    """The offset just past the first newline at or after `start` (the handle is there),
    or -1 and the offset of the file's end; read in SCAN_BYTES pieces, one buffer reused."""
    buffer = bytearray(SCAN_BYTES)
    position = start
    while read := handle.readinto(buffer):
        newline = buffer.find(b"\n", 0, read)
        if newline >= 0:
            return position + newline + 1, position + read
        position += read
    return -1, position


# How many bytes before a file's stored offset its checksum covers: the end of the last
# line read, with its ids and timestamp (a Claude Code line ends with ~300 bytes that every
# line of its session shares, so 64 bytes told lines of one session apart from each other
# no better than from a copy of the session).
TAIL_BYTES = 4096


def tail_checksum(tail: bytes) -> int:
    """A checksum of the bytes that end at a stored offset (a number: no log text is
    stored)."""
    return zlib.crc32(tail[-TAIL_BYTES:])


def _read_tail(path: str, offset: int) -> bytes:
    with open(path, "rb", buffering=0) as handle:
        handle.seek(max(0, offset - TAIL_BYTES))
        return handle.read(min(offset, TAIL_BYTES))


def _each_archive_piece(
    path: str, offset: int, take: Callable[[bytes], None], long_lines: LongLines | None = None
) -> int:
    """Decompress an archive in pieces of complete lines (a few MiB each, never the whole
    file at once), hand each to `take`, and return the compressed size: the offset that
    marks it read. Nothing when `offset` says it was read already. A line longer than
    MAX_LINE_BYTES is not handed on (counted in `long_lines.skipped`)."""
    if offset > 0:
        return offset
    import zstandard

    # No piece is longer than a line may be, so every line within one is short enough.
    piece_bytes = min(CHUNK_BYTES, MAX_LINE_BYTES)
    with open(path, "rb") as handle:
        reader = zstandard.ZstdDecompressor().stream_reader(handle)
        # The start of a line that one piece began and a later one ends, in pieces (joined
        # once it ends); dropped once longer than a line may be, the line then skipped.
        started: list[bytes] = []
        started_bytes = 0
        skipping = False
        try:
            while piece := reader.read(piece_bytes):
                if not (started or skipping):
                    cut = piece.rfind(b"\n") + 1
                    if cut:
                        take(piece[:cut])
                    if cut < len(piece):
                        started.append(piece[cut:])
                        started_bytes = len(piece) - cut
                    continue
                ended = piece.find(b"\n") + 1
                if not ended:
                    if not skipping:
                        started.append(piece)
                        started_bytes += len(piece)
                        if started_bytes > MAX_LINE_BYTES:
                            started, started_bytes, skipping = [], 0, True
                    continue
                if skipping or started_bytes + ended > MAX_LINE_BYTES:
                    if long_lines is not None:
                        long_lines.skipped += 1
                else:
                    take(b"".join([*started, piece[:ended]]))
                started, started_bytes, skipping = [], 0, False
                cut = piece.rfind(b"\n") + 1
                if cut > ended:
                    take(piece[ended:cut])
                if cut < len(piece):
                    started.append(piece[cut:])
                    started_bytes = len(piece) - cut
        except zstandard.ZstdError as exc:
            # A damaged archive is an unreadable file: a warning, not the end of the ingest.
            raise OSError(f"not a readable zstd file ({exc})") from exc
        if skipping or b"".join(started).strip():
            # A rollout ends with a newline: text after the last one is an archive cut short
            # (still being written, or copied in part). Nothing of it is kept (the caller
            # drops a failed chunk's rows); it is read whole once it is complete.
            raise OSError(
                "the archive ends in the middle of a line: cut short, or still being written"
            )
        size = os.fstat(handle.fileno()).st_size
        # The decompressor ends a frame cut short without a word (a small archive cut
        # anywhere, or one cut between two blocks, decompresses to whole lines or nothing),
        # so the frames' own lengths are checked too.
        if _zstd_cut_short(handle, size):
            raise OSError(
                "the archive ends in the middle of a zstd frame: cut short, or still being written"
            )
        return size


ZSTD_MAGIC = 0xFD2FB528
# Skippable frames (RFC 8878 3.1.2) have a magic number of 0x184D2A50 to 0x184D2A5F.
ZSTD_SKIPPABLE_MAGIC = 0x184D2A50


def _zstd_cut_short(handle: BinaryIO, size: int) -> bool:
    """Whether the last zstd frame of a file of `size` bytes, read through without an
    error, ends past the file's end. Walks the frames' headers and block headers (RFC 8878
    3.1.1), a few bytes per 128 KiB block of text, nothing decompressed. A frame of a kind
    this does not know (a legacy format the decompressor took) is left to the
    decompressor."""
    position = 0
    while position < size:
        handle.seek(position)
        head = handle.read(18)  # the magic number and the longest frame header
        if len(head) < 5:
            return True  # no frame is shorter
        magic = int.from_bytes(head[:4], "little")
        if magic & 0xFFFFFFF0 == ZSTD_SKIPPABLE_MAGIC:
            if len(head) < 8:
                return True
            position += 8 + int.from_bytes(head[4:8], "little")
            continue
        if magic != ZSTD_MAGIC:
            return False
        descriptor = head[4]
        single_segment = descriptor >> 5 & 1
        position += (
            5
            + (0 if single_segment else 1)  # the window descriptor
            + (0, 1, 2, 4)[descriptor & 3]  # the dictionary id
            + (single_segment, 2, 4, 8)[descriptor >> 6]  # the content size
        )
        while True:
            handle.seek(position)
            block = handle.read(3)
            if len(block) < 3:
                return True
            header = int.from_bytes(block, "little")
            # An RLE block (type 1) holds one byte, whatever size it stands for.
            position += 3 + (1 if header >> 1 & 3 == 1 else header >> 3)
            if header & 1:  # the frame's last block
                break
        position += 4 if descriptor & 4 else 0  # the content checksum
    return position > size


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
            new_offset = _each_archive_piece(task.path, task.offset, take, long_lines)
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
                tail = data if whole else _read_tail(task.path, new_offset)
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
        return ChunkResult(task, ChunkRows(), task.offset, task.state, True, _unended(long_lines))
    # A line too long to read is a malformed line, as one that is not JSON.
    parsed.lines += long_lines.skipped
    parsed.rejected_lines += long_lines.skipped
    new_state = task.state if state is None else state.to_json()
    return ChunkResult(task, rows_of(parsed), new_offset, new_state, at_end, tail_hash=tail_hash)


def _unended(long_lines: LongLines) -> str:
    return (
        f"one line has grown past {_size_text(MAX_LINE_BYTES)} without a newline "
        f"({_size_text(long_lines.unended)} so far; a crash can leave such a run of NUL "
        "bytes): it waits for its newline, then is skipped as malformed"
    )


def _size_text(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB" if size >= 2**20 else f"{size:,} bytes"


PARENT_CHECK_SECONDS = 0.5


def start_worker(parent_pid: int) -> None:
    """Run in each parser worker as it starts.

    Ctrl-C reaches every process of the terminal's group, but only the ingest decides what
    it means (it stops the pool and says what was kept): a worker interrupted outside a
    task (starting, or sending a result back) would print a traceback of its own. The
    typed readers (Claude usage lines, Codex token_count lines) pay their import here: the
    workers parse at least PARALLEL_THRESHOLD_BYTES between them (a forking parent has
    imported them already)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        # Blocked since the fork (see _interrupt_held_back): a Ctrl-C pending since then
        # is now discarded, being ignored.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _typed_reader_for_workers()
    end_with_parent(parent_pid)


def _typed_reader_for_workers() -> None:
    from shared.sources import claude, codex

    # A build without msgspec reads the lenient way, which gives the same rows.
    with suppress(ImportError):
        claude.use_typed_reader()
        codex.use_typed_reader()


def end_with_parent(parent_pid: int) -> None:
    """End this worker once the ingest that started it is gone. A worker whose ingest was
    killed (SIGKILL, the OOM killer) would otherwise wait on its task queue forever,
    holding its memory and the ingest lock it inherited."""
    import threading

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def parse_group(tasks: list[ChunkTask]) -> list[ChunkResult]:
    """The first chunk of each of several files, in one worker round trip."""
    # Parsing makes only acyclic objects (dicts, tuples, events): the cycle collector would
    # walk them again and again for nothing.
    with cycle_collection_paused():
        return [parse_chunk(task) for task in tasks]


def rows_of(parsed: ParsedChunk) -> ChunkRows:
    """Plain tuples for the ledger (the parsers have already merged each model call's
    readings, see `CallRows`)."""
    tool_calls: list[tuple[Any, ...]] = list(parsed.tool_rows)
    tool_files: list[tuple[str, str]] = list(parsed.tool_file_rows)
    for call in parsed.tool_calls:
        tool_calls.append(
            (
                call.tool_id,
                call.event_key,
                call.session_id,
                call.ts_ms,
                call.tool_name,
                call.input_hash,
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


# The same model call read twice (streamed lines, a sidechain copy, a re-read file) keeps
# the reading with the most tokens. Early streamed lines carry no `speed`, so on a tie the
# reading that says "fast" wins, whichever was read first.
_BETTER = """(excluded.total_tokens > usage_events.total_tokens
        OR (excluded.total_tokens = usage_events.total_tokens
            AND excluded.speed = 'fast' AND usage_events.speed != 'fast'))"""
_TAKEN = (
    *TOKEN_COLUMNS,
    "model",
    "speed",
    "cost_usd",
    "priced",
    "web_search_requests",
    "inference_geo",
)
# A call is timed by its earliest reading (a streamed reply's first line; a sidechain copy
# never moves it later), so the result is the same whatever order files are read in.
UPSERT_EVENT = f"""INSERT INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (event_key) DO UPDATE SET
        {
    ", ".join(
        f"{c} = CASE WHEN {_BETTER} THEN excluded.{c} ELSE usage_events.{c} END" for c in _TAKEN
    )
},
        ts_ms = min(usage_events.ts_ms, excluded.ts_ms)
    WHERE {_BETTER} OR excluded.ts_ms < usage_events.ts_ms"""
_PATH_WINS = "excluded.path_rank < coalesce(sessions.path_rank, 9e18)"
_BRANCH_WINS = "excluded.branch_rank < coalesce(sessions.branch_rank, 9e18)"
UPSERT_SESSION = f"""INSERT INTO sessions (session_id, agent, project_path, repo, git_branch,
        first_ts_ms, last_ts_ms, path_rank, branch_rank) VALUES (?,?,?,?,?,?,?,?,?)
    ON CONFLICT (session_id) DO UPDATE SET
        project_path = CASE WHEN {_PATH_WINS}
            THEN excluded.project_path ELSE sessions.project_path END,
        repo = CASE WHEN {_PATH_WINS} THEN excluded.repo ELSE sessions.repo END,
        path_rank = CASE WHEN {_PATH_WINS}
            THEN excluded.path_rank ELSE sessions.path_rank END,
        git_branch = CASE WHEN {_BRANCH_WINS}
            THEN excluded.git_branch ELSE sessions.git_branch END,
        branch_rank = CASE WHEN {_BRANCH_WINS}
            THEN excluded.branch_rank ELSE sessions.branch_rank END,
        first_ts_ms = min(sessions.first_ts_ms, excluded.first_ts_ms),
        last_ts_ms = max(sessions.last_ts_ms, excluded.last_ts_ms)"""
UPSERT_TOOL_CALL = (
    "INSERT INTO tool_calls VALUES (?,?,?,?,?,?) ON CONFLICT (tool_id) DO UPDATE "
    "SET event_key = coalesce(tool_calls.event_key, excluded.event_key)"
)
# The `error` of a read whose file was deleted between the scan and the read.
VANISHED = "vanished while being read"
ADVANCE_SOURCE = (
    "UPDATE sources SET offset = ?, state = ?, lines = lines + ?, "
    "rejected_lines = rejected_lines + ?, last_error = ?, "
    "tail_hash = coalesce(?, tail_hash), tail_offset = coalesce(?, tail_offset) WHERE id = ?"
)


def _tail_offset(result: ChunkResult) -> int | None:
    """The offset a read's checksum belongs to (an archive, read whole, has none but is
    marked as read the same way); None when the read consumed nothing."""
    if result.tail_hash is None and not (
        result.task.compressed and result.new_offset != result.task.offset
    ):
        return None
    return result.new_offset


class LedgerWriter:
    """Collects parsed chunks and commits them, with their file offsets, in few
    transactions: a batch is all or nothing, so offsets never run ahead of the calls."""

    def __init__(self, ledger: Ledger, prices: Callable[[], PriceBook]) -> None:
        self.ledger = ledger
        self._prices_factory = prices
        self._prices: PriceBook | None = None
        self._unit_prices: dict[tuple[str, str], Any] = {}
        from shared.pricing import cost_of_counts

        self._cost_of_counts = cost_of_counts
        self.repos = RepoFinder()
        self._pending: list[ChunkResult] = []
        self._pending_rows = 0
        self._commits = 0
        self.bulk = False
        self._opened = time.monotonic()

    @property
    def prices(self) -> PriceBook:
        if self._prices is None:
            self._prices = self._prices_factory()
            # `price_version` names the prices every stored cost was computed with: only
            # an empty ledger takes new ones here (`reprice` moves it on otherwise), so
            # `doctor` and `ingest` can say when older costs wait for a reprice.
            version = self._prices.version
            if self.ledger.get_meta("price_version") != version and not self.ledger.has_calls():
                self.ledger.set_meta("price_version", version)
        return self._prices

    def worth_committing(self) -> bool:
        """While the parsers are busy: commit if the batch has grown or aged a little (a
        commit per parsed group would cost more in WAL writes than it saves)."""
        return bool(self._pending) and (
            self._pending_rows >= BATCH_ROWS // 4 or self._age() >= self._max_age()
        )

    def _age(self) -> float:
        return time.monotonic() - self._opened

    def _max_age(self) -> float:
        # The first commits come quickly (progress is saved and shown early); later ones
        # wait longer, since each commit rewrites the index pages it touched.
        return float(min(BATCH_SECONDS * 2**self._commits, BATCH_MAX_SECONDS))

    def add(self, result: ChunkResult) -> bool:
        """Queue one chunk; True when the batch is big or old enough to commit."""
        if not self._pending:
            self._opened = time.monotonic()
        self._pending.append(result)
        self._pending_rows += result.rows.row_count() + 1
        return self._pending_rows >= BATCH_ROWS or self._age() >= self._max_age()

    def write(self, result: ChunkResult) -> int:
        """Commit one chunk on its own; returns how many model calls it added or updated."""
        self._pending.append(result)
        return self.flush()

    def flush(self) -> int:
        """Commit everything queued in one transaction; returns how many model calls were
        added or updated. On error nothing of the batch is kept (the offsets included)."""
        batch, self._pending, self._pending_rows = self._pending, [], 0
        if not batch:
            return 0
        self._commits += 1
        conn = self.ledger.conn
        # In a bulk load the whole ingest is one transaction, already open, and a batch is
        # not a savepoint in it: a savepoint copies every page a batch changes into a
        # statement journal first (~200 MB of writes for a 105 MB ledger on the bench
        # history, 0.18 s of a 3.3 s cold ingest). A failed batch ends the load whole.
        if not self.bulk:
            begin_write(self.ledger)
        try:
            batch = self._still_ours(batch)
            events = self._priced_rows(batch)
            added = 0
            if events:
                added = max(0, conn.executemany(UPSERT_EVENT, events).rowcount)
            self._write_tools(batch)
            self._write_sessions(batch)
            rate_limits = [row for result in batch for row in result.rows.rate_limits]
            if rate_limits:
                conn.executemany(
                    "INSERT OR IGNORE INTO rate_limits VALUES (?,?,?,?,?,?,?,?,?,?)", rate_limits
                )
            conn.executemany(
                ADVANCE_SOURCE,
                [
                    (
                        result.new_offset,
                        result.new_state,
                        result.rows.lines,
                        result.rows.rejected_lines,
                        None if result.error == VANISHED else result.error,
                        result.tail_hash,
                        _tail_offset(result),
                        result.task.source_id,
                    )
                    for result in batch
                ],
            )
            if not self.bulk:
                conn.execute("COMMIT")
        except BaseException:
            # After some errors (a full disk, an I/O error) SQLite has already rolled the
            # whole transaction back: then there is nothing left to undo here, and the
            # original error is what the caller must see. A bulk load's caller rolls back.
            if conn.in_transaction and not self.bulk:
                conn.execute("ROLLBACK")
            raise
        return added

    def _still_ours(self, batch: list[ChunkResult]) -> list[ChunkResult]:
        """The chunks whose bytes no other burnmeter process has committed meanwhile (a
        report run while the tray ingests): a chunk counts only if its file's stored offset
        is still where the chunk was read from. Runs inside the write transaction."""
        stored: dict[int, int] = {}
        ids = sorted({result.task.source_id for result in batch})
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            stored.update(
                self.ledger.conn.execute(
                    f"SELECT id, offset FROM sources WHERE id IN ({marks})", part
                ).fetchall()
            )
        kept = []
        for result in batch:
            source_id = result.task.source_id
            if stored.get(source_id) != result.task.offset:
                continue  # another process holds these bytes (and so the later chunks)
            stored[source_id] = result.new_offset
            kept.append(result)
        return kept

    def _priced_rows(self, batch: list[ChunkResult]) -> list[tuple[Any, ...]]:
        """The batch's event rows as ledger rows: with their file's id, their cost (None
        when the model has no price) and the priced flag."""
        cost_of_counts = self._cost_of_counts
        unit_prices = self._unit_prices
        rows = []
        for result in batch:
            source_id = result.task.source_id
            for row in result.rows.events:
                (
                    key,
                    agent,
                    session_id,
                    ts_ms,
                    model,
                    speed,
                    input_tokens,
                    output_tokens,
                    write_5m,
                    write_1h,
                    cache_read,
                    reasoning,
                    total,
                    free,
                    is_sidechain,
                    web_searches,
                    geo,
                ) = row
                if free:
                    cost: float | None = 0.0
                else:
                    unit = unit_prices.get((model, speed), MISSING)
                    if unit is MISSING:
                        unit = unit_prices[(model, speed)] = self.prices.prices_for(model, speed)
                    cost = (
                        None
                        if unit is None
                        else cost_of_counts(
                            unit,
                            input_tokens,
                            output_tokens,
                            write_5m,
                            write_1h,
                            cache_read,
                            ts_ms,
                            web_searches,
                            # US-only inference: a premium on the tokens of newer models.
                            self.prices.us_factor(model) if geo == "us" else 1.0,
                        )
                    )
                rows.append(
                    (
                        key,
                        agent,
                        session_id,
                        source_id,
                        ts_ms,
                        model,
                        speed,
                        input_tokens,
                        output_tokens,
                        write_5m,
                        write_1h,
                        cache_read,
                        reasoning,
                        total,
                        cost,
                        0 if cost is None else 1,
                        free,
                        is_sidechain,
                        web_searches,
                        geo,
                    )
                )
        return rows

    def _write_tools(self, batch: list[ChunkResult]) -> None:
        conn = self.ledger.conn
        tool_calls = [row for result in batch for row in result.rows.tool_calls]
        if tool_calls:
            conn.executemany(UPSERT_TOOL_CALL, tool_calls)
        tool_files = [row for result in batch for row in result.rows.tool_files]
        if tool_files:
            conn.executemany("INSERT OR IGNORE INTO tool_files VALUES (?, ?)", tool_files)
        links = [(key, tool_id) for result in batch for tool_id, key in result.rows.tool_links]
        if links:
            conn.executemany(
                "UPDATE tool_calls SET event_key = ? WHERE tool_id = ? AND event_key IS NULL",
                links,
            )
        errors = [row for result in batch for row in result.rows.tool_errors]
        if errors:
            conn.executemany("INSERT OR IGNORE INTO tool_errors VALUES (?)", errors)

    def _write_sessions(self, batch: list[ChunkResult]) -> None:
        rows = []
        for result in batch:
            for (
                session_id,
                agent,
                cwd,
                branch,
                first,
                last,
                path_rank,
                branch_rank,
            ) in result.rows.sessions:
                repo = self.repos.repo_for(cwd) if cwd else None
                rows.append(
                    (session_id, agent, cwd, repo, branch, first, last, path_rank, branch_rank)
                )
        if rows:
            self.ledger.conn.executemany(UPSERT_SESSION, rows)


def _bytes_before(path: str, offset: int, tail_hash: int | None) -> tuple[bool, int | None]:
    """Whether the file still has the bytes a stored offset ended (a newline, and the
    checksum stored with the offset when there is one), and the checksum of what is there
    now (None if unreadable). Anything else means it was rewritten in place (same inode,
    e.g. `cp` over it), even when the new text has a line end at the old offset or the
    old size."""
    try:
        tail = _read_tail(path, offset)
    except OSError:
        return True, None  # the read itself reports the problem
    checksum = tail_checksum(tail)
    same = tail[-1:] == b"\n" and (tail_hash is None or checksum == tail_hash)
    return same, checksum


class _Plan:
    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self) -> None:
        self.tasks: list[ChunkTask] = []
        self.new_files: list[LogFile] = []
        self.restarts: list[tuple[int]] = []
        self.stats: list[tuple[int, int, int, int, int]] = []
        self.gone: list[tuple[str]] = []
        # (checksum, offset, id, offset) of files whose bytes before the offset are known
        # only now (an archive has no checksum).
        self.tails: list[tuple[int | None, int, int, int]] = []

    @property
    def writes(self) -> bool:
        return bool(self.new_files or self.restarts or self.stats or self.gone or self.tails)


def _known_sources(ledger: Ledger, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    """The stored rows of the files with these ledger keys."""
    known: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        for row in ledger.conn.execute(
            "SELECT path, id, device, inode, size, mtime_ns, offset, state, missing, tail_hash, "
            "tail_offset FROM sources "
            f"WHERE path IN ({','.join('?' * len(part))})",
            part,
        ):
            known[row[0]] = row[1:]
    return known


def _decide(ledger: Ledger, files: list[LogFile], present: set[str] | None = None) -> _Plan:
    """What `files` need: registering, reading again from the start, new stats, reading from
    their offset. With `present` (the keys of every file found), known files not in it are
    gone."""
    plan = _Plan()
    known = _known_sources(ledger, [log.key for log in files])
    for log in files:
        row = known.get(log.key)
        if row is None:
            plan.new_files.append(log)
            continue
        source_id, device, inode, size, mtime_ns, offset, state, missing, tail, tail_at = row
        tail_hash = tail if tail_at == offset else None  # taken at another offset: unknown
        replaced = (device, inode) != (log.device, log.inode) or log.size < offset
        stat_changed = (size, mtime_ns) != (log.size, log.mtime_ns)
        if log.compressed:
            replaced = replaced or stat_changed
            if not replaced and offset > 0 and tail_at != offset:
                # Read before v11: an archive is known by its stat alone, no checksum.
                plan.tails.append((None, offset, source_id, offset))
        elif (
            not replaced and offset > 0 and (offset < log.size or stat_changed or tail_hash is None)
        ):
            same, checksum = _bytes_before(log.path, offset, tail_hash)
            replaced = not same
            if same and tail_hash is None and checksum is not None and not stat_changed:
                # Unchanged since its bytes were read (a ledger from before v11, or an
                # older burnmeter moved the offset): the bytes there are the ones read.
                plan.tails.append((checksum, offset, source_id, offset))
        if replaced:
            # Read again from the start; dedupe keys keep what was already counted.
            offset, state = 0, None
            plan.restarts.append((source_id,))
        seen = (log.size, log.mtime_ns, log.device, log.inode)
        if missing or seen != (size, mtime_ns, device, inode):
            plan.stats.append((log.device, log.inode, log.size, log.mtime_ns, source_id))
        if offset < log.size:
            plan.tasks.append(
                ChunkTask(
                    source_id, log.agent, log.path, offset, state, log.compressed, size=log.size
                )
            )
    if present is not None:
        plan.gone = [
            (path,)
            for (path,) in ledger.conn.execute("SELECT path FROM sources WHERE missing = 0")
            if path not in present
        ]
    return plan


def _plan_tasks(
    ledger: Ledger, files: list[LogFile], *, present: set[str] | None = None
) -> list[ChunkTask]:
    """Register files and decide where each needs reading from; unchanged files need nothing.

    With `present` (the keys of every file a full scan found), known files absent from it
    are flagged as gone (their history stays); a targeted ingest of a few files passes
    none. When nothing changed no write transaction is opened at all; otherwise the
    decision is made again inside it, since another burnmeter process may have registered
    the same files."""
    plan = _decide(ledger, files, present)
    if not plan.writes:
        return plan.tasks
    conn = ledger.conn
    begin_write(ledger)
    try:
        plan = _decide(ledger, files, present)
        for log in plan.new_files:
            cursor = conn.execute(
                "INSERT INTO sources (path, agent, device, inode, size, mtime_ns) "
                "VALUES (?,?,?,?,?,?)",
                (log.key, log.agent, log.device, log.inode, log.size, log.mtime_ns),
            )
            plan.tasks.append(
                ChunkTask(
                    int(cursor.lastrowid or 0),
                    log.agent,
                    log.path,
                    0,
                    None,
                    log.compressed,
                    size=log.size,
                )
            )
        conn.executemany(
            "UPDATE sources SET offset = 0, state = NULL, lines = 0, rejected_lines = 0, "
            "tail_hash = NULL, tail_offset = NULL WHERE id = ?",
            plan.restarts,
        )
        conn.executemany(
            "UPDATE sources SET device = ?, inode = ?, size = ?, mtime_ns = ?, missing = 0 "
            "WHERE id = ?",
            plan.stats,
        )
        conn.executemany("UPDATE sources SET missing = 1 WHERE path = ?", plan.gone)
        conn.executemany(
            "UPDATE sources SET tail_hash = ?, tail_offset = ? WHERE id = ? AND offset = ?",
            plan.tails,
        )
        conn.execute("COMMIT")
    except BaseException:
        rollback_if_open(conn)
        raise
    return plan.tasks


def _scan(
    ledger: Ledger, roots: list[LogRoot], unlisted: list[str]
) -> tuple[list[FoundFile], list[LogFile], bool]:
    """Every log file under the roots, those of them that changed, and whether every file
    the ledger knows as present was found (see `_changed_files`); folders that could not
    be listed go to `unlisted`. Runs inside `ingest`, with the cycle collector paused."""
    found = find_log_files(roots, unlisted)
    return (found, *_changed_files(ledger, found))


def _changed_files(ledger: Ledger, found: list[FoundFile]) -> tuple[list[LogFile], bool]:
    """The found files whose stat differs from what the ledger stored or that still have
    bytes to read (as `LogFile`s), and whether every file the ledger knows as present was
    found. A warm run with nothing new compares thousands of files here, so it reads only
    the columns the comparison needs and builds no object per unchanged file."""
    stored = {
        row[0]: row[1:]
        for row in ledger.conn.execute(
            "SELECT path, device, inode, size, mtime_ns, offset, "
            "offset = 0 OR tail_offset IS offset FROM sources WHERE missing = 0"
        )
    }
    changed: list[LogFile] = []
    unchanged = 0
    for agent, path, stat in found:
        size = stat.st_size
        # Read to its end (offset == size) with the same identity, size and time, and the
        # checksum of its last bytes known: nothing new.
        if stored.get(ledger_key(path)) == (
            stat.st_dev,
            stat.st_ino,
            size,
            stat.st_mtime_ns,
            size,
            1,
        ):
            unchanged += 1
        else:
            changed.append(LogFile.from_stat(agent, path, stat))
    return changed, unchanged == len(stored)


def _continuation(task: ChunkTask, result: ChunkResult) -> ChunkTask:
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


def _results_inline(tasks: list[ChunkTask]) -> Iterator[ChunkResult]:
    for task in tasks:
        while True:
            result = parse_chunk(task)
            yield result
            if result.at_end or result.error:
                break
            task = _continuation(task, result)


def _groups(tasks: list[ChunkTask]) -> list[list[ChunkTask]]:
    """Files in groups of about GROUP_BYTES; a big file travels alone."""
    groups: list[list[ChunkTask]] = []
    current: list[ChunkTask] = []
    current_bytes = 0
    for task in tasks:
        size = max(0, (task.size or CHUNK_BYTES) - task.offset)
        if current and (current_bytes + size > GROUP_BYTES or len(current) >= GROUP_FILES):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(task)
        current_bytes += size
    if current:
        groups.append(current)
    return groups


def _pool_context() -> Any:
    import multiprocessing
    import threading

    # Forking is the cheapest start, but only safe while this process has one thread (a
    # tray or LSP process has more): then workers start fresh instead. Qt starts threads
    # of its own that `threading` does not count, so a process that loaded it spawns too.
    if os.name == "posix" and threading.active_count() == 1 and not _qt_loaded():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _qt_loaded() -> bool:
    return "PySide6.QtCore" in sys.modules


def _results_parallel(tasks: list[ChunkTask], workers: int) -> Iterator[ChunkResult | None]:
    """Parse files on all cores; chunks of one file stay in order because each next chunk
    is submitted only after the previous one came back. Yields None while the workers are
    all busy, so the writer can commit in that time."""
    # Imported here: the pool costs ~50 ms of start-up that small, warm ingests never need.
    from concurrent.futures import ProcessPoolExecutor

    # Biggest first, so a long file does not finish last on one core.
    pending = sorted(_groups(tasks), key=lambda g: sum((t.size or 0) - t.offset for t in g))
    context = _pool_context()
    if context.get_start_method() == "fork":
        _typed_reader_for_workers()  # once here, inherited, instead of once per worker
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=start_worker,
        initargs=(os.getpid(),),
    ) as pool:
        running: set[Future[list[ChunkResult]]] = set()

        def submit_next() -> None:
            if pending:
                running.add(pool.submit(parse_group, pending.pop()))

        try:
            # The first submit forks the workers.
            with _interrupt_held_back():
                for _ in range(workers * IN_FLIGHT_PER_WORKER):
                    submit_next()
            yield from _parallel_results(pool, running, submit_next)
        except BaseException:
            # Ctrl-C, an error, or the caller stopped reading: drop the queued groups
            # instead of parsing them all before the pool can shut down.
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _parallel_results(
    pool: Any, running: set[Future[list[ChunkResult]]], submit_next: Callable[[], None]
) -> Iterator[ChunkResult | None]:
    """The results as they come; `running` is shared with `submit_next`, so it is only
    ever changed in place.

    Every touch of the pool happens with Ctrl-C noted rather than raised: an interrupt
    raised while `wait` takes its futures' locks one by one leaves one held, the pool's
    manager thread then blocks on it, and Python's exit hook for the pool joins that thread
    forever. The interrupt is raised when the pool's locks are all free again."""
    while running:
        with _interrupt_deferred():
            results = _take_done(pool, running, submit_next, 0)
        if results is None:
            # Nothing parsed yet: a good moment for the writer to commit what it holds.
            yield None
            while results is None:
                # In short waits, so that a noted Ctrl-C is acted on within one.
                with _interrupt_deferred():
                    results = _take_done(pool, running, submit_next, WAIT_SLICE_SECONDS)
        yield from results


def _take_done(
    pool: Any,
    running: set[Future[list[ChunkResult]]],
    submit_next: Callable[[], None],
    timeout: float,
) -> list[ChunkResult] | None:
    """The results of the groups done within `timeout` (None if none is), with the next
    chunk of each file not yet read to its end, or else a new group, submitted."""
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
    if not done:
        return None
    running -= done
    taken: list[ChunkResult] = []
    for future in done:
        results = future.result()
        followups = [[_continuation(r.task, r)] for r in results if not (r.at_end or r.error)]
        for followup in followups:
            running.add(pool.submit(parse_group, followup))
        if not followups:
            submit_next()
        taken.extend(results)
    return taken


@contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Ctrl-C noted instead of raised inside the block, then handed to its handler at the
    block's end if it came.

    Only the main thread runs Python's signal handlers, and only it may swap them; in any
    other thread (the tray's or the language server's ingest) this does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler):
        # Ignored (a background job of a script), the default (the process just ends) or
        # set outside Python: nothing is raised inside the block, so nothing to defer.
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda number, _: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
    if caught:
        handler(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt


@contextmanager
def _interrupt_held_back() -> Iterator[None]:
    """Ctrl-C held back while this thread starts the workers, then raised if it came.

    The signal is blocked in this thread, and the workers inherit the blocked signal through
    a fork and through the exec of a spawn: none can be interrupted before `start_worker`
    ignores it (a worker's interrupted start-up prints a traceback of its own). In the main
    thread its Python handler is also deferred: with other threads running (the progress
    bar's), one of them takes the signal, and the main thread would otherwise raise in the
    middle of writing a spawned worker's start-up data."""
    import signal

    with _interrupt_deferred():
        mask = None
        if hasattr(signal, "pthread_sigmask"):  # not on Windows, which has no Ctrl-C group
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def ingest(
    ledger: Ledger,
    roots: list[LogRoot] | None = None,
    *,
    prices: Callable[[], PriceBook] | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    files: list[LogFile] | None = None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    """Read every new complete line under the roots into the ledger.

    `files` limits the run to those files (the live engine passes the ones that changed);
    other known files are then left as they are, not marked missing. Once `cancel` is set
    the ingest stops between parsed chunks with IngestCancelled.
    """
    roots = all_roots() if roots is None else roots
    try:
        with cycle_collection_paused():
            return _ingest(ledger, roots, prices, progress, workers, files, cancel)
    except sqlite3.DatabaseError as exc:
        # Every write above rolls back what it had begun before this gets here.
        corrupt = damaged(exc, ledger.path)
        if corrupt is not None:
            raise corrupt from exc
        problem = storage_problem(exc)
        if problem is None:
            raise
        raise write_failed(ledger.path, problem) from exc


def _ingest(
    ledger: Ledger,
    roots: list[LogRoot],
    prices: Callable[[], PriceBook] | None,
    progress: ProgressCallback | None,
    workers: int | None,
    files: list[LogFile] | None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    # While another process's big read holds the ingest lock (the tray's first import, a
    # `burnmeter ingest` in another terminal), its one long transaction holds SQLite's
    # write lock too: planning (which writes the files' states) would wait inside SQLite,
    # silently, deaf to Ctrl-C, and fail after LOCK_WAIT_SECONDS. The lock is waited for
    # here instead, said as such, and the plan made from the offsets it leaves.
    started = time.monotonic()
    lock = _wait_for_a_big_ingest(ledger, progress)
    waited_s = time.monotonic() - started if lock is not None else 0.0
    try:
        summary, tasks = _plan(ledger, roots, files)
        summary.waited_s = waited_s
        if _bytes_to_read(tasks) < PARALLEL_THRESHOLD_BYTES:
            return _read_into_ledger(ledger, summary, tasks, prices, progress, workers, cancel)
        if lock is None:
            # A big read (a first import, a long catch-up) takes the ingest lock beside
            # the ledger; one that began meanwhile is waited for, then the plan is made
            # again: the same bytes are not parsed twice on the same cores.
            started = time.monotonic()
            lock, waited = _take_big_ingest_lock(ledger, progress)
            if waited:
                summary, tasks = _plan(ledger, roots, files)
                summary.waited_s = time.monotonic() - started
        return _read_into_ledger(ledger, summary, tasks, prices, progress, workers, cancel)
    finally:
        if lock is not None:
            lock.release()


def _plan(
    ledger: Ledger, roots: list[LogRoot], files: list[LogFile] | None
) -> tuple[IngestSummary, list[ChunkTask]]:
    if files is not None:
        return IngestSummary(files_seen=len(files), roots=roots), _plan_tasks(ledger, files)
    unlisted: list[str] = []
    found, changed, all_found = _scan(ledger, roots, unlisted)
    summary = IngestSummary(files_seen=len(found), roots=roots)
    summary.unlisted_folders = unlisted
    summary.unreadable.extend(unlisted)
    if not changed and all_found:
        return summary, []  # a warm run: nothing new, nothing gone
    present = {ledger_key(path) for _, path, _ in found}
    return summary, _plan_tasks(ledger, changed, present=present)


def _bytes_to_read(tasks: list[ChunkTask]) -> int:
    return sum(max(0, (t.size or 0) - t.offset) for t in tasks)


def ingest_lock(ledger_path: Path) -> WriterLock:
    """The lock a big read (a first import, a long catch-up) holds beside the ledger."""
    from shared.live.lock import WriterLock

    return WriterLock(ledger_path.parent, INGEST_LOCK_FILENAME)


def _wait_for_a_big_ingest(ledger: Ledger, progress: ProgressCallback | None) -> WriterLock | None:
    """None when no other process holds the ingest lock (the usual case: a probe, nothing
    taken); else the lock, once its holder is done."""
    try:
        if ingest_lock(ledger.path).is_free():
            return None
    except OSError:
        return None  # a folder without locks: SQLite's own lock still keeps order
    return _take_big_ingest_lock(ledger, progress)[0]


def _take_big_ingest_lock(
    ledger: Ledger, progress: ProgressCallback | None
) -> tuple[WriterLock | None, bool]:
    """The ingest lock (None where it cannot be had) and whether another holder was waited
    for. Without a lock (a file system without locks, a folder that takes no new file)
    big reads may overlap as before: slower, and the totals stay exact."""
    lock = ingest_lock(ledger.path)
    try:
        if lock.try_acquire():
            return lock, False
        if progress is not None:
            progress(0, 0, WAITING_FOR_INGEST)
        lock.acquire()
    except OSError:
        return None, False
    return lock, True


def _read_into_ledger(
    ledger: Ledger,
    summary: IngestSummary,
    tasks: list[ChunkTask],
    prices: Callable[[], PriceBook] | None,
    progress: ProgressCallback | None,
    workers: int | None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    if not tasks:
        return summary
    total_bytes = _bytes_to_read(tasks)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    results: Iterator[ChunkResult | None]
    if total_bytes >= PARALLEL_THRESHOLD_BYTES and workers > 1:
        results = _results_parallel(tasks, workers)
    else:
        results = _results_inline(tasks)
    if prices is None:
        from shared.pricing import PriceBook

        prices = PriceBook
    writer = LedgerWriter(ledger, prices)
    big = total_bytes >= PARALLEL_THRESHOLD_BYTES
    if big:
        # A big ingest inserts into every index at random places: a page cache that holds
        # them saves re-reading pages, and rarer checkpoints save rewriting them.
        ledger.conn.execute(f"PRAGMA cache_size = -{BIG_CACHE_KIB}")
        ledger.conn.execute(f"PRAGMA wal_autocheckpoint = {BIG_CHECKPOINT_PAGES}")
        ledger.conn.execute(f"PRAGMA mmap_size = {BIG_CACHE_KIB * 1024}")
    bulk = total_bytes >= BULK_THRESHOLD_BYTES and _bulk_load_possible(ledger)
    dropped = _begin_bulk_load(ledger) if bulk else ([], [])
    writer.bulk = bulk
    done_bytes = 0
    files_read: set[int] = set()
    last_path = ""

    def commit() -> bool:
        try:
            summary.new_calls += writer.flush()
        except sqlite3.OperationalError as exc:
            if storage_problem(exc) is not None:
                # Every later batch would fail the same way: stop (`ingest` says why).
                raise
            if writer.bulk:
                # Part of the batch may be in the load: the whole load is rolled back.
                raise LedgerError(
                    f"The first import into {ledger.path} stopped: a ledger write failed "
                    f"({exc}). It was rolled back, nothing of it was kept; run the ingest "
                    "again."
                ) from exc
            # Nothing of the batch was kept; the next run reads those bytes again.
            summary.unreadable.append(f"{last_path}: ledger write failed: {exc}")
            return False
        if progress is not None:
            progress(min(done_bytes, total_bytes), total_bytes, last_path)
        return True

    try:
        for result in results:
            if cancel is not None and cancel.is_set():
                raise IngestCancelled(first_import=bulk)
            if result is None:
                if writer.worth_committing() and not commit():
                    break
                continue
            done_bytes += max(0, result.new_offset - result.task.offset)
            last_path = result.task.path
            if result.error == VANISHED:
                summary.vanished += 1
            elif result.error:
                summary.unreadable.append(f"{result.task.path}: {result.error}")
            if not result.error:
                files_read.add(result.task.source_id)
            summary.events_read += result.rows.events_read
            summary.rejected_lines += result.rows.rejected_lines
            if writer.add(result) and not commit():
                break
            if progress is not None:
                progress(min(done_bytes, total_bytes), total_bytes, last_path)
        else:
            commit()
        if cancel is not None and cancel.is_set():
            raise IngestCancelled(first_import=bulk)
        if bulk:
            if progress is not None:
                progress(min(done_bytes, total_bytes), total_bytes, FINISHING_LEDGER)
            _finish_bulk_load(ledger, dropped)
            # The ledger was empty: every call in it is new. (The batches' counts add up
            # upserts, so a call that a later batch enlarged was counted twice.)
            (summary.new_calls,) = ledger.conn.execute(
                "SELECT count(*) FROM usage_events"
            ).fetchone()
    except BaseException as exc:
        # Not in a transaction any more: the load was committed just before a Ctrl-C (it
        # is kept), or SQLite rolled it back itself after an error.
        rolled_back = bulk and ledger.conn.in_transaction
        if rolled_back:
            ledger.conn.execute("ROLLBACK")
        if rolled_back and isinstance(exc, KeyboardInterrupt):
            raise FirstImportInterrupted from exc
        raise
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
        if big:
            ledger.conn.execute("PRAGMA cache_size = -2000")
            ledger.conn.execute("PRAGMA wal_autocheckpoint = 1000")
            ledger.conn.execute("PRAGMA mmap_size = 0")
    summary.files_read = len(files_read)
    summary.bytes_read = done_bytes
    return summary


def _bulk_load_possible(ledger: Ledger) -> bool:
    """A first ingest of a big history into an empty ledger, whose every trigger keeps a
    table that `rebuild_derived` knows how to fill."""
    if ledger.has_calls():
        return False
    conn = ledger.conn
    names = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    return names <= DERIVED_TRIGGERS


def _begin_bulk_load(ledger: Ledger) -> tuple[list[str], list[str]]:
    """Open the one transaction of a bulk load and drop in it the row-by-row triggers and
    the plain (non-unique) indexes: building an index once from the loaded rows costs a
    fraction of inserting every row into it at a random place. A kill or an error rolls
    the drops back with everything else. Returns the SQL of the indexes and triggers."""
    conn = ledger.conn
    begin_write(ledger)
    try:
        found = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
        indexes: list[str] = []
        triggers: list[str] = []
        for kind, name, sql in found:
            if kind == "index" and sql.upper().startswith("CREATE UNIQUE"):
                continue  # a unique index is a constraint the upserts rely on
            conn.execute(f'DROP {kind.upper()} "{name}"')
            (indexes if kind == "index" else triggers).append(sql)
    except BaseException:
        rollback_if_open(conn)
        raise
    return indexes, triggers


def _finish_bulk_load(ledger: Ledger, dropped: tuple[list[str], list[str]]) -> None:
    """Build the indexes again, fill the derived tables from what was loaded (with the
    indexes in place, as the row-by-row path has them), restore the triggers, commit."""
    conn = ledger.conn
    indexes, triggers = dropped
    for sql in indexes:
        conn.execute(sql)
    rebuild_derived(conn)
    for sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")


def ledger_has_sources(ledger: Ledger) -> bool:
    return ledger.conn.execute("SELECT 1 FROM sources LIMIT 1").fetchone() is not None


def display_path(path: str | Path) -> str:
    home = os.path.expanduser("~")
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text
