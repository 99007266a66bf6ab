"""The parallel parser path (worker processes, chunks of one file in order) ends in the same
ledger as the inline path."""

from __future__ import annotations

from pathlib import Path

import pytest

import shared.ingest.run
from shared.ingest import ingest
from shared.ledger import open_ledger
from tests.core.helpers import roots_for, snapshot
from tests.core.logwriters import CodexRollout, codex_rollout_path, write_history


def test_parallel_and_inline_ingest_agree(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_history(isolated_home, claude_sessions=12, codex_rollouts=12, turns=25)
    parent = CodexRollout("019c-par-parent", started=0)
    parent.turn(1)
    parent.call(2, 1000, 10, cached=100)
    child = CodexRollout("019c-par-child", started=50, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 50.001)
    child.turn(50.01)
    child.call(60, 2000, 20, cached=1000)
    for rollout in (parent, child):
        rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    roots = roots_for({"HOME": str(isolated_home)})

    inline = open_ledger(tmp_path / "inline.sqlite")
    ingest(inline, roots, workers=1)
    monkeypatch.setattr(shared.ingest.run, "PARALLEL_THRESHOLD_BYTES", 0)
    parallel = open_ledger(tmp_path / "parallel.sqlite")
    ingest(parallel, roots, workers=2)
    assert snapshot(parallel) == snapshot(inline)
    child_output = parallel.conn.execute(
        "SELECT sum(output_tokens) FROM usage_events WHERE session_id = '019c-par-child'"
    ).fetchone()
    assert child_output == (20,)


def test_the_cycle_collector_rests_during_an_ingest_and_is_restored_after(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest makes rows by the hundred thousand and no reference cycles, so the cycle
    collector is paused while it runs (less CPU for the writer). It must come back as it
    was: on after an ingest, on after a failed one, and still off if the caller had it off."""
    import gc

    from shared.ledger import LedgerError

    write_history(isolated_home, claude_sessions=6, codex_rollouts=6, turns=10)
    roots = roots_for({"HOME": str(isolated_home)})
    monkeypatch.setattr(shared.ingest.run, "PARALLEL_THRESHOLD_BYTES", 0)
    seen: list[bool] = []

    def progress(done: int, total: int, what: str) -> None:
        seen.append(gc.isenabled())

    assert gc.isenabled()
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, roots, progress=progress, workers=2)
    assert seen and not any(seen)
    assert gc.isenabled()

    # A failed ingest (the disk full) gives the collector back too.
    for name in ("a.jsonl", "b.jsonl"):
        more = isolated_home / ".claude" / "projects" / "-more" / name
        more.parent.mkdir(parents=True, exist_ok=True)
        more.write_bytes(b"".join(_usage_line(n, name) for n in range(2000)))
    pages = ledger.conn.execute("PRAGMA page_count").fetchone()[0]
    ledger.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(LedgerError):
        ingest(ledger, roots, workers=2)
    assert gc.isenabled()
    ledger.conn.execute("PRAGMA max_page_count = 1073741823")

    gc.disable()
    try:
        ingest(ledger, roots, workers=2)
        assert not gc.isenabled()
    finally:
        gc.enable()
    ledger.close()


def _usage_line(n: int, session: str) -> bytes:
    import json

    return (
        json.dumps(
            {
                "type": "assistant",
                "sessionId": session,
                "timestamp": f"2026-11-0{1 + n % 9}T10:00:{n % 60:02d}.000Z",
                "requestId": f"req-{session}-{n}",
                "message": {
                    "id": f"msg-{session}-{n}",
                    "model": "claude-sonnet-4-5",
                    "usage": {"input_tokens": 10, "output_tokens": 20},
                },
            }
        ).encode()
        + b"\n"
    )


def test_a_process_with_qt_loaded_starts_its_workers_fresh(tmp_path: Path) -> None:
    """Qt runs threads of its own that `threading` does not count: forking the tray's
    process for the parser workers (its first import) copied a multi-threaded process."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "{imports}"
        "from shared.ingest.pool import _pool_context\n"
        "print(_pool_context().get_start_method())\n"
    )
    methods = []
    for imports in ("", "import PySide6.QtCore\n"):
        result = subprocess.run(
            [sys.executable, "-c", probe.format(imports=imports)],
            capture_output=True,
            text=True,
            check=True,
        )
        methods.append(result.stdout.strip())
    expected_plain = "fork" if sys.platform != "win32" else "spawn"
    assert methods == [expected_plain, "spawn"]
