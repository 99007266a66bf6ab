"""A ledger that cannot grow (a full disk) stops an ingest with a clear error; what was
committed before stays, and the next ingest, with room again, ends with exact totals.

SQLite's `max_page_count` makes it answer SQLITE_FULL ("database or disk is full") exactly
as a full disk does, without filling one."""

from __future__ import annotations

from pathlib import Path

import pytest

import shared.cli
import shared.ingest.run
import shared.ingest.writer
from shared.ingest import ingest
from shared.ledger import LedgerError, open_ledger, write_failed
from tests.core.helpers import roots_for, snapshot
from tests.core.logwriters import write_history


@pytest.mark.parametrize("bulk", [False, True])
def test_a_full_disk_stops_the_ingest_and_the_next_one_is_exact(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    write_history(isolated_home, claude_sessions=20, codex_rollouts=20, turns=30)
    roots = roots_for({"HOME": str(isolated_home)})
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, roots)
    expected = snapshot(reference)
    reference.close()

    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1 if bulk else 1 << 40)
    monkeypatch.setattr(shared.ingest.writer, "BATCH_ROWS", 200)  # several commits when not bulk
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    pages = ledger.conn.execute("PRAGMA page_count").fetchone()[0]
    ledger.conn.execute(f"PRAGMA max_page_count = {pages + 40}")
    with pytest.raises(LedgerError, match="the disk it is on is full") as raised:
        ingest(ledger, roots)
    assert str(tmp_path / "ledger.sqlite") in str(raised.value)
    assert not ledger.conn.in_transaction
    stored = ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    if bulk:
        assert stored == 0  # one transaction: nothing of it was kept
    ledger.conn.execute("PRAGMA max_page_count = 1073741823")
    ingest(ledger, roots)
    assert snapshot(ledger) == expected
    ledger.close()


def test_the_cli_prints_a_ledger_write_failure_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*_: object, **__: object) -> None:
        raise write_failed(Path("/data/ledger.sqlite"), "the disk it is on is full")

    monkeypatch.setattr("shared.commands.context.ingest", full)
    assert shared.cli.main(["ingest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("burnmeter: Cannot write the ledger at /data/ledger.sqlite")
    assert "BURNMETER_DATA_DIR" in err and "Traceback" not in err


def _ledger_with_calls(home: Path) -> Path:
    write_history(home, claude_sessions=2, codex_rollouts=1, turns=3)
    assert shared.cli.main(["ingest"]) == 0
    from shared.paths import ledger_path

    return ledger_path()


def test_reprice_on_a_ledger_held_by_another_process_says_so(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`reprice` while the tray or `watch` holds the write lock ended in a traceback."""
    import sqlite3

    import shared.ledger

    path = _ledger_with_calls(isolated_home)
    capsys.readouterr()
    monkeypatch.setattr(shared.ledger, "LOCK_WAIT_SECONDS", 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert shared.cli.main(["reprice"]) == 2
        err = capsys.readouterr().err
        # The way out it names works while the lock is still held (it named none).
        assert shared.cli.main(["report", "daily", "--json", "--no-ingest"]) == 0
        assert capsys.readouterr().out.startswith("{")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert err.startswith(f"burnmeter: The ledger at {path} stayed locked by another process")
    assert "--no-ingest" in err and "`fg`" in err
    assert "Traceback" not in err


def test_reprice_on_a_read_only_ledger_says_so(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite refusing the write ("attempt to write a readonly database") was a traceback;
    the advice now fits a read-only file (not "free some space")."""
    import shared.commands.reprice_cmd as reprice_cmd

    path = _ledger_with_calls(isolated_home)
    capsys.readouterr()
    real = reprice_cmd.reprice

    def on_a_read_only_connection(ledger, prices):  # type: ignore[no-untyped-def]
        ledger.conn.execute("PRAGMA query_only = 1")  # SQLite answers SQLITE_READONLY
        return real(ledger, prices)

    monkeypatch.setattr(reprice_cmd, "reprice", on_a_read_only_connection)
    assert shared.cli.main(["reprice"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"burnmeter: Cannot write the ledger at {path}: the file or its folder")
    assert "Make it writable" in err and "Free some space" not in err
