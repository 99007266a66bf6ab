"""The language-server benchmarks' synthetic ledger builds on the current schema (it broke
unnoticed when the sessions table gained columns) and holds what it says."""

from __future__ import annotations

from pathlib import Path

from bench.lsp_ledger import build


def test_the_synthetic_ledger_builds_with_its_derived_totals(tmp_path: Path) -> None:
    ledger = build(tmp_path / "ledger.sqlite", calls=2_000)
    try:
        conn = ledger.conn
        assert conn.execute("SELECT count(*) FROM usage_events").fetchone() == (2_000,)
        sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        assert sessions == 2_000 // 200
        # The triggers kept the per-session and per-file totals the server reads.
        assert (
            conn.execute(
                "SELECT sum(calls), round(sum(cost_usd), 6) FROM session_totals"
            ).fetchone()
            == conn.execute("SELECT count(*), round(sum(cost_usd), 6) FROM usage_events").fetchone()
        )
        assert conn.execute("SELECT count(*) FROM file_stats").fetchone()[0] > 0
    finally:
        ledger.close()
