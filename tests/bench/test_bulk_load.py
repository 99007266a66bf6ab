"""A big first ingest is one transaction that fills the trigger-kept tables at the end;
the ledger it leaves must equal the one row-by-row commits leave."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import shared.ingest.bulk_load
import shared.ingest.run
import shared.ingest.writer
from bench.generate_corpus import generate
from shared.ingest import FINISHING_LEDGER, ingest
from shared.ledger import LedgerError, open_ledger
from shared.schema import DERIVED_TRIGGERS
from shared.sources.roots import claude_roots, codex_roots
from tests.core.helpers import snapshot

DERIVED = {
    "session_totals": "SELECT session_id, calls, round(cost_usd, 9), total_tokens, last_ts_ms, "
    "last_model FROM session_totals WHERE calls != 0",
    "call_files": "SELECT * FROM call_files",
    "file_stats": "SELECT path, calls, round(cost_usd, 9), last_ts_ms, last_model FROM file_stats",
    "file_sessions": "SELECT * FROM file_sessions",
    "triggers": "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'",
    # The bulk load drops the plain indexes while it loads: all must be back, unchanged.
    "indexes": "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'",
}


def _ingest(home: Path, ledger_file: Path) -> dict[str, list[tuple[object, ...]]]:
    env = {"HOME": str(home)}
    ledger = open_ledger(ledger_file)
    try:
        summary = ingest(ledger, claude_roots(env) + codex_roots(env), workers=2)
        state = snapshot(ledger)
        state["summary: new calls"] = [(summary.new_calls,)]
        state["calls held"] = ledger.conn.execute("SELECT count(*) FROM usage_events").fetchall()
        for name, sql in DERIVED.items():
            state[name] = sorted(ledger.conn.execute(sql).fetchall(), key=repr)
    finally:
        ledger.close()
    return state


def test_bulk_load_leaves_the_ledger_row_by_row_commits_leave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "h" / "home"
    generate(home, 6_000_000, 80, seed=9, days=6)
    monkeypatch.setattr(shared.ingest.run, "PARALLEL_THRESHOLD_BYTES", 1)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1 << 40)
    row_by_row = _ingest(home, tmp_path / "rows.sqlite")

    loads = []
    real_begin = shared.ingest.bulk_load.begin
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    monkeypatch.setattr(
        shared.ingest.bulk_load, "begin", lambda ledger: loads.append(1) or real_begin(ledger)
    )
    bulk = _ingest(home, tmp_path / "bulk.sqlite")
    assert loads == [1]
    assert {name for name, _ in bulk["triggers"]} == DERIVED_TRIGGERS
    assert bulk["events"] and bulk["call_files"] and bulk["file_stats"]
    for name in row_by_row:
        if name != "summary: new calls":
            assert bulk[name] == row_by_row[name], name
    # The summary line's count is the calls the empty ledger gained, not the upserts made
    # (streamed replies split over batches are upserted more than once).
    assert bulk["summary: new calls"] == bulk["calls held"]


def test_no_bulk_load_into_a_ledger_that_has_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "a" / "home"
    generate(first, 400_000, 6, seed=1, days=3)
    ledger_file = tmp_path / "ledger.sqlite"
    _ingest(first, ledger_file)
    monkeypatch.setattr(shared.ingest.run, "PARALLEL_THRESHOLD_BYTES", 1)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    loads = []
    monkeypatch.setattr(shared.ingest.bulk_load, "begin", lambda ledger: loads.append(1))
    generate(tmp_path / "a" / "more", 400_000, 6, seed=2, days=3)
    for path in (tmp_path / "a" / "more").rglob("*.jsonl"):
        target = first / path.relative_to(tmp_path / "a" / "more")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    _ingest(first, ledger_file)
    assert loads == []


def test_a_failed_batch_rolls_the_whole_bulk_load_back_and_the_rerun_is_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is no savepoint in the load (one would copy every page it changes into a
    statement journal), so a write that fails midway, after some of the batch went in,
    ends the load whole: nothing kept, the schema as before, a clear error."""
    home = tmp_path / "h" / "home"
    generate(home, 2_000_000, 40, seed=5, days=4)
    reference = _ingest(home, tmp_path / "reference.sqlite")
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    monkeypatch.setattr(shared.ingest.writer, "BATCH_ROWS", 60)  # several batches
    real_write_sessions = shared.ingest.writer.LedgerWriter._write_sessions
    batches = []

    def fail_in_the_third(writer: shared.ingest.writer.LedgerWriter, batch: list[object]) -> None:
        # After this batch's calls and tool rows went in.
        batches.append(1)
        if len(batches) == 3:
            raise sqlite3.OperationalError("no such savepoint: simulated")
        real_write_sessions(writer, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(shared.ingest.writer.LedgerWriter, "_write_sessions", fail_in_the_third)
    env = {"HOME": str(home)}
    ledger_file = tmp_path / "ledger.sqlite"
    ledger = open_ledger(ledger_file)
    with pytest.raises(LedgerError, match="rolled back, nothing of it was kept") as raised:
        ingest(ledger, claude_roots(env) + codex_roots(env), workers=2)
    assert str(ledger_file) in str(raised.value) and "simulated" in str(raised.value)
    assert not ledger.conn.in_transaction
    for table in ("usage_events", "tool_calls", "rate_limits", "session_totals"):
        assert ledger.conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    # The files are known (the plan stores them first), none read.
    assert ledger.conn.execute("SELECT count(*), max(offset) FROM sources").fetchone() == (40, 0)
    triggers = ledger.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert {name for (name,) in triggers} == DERIVED_TRIGGERS
    ledger.close()
    monkeypatch.setattr(shared.ingest.writer.LedgerWriter, "_write_sessions", real_write_sessions)
    rerun = _ingest(home, ledger_file)
    assert len(batches) == 3
    for name in reference:
        assert rerun[name] == reference[name], name


@pytest.mark.parametrize("bulk", [True, False])
def test_progress_says_when_the_bulk_load_builds_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    home = tmp_path / "h" / "home"
    generate(home, 400_000, 6, seed=3, days=2)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1 if bulk else 1 << 40)
    calls: list[tuple[int, int, str]] = []
    env = {"HOME": str(home)}
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        ingest(
            ledger,
            claude_roots(env) + codex_roots(env),
            progress=lambda done, total, path: calls.append((done, total, path)),
        )
    finally:
        ledger.close()
    finishing = [call for call in calls if call[2] == FINISHING_LEDGER]
    assert calls and calls[-1][0] == calls[-1][1]
    # Once, last, with every byte read; only a bulk load has that step.
    assert finishing == ([calls[-1]] if bulk else [])


