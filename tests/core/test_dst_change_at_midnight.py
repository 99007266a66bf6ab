"""A zone whose clocks go back at local midnight (America/Santiago, 2026-04-05 00:00 -03
-> 2026-04-04 23:00 -04): calls in the first quarter hour after the change are on the
day before, however the report's range falls on the change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.ledger import open_ledger
from shared.reports import Filters, period_report
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

SANTIAGO = ZoneInfo("America/Santiago")
CALLS = [
    # The first call, at 03:05 UTC: the report's days are then walked from 03:00 UTC,
    # the very quarter hour in which Santiago's clocks go back four days later.
    (datetime(2026, 4, 1, 3, 5, tzinfo=UTC), 1),
    (datetime(2026, 4, 5, 3, 5, tzinfo=UTC), 10),  # 2026-04-04 23:05 -04
    (datetime(2026, 4, 5, 12, 0, tzinfo=UTC), 100),  # 2026-04-05 08:00 -04
]


@pytest.fixture
def ledger_path(isolated_home: Path, tmp_path: Path) -> Path:
    session = ClaudeSession("s-santiago", cwd="/home/dev/cl")
    for at, output in CALLS:
        session.reply(at, [text_block("x")], claude_usage(1, output))
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/cl") / "s.jsonl")
    path = tmp_path / "ledger.sqlite"
    ingest_env(open_ledger(path))
    return path


def test_the_quarter_hour_after_clocks_go_back_is_on_the_day_before(ledger_path: Path) -> None:
    """Daily output tokens per local day, with no range given (the walk starts at the
    first call)."""
    expected: dict[str, int] = {}
    for at, output in CALLS:
        day = at.astimezone(SANTIAGO).date().isoformat()
        expected[day] = expected.get(day, 0) + output
    assert expected == {"2026-04-01": 1, "2026-04-04": 10, "2026-04-05": 100}
    report = period_report(open_ledger(ledger_path), "daily", Filters(tz=SANTIAGO))
    assert {row["date"]: row["output_tokens"] for row in report["daily"]} == expected
