"""Incremental ingest: new complete lines of every log file into the ledger, exactly once.

Each file's byte offset (with device, inode, size and the Codex parser state) moves in
the same transaction as the model calls read from those bytes, so killing an ingest at
any moment and running it again gives the totals of an uninterrupted run. Only complete
lines are consumed; a half-written last line waits for its newline. A file that shrank
or was replaced is read again from the start; dedupe keys keep totals right.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shared.ledger import Ledger
from shared.repos import RepoFinder
from shared.sources.claude import parse_claude_lines
from shared.sources.codex import CodexState, parse_codex_lines
from shared.sources.events import CLAUDE, ParsedChunk
from shared.sources.roots import LogFile, LogRoot, all_roots, discover_files

if TYPE_CHECKING:
    from concurrent.futures import Future

    from shared.pricing import PriceBook

CHUNK_BYTES = 16 * 1024 * 1024
# Below this much new data a process pool costs more than it saves.
PARALLEL_THRESHOLD_BYTES = 32 * 1024 * 1024

ProgressCallback = Callable[[int, int, str], None]


@dataclass(slots=True)
class ChunkTask:
    source_id: int
    agent: str
    path: str
    offset: int
    state: bytes | None
    compressed: bool
    max_bytes: int = CHUNK_BYTES


@dataclass(slots=True)
class ChunkResult:
    task: ChunkTask
    parsed: ParsedChunk
    new_offset: int
    new_state: bytes | None
    at_end: bool
    error: str | None = None


@dataclass
class IngestSummary:
    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    events_read: int = 0
    new_calls: int = 0
    rejected_lines: int = 0
    unreadable: list[str] = field(default_factory=list)
    roots: list[LogRoot] = field(default_factory=list)


def _session_from_path(path: str) -> str:
    name = os.path.basename(path)
    for suffix in (".jsonl.zst", ".jsonl"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_complete_lines(
    path: str, offset: int, max_bytes: int, compressed: bool
) -> tuple[bytes, int, bool]:
    """Bytes from `offset` up to the last newline within about `max_bytes`.

    Returns (data, new offset, reached the end of the complete lines). A line longer
    than `max_bytes` is read whole rather than split.
    """
    if compressed:
        return _read_compressed(path, offset)
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
        if len(data) < max_bytes:
            cut = data.rfind(b"\n") + 1
            return data[:cut], offset + cut, True
        cut = data.rfind(b"\n") + 1
        while cut == 0:
            more = handle.read(max_bytes)
            if not more:
                return b"", offset, True
            data += more
            cut = data.rfind(b"\n") + 1
        return data[:cut], offset + cut, False


def _read_compressed(path: str, offset: int) -> tuple[bytes, int, bool]:
    """A `.jsonl.zst` is archived and no longer grows: it is read whole, once. Its offset
    records the compressed size consumed."""
    if offset > 0:
        return b"", offset, True
    import zstandard

    with open(path, "rb") as handle:
        data = zstandard.ZstdDecompressor().stream_reader(handle).read()
        size = os.fstat(handle.fileno()).st_size
    cut = data.rfind(b"\n") + 1
    return data[:cut], size, True


def parse_chunk(task: ChunkTask) -> ChunkResult:
    """Read and parse one chunk of one file. Runs in a worker process for big ingests."""
    try:
        data, new_offset, at_end = read_complete_lines(
            task.path, task.offset, task.max_bytes, task.compressed
        )
    except OSError as exc:
        return ChunkResult(task, ParsedChunk(), task.offset, task.state, True, str(exc))
    fallback = _session_from_path(task.path)
    if task.agent == CLAUDE:
        parsed = parse_claude_lines(data, fallback)
        new_state = task.state
    else:
        state = CodexState.from_json(task.state)
        parsed = parse_codex_lines(data, state, fallback)
        new_state = state.to_json()
    return ChunkResult(task, parsed, new_offset, new_state, at_end)


# Added to a sidechain call's rank so that any main-thread call ranks before it.
SIDECHAIN_RANK = 1 << 52


@dataclass(slots=True)
class SessionUpdate:
    """What one chunk says about a session; see LedgerWriter._write_sessions."""

    agent: str
    first: int
    last: int
    cwd: str = ""
    branch: str = ""
    path_rank: int | None = None
    branch_rank: int | None = None


class LedgerWriter:
    """Writes parsed chunks and their file offsets in one transaction each."""

    def __init__(self, ledger: Ledger, prices: Callable[[], PriceBook]) -> None:
        self.ledger = ledger
        self._prices_factory = prices
        self._prices: PriceBook | None = None
        self.repos = RepoFinder()

    @property
    def prices(self) -> PriceBook:
        if self._prices is None:
            self._prices = self._prices_factory()
            self.ledger.set_meta("price_version", self._prices.version)
        return self._prices

    def write(self, result: ChunkResult) -> int:
        """Commit one chunk; returns how many new model calls it added."""
        conn = self.ledger.conn
        parsed = result.parsed
        conn.execute("BEGIN IMMEDIATE")
        try:
            stored = conn.execute(
                "SELECT offset FROM sources WHERE id = ?", (result.task.source_id,)
            ).fetchone()
            if stored is None or stored[0] != result.task.offset:
                # Another burnmeter process consumed these bytes first (a report run while
                # the tray ingests): its transaction already holds them, lines included.
                conn.execute("COMMIT")
                return 0
            before = conn.total_changes
            self._write_events(result.task.source_id, parsed)
            added = conn.total_changes - before
            self._write_tools(parsed)
            self._write_sessions(parsed)
            self._write_rate_limits(parsed)
            conn.execute(
                "UPDATE sources SET offset = ?, state = ?, lines = lines + ?, "
                "rejected_lines = rejected_lines + ?, last_error = ? WHERE id = ?",
                (
                    result.new_offset,
                    result.new_state,
                    parsed.lines,
                    parsed.rejected_lines,
                    result.error,
                    result.task.source_id,
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return added

    def _write_events(self, source_id: int, parsed: ParsedChunk) -> None:
        if not parsed.events:
            return
        prices = self.prices
        rows = []
        for event in parsed.events:
            cost = prices.cost(event)
            rows.append(
                (
                    event.event_key,
                    event.agent,
                    event.session_id,
                    source_id,
                    event.ts_ms,
                    event.model,
                    event.speed,
                    event.input_tokens,
                    event.output_tokens,
                    event.cache_write_5m_tokens,
                    event.cache_write_1h_tokens,
                    event.cache_read_tokens,
                    event.reasoning_tokens,
                    event.total_tokens,
                    cost,
                    0 if cost is None else 1,
                    int(event.free),
                    int(event.is_sidechain),
                )
            )
        # The same model call read twice (streamed lines, a sidechain copy, a re-read file)
        # keeps the reading with the most tokens. Early streamed lines carry no `speed`, so
        # on a tie the reading that says "fast" wins, whichever was read first.
        self.ledger.conn.executemany(
            """INSERT INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT (event_key) DO UPDATE SET
                input_tokens = excluded.input_tokens,
                output_tokens = excluded.output_tokens,
                cache_write_5m_tokens = excluded.cache_write_5m_tokens,
                cache_write_1h_tokens = excluded.cache_write_1h_tokens,
                cache_read_tokens = excluded.cache_read_tokens,
                reasoning_tokens = excluded.reasoning_tokens,
                total_tokens = excluded.total_tokens,
                speed = excluded.speed,
                cost_usd = excluded.cost_usd,
                priced = excluded.priced
            WHERE excluded.total_tokens > usage_events.total_tokens
                OR (excluded.total_tokens = usage_events.total_tokens
                    AND excluded.speed = 'fast' AND usage_events.speed != 'fast')""",
            rows,
        )

    def _write_tools(self, parsed: ParsedChunk) -> None:
        conn = self.ledger.conn
        if parsed.tool_calls:
            conn.executemany(
                "INSERT INTO tool_calls VALUES (?,?,?,?,?,?) ON CONFLICT (tool_id) DO UPDATE "
                "SET event_key = coalesce(tool_calls.event_key, excluded.event_key)",
                [
                    (c.tool_id, c.event_key, c.session_id, c.ts_ms, c.tool_name, c.input_hash)
                    for c in parsed.tool_calls
                ],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO tool_files VALUES (?, ?)",
                [(c.tool_id, path) for c in parsed.tool_calls for path in c.paths],
            )
        if parsed.tool_links:
            conn.executemany(
                "UPDATE tool_calls SET event_key = ? WHERE tool_id = ? AND event_key IS NULL",
                [(key, tool_id) for tool_id, key in parsed.tool_links],
            )
        if parsed.tool_errors:
            conn.executemany(
                "INSERT OR IGNORE INTO tool_errors VALUES (?)",
                [(tool_id,) for tool_id in parsed.tool_errors],
            )

    def _write_sessions(self, parsed: ParsedChunk) -> None:
        """Sessions take their project path from the earliest main-thread call with a cwd
        and their branch from the latest one; a subagent's (sidechain) cwd and branch, often
        a worktree of its own, count only while the session has no main-thread call. Ranks
        make the result the same whatever order files and chunks are read in."""
        sessions: dict[str, SessionUpdate] = {}
        for event in parsed.events:
            entry = sessions.get(event.session_id)
            if entry is None:
                entry = sessions[event.session_id] = SessionUpdate(
                    event.agent, event.ts_ms, event.ts_ms
                )
            entry.first = min(entry.first, event.ts_ms)
            entry.last = max(entry.last, event.ts_ms)
            side = SIDECHAIN_RANK if event.is_sidechain else 0
            if event.cwd and (entry.path_rank is None or side + event.ts_ms < entry.path_rank):
                entry.cwd, entry.path_rank = event.cwd, side + event.ts_ms
            if event.git_branch and (
                entry.branch_rank is None or side - event.ts_ms < entry.branch_rank
            ):
                entry.branch, entry.branch_rank = event.git_branch, side - event.ts_ms
        if not sessions:
            return
        rows = [
            (
                session_id,
                entry.agent,
                entry.cwd,
                self.repos.repo_for(entry.cwd) if entry.cwd else None,
                entry.branch,
                entry.first,
                entry.last,
                entry.path_rank,
                entry.branch_rank,
            )
            for session_id, entry in sessions.items()
        ]
        path_wins = "excluded.path_rank < coalesce(sessions.path_rank, 9e18)"
        branch_wins = "excluded.branch_rank < coalesce(sessions.branch_rank, 9e18)"
        self.ledger.conn.executemany(
            f"""INSERT INTO sessions (session_id, agent, project_path, repo, git_branch,
                first_ts_ms, last_ts_ms, path_rank, branch_rank) VALUES (?,?,?,?,?,?,?,?,?)
            ON CONFLICT (session_id) DO UPDATE SET
                project_path = CASE WHEN {path_wins}
                    THEN excluded.project_path ELSE sessions.project_path END,
                repo = CASE WHEN {path_wins} THEN excluded.repo ELSE sessions.repo END,
                path_rank = CASE WHEN {path_wins}
                    THEN excluded.path_rank ELSE sessions.path_rank END,
                git_branch = CASE WHEN {branch_wins}
                    THEN excluded.git_branch ELSE sessions.git_branch END,
                branch_rank = CASE WHEN {branch_wins}
                    THEN excluded.branch_rank ELSE sessions.branch_rank END,
                first_ts_ms = min(sessions.first_ts_ms, excluded.first_ts_ms),
                last_ts_ms = max(sessions.last_ts_ms, excluded.last_ts_ms)""",
            rows,
        )

    def _write_rate_limits(self, parsed: ParsedChunk) -> None:
        if not parsed.rate_limits:
            return
        self.ledger.conn.executemany(
            "INSERT OR IGNORE INTO rate_limits VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    s.agent,
                    s.session_id,
                    s.ts_ms,
                    s.primary_used_percent,
                    s.primary_window_minutes,
                    s.primary_resets_at,
                    s.secondary_used_percent,
                    s.secondary_window_minutes,
                    s.secondary_resets_at,
                    s.plan_type,
                )
                for s in parsed.rate_limits
            ],
        )


def _ends_a_line(path: str, offset: int) -> bool:
    """A stored offset always follows a newline. Any other byte there means the file was
    rewritten in place (same inode, e.g. `cp` over it) and grew past the old offset."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset - 1)
            return handle.read(1) == b"\n"
    except OSError:
        return True  # the read itself reports the problem


