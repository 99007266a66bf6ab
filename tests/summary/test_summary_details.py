"""Details of the summary an audit found: a bad `--week`, rounding of plan-limit peaks, a
list cut to its largest rows without a word, text columns aligned as figures, and JSON
money fields that were sometimes integers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.insights.budgets import ratio_text
from shared.ledger import Ledger
from shared.summary import build_summary, parse_week, render
from shared.summary.html import render_html
from shared.summary.markdown import render_markdown

BERLIN = ZoneInfo("Europe/Berlin")


def _summary(ledger: Ledger, settings: Settings) -> dict[str, Any]:
    return build_summary(ledger, settings, parse_week("2026-W46"), BERLIN)


def _section(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_an_empty_week_is_refused_like_any_bad_week() -> None:
    """`--week ""` summarised last week, as if no week were given."""
    done = subprocess.run(
        [sys.executable, "-m", "shared", "summary", "--week", "", "--no-ingest"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout[:200]
    assert "expected an ISO week such as 2026-W07, got ''" in done.stderr
    assert done.stdout == ""


def _peak(percent: float) -> dict[str, Any]:
    return {
        "agent": "codex",
        "window": "primary",
        "window_minutes": 300,
        "peak_used_percent": percent,
        "peak_at": "2026-11-10T10:00:00+01:00",
        "readings": 3,
    }


def test_plan_limit_peaks_are_not_rounded_down(ledger: Ledger, settings: Settings) -> None:
    """A 42.5 % peak read "42%" (round half to even, no decimal)."""
    summary = _summary(ledger, settings)
    summary["plan_limits"] = [_peak(42.5), {**_peak(99.95), "window_minutes": 10080}]
    section = _section(render_markdown(summary), "Plan-limit peaks")
    assert "| 42.5% |" in section and "| 100.0% |" in section, section


def test_top_sessions_say_when_they_show_only_the_largest(
    ledger: Ledger, settings: Settings
) -> None:
    """The table showed 10 of 25 sessions without saying so (the hints and flags tables
    say "shows the 10 largest")."""
    summary = _summary(ledger, settings)
    assert len(summary["top_sessions"]) == 10 and summary["sessions"] > 10
    section = _section(render_markdown(summary), "Top sessions")
    assert f"shows the 10 largest of {summary['sessions']}" in section, section
    assert "burnmeter report sessions" in section
    few = {**summary, "sessions": 10}
    assert "largest of" not in _section(render_markdown(few), "Top sessions")


def test_the_command_for_all_sessions_lists_the_weeks_sessions(
    ledger: Ledger, settings: Settings, history_home: Path
) -> None:
    """The command the top-sessions note suggests cut days in the configured zone, not in
    the summary's `--tz`: on a machine in UTC, a Berlin summary sent the user to a list of
    other sessions. It now names the summary's zone; pasted, it lists the week's sessions."""
    summary = build_summary(
        ledger, settings, parse_week("2026-W46"), ZoneInfo("Pacific/Kiritimati")
    )
    section = _section(render_markdown(summary), "Top sessions")
    found = re.search(r"`burnmeter (report sessions [^`]+)`", section)
    assert found is not None, section
    assert "--tz Pacific/Kiritimati" in found.group(1)
    env = {
        **os.environ,
        "HOME": str(history_home),
        "BURNMETER_DATA_DIR": str(ledger.path.parent),
        "TZ": "UTC",
    }
    done = subprocess.run(
        [sys.executable, "-m", "shared", *found.group(1).split(), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = json.loads(done.stdout)["sessions"]
    assert len(listed) == summary["sessions"]
    assert {row["session_id"] for row in summary["top_sessions"]} <= {
        row["session_id"] for row in listed
    }


def test_text_columns_are_left_aligned(ledger: Ledger, settings: Settings) -> None:
    """ "Window", "When" and "Result" hold words and times but were right-aligned."""
    from shared.config import Budgets

    summary = build_summary(
        ledger, Settings(budgets=Budgets(weekly_usd=50)), parse_week("2026-W46"), BERLIN
    )
    summary["plan_limits"] = [_peak(42.5)]
    markdown = render_markdown(summary)
    limits = _section(markdown, "Plan-limit peaks").splitlines()
    header = next(i for i, line in enumerate(limits) if line.startswith("| Agent"))
    assert limits[header] == "| Agent | Window | Peak used | When |"
    assert limits[header + 1] == "| :-- | :-- | --: | :-- |"
    budgets = _section(markdown, "Budgets").splitlines()
    header = next(i for i, line in enumerate(budgets) if line.startswith("| Budget"))
    assert budgets[header + 1] == "| :-- | :-- | --: | --: | :-- |"
    html = render_html(summary)
    for column in ("Window", "When", "Result"):
        assert f"<th>{column}</th>" in html, column
    assert '<th class="num">Peak used</th>' in html


def _money_fields(value: Any, path: str = "") -> list[tuple[str, Any]]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_usd") and not isinstance(item, dict | list):
                found.append((f"{path}.{key}", item))
            found += _money_fields(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _money_fields(item, f"{path}[{index}]")
    return found


def test_json_money_is_always_a_float(ledger: Ledger, settings: Settings) -> None:
    """`"total_saving_usd": 0`, `"cost_usd": 0` (a sum of nothing) beside `0.0` elsewhere."""
    for week in ("2026-W46", "2026-W50"):  # one with calls, one without
        summary = build_summary(ledger, settings, parse_week(week), BERLIN)
        text = render(summary, "json")
        fields = _money_fields(json.loads(text))
        assert fields
        wrong = [
            (path, item) for path, item in fields if item is not None and type(item) is not float
        ]
        assert not wrong, wrong
        assert not re.search(r'_usd": -?\d+[,\n]', text)


def test_the_weeks_leverage_line_counts_the_plans_agent(ledger: Ledger) -> None:
    """The week's line said "of API-equivalent work" for the plan's agent's cost alone,
    with every agent's unpriced calls, and a ratio to one decimal ("0.0×" under 5 %)."""
    settings = Settings.model_validate(
        {"subscription": {"plan": "Claude Max 20x", "monthly_price_usd": 20_000}}
    )
    summary = _summary(ledger, settings)
    lev = summary["leverage"]
    assert lev["agent"] == "claude-code" and 0 < lev["week_ratio"] < 0.05
    line = next(
        line
        for line in _section(render_markdown(summary), "Subscription leverage").splitlines()
        if "This week:" in line
    )
    assert f"${lev['week_value_usd']:,.2f} of API-equivalent Claude Code work" in line, line
    assert line.endswith(f"{ratio_text(lev['week_ratio'])}×.") and "0.0×" not in line, line
