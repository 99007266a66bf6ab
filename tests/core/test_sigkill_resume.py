"""`burnmeter ingest` killed with SIGKILL at random moments, then run again, ends in
exactly the ledger of one uninterrupted run."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.ledger import open_ledger
from tests.core.helpers import REPO_ROOT, snapshot
from tests.core.logwriters import write_history


def _start_ingest(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shared", "ingest"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_after(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL the ingest after `seconds`; False if it had already finished."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        pass
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    # Parser workers of a big ingest are its children in its own process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return True


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
    partial = []
    for _ in range(4):
        process = _start_ingest(_env(isolated_home, killed_data))
        if not _kill_after(process, rng.uniform(0.1, 0.5) * duration):
            break
        if (killed_data / "ledger.sqlite").exists():
            partial.append(_calls(killed_data))
    final = _start_ingest(_env(isolated_home, killed_data))
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""

    assert any(0 < count < full for count in partial), (seed, duration, partial)
    killed = open_ledger(killed_data / "ledger.sqlite")
    expected = open_ledger(reference_data / "ledger.sqlite")
    assert snapshot(killed) == snapshot(expected), (seed, duration, partial)