def _plan_tasks(
    ledger: Ledger, files: list[LogFile], *, mark_missing: bool = True
) -> list[ChunkTask]:
    """Register files and decide where each needs reading from; unchanged files need nothing.

    With `mark_missing`, known files absent from `files` are flagged as gone (their history
    stays); a targeted ingest of a few files passes False."""
    conn = ledger.conn
    tasks: list[ChunkTask] = []
    present = set()
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Read inside the write transaction: another burnmeter process may have registered
        # the same new files a moment ago.
        known = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT path, id, device, inode, size, mtime_ns, offset, state FROM sources"
            )
        }
        for log in files:
            present.add(log.path)
            row = known.get(log.path)
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO sources (path, agent, device, inode, size, mtime_ns) "
                    "VALUES (?,?,?,?,?,?)",
                    (log.path, log.agent, log.device, log.inode, log.size, log.mtime_ns),
                )
                source_id = int(cursor.lastrowid or 0)
                tasks.append(ChunkTask(source_id, log.agent, log.path, 0, None, log.compressed))
                continue
            source_id, device, inode, size, mtime_ns, offset, state = row
            replaced = (device, inode) != (log.device, log.inode) or log.size < offset
            if log.compressed:
                replaced = replaced or (size, mtime_ns) != (log.size, log.mtime_ns)
            elif not replaced and 0 < offset < log.size:
                replaced = not _ends_a_line(log.path, offset)
            if replaced:
                # Read again from the start; dedupe keys keep what was already counted.
                offset, state = 0, None
                conn.execute(
                    "UPDATE sources SET offset = 0, state = NULL, lines = 0, rejected_lines = 0 "
                    "WHERE id = ?",
                    (source_id,),
                )
            if (size, mtime_ns, device, inode) != (log.size, log.mtime_ns, log.device, log.inode):
                conn.execute(
                    "UPDATE sources SET device = ?, inode = ?, size = ?, mtime_ns = ?, "
                    "missing = 0 WHERE id = ?",
                    (log.device, log.inode, log.size, log.mtime_ns, source_id),
                )
            if offset < log.size:
                tasks.append(
                    ChunkTask(source_id, log.agent, log.path, offset, state, log.compressed)
                )
        gone = [path for path in known if path not in present] if mark_missing else []
        if gone:
            conn.executemany("UPDATE sources SET missing = 1 WHERE path = ?", [(p,) for p in gone])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return tasks


