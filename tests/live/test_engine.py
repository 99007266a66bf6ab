"""The live engine against real files, real SQLite ledgers, real watchdog observers and a
real second process holding the writer lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.live import LiveEngine, WriterLock
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, session_file

NOW_MS = int(time.time() * 1000)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def totals(ledger_file: Path) -> tuple[int, int]:
    ledger = open_ledger(ledger_file)
    try:
        row = ledger.conn.execute(
            "SELECT count(*), coalesce(sum(total_tokens), 0) FROM usage_events"
        ).fetchone()
        return int(row[0]), int(row[1])
    finally:
        ledger.close()


class Changes:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.count += 1


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    path = tmp_path / "claude" / "projects"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def engines() -> Iterator[list[LiveEngine]]:
    started: list[LiveEngine] = []
    yield started
    for engine in started:
        engine.stop()


def make_engine(
    engines: list[LiveEngine], roots: list[LogRoot], ledger_file: Path, changes: Changes
) -> LiveEngine:
    engine = LiveEngine(roots, ledger_file, on_change=changes, debounce_s=0.02)
    engines.append(engine)
    engine.start()
    return engine


def call(n: int, session: str = "s1") -> str:
    return claude_call(
        message_id=f"msg_{n}",
        session_id=session,
        cwd="/work/app",
        ts_ms=NOW_MS + n,
        input_tokens=100 + n,
        output_tokens=10,
    )


def test_writer_lock_excludes_a_second_holder_until_released(tmp_path: Path) -> None:
    first, second = WriterLock(tmp_path), WriterLock(tmp_path)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.holder_pid() == os.getpid()
    first.release()
    assert second.try_acquire()
    second.release()


def test_writer_lock_is_held_across_processes_and_freed_when_the_holder_dies(
    tmp_path: Path,
) -> None:
    script = (
        "import sys, time; from pathlib import Path; from shared.live.lock import WriterLock; "
        f"lock = WriterLock(Path({str(tmp_path)!r})); print(lock.try_acquire(), flush=True); "
        "time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        ours = WriterLock(tmp_path)
        assert not ours.try_acquire()
        holder.kill()
        holder.wait()
        assert ours.try_acquire()
        ours.release()
    finally:
        holder.kill()
        holder.wait()


def test_writer_ingests_appended_lines_like_burnmeter_ingest(
    tmp_path: Path, projects: Path, engines: list[LiveEngine]
) -> None:
    log = session_file(projects, "/work/app", "s1")
    append(log, call(1))
    roots = [LogRoot(CLAUDE, projects)]
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    changes = Changes()
    engine = make_engine(engines, roots, ledger_file, changes)
    assert engine.is_writer
    assert engine.wait_ready(10)
    assert totals(ledger_file) == (1, 111)

    # A half-written line waits for its newline; then it counts once.
    line = call(2)
    append(log, line[:40])
    time.sleep(0.3)
    assert totals(ledger_file)[0] == 1
    seen = changes.count
    append(log, line[40:])
    assert wait_for(lambda: totals(ledger_file)[0] == 2)
    assert wait_for(lambda: changes.count > seen)

    for n in range(3, 13):
        append(log, call(n))
    assert wait_for(lambda: totals(ledger_file)[0] == 12)

    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, roots)
    reference.close()
    assert totals(ledger_file) == totals(tmp_path / "reference.sqlite")


def test_files_and_roots_that_appear_later_are_picked_up(
    tmp_path: Path, engines: list[LiveEngine]
) -> None:
    projects = tmp_path / "late" / ".claude" / "projects"
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = make_engine(engines, [LogRoot(CLAUDE, projects)], ledger_file, Changes())
    assert engine.wait_ready(10)
    assert totals(ledger_file) == (0, 0)
    projects.mkdir(parents=True)
    time.sleep(0.2)
    append(session_file(projects, "/work/app", "s1"), call(1))
    assert wait_for(lambda: totals(ledger_file)[0] == 1)
    append(session_file(projects, "/work/other", "s2"), call(2, session="s2"))
    assert wait_for(lambda: totals(ledger_file)[0] == 2)


def test_deleted_logs_keep_their_history(
    tmp_path: Path, projects: Path, engines: list[LiveEngine]
) -> None:
    log = session_file(projects, "/work/app", "s1")
    append(log, call(1))
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = make_engine(engines, [LogRoot(CLAUDE, projects)], ledger_file, Changes())
    assert engine.wait_ready(10)
    log.unlink()
    ledger = open_ledger(ledger_file)
    try:
        assert wait_for(
            lambda: ledger.conn.execute("SELECT missing FROM sources").fetchone()[0] == 1
        )
    finally:
        ledger.close()
    assert totals(ledger_file)[0] == 1


def test_a_reader_sees_the_writers_commits_and_takes_over_when_it_stops(
    tmp_path: Path, projects: Path, engines: list[LiveEngine]
) -> None:
    log = session_file(projects, "/work/app", "s1")
    append(log, call(1))
    roots = [LogRoot(CLAUDE, projects)]
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    writer = make_engine(engines, roots, ledger_file, Changes())
    assert writer.wait_ready(10)
    reader_changes = Changes()
    reader = make_engine(engines, roots, ledger_file, reader_changes)
    assert writer.is_writer and not reader.is_writer
    assert reader.wait_ready(5)

    append(log, call(2))
    assert wait_for(lambda: reader_changes.count >= 1)
    assert totals(ledger_file)[0] == 2

    writer.stop()
    assert wait_for(lambda: reader.is_writer, timeout=1.0)
    append(log, call(3))
    assert wait_for(lambda: totals(ledger_file)[0] == 3)


def test_paused_engine_waits_and_catches_up_on_resume(
    tmp_path: Path, projects: Path, engines: list[LiveEngine]
) -> None:
    log = session_file(projects, "/work/app", "s1")
    append(log, call(1))
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = make_engine(engines, [LogRoot(CLAUDE, projects)], ledger_file, Changes())
    assert engine.wait_ready(10)
    engine.pause()
    assert engine.is_paused
    append(log, call(2))
    time.sleep(0.4)
    assert totals(ledger_file)[0] == 1
    engine.resume()
    assert not engine.is_paused
    assert wait_for(lambda: totals(ledger_file)[0] == 2)


def test_stopping_during_a_first_import_rolls_it_back_and_closes_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`watch` or the language server stopped during a first import closed the ledger
    under the ingest thread after 10 s: SIGSEGV, a hang, or "Cannot operate on a closed
    database", and nothing said the import was thrown away."""
    import shared.ingest.bulk_load
    import shared.ingest.run
    from shared.pricing import PriceBook
    from tests.core.logwriters import write_history

    home = tmp_path / "home"
    write_history(home, claude_sessions=6, codex_rollouts=0, turns=5)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    inside = threading.Event()

    def slow_prices() -> PriceBook:
        inside.set()
        time.sleep(1.0)  # the import is under way, its transaction open
        return PriceBook()

    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = LiveEngine(
        [LogRoot(CLAUDE, home / ".claude" / "projects")],
        ledger_file,
        on_change=Changes(),
        prices=slow_prices,
    )
    engine.start()
    assert inside.wait(30)
    started = time.monotonic()
    engine.stop()
    took = time.monotonic() - started
    assert took < 5, took
    assert engine.stopped_ingest == "stopped during the first import; nothing of it was kept"
    assert totals(ledger_file) == (0, 0)  # rolled back whole; the file opens fine
    # The next start imports it all.
    again = LiveEngine(
        [LogRoot(CLAUDE, home / ".claude" / "projects")], ledger_file, on_change=Changes()
    )
    again.start()
    try:
        assert again.wait_ready(60)
        assert totals(ledger_file)[0] == 6 * 5
    finally:
        again.stop()


