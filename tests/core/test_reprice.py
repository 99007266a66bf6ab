"""`burnmeter reprice`: every stored cost recomputed, and the totals the tray and the
language server read kept in step, whether the per-call triggers run or the derived tables
are rebuilt once (many changed calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

import shared.commands.reprice_cmd as reprice_cmd
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.pricing import PriceBook
from tests.core.helpers import roots_for, snapshot
from tests.core.logwriters import write_history

DERIVED = {
    "session_totals": "SELECT session_id, calls, round(cost_usd, 9), total_tokens, last_ts_ms, "
    "last_model FROM session_totals",
    "file_stats": "SELECT path, calls, round(cost_usd, 9), last_ts_ms FROM file_stats",
    "usage_buckets": "SELECT bucket, agent, model, round(cost_usd, 9), unpriced_calls, calls "
    "FROM usage_buckets WHERE calls != 0",
    "triggers": "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'",
}


def _derived(conn: object) -> dict[str, list[tuple[object, ...]]]:
    return {name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in DERIVED.items()}  # type: ignore[attr-defined]


@pytest.mark.parametrize("rebuild_from", [0, 10**9])
def test_reprice_keeps_every_total_in_step(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuild_from: int
) -> None:
    write_history(isolated_home, claude_sessions=6, codex_rollouts=3, turns=8)
    roots = roots_for({"HOME": str(isolated_home)})
    changed = {"claude-opus-4-7": {"input_mtok": 7.0, "output_mtok": 70.0}}
    # What a first import at the new prices gives: the reference.
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, roots, prices=lambda: PriceBook(changed))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, roots)
    assert snapshot(ledger) != snapshot(reference)
    monkeypatch.setattr(reprice_cmd, "REBUILD_FROM", rebuild_from)
    count, moved, unpriced = reprice_cmd.reprice(ledger, PriceBook(changed))
    assert (count, unpriced) == (
        ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0],
        0,
    )
    opus = "SELECT count(*) FROM usage_events WHERE model LIKE 'claude-opus-4-7%'"
    assert moved == ledger.conn.execute(opus).fetchone()[0] > 0
    assert snapshot(ledger, skip=("sources",)) == snapshot(reference, skip=("sources",))
    assert _derived(ledger.conn) == _derived(reference.conn)
    # Nothing to change the second time.
    assert reprice_cmd.reprice(ledger, PriceBook(changed)) == (count, 0, 0)
    assert _derived(ledger.conn) == _derived(reference.conn)


def test_a_call_an_ingest_enlarged_meanwhile_keeps_that_ingests_cost(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The prices were worked out from a read before the write lock: a call whose reading
    grew in between must not get the cost of its older tokens."""
    write_history(isolated_home, claude_sessions=1, codex_rollouts=0, turns=2)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, roots_for({"HOME": str(isolated_home)}))
    key, before = ledger.conn.execute(
        "SELECT event_key, cost_usd FROM usage_events ORDER BY ts_ms LIMIT 1"
    ).fetchone()
    real_cost = PriceBook.cost

    def grown_meanwhile(book: PriceBook, event):  # type: ignore[no-untyped-def]
        if event.event_key == key:  # an ingest enlarges this call after it was read
            ledger.conn.execute(
                "UPDATE usage_events SET output_tokens = output_tokens + 1000, "
                "total_tokens = total_tokens + 1000, cost_usd = 99.0 WHERE event_key = ?",
                (key,),
            )
        return real_cost(book, event) * 2

    PriceBook.cost = grown_meanwhile  # type: ignore[method-assign]
    try:
        reprice_cmd.reprice(ledger, PriceBook())
    finally:
        PriceBook.cost = real_cost  # type: ignore[method-assign]
    assert ledger.conn.execute(
        "SELECT cost_usd FROM usage_events WHERE event_key = ?", (key,)
    ).fetchone() == (99.0,)
    assert before != 99.0
