"""The schema-12 upgrade (Codex rollouts read again) keeps the plan-limit readings of a
rollout that is gone from disk, even when no ingest has run since it went (the upgrade
ran at the first open after it, with the file still marked present)."""

from __future__ import annotations

from pathlib import Path

from shared.ledger import add_migration_functions, open_ledger
from shared.schema import CODEX_REREAD_V12, statements
from tests.core.helpers import ingest_env
from tests.core.logwriters import CodexRollout, codex_rollout_path


def _readings(conn, session_id: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(
        "SELECT count(*) FROM rate_limits WHERE session_id = ?", (session_id,)
    ).fetchone()[0]


def test_readings_of_a_rollout_deleted_before_the_upgrade_stay(
    isolated_home: Path, tmp_path: Path
) -> None:
    codex = isolated_home / ".codex"
    kept, gone = CodexRollout("019e-kept", started=0), CodexRollout("019e-gone", started=0)
    for rollout in (kept, gone):
        rollout.turn(1)
        rollout.call(10, 20_000, 500, cached=10_000)
        rollout.call(70, 30_000, 400, cached=25_000)
    kept_path = kept.write(codex_rollout_path(codex, kept))
    gone_path = gone.write(codex_rollout_path(codex, gone))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    before = _readings(ledger.conn, "019e-gone")
    assert before == 2 and _readings(ledger.conn, "019e-kept") == 2
    assert kept_path.exists()
    # Deleted after the last ingest: `sources.missing` still says present.
    gone_path.unlink()
    add_migration_functions(ledger.conn)
    with ledger.conn:
        for statement in statements(CODEX_REREAD_V12):
            ledger.conn.execute(statement)
    # The deleted rollout cannot be read again: its readings stay. The one on disk is
    # read again from its start, so its readings are dropped until then.
    assert _readings(ledger.conn, "019e-gone") == before
    assert _readings(ledger.conn, "019e-kept") == 0
    ingest_env(ledger)
    assert _readings(ledger.conn, "019e-kept") == 2
    assert _readings(ledger.conn, "019e-gone") == before
