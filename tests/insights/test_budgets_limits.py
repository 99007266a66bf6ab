"""Budget states and crossings, subscription leverage, plan-limit readings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.ingest import ingest
from shared.insights.budgets import budget_states, crossings, leverage
from shared.insights.limits import latest_limits
from shared.ledger import Ledger, open_ledger
from shared.sources.events import CODEX
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import CodexRollout


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _spend(ledger: Ledger, when: str, cost: float, agent: str = "claude-code") -> None:
    """A priced call at `when` (the ledger's triggers keep the buckets)."""
    ts = _ms(when)
    ledger.conn.execute(
        "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, cost_usd) "
        "VALUES (?, ?, 's', ?, 'claude-opus-4-5', ?)",
        (f"k{ts}{agent}{cost}", agent, ts, cost),
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


BUDGETS = Settings.model_validate(
    {
        "budgets": {"daily_usd": 10, "weekly_usd": 50, "monthly_usd": 200},
        "subscription": {"plan": "Claude Max 5x", "monthly_price_usd": 100},
    }
)
BERLIN = ZoneInfo("Europe/Berlin")


def test_states_follow_local_periods(ledger: Ledger) -> None:
    # Wednesday 2026-03-11 in Berlin (UTC+1).
    _spend(ledger, "2026-03-10T22:30:00+00:00", 4.0)  # 23:30 Berlin on the 10th: not today
    _spend(ledger, "2026-03-10T23:15:00+00:00", 3.0)  # 00:15 Berlin on the 11th
    _spend(ledger, "2026-03-11T12:00:00+00:00", 5.0)
    _spend(ledger, "2026-03-09T08:00:00+00:00", 30.0)  # Monday, same ISO week
    _spend(ledger, "2026-03-01T08:00:00+00:00", 100.0)  # same month, previous week
    now = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    states = {s.period: s for s in budget_states(ledger, BUDGETS, now, BERLIN)}
    assert (states["daily"].label, states["daily"].spent_usd) == ("2026-03-11", 8.0)
    assert states["daily"].state == "warning" and states["daily"].fraction == pytest.approx(0.8)
    assert (states["weekly"].label, states["weekly"].spent_usd) == ("2026-W11", 42.0)
    assert states["weekly"].state == "warning"
    assert (states["monthly"].label, states["monthly"].spent_usd) == ("2026-03", 142.0)
    assert states["monthly"].state == "under"


def test_state_edges(ledger: Ledger) -> None:
    now = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    _spend(ledger, "2026-03-11T10:00:00+00:00", 7.99)
    assert budget_states(ledger, BUDGETS, now, BERLIN)[0].state == "under"
    _spend(ledger, "2026-03-11T10:05:00+00:00", 2.0)
    assert budget_states(ledger, BUDGETS, now, BERLIN)[0].state == "warning"
    _spend(ledger, "2026-03-11T10:10:00+00:00", 0.01)
    assert budget_states(ledger, BUDGETS, now, BERLIN)[0].state == "over"


def test_no_budget_no_state(ledger: Ledger) -> None:
    assert budget_states(ledger, Settings(), datetime.now(UTC), BERLIN) == []


def test_crossings_fire_once_per_threshold(ledger: Ledger) -> None:
    now = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    _spend(ledger, "2026-03-11T09:00:00+00:00", 4.0)
    first = budget_states(ledger, BUDGETS, now, BERLIN)
    assert crossings(first, first) == []
    _spend(ledger, "2026-03-11T10:00:00+00:00", 4.5)  # daily 4.0 -> 8.5: 50 % and 80 %
    second = budget_states(ledger, BUDGETS, now, BERLIN)
    found = crossings(first, second)
    assert [(c.period, c.threshold) for c in found] == [("daily", 0.5), ("daily", 0.8)]
    assert found[1].message == "80% of today's budget reached: $8.50 of $10.00 (2026-03-11)"
    assert crossings(second, second) == []
    # A new day starts from zero: its first reading reports what it already passed.
    tomorrow = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)
    _spend(ledger, "2026-03-12T10:00:00+00:00", 6.0)
    later = budget_states(ledger, BUDGETS, tomorrow, BERLIN)
    assert [(c.period, c.threshold) for c in crossings(second, later)] == [("daily", 0.5)]


def test_leverage_text(ledger: Ledger) -> None:
    _spend(ledger, "2026-02-03T10:00:00+00:00", 1000.0)
    _spend(ledger, "2026-02-20T10:00:00+00:00", 199.79)
    _spend(ledger, "2026-03-01T10:00:00+00:00", 50.0)
    result = leverage(ledger, BUDGETS, "2026-02", ZoneInfo("UTC"))
    assert result.text == "$1,199.79 of API-equivalent Claude Code work on a $100 plan: 12.0×"
    assert result.as_json()["ratio"] == pytest.approx(11.9979)
    unpriced = leverage(ledger, Settings(), "2026-02", ZoneInfo("UTC"))
    assert unpriced.ratio is None
    assert unpriced.text.endswith(
        "; set [subscription] plan or monthly_price_usd to compare with a plan"
    )


def test_codex_limits_from_its_logs(tmp_path: Path, ledger: Ledger) -> None:
    start = _ms("2026-03-11T10:00:00+00:00")
    rollout = CodexRollout(tmp_path / ".codex", "019c0000-dddd-7000-8000-000000000004", "/w", start)
    rollout.token_count(start + 60_000, 1000, 0, 100)
    rollout.write()
    ingest(ledger, [LogRoot(CODEX, tmp_path / ".codex" / "sessions")])
    (reading,) = latest_limits(ledger, now_ms=start + 120_000)
    assert (reading.agent, reading.plan_type) == ("codex", "pro")
    assert reading.primary is not None and reading.secondary is not None
    assert (reading.primary.used_percent, reading.primary.window_minutes) == (12.0, 300)
    assert reading.primary.resets_at_ms == (start + 60_000) // 1000 * 1000 + 3_600_000
    assert not reading.primary.expired
    (later,) = latest_limits(ledger, now_ms=start + 2 * 3_600_000)
    assert later.primary is not None and later.primary.expired
    assert later.secondary is not None and not later.secondary.expired


def test_a_plan_limit_window_is_named_by_its_length() -> None:
    """`budgets` called the primary window "5h" whatever it was: Codex logs a weekly-only
    primary (window_minutes 10080, no secondary) on some plans."""
    from shared.commands.budgets_cmd import _window_text
    from shared.insights.limits import window_short

    weekly = {"used_percent": 2.0, "window_minutes": 10080, "resets_at_ms": 0, "expired": False}
    assert _window_text(weekly, "5h", ZoneInfo("UTC")).startswith("7d 2% (resets ")
    assert [window_short(m, "?") for m in (300, 10080, 1440, 90, None)] == [
        "5h",
        "7d",
        "1d",
        "90m",
        "?",
    ]


def test_messages_round_money_as_the_reports_do(ledger: Ledger) -> None:
    """A plain `:,.2f` of a sum a float's hair above a half cent said $0.08 where `burnmeter
    report` (costs rounded to 6 decimals, then to cents) and the tray said $0.07."""
    now = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    _spend(ledger, "2026-03-11T09:00:00+00:00", 0.030000000000000002)
    _spend(ledger, "2026-03-11T10:00:00+00:00", 0.045000000000000005)
    tiny = Settings.model_validate({"budgets": {"daily_usd": 0.05}})
    (crossing,) = crossings(None, budget_states(ledger, tiny, now, BERLIN))[-1:]
    assert crossing.message == "100% of today's budget reached: $0.07 of $0.05 (2026-03-11)"
    assert leverage(ledger, tiny, "2026-03", BERLIN).text.startswith("$0.07 of API-equivalent")

    from shared.commands.render import money

    spent = 0.030000000000000002 + 0.045000000000000005  # 0.07500000000000001
    assert money(spent) == money(round(spent, 6)) == "$0.07"
    assert money(1234.5) == "$1,234.50"
    assert money(3.3150000000000013, 2) == "$3.31 (+2 unpriced)"
