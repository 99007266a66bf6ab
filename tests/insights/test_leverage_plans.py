"""Subscription leverage counts the agent the plan pays for: a Claude plan Claude Code, a
ChatGPT plan Codex; a plan whose name names neither, every agent (and says so)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.insights.budgets import leverage
from shared.ledger import Ledger, open_ledger
from shared.plans import plan_agent
from shared.summary.insight_parts import subscription_leverage
from shared.summary.weeks import parse_week

UTC = ZoneInfo("UTC")


def _spend(ledger: Ledger, when: str, cost: float | None, agent: str) -> None:
    """A call at `when` (no price when `cost` is None); the ledger's triggers keep the
    buckets."""
    ts = int(datetime.fromisoformat(when).timestamp() * 1000)
    ledger.conn.execute(
        "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, cost_usd, priced) "
        "VALUES (?, ?, 's', ?, 'm', ?, ?)",
        (f"k{ts}{agent}{cost}", agent, ts, cost, int(cost is not None)),
    )


def _november(ledger: Ledger) -> None:
    _spend(ledger, "2026-11-03T10:00:00+00:00", 7.29, "claude-code")
    _spend(ledger, "2026-11-04T10:00:00+00:00", 2.18, "codex")


def _plan(plan: str, price: float | None = 100) -> Settings:
    return Settings.model_validate(
        {"subscription": {"plan": plan, **({} if price is None else {"monthly_price_usd": price})}}
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


@pytest.mark.parametrize(
    ("plan", "agent"),
    [
        ("Claude Pro", "claude-code"),
        ("Claude Max 5x", "claude-code"),
        ("claude max 20X", "claude-code"),
        ("Claude Team", "claude-code"),
        ("ChatGPT Plus", "codex"),
        ("chatgpt pro", "codex"),
        ("ChatGPT Business", "codex"),
        ("Max", None),
        ("", None),
        ("Cursor Pro", None),
    ],
)
def test_the_plan_names_its_agent(plan: str, agent: str | None) -> None:
    assert plan_agent(plan) == agent


def test_a_claude_plan_counts_claude_code_only(ledger: Ledger) -> None:
    """The audit's November: $7.29 of Claude Code and $2.18 of Codex work on Claude Max
    5x read "$9.47 of API-equivalent work on a $100 plan"."""
    _november(ledger)
    claude = leverage(ledger, _plan("Claude Max 5x"), "2026-11", UTC)
    assert claude.value_usd == pytest.approx(7.29)
    assert claude.agent == "claude-code"
    assert claude.text.startswith("$7.29 of API-equivalent Claude Code work on a $100 plan")
    assert claude.as_json()["agent"] == "claude-code"

    codex = leverage(ledger, _plan("chatgpt plus", 20), "2026-11", UTC)
    assert codex.value_usd == pytest.approx(2.18)
    assert codex.text.startswith("$2.18 of API-equivalent Codex work on a $20 plan")
    assert codex.as_json()["agent"] == "codex"

    anything = leverage(ledger, _plan("Team seat"), "2026-11", UTC)
    assert anything.value_usd == pytest.approx(9.47)
    assert anything.text.startswith("$9.47 of API-equivalent work by all agents on a $100")
    assert anything.as_json()["agent"] is None


def test_the_summary_counts_the_plans_agent_for_the_month_and_the_week(ledger: Ledger) -> None:
    _november(ledger)
    week = parse_week("2026-W45")  # 2-8 November: both calls
    lev = subscription_leverage(ledger, _plan("Claude Max 5x"), week, UTC, 9.47)
    assert lev["agent"] == "claude-code"
    assert lev["month"]["value_usd"] == pytest.approx(7.29)
    assert lev["week_value_usd"] == pytest.approx(7.29)
    assert lev["week_ratio"] == pytest.approx(7.29 / (100 * 12 / 52), abs=1e-3)
    every = subscription_leverage(ledger, _plan("Max"), week, UTC, 9.47)
    assert every["agent"] is None
    assert every["week_value_usd"] == pytest.approx(9.47)
    assert every["month"]["value_usd"] == pytest.approx(9.47)


def _budgets(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared", "budgets", "--no-ingest", "--tz", "UTC", *flags],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=True,
    )


def test_burnmeter_budgets_counts_the_plans_agent() -> None:
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(data / "ledger.sqlite")
    _november(ledger)
    ledger.close()
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        '[subscription]\nplan = "Claude Max 5x"\nmonthly_price_usd = 100\n'
    )
    text = _budgets("--month", "2026-11").stdout
    assert "Leverage 2026-11: $7.29 of API-equivalent Claude Code work on a $100 plan" in text
    report = json.loads(_budgets("--month", "2026-11", "--json").stdout)["leverage"]
    assert report["agent"] == "claude-code"
    assert report["value_usd"] == pytest.approx(7.29)


def test_leverage_says_its_unpriced_calls(ledger: Ledger) -> None:
    """spend_between counted the month's calls without a price and leverage dropped them:
    "$7.29 of API-equivalent work" for a month with 3 calls burnmeter could not price."""
    _november(ledger)
    for day in ("05", "06", "07"):
        _spend(ledger, f"2026-11-{day}T10:00:00+00:00", None, "claude-code")
    _spend(ledger, "2026-11-08T10:00:00+00:00", None, "codex")  # not the plan's agent
    result = leverage(ledger, _plan("Claude Max 5x"), "2026-11", UTC)
    assert result.unpriced_calls == 3
    assert result.text.startswith("$7.29 (+3 unpriced) of API-equivalent Claude Code work")
    assert result.as_json()["unpriced_calls"] == 3
    every = leverage(ledger, _plan("Max"), "2026-11", UTC)
    assert every.text.startswith("$9.47 (+4 unpriced) of API-equivalent work by all agents")
    week = subscription_leverage(ledger, _plan("Claude Max 5x"), parse_week("2026-W45"), UTC, 9.47)
    assert (week["week_unpriced_calls"], week["month"]["unpriced_calls"]) == (3, 3)


def test_a_small_ratio_keeps_two_significant_digits(ledger: Ledger) -> None:
    """`:.1f` printed "0.1×" for 7.3 % of the plan and "0.0×" for anything under 5 %."""
    from shared.insights.budgets import ratio_text

    assert [ratio_text(r) for r in (0.0729, 0.0047, 0.5, 0.95, 0.999, 1.0, 12.04, 0)] == [
        "0.073",
        "0.0047",
        "0.50",
        "0.95",
        "1.0",
        "1.0",
        "12.0",
        "0",
    ]
    _november(ledger)
    result = leverage(ledger, _plan("Claude Max 5x"), "2026-11", UTC)
    assert result.text.endswith("on a $100 plan: 0.073×")
    assert result.as_json()["ratio"] == pytest.approx(0.0729)
    tiny = leverage(ledger, _plan("ChatGPT Pro", 200), "2026-11", UTC)
    assert tiny.text.endswith(": 0.011×")  # $2.18 on $200


def test_the_running_month_is_said_to_be_so_far(ledger: Ledger) -> None:
    """The running month read as a whole one: "$7.29 of API-equivalent work on a $100
    plan" on its 7th day compared a week of work with a month's price, unsaid."""
    _november(ledger)
    settings = _plan("Claude Max 5x")
    seventh = datetime.fromisoformat("2026-11-07T15:00:00+00:00")
    running = leverage(ledger, settings, None, UTC, now=seventh)
    assert running.month == "2026-11"
    assert running.text == (
        "$7.29 of API-equivalent Claude Code work so far (7 of 30 days) on a $100 plan: 0.073×"
    )
    assert (running.as_json()["days_so_far"], running.as_json()["days_in_month"]) == (7, 30)
    assert "so far" in leverage(ledger, settings, "2026-11", UTC, now=seventh).text
    done = leverage(ledger, settings, "2026-11", UTC, now=datetime.fromisoformat("2026-12-02"))
    assert "so far" not in done.text and done.as_json()["days_so_far"] is None
    assert done.as_json()["days_in_month"] == 30
    # In the leverage's zone: 23:30 UTC on 30 November is 1 December in Berlin.
    late = datetime.fromisoformat("2026-11-30T23:30:00+00:00")
    berlin = ZoneInfo("Europe/Berlin")
    assert leverage(ledger, settings, None, berlin, now=late).so_far == " so far (1 of 31 days)"
    assert leverage(ledger, settings, "2026-11", berlin, now=late).so_far == ""