BULK_INGEST = (
    "import shared.ingest.run as ingest; ingest.BULK_THRESHOLD_BYTES = 1; "
    "ingest.PARALLEL_THRESHOLD_BYTES = 1; from shared.cli import main; "
    "raise SystemExit(main(['ingest']))"
)


def test_bulk_load_killed_at_any_moment_then_rerun_gives_the_uninterrupted_ledger(
    tmp_path: Path,
) -> None:
    import os
    import random
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from tests.core.helpers import REPO_ROOT

    home = tmp_path / "h" / "home"
    generate(home, 12_000_000, 120, seed=21, days=6)

    def start(data: Path) -> subprocess.Popen[bytes]:
        env = {**os.environ, "HOME": str(home), "BURNMETER_DATA_DIR": str(data)}
        return subprocess.Popen(
            [sys.executable, "-c", BULK_INGEST],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    started = time.perf_counter()
    reference = start(tmp_path / "reference")
    assert reference.wait(timeout=300) == 0, reference.stderr.read() if reference.stderr else ""
    duration = time.perf_counter() - started

    rng = random.Random()
    killed = tmp_path / "killed"
    kills, scale = 0, duration
    for _ in range(10):
        process = start(killed)
        try:
            process.wait(timeout=rng.uniform(0.2, 0.9) * scale)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            kills += 1
            if kills == 3:
                break
            continue
        if kills:
            break  # the ledger is whole now: more kills would test nothing new
        # It finished before its kill (the reference run was slowed by a busy machine):
        # start over with an empty ledger and an earlier kill.
        shutil.rmtree(killed)
        scale *= 0.6
    final = start(killed)
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""
    assert kills > 0

    ours = open_ledger(killed / "ledger.sqlite")
    expected = open_ledger(tmp_path / "reference" / "ledger.sqlite")
    mine, theirs = snapshot(ours), snapshot(expected)
    for name in theirs:
        extra = sorted(set(mine[name]) ^ set(theirs[name]), key=repr)
        assert mine[name] == theirs[name], (name, extra[:4])
    for sql in DERIVED.values():
        assert sorted(ours.conn.execute(sql).fetchall(), key=repr) == sorted(
            expected.conn.execute(sql).fetchall(), key=repr
        )