def test_stopping_interrupts_a_long_statement_of_the_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the grace period a statement still running (a first import's index builds on a
    big history) is interrupted, and the ledger closed only after the thread ended."""
    import shared.ingest.bulk_load
    import shared.ingest.run
    import shared.live.engine as engine_module
    from tests.core.logwriters import write_history

    home = tmp_path / "home"
    write_history(home, claude_sessions=3, codex_rollouts=0, turns=3)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    monkeypatch.setattr(engine_module, "STOP_GRACE_S", 0.5)
    running = threading.Event()
    real_finish = shared.ingest.bulk_load.finish

    def endless_finish(ledger, dropped):  # type: ignore[no-untyped-def]
        running.set()
        # A statement that runs until interrupted, as a huge index build would.
        ledger.conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        ).fetchone()
        real_finish(ledger, dropped)

    monkeypatch.setattr(shared.ingest.bulk_load, "finish", endless_finish)
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = LiveEngine(
        [LogRoot(CLAUDE, home / ".claude" / "projects")], ledger_file, on_change=Changes()
    )
    engine.start()
    assert running.wait(30)
    started = time.monotonic()
    engine.stop()
    assert time.monotonic() - started < 5
    assert engine.stopped_ingest is not None and "rolled back" in engine.stopped_ingest
    assert totals(ledger_file) == (0, 0)


def test_a_writer_that_finds_a_newer_ledger_stops_and_frees_the_writer_role(
    tmp_path: Path, projects: Path, engines: list[LiveEngine]
) -> None:
    """A newer burnmeter upgraded the ledger while this one ran: nothing more is written,
    and the writer lock goes at once (it was held until this process ended, so the newer
    burnmeter's tray or language server could not ingest live meanwhile)."""
    import sqlite3
    from contextlib import closing

    from shared.schema import SCHEMA_VERSION

    log = session_file(projects, "/work/app", "s1")
    append(log, call(1))
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = make_engine(engines, [LogRoot(CLAUDE, projects)], ledger_file, Changes())
    assert engine.is_writer and engine.wait_ready(10)
    with closing(sqlite3.connect(ledger_file)) as conn, conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    append(log, call(2))
    engine.request_rescan()
    assert wait_for(lambda: engine.failure is not None, 10)
    assert "newer than this burnmeter understands" in (engine.failure or "")
    newer = WriterLock(ledger_file.parent)
    assert wait_for(newer.try_acquire)
    newer.release()
    with closing(sqlite3.connect(ledger_file)) as conn:
        assert conn.execute("SELECT count(*) FROM usage_events").fetchone() == (1,)


def test_a_project_folder_behind_a_symbolic_link_is_watched_too(
    tmp_path: Path, projects: Path, engines: list[LiveEngine]
) -> None:
    """Transcripts kept on another disk, their project folder linked into `projects/`: a
    recursive watch does not follow links, so lines appended there waited for the rescan
    (up to 60 s) where the others took milliseconds. Also a link inside a linked folder,
    and a link back up, which must not loop."""
    elsewhere = tmp_path / "other-disk"
    linked_project = elsewhere / "-work-linked"
    linked_project.mkdir(parents=True)
    (projects / "-work-linked").symlink_to(linked_project)
    deeper = tmp_path / "deeper-disk" / "nested"
    deeper.mkdir(parents=True)
    (linked_project / "nested").symlink_to(deeper)
    (linked_project / "loop").symlink_to(projects)
    real_log = session_file(projects, "/work/app", "s1")
    linked_log = linked_project / "s2.jsonl"
    nested_log = deeper / "s3.jsonl"
    for n, log in enumerate((real_log, linked_log, nested_log), start=1):
        append(log, call(n, session=f"s{n}"))
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = make_engine(engines, [LogRoot(CLAUDE, projects)], ledger_file, Changes())
    assert engine.wait_ready(10)
    assert totals(ledger_file)[0] == 3
    # Well before the rescan: each within the time a watched file takes.
    for n, log in enumerate((linked_log, nested_log, real_log), start=4):
        append(log, call(n, session="s9"))
        assert wait_for(lambda n=n: totals(ledger_file)[0] == n, timeout=5), log
