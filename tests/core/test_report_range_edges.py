"""`--since` / `--until` are whole local days: in a zone behind UTC the last day ends
hours after UTC midnight and every call up to its local midnight counts, and a call at
exactly local midnight belongs to the day it starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.ledger import open_ledger
from shared.reports import Filters, period_report, sessions_report
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

START = datetime(2026, 5, 10, 0, 0, tzinfo=UTC)
# Every 30 minutes over three UTC days: calls late in the evening of every local day, and
# one at exactly local midnight (to the millisecond) in each of these zones.
TIMES = [START + timedelta(minutes=30 * step) for step in range(3 * 48)]


@pytest.fixture(scope="module")
def ledger_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    session = ClaudeSession("s-behind", cwd="/home/dev/behind")
    for index, at in enumerate(TIMES):
        session.reply(at, [text_block("x")], claude_usage(1, index + 1))
    session.write(claude_project_dir(home / ".claude", "/home/dev/behind") / "s-behind.jsonl")
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    ingest_env(open_ledger(path), {"HOME": str(home)})
    return path


@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "America/Los_Angeles", "America/St_Johns"])
def test_the_last_local_day_is_counted_to_its_midnight(ledger_path: Path, zone: str) -> None:
    """A one-day range (since = until) in a zone behind UTC: the day's evening, already
    the next day in UTC, is part of the day."""
    tz = ZoneInfo(zone)
    day = date(2026, 5, 11)
    expected = sum(index + 1 for index, at in enumerate(TIMES) if at.astimezone(tz).date() == day)
    report = period_report(open_ledger(ledger_path), "daily", Filters(day, day, tz=tz))
    assert [row["date"] for row in report["daily"]] == ["2026-05-11"]
    assert report["totals"]["output_tokens"] == expected


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Honolulu", "Asia/Kolkata"])
def test_a_call_at_local_midnight_belongs_to_the_day_it_starts(
    ledger_path: Path, zone: str
) -> None:
    """The sessions report cuts its range at local midnight: the call at 00:00:00.000 of
    the day is in it, the one at 00:00:00.000 of the next day is not."""
    tz = ZoneInfo(zone)
    day = date(2026, 5, 11)
    midnight = datetime(2026, 5, 11, tzinfo=tz)
    assert midnight in TIMES and midnight + timedelta(days=1) in TIMES
    expected = sum(index + 1 for index, at in enumerate(TIMES) if at.astimezone(tz).date() == day)
    report = sessions_report(open_ledger(ledger_path), Filters(day, day, tz=tz))
    assert report["totals"]["output_tokens"] == expected
    (row,) = report["sessions"]
    assert row["first_activity"].startswith(midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