def _results_inline(tasks: list[ChunkTask]) -> Iterator[ChunkResult]:
    for task in tasks:
        while True:
            result = parse_chunk(task)
            yield result
            if result.at_end or result.error:
                break
            task = ChunkTask(
                task.source_id,
                task.agent,
                task.path,
                result.new_offset,
                result.new_state,
                task.compressed,
                task.max_bytes,
            )


def _results_parallel(tasks: list[ChunkTask], workers: int) -> Iterator[ChunkResult]:
    """Parse files on all cores; chunks of one file stay in order because each next chunk
    is submitted only after the previous one came back."""
    # Imported here: the pool costs ~50 ms of start-up that small, warm ingests never need.
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pending_tasks = list(reversed(tasks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        running: set[Future[ChunkResult]] = set()
        while pending_tasks and len(running) < workers * 3:
            running.add(pool.submit(parse_chunk, pending_tasks.pop()))
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                yield result
                task = result.task
                if not (result.at_end or result.error):
                    running.add(
                        pool.submit(
                            parse_chunk,
                            ChunkTask(
                                task.source_id,
                                task.agent,
                                task.path,
                                result.new_offset,
                                result.new_state,
                                task.compressed,
                                task.max_bytes,
                            ),
                        )
                    )
                elif pending_tasks:
                    running.add(pool.submit(parse_chunk, pending_tasks.pop()))


def ingest(
    ledger: Ledger,
    roots: list[LogRoot] | None = None,
    *,
    prices: Callable[[], PriceBook] | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    files: list[LogFile] | None = None,
) -> IngestSummary:
    """Read every new complete line under the roots into the ledger.

    `files` limits the run to those files (the live engine passes the ones that changed);
    other known files are then left as they are, not marked missing.
    """
    roots = all_roots() if roots is None else roots
    targeted = files is not None
    files = discover_files(roots) if files is None else files
    summary = IngestSummary(files_seen=len(files), roots=roots)
    tasks = _plan_tasks(ledger, files, mark_missing=not targeted)
    if not tasks:
        return summary
    sizes = {log.path: log.size for log in files}
    total_bytes = sum(max(0, sizes.get(t.path, 0) - t.offset) for t in tasks)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if total_bytes >= PARALLEL_THRESHOLD_BYTES and workers > 1 and len(tasks) > 0:
        results = _results_parallel(tasks, workers)
    else:
        results = _results_inline(tasks)
    if prices is None:
        from shared.pricing import PriceBook

        prices = PriceBook
    writer = LedgerWriter(ledger, prices)
    done_bytes = 0
    files_read: set[int] = set()
    for result in results:
        done_bytes += max(0, result.new_offset - result.task.offset)
        if result.error:
            summary.unreadable.append(f"{result.task.path}: {result.error}")
        try:
            summary.new_calls += writer.write(result)
        except sqlite3.OperationalError as exc:
            summary.unreadable.append(f"{result.task.path}: ledger write failed: {exc}")
            continue
        files_read.add(result.task.source_id)
        summary.events_read += len(result.parsed.events)
        summary.rejected_lines += result.parsed.rejected_lines
        if progress is not None:
            progress(min(done_bytes, total_bytes), total_bytes, result.task.path)
    summary.files_read = len(files_read)
    summary.bytes_read = done_bytes
    return summary


def ledger_has_sources(ledger: Ledger) -> bool:
    return ledger.conn.execute("SELECT 1 FROM sources LIMIT 1").fetchone() is not None


def display_path(path: str | Path) -> str:
    home = os.path.expanduser("~")
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text
