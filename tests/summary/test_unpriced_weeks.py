"""A week whose calls used models with no known price, in the headline and the charts:
"A model with no price is reported as unpriced (not as $0)" (DESIGN.md), as the tables
already did. The headline said **$0.00** beside 120,000 tokens, and the charts drew
"No cost this week" over an empty axis and an empty donut."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.roots import claude_roots, codex_roots
from shared.summary import build_summary, parse_week, render
from shared.summary.formatting import money
from tests.summary.conftest import HAIKU, WEBSHOP
from tests.summary.history import ClaudeSession

LOCAL = "my-local-llm"


def _summary(home: Path, tmp_path: Path, models: list[str], week: str = "2026-W46") -> Any:
    """The UTC summary of `week` for one session whose calls (Tuesday 10 November 2026,
    one an hour from 09:00) used `models`."""
    session = ClaudeSession(home, WEBSHOP)
    for hour, model in enumerate(models, start=9):
        session.call(datetime(2026, 11, 10, hour, tzinfo=UTC), model=model, output_tokens=60_000)
    session.write()
    ledger = open_ledger(tmp_path / "unpriced.sqlite")
    env = {"HOME": str(home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    return build_summary(ledger, Settings(), parse_week(week), ZoneInfo("UTC"))


def _hero(html: str) -> str:
    match = re.search(r'<span class="cost">([^<]*)</span>', html)
    assert match, "no headline figure"
    return match.group(1)


def test_a_week_of_unpriced_calls_is_headlined_as_unpriced(
    isolated_home: Path, tmp_path: Path
) -> None:
    summary = _summary(isolated_home, tmp_path, [LOCAL, LOCAL])
    assert summary["cost_usd"] == 0 and summary["unpriced_calls"] == 2
    markdown = render(summary, "md")
    assert "**$0.00**" not in markdown
    assert "**unpriced (2 calls)** API-equivalent · 122,000 tokens" in markdown
    html = render(summary, "html")
    assert _hero(html) == "unpriced (2 calls)"
    # No chart of a cost nothing was priced for: no empty axis, no empty donut.
    assert "No cost this week" not in html
    assert "<svg" not in html
    assert html.count("No chart: no call of this week had a known price") == 4  # day, model…


def test_a_partly_priced_week_headline_counts_the_unpriced_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    summary = _summary(isolated_home, tmp_path, [HAIKU, LOCAL, LOCAL])
    cost = money(summary["cost_usd"])
    assert summary["cost_usd"] > 0
    assert f"**{cost} (+2 unpriced)** API-equivalent" in render(summary, "md")
    html = render(summary, "html")
    assert _hero(html) == f"{cost} (+2 unpriced)"
    assert html.count("<svg") == 8  # every chart, in both layouts
    # The tier with no price has no share of the priced cost (it said 0.0%).
    lines = render(summary, "md").splitlines()
    unknown = next(line for line in lines if line.startswith("| unknown |"))
    assert "unpriced (2 calls) | – |" in unknown, unknown


def test_the_week_after_names_an_unpriced_week_unpriced(
    isolated_home: Path, tmp_path: Path
) -> None:
    summary = _summary(isolated_home, tmp_path, [LOCAL, LOCAL], week="2026-W47")
    assert summary["calls"] == 0
    markdown = render(summary, "md")
    assert "Previous week (2026-W46): unpriced (2 calls)." in markdown


def test_the_leverage_line_says_the_weeks_unpriced_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """With a plan price set, a week of a model without a price read "This week: $0.00 of
    API-equivalent work", though two calls were made."""
    session = ClaudeSession(isolated_home, WEBSHOP)
    for hour in (9, 10):
        session.call(datetime(2026, 11, 10, hour, tzinfo=UTC), model=LOCAL, output_tokens=60_000)
    session.write()
    ledger = open_ledger(tmp_path / "unpriced.sqlite")
    env = {"HOME": str(isolated_home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    settings = Settings.model_validate({"subscription": {"monthly_price_usd": 100}})
    summary = build_summary(ledger, settings, parse_week("2026-W46"), ZoneInfo("UTC"))
    markdown = render(summary, "md")
    assert "This week: unpriced (2 calls) of API-equivalent work by all agents against" in markdown
    assert "This week: $0.00" not in markdown
