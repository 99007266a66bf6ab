"""Where a cold ingest's CPU time goes, phase by phase, on the bench history.

    python -m bench.ingest_phases                      # the history bench.ingest_vs_ccusage made
    python -m bench.ingest_phases --home PATH --repeat 3
    python -m bench.ingest_phases --skip-writer --writer-off 3   # parsing alone, as a floor
    python -m bench.ingest_phases --skip-parsers --skip-writer --writer-replay 5  # by page size

Each parser phase runs in this one process (no pool), over every file of the history
already in memory, `--repeat` times; the fastest run counts (CPU seconds from
`time.process_time`, so other work on the machine disturbs it less than wall time). Then
one real cold ingest (with its worker processes) into an empty temporary ledger times every
SQL statement the writer runs. The phases:

- read: the files' bytes from the page cache, in the chunks the ingest reads;
- claude scan: finding the lines with usage or a tool error (two byte searches over every
  buffer, and a look at each line's first and last byte), no line parsed;
- codex parse: the whole parser, rows included, with the lenient reader alone, then with
  the typed `token_count` reader in front of it, as the ingest's parser workers run it;
- orjson / msgspec: decoding the Claude lines the scan selects, nothing else (msgspec into
  the typed reader's structs, skipping the text);
- claude parse: the whole parser with the lenient reader alone, then with the typed reader
  in front of it, as the ingest's parser workers run it;
- pickle / unpickle: sending the parsed rows from a worker to the writer.

`--writer-off RUNS` then times RUNS real cold ingests whose writer drops every parsed chunk
(no SQL at all): the wall time of the parallel parsing alone, a floor no writer can beat.

`--writer-replay RUNS` parses the history once, then feeds those parsed chunks to the
writer of RUNS cold ingests per page size (4 KiB, SQLite's default, and the 8 KiB a new
ledger gets), interleaved: the writer's own CPU time, no parsing in it.

Nothing here is a unit test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import os
import pickle
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_HOME = Path(os.environ.get("BURNMETER_BENCH_DATA", "/work/bench-data")) / "history/home"


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


class TimedConnection:
    """A sqlite3 connection that adds up the time of each statement it runs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.rows: collections.Counter[str] = collections.Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _timed(self, label: str, count: int, call: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = call()
        self.seconds[label] += time.perf_counter() - start
        self.rows[label] += count
        return result

    def execute(self, sql: str, *params: Any) -> Any:
        label = " ".join(sql.split())[:60]
        return self._timed(label, 1, lambda: self._conn.execute(sql, *params))

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        label = "many: " + " ".join(sql.split())[:54]
        return self._timed(label, len(rows), lambda: self._conn.executemany(sql, rows))


def parser_phases(repeat: int) -> None:
    from shared.ingest.chunks import CHUNK_BYTES, ChunkTask
    from shared.ingest.parsing import parse_chunk
    from shared.ingest.reading import read_complete_lines
    from shared.sources import claude, codex
    from shared.sources.roots import all_roots, discover_files

    files = discover_files(all_roots())
    by_agent = {
        agent: [log for log in files if log.agent == agent] for agent in ("claude-code", "codex")
    }

    def read_all() -> None:
        for log in files:
            offset, at_end = 0, False
            while not at_end:
                _, offset, at_end = read_complete_lines(
                    log.path, offset, min(CHUNK_BYTES, log.size - offset + 65536)
                )

    data = {
        agent: [Path(log.path).read_bytes() for log in logs] for agent, logs in by_agent.items()
    }
    sizes = {agent: sum(map(len, buffers)) for agent, buffers in data.items()}
    selected: list[bytes] = []
    real_read_line = claude._read_line

    def keep_line(line: bytes, *_: object) -> None:
        selected.append(line)

    claude._read_line = keep_line  # type: ignore[assignment]
    try:
        for buffer in data["claude-code"]:
            claude.parse_claude_lines(buffer, "bench")
        lines = list(selected)
        # The scan alone: each selected line is cut out, as in the parser, and dropped.
        claude._read_line = lambda *_: None  # type: ignore[assignment]

        def scan_only() -> None:
            for buffer in data["claude-code"]:
                claude.parse_claude_lines(buffer, "bench")

        scan = best_of(repeat, scan_only)
    finally:
        claude._read_line = real_read_line  # type: ignore[assignment]

    import orjson

    from shared.sources.claude_typed import _decode_usage_line

    def decode() -> None:
        for line in lines:
            orjson.loads(line)

    def decode_typed() -> None:
        for line in lines:
            with contextlib.suppress(ValueError):  # a tool-error line: the lenient reader's
                _decode_usage_line(line)

    readers: dict[str, tuple[Any, Callable[[bytes], object]]] = {
        "claude": (claude, lambda buffer: claude.parse_claude_lines(buffer, "bench")),
        "codex": (
            codex,
            lambda buffer: codex.parse_codex_lines(buffer, codex.CodexState(), "bench"),
        ),
    }

    def parsing(agent: str, typed: bool) -> Callable[[], object]:
        """The whole parser of `agent` over its files, with its typed reader on (as the
        parser workers run it) or off (the lenient reader alone)."""
        module, parse_one = readers[agent]
        buffers = data["claude-code" if agent == "claude" else "codex"]

        def parse() -> None:
            before = module._typed
            if typed:
                module.use_typed_reader()  # as the parser workers do
            else:
                module._typed = None
            try:
                for buffer in buffers:
                    parse_one(buffer)
            finally:
                module._typed = before

        return parse

    def parser_rows(agent: str, size: int) -> list[tuple[str, float, int]]:
        return [
            (f"{agent} parse, lenient reader only", best_of(repeat, parsing(agent, False)), size),
            (f"{agent} parse, as in the workers", best_of(repeat, parsing(agent, True)), size),
        ]

    results = [
        parse_chunk(ChunkTask(1, log.agent, log.path, 0, None, False, size=log.size))
        for log in files
    ]
    blob = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
    gc.disable()  # as in the workers
    rows = [
        ("read (all files)", best_of(repeat, read_all), sum(sizes.values())),
        ("claude scan only", scan, sizes["claude-code"]),
        ("claude orjson of selected lines", best_of(repeat, decode), sum(map(len, lines))),
        ("claude msgspec of selected lines", best_of(repeat, decode_typed), sum(map(len, lines))),
        *parser_rows("claude", sizes["claude-code"]),
        *parser_rows("codex", sizes["codex"]),
        (
            "pickle rows (worker side)",
            best_of(repeat, lambda: pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)),
            len(blob),
        ),
        ("unpickle rows (writer side)", best_of(repeat, lambda: pickle.loads(blob)), len(blob)),
    ]
    gc.enable()
    print(f"files: {len(files)}; Claude lines selected by the scan: {len(lines):,}")
    print(f"{'phase':<34} {'CPU s':>7} {'MB':>8}")
    for name, seconds, size in rows:
        print(f"{name:<34} {seconds:7.2f} {size / 1e6:8.1f}")


