"""`burnmeter ingest` killed with SIGKILL at random moments, then run again, ends in
exactly the ledger of one uninterrupted run."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shared.ledger import open_ledger
from tests.core.helpers import REPO_ROOT, snapshot
from tests.core.logwriters import write_history

# The killed runs commit small batches: a machine busy with other work starves the writer
# until every parsed chunk is queued, and then commits a 45 MB first import in one
# transaction (seen: every kill found none or all of the calls committed, 4 runs in a row),
# leaving no partly committed ledger to resume from. The batch size changes how often the
# ingest commits, not what a kill between commits must keep exact.
SMALL_BATCHES = (
    "import shared.ingest.writer as writer; writer.BATCH_ROWS = 2_000; "
    "writer.BATCH_SECONDS = writer.BATCH_MAX_SECONDS = 0.02; "
    "from shared.cli import main; raise SystemExit(main(['ingest']))"
)


def _start_ingest(env: dict[str, str], *, small_batches: bool = False) -> subprocess.Popen[bytes]:
    command = ["-c", SMALL_BATCHES] if small_batches else ["-m", "shared", "ingest"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    # Parser workers of a big ingest are its children in its own process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _committed_calls(data: Path) -> int:
    """Calls committed so far, read without disturbing the running ingest (0 if none yet)."""
    try:
        conn = sqlite3.connect(f"file:{data / 'ledger.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _kill_at_progress(
    process: subprocess.Popen[bytes], data: Path, target: int, extra_delay: float
) -> bool:
    """SIGKILL once `target` calls are committed (plus a delay that lands the kill inside a
    later transaction); False if the ingest finished first."""
    while process.poll() is None:
        if _committed_calls(data) >= target:
            time.sleep(extra_delay)
            if process.poll() is not None:
                return False
            _kill(process)
            return True
        time.sleep(0.005)
    return False


def _kill_after(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL after `seconds` (start-up included); False if it had already finished."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        _kill(process)
        return True


def _mid_way(partial: list[int], full: int) -> bool:
    """Whether a kill left some, but not all, of the history committed."""
    return any(0 < committed < full for committed in partial)


def _env(home: Path, data: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "BURNMETER_DATA_DIR": str(data)}


def _calls(data: Path) -> int:
    ledger = open_ledger(data / "ledger.sqlite")
    try:
        return int(ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])
    finally:
        ledger.close()


def test_sigkill_at_random_moments_then_resume_gives_uninterrupted_totals(
    isolated_home: Path, tmp_path: Path
) -> None:
    # ~45 MB: a few seconds of ingest here, and big enough for the parallel parser path.
    size = write_history(isolated_home, claude_sessions=100, codex_rollouts=100, turns=60)
    assert size > 40_000_000

    reference_data = tmp_path / "reference"
    started = time.perf_counter()
    reference = _start_ingest(_env(isolated_home, reference_data))
    assert reference.wait(timeout=300) == 0, reference.stderr.read() if reference.stderr else ""
    duration = time.perf_counter() - started
    full = _calls(reference_data)
    assert full == 100 * 60 + 100 * 60

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    killed_data = tmp_path / "killed"
    # Calls committed when each kill landed; kills that a restart discarded stay listed.
    partial: list[int] = []
    restarts = 0
    for attempt in range(16):
        if len(partial) >= 4 and _mid_way(partial, full):
            break
        before = _committed_calls(killed_data)
        process = _start_ingest(_env(isolated_home, killed_data), small_batches=True)
        if attempt % 2 == 0:
            # After a random share of the remaining calls has been committed.
            target = before + 1 + int(rng.uniform(0.05, 0.6) * (full - before))
            killed = _kill_at_progress(process, killed_data, target, rng.uniform(0, 0.05))
        else:
            # At a random moment, start-up and planning included.
            killed = _kill_after(process, rng.uniform(0.05, 0.6) * duration)
        if killed:
            partial.append(_committed_calls(killed_data))
        elif _mid_way(partial, full):
            break  # resumed to the end after a kill that left part of the history committed
        else:
            # Finished before any kill left a partly committed ledger (a machine much faster
            # than the reference run, a kill after the last commit): the case that matters
            # was not tested, so start over from an empty ledger with earlier kills.
            shutil.rmtree(killed_data, ignore_errors=True)
            duration *= 0.6
            restarts += 1
    final = _start_ingest(_env(isolated_home, killed_data))
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""

    assert _mid_way(partial, full), (seed, duration, partial, restarts)
    killed = open_ledger(killed_data / "ledger.sqlite")
    expected = open_ledger(reference_data / "ledger.sqlite")
    assert snapshot(killed) == snapshot(expected), (seed, duration, partial)


def test_two_ingests_at_once_give_the_totals_of_one(isolated_home: Path, tmp_path: Path) -> None:
    """A report run while the tray (or another shell) is ingesting the same logs: both read
    the same new bytes; dedupe keys and per-chunk transactions keep every call once."""
    write_history(isolated_home, claude_sessions=30, codex_rollouts=30, turns=40)
    reference_data = tmp_path / "reference"
    assert _start_ingest(_env(isolated_home, reference_data)).wait(timeout=300) == 0
    shared_data = tmp_path / "shared"
    both = [_start_ingest(_env(isolated_home, shared_data)) for _ in range(2)]
    for process in both:
        assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    ours = open_ledger(shared_data / "ledger.sqlite")
    expected = open_ledger(reference_data / "ledger.sqlite")
    assert snapshot(ours) == snapshot(expected)


class _CommitsBeforeWriting:
    """A connection that lets another process commit just before its own write begins."""

    def __init__(self, conn: sqlite3.Connection, other_process: Callable[[], object]) -> None:
        self._conn = conn
        self._other: Callable[[], object] | None = other_process

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "BEGIN IMMEDIATE" and self._other is not None:
            other, self._other = self._other, None
            other()
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, *args: object) -> sqlite3.Cursor:
        return self._conn.executemany(sql, *args)


def test_planning_races_with_another_process_registering_the_same_files(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Two processes discover the same new files; the second must see the first's rows."""
    from shared.ingest.planning import plan_tasks
    from shared.ledger import Ledger
    from shared.sources.roots import discover_files
    from tests.core.helpers import roots_for

    write_history(isolated_home, claude_sessions=3, codex_rollouts=3, turns=2)
    files = discover_files(roots_for({"HOME": str(isolated_home)}))
    path = tmp_path / "ledger.sqlite"
    first, second = open_ledger(path), open_ledger(path)
    racing = Ledger(path, _CommitsBeforeWriting(second.conn, lambda: plan_tasks(first, files)))  # type: ignore[arg-type]
    tasks = plan_tasks(racing, files)
    assert len(tasks) == len(files) == 6
    assert second.conn.execute("SELECT count(*) FROM sources").fetchone() == (6,)
