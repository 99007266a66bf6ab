"""The parallel parser path (worker processes, chunks of one file in order) ends in the same
ledger as the inline path."""

from __future__ import annotations

from pathlib import Path

import pytest

import shared.ingest
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
    monkeypatch.setattr(shared.ingest, "PARALLEL_THRESHOLD_BYTES", 0)
    parallel = open_ledger(tmp_path / "parallel.sqlite")
    ingest(parallel, roots, workers=2)
    assert snapshot(parallel) == snapshot(inline)
    child_output = parallel.conn.execute(
        "SELECT sum(output_tokens) FROM usage_events WHERE session_id = '019c-par-child'"
    ).fetchone()
    assert child_output == (20,)