def writer_phases() -> None:
    from shared.ingest import ingest
    from shared.ledger import open_ledger

    with tempfile.TemporaryDirectory(prefix="burnmeter-phases-") as folder:
        ledger = open_ledger(Path(folder) / "ledger.sqlite")
        timed = TimedConnection(ledger.conn)
        ledger.conn = timed  # type: ignore[assignment]
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        summary = ingest(ledger)
        wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
        children = os.times()
        sql = sum(timed.seconds.values())
        print(
            f"\ncold ingest: {wall:.2f} s wall; writer process {cpu:.2f} CPU s, of which SQL "
            f"{sql:.2f} s; parser processes {children.children_user + children.children_system:.2f}"
            f" CPU s; {summary.new_calls:,} calls"
        )
        print(f"{'statement':<62} {'s':>6} {'rows':>8}")
        for label, seconds in sorted(timed.seconds.items(), key=lambda item: -item[1])[:16]:
            print(f"{label:<62} {seconds:6.3f} {timed.rows[label]:8,}")


def writer_off(runs: int) -> None:
    """Cold ingests whose writer drops every parsed chunk (no SQL at all): the wall time
    the parallel parsing alone takes, a floor for any writer."""
    import shared.ingest.bulk_load
    from shared.ingest import ingest
    from shared.ingest.writer import LedgerWriter
    from shared.ledger import open_ledger

    def drop(self: LedgerWriter) -> int:
        self._pending, self._pending_rows = [], 0
        return 0

    real_flush, real_finish = LedgerWriter.flush, shared.ingest.bulk_load.finish
    LedgerWriter.flush = drop  # type: ignore[method-assign]
    shared.ingest.bulk_load.finish = lambda ledger, _: ledger.conn.execute("ROLLBACK")
    try:
        for run in range(runs):
            with tempfile.TemporaryDirectory(prefix="burnmeter-phases-") as folder:
                ledger = open_ledger(Path(folder) / "ledger.sqlite")
                before = os.times()
                start = time.perf_counter()
                ingest(ledger)
                wall = time.perf_counter() - start
                after = os.times()
                ledger.close()
                own = after.user + after.system - before.user - before.system
                workers = (
                    after.children_user
                    + after.children_system
                    - before.children_user
                    - before.children_system
                )
                print(
                    f"writer off, run {run + 1}: {wall:.2f} s wall; main process {own:.2f} CPU "
                    f"s, parser processes {workers:.2f} CPU s"
                )
    finally:
        LedgerWriter.flush = real_flush  # type: ignore[method-assign]
        shared.ingest.bulk_load.finish = real_finish


