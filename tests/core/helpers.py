"""Shared helpers for the core tests: ingest a fake home, snapshot a ledger, run the CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shared.ingest import IngestSummary, ingest
from shared.ledger import Ledger
from shared.reports import Filters, period_report
from shared.schema import DERIVED_TRIGGERS, rebuild_derived
from shared.sources.roots import claude_roots, codex_roots

REPO_ROOT = Path(__file__).resolve().parents[2]


def roots_for(env: Mapping[str, str]) -> list[Any]:
    return claude_roots(env) + codex_roots(env)


def ingest_env(ledger: Ledger, env: Mapping[str, str] | None = None) -> IngestSummary:
    env = os.environ if env is None else env
    return ingest(ledger, roots_for(env))


def totals(ledger: Ledger) -> dict[str, Any]:
    return period_report(ledger, "daily", Filters())["totals"]


def events(ledger: Ledger) -> dict[str, dict[str, Any]]:
    cursor = ledger.conn.execute("SELECT * FROM usage_events ORDER BY event_key")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor}


SNAPSHOT_QUERIES = {
    "events": "SELECT event_key, agent, session_id, ts_ms, model, speed, input_tokens, "
    "output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, "
    "reasoning_tokens, total_tokens, round(cost_usd, 9), priced, free, web_search_requests, "
    "inference_geo FROM usage_events",
    "buckets": "SELECT bucket, agent, model, input_tokens, output_tokens, cache_write_5m_tokens, "
    "cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, total_tokens, "
    "round(cost_usd, 9), unpriced_calls, calls FROM usage_buckets WHERE calls != 0",
    "sessions": "SELECT * FROM sessions",
    "tool_calls": "SELECT * FROM tool_calls",
    "tool_files": "SELECT * FROM tool_files",
    "tool_errors": "SELECT * FROM tool_errors",
    "rate_limits": "SELECT * FROM rate_limits",
    "sources": "SELECT path, agent, size, offset, lines, rejected_lines FROM sources",
}


def snapshot(ledger: Ledger, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a ledger knows, in a comparable form (row ids left out; tool-input
    hashes, keyed with each data folder's own secret, as which inputs are the same)."""
    taken = {
        name: sorted(ledger.conn.execute(sql).fetchall(), key=repr)
        for name, sql in SNAPSHOT_QUERIES.items()
        if name not in skip
    }
    if "tool_calls" in taken:
        taken["tool_calls"] = _same_inputs_labelled(taken["tool_calls"])
    return taken


def _same_inputs_labelled(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """tool_calls rows (sorted by tool id) with each input hash replaced by the order in
    which it first occurs: two ledgers with other secrets compare equal when the same
    calls had the same inputs."""
    labels: dict[str, str] = {"": ""}
    labelled = []
    for row in rows:
        label = labels.setdefault(row[-1], f"input-{len(labels)}")
        labelled.append((*row[:-1], label))
    return labelled


def run_cli(
    *args: str, timeout: float = 120, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`burnmeter ARGS` as a real subprocess with the test's isolated environment."""
    return subprocess.run(
        [sys.executable, "-m", "shared", *args],
        cwd=REPO_ROOT,
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class CountingReader:
    """Wraps a parser's typed fast path (`claude_typed.read_usage_line`,
    `codex_typed.read_token_count_line`): how many lines it took and how many it handed on
    to the lenient reader."""

    def __init__(self, fast: Callable[..., bool]) -> None:
        self.taken = self.handed_on = 0
        self._fast = fast

    def __call__(self, *args: Any) -> bool:
        took = self._fast(*args)
        if took:
            self.taken += 1
        else:
            self.handed_on += 1
        return took


# The tables the ledger's triggers keep (costs rounded: sums in another order differ in the
# last bits; rows a delete left at zero calls left out, as a rebuild has none).
DERIVED_TABLES = {
    "buckets": "SELECT bucket, agent, model, input_tokens, output_tokens, cache_read_tokens, "
    "round(cost_usd, 9), calls FROM usage_buckets WHERE calls != 0",
    "session_totals": "SELECT session_id, calls, round(cost_usd, 9), total_tokens, last_ts_ms, "
    "last_model FROM session_totals WHERE calls != 0",
    "call_files": "SELECT * FROM call_files",
    "file_stats": "SELECT path, calls, round(cost_usd, 9), last_ts_ms, last_model FROM file_stats",
    "file_sessions": "SELECT * FROM file_sessions",
}


def derived_tables(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The trigger-kept tables as they are."""
    return {
        name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in DERIVED_TABLES.items()
    }


def rebuilt_derived_tables(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """The trigger-kept tables filled again from the base tables, on a copy: what the
    triggers kept must equal it."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    ledger.conn.backup(copy)
    for name in DERIVED_TRIGGERS:
        copy.execute(f"DROP TRIGGER IF EXISTS {name}")
    copy.execute("BEGIN")
    rebuild_derived(copy)
    copy.execute("COMMIT")
    return derived_tables(copy)
