"""The weekly summary's per-model rows are `burnmeter report models`' rows for the same
week and zone, to the last decimal of the JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ledger import open_ledger
from shared.reports import models_report
from shared.summary.build import build_summary
from shared.summary.usage import week_filters
from shared.summary.weeks import parse_week

# Four calls of one model, two on Monday and two on Tuesday: summed per day first and the
# days then added, they make 4.5672295 (the double just below, 4.567229 at 6 decimals);
# summed call after call in time order, as `report models` sums them, 4.567229500000001
# (4.56723). The summary's JSON said 4.567229 beside the report's 4.56723.
COSTS = (1.9226527, 1.3456501, 1.0723346, 0.2265921)
TIMES = (
    datetime(2026, 5, 11, 10, tzinfo=UTC),
    datetime(2026, 5, 11, 11, tzinfo=UTC),
    datetime(2026, 5, 12, 10, tzinfo=UTC),
    datetime(2026, 5, 12, 11, tzinfo=UTC),
)


def test_model_costs_equal_the_models_report_of_the_week(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    for n, (moment, cost) in enumerate(zip(TIMES, COSTS, strict=True)):
        ledger.conn.execute(
            "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, cost_usd,"
            " priced, output_tokens) VALUES (?, 'claude-code', 's', ?, 'claude-opus-4-5', ?, 1,"
            " 100)",
            (f"k{n}", int(moment.timestamp() * 1000), cost),
        )
    week, zone = parse_week("2026-W20"), ZoneInfo("UTC")
    summary = build_summary(ledger, Settings(), week, zone, now=datetime(2026, 5, 20, tzinfo=UTC))
    report = models_report(ledger, week_filters(week, zone))["models"]
    assert [{k: v for k, v in row.items() if k != "tier"} for row in summary["models"]] == report
    assert summary["models"][0]["cost_usd"] == round(sum(COSTS[:2]) + COSTS[2] + COSTS[3], 6)
