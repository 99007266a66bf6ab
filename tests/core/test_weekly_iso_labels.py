"""A weekly row's label is the ISO week's own year, which differs from the calendar year around
New Year."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from shared.ledger import open_ledger
from shared.reports import Filters, period_report


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_weeks_across_new_year_are_labelled_with_their_iso_year(tmp_path: Path) -> None:
    """2024-12-30 is in 2025-W01 and 2027-01-01 in 2026-W53: labelled by the ISO year, so
    a week is one row and sorts where it belongs, never "2024-W01" or "2027-W53"."""
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    for when in (
        "2024-12-30T12:00:00+00:00",
        "2025-01-02T12:00:00+00:00",
        "2027-01-01T12:00:00+00:00",
    ):
        ledger.conn.execute(
            "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, "
            "input_tokens, total_tokens, cost_usd) VALUES (?, 'claude-code', 's', ?, "
            "'claude-sonnet-4-5', 100, 100, 1.0)",
            (when, _ms(when)),
        )
    weekly = period_report(ledger, "weekly", Filters())["weekly"]
    assert [(row["week"], row["input_tokens"]) for row in weekly] == [
        ("2025-W01", 200),
        ("2026-W53", 100),
    ]
    daily = period_report(ledger, "daily", Filters(since=date(2024, 12, 30)))["daily"]
    assert [row["date"] for row in daily] == ["2024-12-30", "2025-01-02", "2027-01-01"]
