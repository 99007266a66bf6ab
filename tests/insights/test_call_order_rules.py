"""Insights read a session's calls in the order they were made, not the order of their
ids: calls 30 minutes apart whose message ids sort the other way round are three
separate cache rewrites, not one burst of churn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.config import Settings
from shared.insights.sessions import session_insights
from shared.ledger import open_ledger
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

CWD = "/home/dev/app"
T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)


def test_calls_are_taken_in_time_order_whatever_their_ids(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Three calls that each write 80,000 tokens to the cache, 30 minutes apart (three
    times the churn window), with message ids in reverse order of time: no churn flag,
    and the session's calls are listed earliest first."""
    session = ClaudeSession("s-order", cwd=CWD)
    for index, message_id in enumerate(["msg_c", "msg_b", "msg_a"]):
        session.reply(
            T0 + timedelta(minutes=30 * index),
            [text_block("x")],
            claude_usage(10, 100, write_5m=80_000, cache_read=1_000),
            model="claude-sonnet-4-5",
            message_id=message_id,
        )
    session.write(claude_project_dir(isolated_home / ".claude", CWD) / "s-order.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    insight = session_insights(ledger, Settings(), with_outcomes=False)["s-order"]
    assert insight.flags == []
