"""`report files` (cost per touched file) against the same figures computed straight from
the tool calls, the files they touched and the calls' costs, on a generated history of
both agents: the report reads the trigger-kept `call_files`, so this catches it and the
table drifting apart."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.generate_corpus import generate
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, files_report, iso_utc
from shared.sources.roots import claude_roots, codex_roots

START = date(2026, 3, 2)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    home = tmp_path_factory.mktemp("files-report") / "home"
    generate(home, 3_000_000, 40, seed=4, start_date=START, days=6)
    ledger = open_ledger(home.parent / "ledger.sqlite")
    env = {"HOME": str(home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    return ledger


def expected_rows(conn: sqlite3.Connection, filters: Filters) -> dict[str, dict[str, Any]]:
    """Per file from the base tables, in Python: every (call, file) pair once; a call's
    cost split evenly over its files."""
    pairs = set(
        conn.execute(
            "SELECT t.event_key, f.path FROM tool_files f JOIN tool_calls t "
            "ON t.tool_id = f.tool_id WHERE t.event_key IS NOT NULL"
        )
    )
    files_per_call: dict[str, int] = defaultdict(int)
    for key, _ in pairs:
        files_per_call[key] += 1
    calls = {
        key: (agent, session, ts_ms, cost)
        for key, agent, session, ts_ms, cost in conn.execute(
            "SELECT event_key, agent, session_id, ts_ms, cost_usd FROM usage_events"
        )
    }
    start_ms, end_ms = float("-inf"), float("inf")
    if filters.since:
        start = datetime.combine(filters.since, datetime.min.time(), filters.tz)
        start_ms = start.timestamp() * 1000
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), datetime.min.time(), filters.tz)
        end_ms = end.timestamp() * 1000
    rows: dict[str, dict[str, Any]] = {}
    for key, path in pairs:
        if key not in calls:
            continue
        agent, session, ts_ms, cost = calls[key]
        if filters.agent and agent != filters.agent:
            continue
        if not start_ms <= ts_ms < end_ms:
            continue
        row = rows.setdefault(path, {"cost": 0.0, "sessions": set(), "calls": 0, "last": 0})
        row["cost"] += (cost or 0.0) / files_per_call[key]
        row["sessions"].add(session)
        row["calls"] += 1
        row["last"] = max(row["last"], ts_ms)
    return rows


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(since=START + timedelta(days=2), until=START + timedelta(days=3)),
        Filters(since=START + timedelta(days=1), tz=ZoneInfo("America/Los_Angeles")),
        Filters(agent="codex"),
        Filters(agent="claude-code", until=START + timedelta(days=4)),
    ],
    ids=["all", "two-days", "since-in-la", "codex", "claude-until"],
)
def test_files_report_equals_the_figures_from_the_tool_calls(
    ledger: Ledger, filters: Filters
) -> None:
    expected = expected_rows(ledger.conn, filters)
    report = files_report(ledger, filters, limit=100_000)["files"]
    assert expected, "the generated history touches files in this range"
    assert sorted(row["path"] for row in report) == sorted(expected)
    for row in report:
        want = expected[row["path"]]
        assert row["cost_usd"] == pytest.approx(want["cost"], abs=2e-6)
        assert row["sessions"] == len(want["sessions"])
        assert row["calls"] == want["calls"]
        assert row["last_activity"] == iso_utc(want["last"])
    costs = [row["cost_usd"] for row in report]
    assert costs == sorted(costs, reverse=True)


def test_the_history_has_what_the_comparison_needs(ledger: Ledger) -> None:
    """Calls that touched several files (their cost is shared), and files of both agents."""
    conn = ledger.conn
    shared_calls = conn.execute(
        "SELECT count(*) FROM (SELECT event_key FROM call_files GROUP BY event_key "
        "HAVING count(*) > 1)"
    ).fetchone()[0]
    assert shared_calls > 0
    agents = {
        agent
        for (agent,) in conn.execute(
            "SELECT DISTINCT e.agent FROM call_files cf JOIN usage_events e USING (event_key)"
        )
    }
    assert agents == {"claude-code", "codex"}


def test_the_limit_keeps_the_costliest_files(ledger: Ledger) -> None:
    everything = files_report(ledger, Filters(), limit=100_000)["files"]
    top = files_report(ledger, Filters(), limit=3)["files"]
    assert len(everything) > 3
    assert top == everything[:3]
