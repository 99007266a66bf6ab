"""The trigger-kept `session_totals`, `file_stats` and `file_sessions` (schema v3) agree
with the same numbers computed from the calls, both when kept live through ingest and
when backfilled by the migration of an older ledger."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from shared.ingest import ingest
from shared.ledger import APPLICATION_ID, open_ledger
from shared.schema import MIGRATIONS, SCHEMA_VERSION
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, session_file

FILES = [f"/repo/src/f{n}.py" for n in range(6)]


def write_history(projects: Path, rng: random.Random) -> None:
    for session in range(4):
        log = session_file(projects, "/repo", f"s{session}")
        for n in range(25):
            key = f"m{session}_{n}"
            tools = [
                (f"t{session}_{n}_{k}", rng.choice(["Read", "Edit"]), {"file_path": path})
                for k, path in enumerate(rng.sample(FILES, rng.randint(0, 3)))
            ]
            line = claude_call(
                message_id=key, session_id=f"s{session}", cwd="/repo",
                ts_ms=1_700_000_000_000 + session * 10**6 + n * 1000,
                input_tokens=rng.randint(100, 5000), output_tokens=10, tools=tools,
            )  # fmt: skip
            # A streamed reply is written twice, the second time with more output: the
            # ledger keeps the larger one, so costs change under the triggers.
            if rng.random() < 0.3:
                append(log, line.replace('"output_tokens": 10', '"output_tokens": 1'))
            append(log, line)


def expected_files(conn: sqlite3.Connection) -> dict[str, tuple[int, float, int]]:
    rows = conn.execute(
        """
        WITH pairs AS (
            SELECT DISTINCT tc.event_key, tf.path, tc.session_id FROM tool_files tf
            JOIN tool_calls tc ON tc.tool_id = tf.tool_id WHERE tc.event_key IS NOT NULL
        ), counts AS (SELECT event_key, count(*) AS n FROM pairs GROUP BY event_key)
        SELECT p.path, count(*), sum(coalesce(ue.cost_usd, 0) / c.n),
            count(DISTINCT p.session_id)
        FROM pairs p JOIN counts c USING (event_key)
        LEFT JOIN usage_events ue USING (event_key)
        GROUP BY p.path
        """
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def kept_files(conn: sqlite3.Connection) -> dict[str, tuple[int, float, int]]:
    rows = conn.execute(
        "SELECT path, calls, cost_usd, (SELECT count(*) FROM file_sessions s "
        "WHERE s.path = f.path) FROM file_stats f"
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def assert_totals_match(conn: sqlite3.Connection) -> None:
    expected = expected_files(conn)
    kept = kept_files(conn)
    assert sorted(kept) == sorted(expected)
    for path, (calls, cost, sessions) in expected.items():
        assert kept[path][0] == calls
        assert kept[path][1] == pytest.approx(cost, rel=1e-9)
        assert kept[path][2] == sessions
    sessions = conn.execute(
        "SELECT session_id, count(*), sum(cost_usd), sum(total_tokens) FROM usage_events "
        "GROUP BY session_id"
    ).fetchall()
    for session_id, calls, cost, tokens in sessions:
        row = conn.execute(
            "SELECT calls, cost_usd, total_tokens FROM session_totals WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        assert row[0] == calls and row[2] == tokens
        assert row[1] == pytest.approx(cost, rel=1e-9)


def test_totals_kept_live_by_ingest(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    write_history(projects, random.Random(3))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    assert ledger.conn.execute("SELECT count(*) FROM file_stats").fetchone()[0] == len(FILES)
    assert_totals_match(ledger.conn)
    ledger.conn.execute("UPDATE usage_events SET cost_usd = cost_usd * 2")  # as reprice does
    assert_totals_match(ledger.conn)
    ledger.close()


def test_migration_backfills_an_older_ledger(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    write_history(projects, random.Random(5))
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, [LogRoot(CLAUDE, projects)])
    reference.close()

    # An older ledger: the schema before the live totals, filled by the same ingest.
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    index = MIGRATIONS.index(next(m for m in MIGRATIONS if "file_stats" in m))
    for version, script in enumerate(MIGRATIONS[:index]):
        conn.executescript(f"BEGIN;{script}PRAGMA user_version = {version + 1};COMMIT;")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"ATTACH '{tmp_path / 'reference.sqlite'}' AS ref")
    for table in ("usage_events", "tool_calls", "tool_files", "sessions"):
        # The old table's columns only: later versions added some (web searches, v8).
        columns = ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} SELECT {columns} FROM ref.{table}")
    conn.execute("DETACH ref")
    conn.close()

    upgraded = open_ledger(path)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert_totals_match(upgraded.conn)
    upgraded.close()