def test_burnmeter_budgets_says_this_month_is_so_far() -> None:
    now = datetime.now(UTC)
    report = json.loads(_budgets("--json").stdout)["leverage"]
    assert report["month"] == now.strftime("%Y-%m") or now.day == 1  # a month may begin
    assert report["days_so_far"] in {now.day, datetime.now(UTC).day}
    assert f"so far ({report['days_so_far']} of {report['days_in_month']} days)" in report["text"]
    assert report["days_in_month"] in {28, 29, 30, 31}


def test_a_preset_plan_without_a_price_takes_the_presets(ledger: Ledger) -> None:
    """`plan = "Claude Max 5x"` with no `monthly_price_usd` said "(set [subscription]
    monthly_price_usd to compare with a plan)" though the settings window's presets know
    its price; they live in shared.plans now, for the CLI, the summary and the tray."""
    from shared.plans import PRESETS, preset_price

    assert [(p.name, p.monthly_price_usd) for p in PRESETS] == [
        ("Claude Pro", 20.0),
        ("Claude Max 5x", 100.0),
        ("Claude Max 20x", 200.0),
        ("ChatGPT Plus", 20.0),
        ("ChatGPT Pro", 200.0),
    ]
    assert (preset_price("claude  max 5X"), preset_price("Claude Team")) == (100.0, None)
    _november(ledger)
    result = leverage(ledger, _plan("Claude Max 5x", None), "2026-11", UTC)
    assert result.plan_price_usd == 100.0
    assert result.text == (
        "$7.29 of API-equivalent Claude Code work on a $100 plan "
        "(Claude Max 5x's preset price): 0.073×"
    )
    assert result.as_json()["plan_price_from_preset"] is True
    # Spelt as the user wrote it, the preset is named as it is spelt: not "claude max 5x's".
    lower = leverage(ledger, _plan("claude  max 5X", None), "2026-11", UTC)
    assert "(Claude Max 5x's preset price)" in lower.text, lower.text
    own = leverage(ledger, _plan("Claude Max 5x", 90), "2026-11", UTC)  # a price set wins
    assert own.plan_price_usd == 90 and "preset" not in own.text
    assert own.as_json()["plan_price_from_preset"] is False
    unknown = leverage(ledger, _plan("Team seat", None), "2026-11", UTC)
    assert unknown.plan_price_usd is None and "set [subscription] plan or monthly_price_usd" in (
        unknown.text
    )
    week = subscription_leverage(
        ledger, _plan("Claude Max 5x", None), parse_week("2026-W45"), UTC, 9.47
    )
    assert week["plan_price_usd"] == 100.0
    assert week["week_plan_share_usd"] == pytest.approx(100 * 12 / 52, abs=1e-5)
    # The week's ratio keeps six decimals as the month's does (three made 0.0092 "0.0090×").
    assert week["week_ratio"] == round(week["week_value_usd"] / (100 * 12 / 52), 6)


def test_burnmeter_budgets_takes_a_presets_price() -> None:
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(data / "ledger.sqlite")
    _november(ledger)
    ledger.close()
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('[subscription]\nplan = "ChatGPT Plus"\n')
    text = _budgets("--month", "2026-11").stdout
    assert (
        "Leverage 2026-11: $2.18 of API-equivalent Codex work on a $20 plan "
        "(ChatGPT Plus's preset price): 0.11×"
    ) in text
