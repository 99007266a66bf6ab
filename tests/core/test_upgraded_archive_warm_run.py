"""An archived Codex rollout (`.jsonl.zst`) read by a burnmeter from before v11 has an
offset but no checksum mark. The first ingest after the upgrade marks it once; from then
on a warm run passes over it like any file read since, rather than planning it again on
every report."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from shared.ledger import Ledger, open_ledger
from tests.core.helpers import ingest_env, totals
from tests.core.logwriters import CodexRollout, codex_rollout_path, zstd_compress


def _statements(ledger: Ledger) -> list[str]:
    """What a warm ingest runs on the ledger, statement by statement."""
    seen: list[str] = []
    ledger.conn.set_trace_callback(seen.append)
    try:
        summary = ingest_env(ledger)
    finally:
        ledger.conn.set_trace_callback(None)
    assert summary.files_read == 0 and summary.new_calls == 0
    return seen


def test_an_archive_read_before_v11_leaves_warm_runs_as_quiet_as_any_other(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Two ledgers of the same archive: one written by this burnmeter, one as a v10 ledger
    leaves it (no checksums) and then ingested once after the upgrade. A warm run on the
    upgraded one runs the same statements as on the other (none that plan files) and
    changes nothing."""
    rollout = CodexRollout("r-old-archive")
    rollout.turn(1)
    rollout.call(2, 1000, 40, cached=100)
    plain = rollout.write(tmp_path / "plain.jsonl")
    archive = codex_rollout_path(isolated_home / ".codex", rollout).with_name(
        "rollout-archived.jsonl.zst"
    )
    zstd_compress(plain, archive)

    current = open_ledger(tmp_path / "current.sqlite")
    ingest_env(current)
    upgraded = open_ledger(tmp_path / "upgraded.sqlite")
    ingest_env(upgraded)
    upgraded.close()
    with closing(sqlite3.connect(tmp_path / "upgraded.sqlite")) as conn, conn:
        conn.execute("UPDATE sources SET tail_hash = NULL, tail_offset = NULL")
    upgraded = open_ledger(tmp_path / "upgraded.sqlite")
    first = ingest_env(upgraded)  # the first ingest after the upgrade
    assert first.files_read == 0 and first.new_calls == 0
    assert totals(upgraded) == totals(current)

    expected = _statements(current)
    changes = upgraded.conn.total_changes
    assert _statements(upgraded) == expected
    assert upgraded.conn.total_changes == changes
    assert totals(upgraded) == totals(current)
