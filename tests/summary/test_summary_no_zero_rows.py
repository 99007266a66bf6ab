"""A model call read again with an earlier time moves to that time's 15-minute bucket;
the bucket it left keeps a row with no calls. The weekly summary leaves such rows out: a
week whose only call moved to the week before shows no day, agent or model rows of
zeros."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ledger import open_ledger
from shared.summary import build_summary, parse_week
from shared.summary.usage import week_usage
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

CWD = "/home/dev/app"
UTC_ZONE = ZoneInfo("UTC")


def _transcript(home: Path, name: str, at: datetime) -> None:
    """One reply, always the same call (the same message and request ids), at `at`."""
    session = ClaudeSession(name, cwd=CWD)
    session.reply(
        at,
        [text_block("x")],
        claude_usage(100, 800),
        model="claude-sonnet-4-5",
        message_id="msg_same_call",
        request_id="req_same_call",
    )
    session.write(claude_project_dir(home / ".claude", CWD) / f"{name}.jsonl")


def test_a_call_moved_to_the_week_before_leaves_no_zero_rows(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Read first at Monday 00:10 of 2026-W21, then from another transcript at Sunday
    23:50 of 2026-W20: it counts once, in W20; W21's summary has no usage, agent or model
    rows at all (no rows of zero calls), and W20's has the call."""
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    _transcript(isolated_home, "s-later", datetime(2026, 5, 18, 0, 10, tzinfo=UTC))
    ingest_env(ledger)
    _transcript(isolated_home, "s-earlier", datetime(2026, 5, 17, 23, 50, tzinfo=UTC))
    ingest_env(ledger)
    assert ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone() == (1,)

    later, earlier = parse_week("2026-W21"), parse_week("2026-W20")
    assert week_usage(ledger, later, UTC_ZONE).cells == {}
    summary = build_summary(ledger, Settings(), later, UTC_ZONE)
    assert summary["calls"] == 0
    assert summary["usage"] == [] and summary["agents"] == [] and summary["models"] == []
    assert all(day["calls"] == 0 for day in summary["days"])

    before = build_summary(ledger, Settings(), earlier, UTC_ZONE)
    assert [(row["date"], row["calls"]) for row in before["usage"]] == [("2026-05-17", 1)]
    assert [(row["model"], row["calls"]) for row in before["models"]] == [("claude-sonnet-4-5", 1)]