def writer_replay(runs: int) -> None:
    """The writer alone: every file parsed once (inline), then the same parsed chunks
    written into fresh ledgers, by page size, interleaved so that drift in the machine's
    speed falls on both alike."""
    import statistics

    import shared.ingest.pool
    import shared.ledger
    from shared.ingest import ingest
    from shared.ledger import open_ledger

    recorded: list[Any] = []
    real_inline, real_parallel = (
        shared.ingest.pool.results_inline,
        shared.ingest.pool.results_parallel,
    )

    def record(tasks: Any) -> Any:
        for result in real_inline(tasks):
            recorded.append(result)
            yield result

    def replay(*_: Any) -> Any:
        # As the pool delivers them: results, with a pause marker now and then.
        for index, result in enumerate(recorded):
            yield result
            if index % 40 == 0:
                yield None

    page_sizes = (4096, 8192)
    real_page_size = shared.ledger.NEW_LEDGER_PAGE_SIZE
    cpu: dict[int, list[float]] = {size: [] for size in page_sizes}
    try:
        shared.ingest.pool.results_inline = record  # type: ignore[assignment]
        with tempfile.TemporaryDirectory(prefix="burnmeter-phases-") as folder:
            ingest(open_ledger(Path(folder) / "ledger.sqlite"), workers=1)
        shared.ingest.pool.results_inline = replay  # type: ignore[assignment]
        shared.ingest.pool.results_parallel = replay  # type: ignore[assignment]
        for run in range(runs):
            for size in page_sizes:
                shared.ledger.NEW_LEDGER_PAGE_SIZE = size
                with tempfile.TemporaryDirectory(prefix="burnmeter-phases-") as folder:
                    ledger = open_ledger(Path(folder) / "ledger.sqlite")
                    start = time.process_time()
                    summary = ingest(ledger, workers=2)
                    cpu[size].append(time.process_time() - start)
                    ledger.close()
                print(
                    f"writer replay, run {run + 1}, {size // 1024} KiB pages: "
                    f"{cpu[size][-1]:.2f} CPU s, {summary.new_calls:,} calls"
                )
    finally:
        shared.ingest.pool.results_inline, shared.ingest.pool.results_parallel = (
            real_inline,
            real_parallel,
        )
        shared.ledger.NEW_LEDGER_PAGE_SIZE = real_page_size
    for size in page_sizes:
        print(
            f"writer replay, {size // 1024} KiB pages: median {statistics.median(cpu[size]):.2f}"
            f" CPU s, min {min(cpu[size]):.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_phases")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="the history's HOME")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-parsers", action="store_true", help="no parser phases")
    parser.add_argument("--skip-writer", action="store_true", help="no timed cold ingest")
    parser.add_argument(
        "--writer-off",
        type=int,
        default=0,
        metavar="RUNS",
        help="also time RUNS cold ingests whose writer drops the rows (parsing alone)",
    )
    parser.add_argument(
        "--writer-replay",
        type=int,
        default=0,
        metavar="RUNS",
        help="also time the writer alone, RUNS cold ingests per page size (4 and 8 KiB)",
    )
    args = parser.parse_args(argv)
    if not args.home.is_dir():
        parser.error(f"no history at {args.home}: run `python -m bench.ingest_vs_ccusage` first")
    os.environ["HOME"] = str(args.home)
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        os.environ.pop(name, None)
    print(f"history: {args.home}; load average {os.getloadavg()}")
    if not args.skip_parsers:
        parser_phases(args.repeat)
    if not args.skip_writer:
        writer_phases()
    if args.writer_off:
        writer_off(args.writer_off)
    if args.writer_replay:
        writer_replay(args.writer_replay)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
