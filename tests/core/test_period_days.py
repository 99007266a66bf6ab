"""Period reports place every call in its local day, week and month, whatever the zone's
offset (whole, half or three-quarter hours, either side of UTC, across DST changes)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.ledger import open_ledger
from shared.reports import Filters, period_report
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

# Every 20 minutes over five days, plus the last and first minute of each UTC hour around
# a European DST change: calls on both sides of every local midnight in every zone below.
START = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
TIMES = sorted(
    {START + timedelta(minutes=20 * step) for step in range(5 * 72)}
    | {START + timedelta(hours=hour, minutes=minute) for hour in range(120) for minute in (0, 59)}
)
MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")
ZONES = [
    "UTC",
    "Europe/Berlin",  # +1 -> +2 on 2026-03-29
    "Asia/Kathmandu",  # +5:45
    "Asia/Kolkata",  # +5:30
    "Pacific/Chatham",  # +13:45 -> +12:45 in April
    "America/St_Johns",  # -2:30
    "Pacific/Honolulu",  # -10
    "Pacific/Kiritimati",  # +14
]


@pytest.fixture(scope="module")
def ledger_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    session = ClaudeSession("s-zones", cwd="/home/dev/zones")
    for index, at in enumerate(TIMES):
        session.reply(at, [text_block("x")], claude_usage(1, index + 1), model=MODELS[index % 2])
    session.write(claude_project_dir(home / ".claude", "/home/dev/zones") / "s-zones.jsonl")
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    ingest_env(open_ledger(path), {"HOME": str(home)})
    return path


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_output_tokens_per_local_period_and_model(
    ledger_path: Path, zone: str, period: str
) -> None:
    tz = ZoneInfo(zone)
    expected: Counter[tuple[str, str]] = Counter()
    # The labels, said independently of the code under test: the ISO date, the ISO week
    # (`%G-W%V`: the week starts on Monday, its year is the one its Thursday is in) and
    # the month.
    label_format = {"daily": "%Y-%m-%d", "weekly": "%G-W%V", "monthly": "%Y-%m"}[period]
    for index, at in enumerate(TIMES):
        label = at.astimezone(tz).strftime(label_format)
        expected[(label, MODELS[index % 2])] += index + 1
    report = period_report(open_ledger(ledger_path), period, Filters(tz=tz))
    key = {"daily": "date", "weekly": "week", "monthly": "month"}[period]
    got = {
        (row[key], model): values["output_tokens"]
        for row in report[period]
        for model, values in row["models"].items()
    }
    assert got == dict(expected)
    assert report["totals"]["output_tokens"] == sum(expected.values())


def test_since_and_until_cut_at_local_midnight(ledger_path: Path) -> None:
    tz = ZoneInfo("Asia/Kathmandu")
    since, until = datetime(2026, 3, 28).date(), datetime(2026, 3, 30).date()
    expected = sum(
        index + 1 for index, at in enumerate(TIMES) if since <= at.astimezone(tz).date() <= until
    )
    report = period_report(open_ledger(ledger_path), "daily", Filters(since, until, tz=tz))
    assert [row["date"] for row in report["daily"]] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert report["totals"]["output_tokens"] == expected
