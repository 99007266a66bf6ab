"""Insight rules that hand-made mutants showed no test held: 5-hour blocks, budgets and
leverage, plan-limit readings, runaway flags, tier hints, git outcomes and cost per commit,
the weekly summary's insight numbers and the status line's. Each test names its rule and
goes through logs written as the agents write them (or, for budget periods, priced calls in
a real ledger) and the public results."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.commands.statusline_cmd import record_status, status_line
from shared.config import Settings
from shared.ingest import ingest
from shared.insights.blocks import compute_blocks, current_block
from shared.insights.budgets import budget_states, crossings, leverage
from shared.insights.limits import latest_limits
from shared.insights.reporting import add_commit_costs
from shared.insights.sessions import SessionInsight, session_insights
from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, repos_report
from shared.sources.roots import claude_roots, codex_roots
from shared.summary import build_summary, parse_week
from tests.insights.agent_logs import (
    ClaudeSession,
    CodexRollout,
    ingest_home,
    write_editing_session,
)
from tests.insights.gitrepo import GitRepo
from tests.summary.history import ClaudeSession as WeekSession
from tests.summary.history import CodexSession as WeekRollout

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_790_000_000_000  # 2026-09-21, a whole second
CWD = "/home/dev/shop"
OPUS = "claude-opus-4-5-20251101"
SONNET = "claude-sonnet-4-5-20250929"
BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")


def _insights(home: Path, settings: Settings | None = None) -> dict[str, SessionInsight]:
    return session_insights(ingest_home(home), settings or Settings(), with_outcomes=False)


# --- 5-hour blocks -------------------------------------------------------------------------


def test_a_call_exactly_five_hours_after_an_hour_aligned_start_ends_that_block(
    tmp_path: Path,
) -> None:
    """Blocks: only a call *more* than 5 hours after the block start or the previous call
    starts a new block. A first call on the hour and one exactly 5 hours later share a
    block that ends at the second call, so 30 minutes later no block is active, in the full
    read and in the quick one the status line and `budgets` use (which took the second
    call for the start of a new, active block)."""
    hour = T0 - T0 % HOUR
    session = ClaudeSession(tmp_path / ".claude", "sess-edge", CWD)
    session.assistant(hour)
    session.assistant(hour + 5 * HOUR)
    session.write()
    ledger = ingest_home(tmp_path)
    now = hour + 5 * HOUR + 30 * MINUTE
    full = compute_blocks(ledger, now_ms=now)
    assert [(block.start_ms, block.calls, block.is_active) for block in full] == [(hour, 2, False)]
    assert current_block(ledger, now_ms=now) is None
    assert "block" not in status_line(ledger.conn, {}, now, remember=False)


def test_the_status_line_writes_an_hour_left_as_hours(tmp_path: Path) -> None:
    """Status line: the time left in the active block reads `1h00m` from 60 minutes on,
    minutes alone below that."""
    hour = T0 - T0 % HOUR
    session = ClaudeSession(tmp_path / ".claude", "sess-left", CWD)
    session.assistant(hour + 10 * MINUTE)
    session.write()
    ledger = ingest_home(tmp_path)
    assert "block 1h00m left" in status_line(ledger.conn, {}, hour + 4 * HOUR, remember=False)
    assert "block 59m left" in status_line(
        ledger.conn, {}, hour + 4 * HOUR + MINUTE, remember=False
    )


# --- budgets and leverage ------------------------------------------------------------------


def _spend(ledger: Ledger, when: str, cost: float) -> None:
    """A priced call at `when` (the ledger's triggers keep the 15-minute buckets)."""
    ts = int(datetime.fromisoformat(when).timestamp() * 1000)
    ledger.conn.execute(
        "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, cost_usd) "
        "VALUES (?, 'claude-code', 's', ?, 'claude-opus-4-5', ?)",
        (f"k{ts}{cost}", ts, cost),
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


WEDNESDAY = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def test_a_weekly_budget_is_the_iso_week_from_monday(ledger: Ledger) -> None:
    """Budgets: the weekly period is the ISO week, local Monday 00:00 to the next Monday;
    Sunday's spend belongs to the week before."""
    _spend(ledger, "2026-03-08T11:00:00+00:00", 30.0)  # Sunday noon in Berlin: W10
    _spend(ledger, "2026-03-09T11:00:00+00:00", 2.0)  # Monday: W11
    settings = Settings.model_validate({"budgets": {"weekly_usd": 50}})
    (weekly,) = budget_states(ledger, settings, WEDNESDAY, BERLIN)
    assert (weekly.label, weekly.spent_usd) == ("2026-W11", 2.0)
    assert weekly.start.isoformat() == "2026-03-09T00:00:00+01:00"
    assert weekly.end.isoformat() == "2026-03-16T00:00:00+01:00"


def test_a_day_ends_at_the_next_local_midnight(ledger: Ledger) -> None:
    """Budgets: a day runs to the next local midnight, exclusive: a call five minutes after
    it is tomorrow's, one five minutes before it today's."""
    _spend(ledger, "2026-03-11T22:55:00+00:00", 1.0)  # 23:55 in Berlin
    _spend(ledger, "2026-03-11T23:05:00+00:00", 4.0)  # 00:05 on the 12th in Berlin
    settings = Settings.model_validate({"budgets": {"daily_usd": 10}})
    (daily,) = budget_states(ledger, settings, WEDNESDAY, BERLIN)
    assert (daily.label, daily.spent_usd) == ("2026-03-11", 1.0)
    assert daily.end.isoformat() == "2026-03-12T00:00:00+01:00"


def test_reaching_a_threshold_exactly_is_a_crossing(ledger: Ledger) -> None:
    """Budgets: front ends notify once per 50 / 80 / 100 % crossing; spending exactly half
    or exactly all of the budget reaches that threshold."""
    settings = Settings.model_validate({"budgets": {"daily_usd": 10}})
    _spend(ledger, "2026-03-11T09:00:00+00:00", 5.0)
    first = budget_states(ledger, settings, WEDNESDAY, BERLIN)
    assert first[0].fraction == 0.5
    assert [c.threshold for c in crossings(None, first)] == [0.5]
    _spend(ledger, "2026-03-11T10:00:00+00:00", 5.0)
    second = budget_states(ledger, settings, WEDNESDAY, BERLIN)
    assert (second[0].fraction, second[0].state) == (1.0, "over")
    assert [c.threshold for c in crossings(first, second)] == [0.8, 1.0]


def test_leverage_cuts_the_month_in_the_zone(ledger: Ledger) -> None:
    """Leverage: the month is cut in the given zone: 23:30 UTC on 28 February is 1 March in
    Berlin."""
    _spend(ledger, "2026-02-28T23:30:00+00:00", 7.0)
    settings = Settings.model_validate({"subscription": {"monthly_price_usd": 100}})
    assert leverage(ledger, settings, "2026-03", BERLIN).value_usd == 7.0
    assert leverage(ledger, settings, "2026-02", BERLIN).value_usd == 0.0


# --- plan-limit readings -------------------------------------------------------------------


def _rollout(home: Path) -> CodexRollout:
    return CodexRollout(home / ".codex", "019c0000-eeee-7000-8000-000000000001", CWD, T0)


def test_the_latest_codex_reading_is_the_newest_one_with_a_percentage(tmp_path: Path) -> None:
    """Plan limits: the newest reading per agent counts; a later token count whose
    rate_limits carry no percentage (no windows) does not hide it."""
    rollout = _rollout(tmp_path)
    rollout.token_count(T0 + MINUTE, 1000, 0, 100)  # 12 % (the helper's default)
    rollout.token_count(T0 + 2 * MINUTE, 1000, 0, 100)
    rollout.lines[-1]["payload"]["rate_limits"]["primary"]["used_percent"] = 40.0
    rollout.token_count(T0 + 3 * MINUTE, 1000, 0, 100)
    rollout.lines[-1]["payload"]["rate_limits"] = {
        "limit_id": "codex",
        "primary": None,
        "secondary": None,
        "plan_type": None,
    }
    rollout.write()
    (reading,) = latest_limits(ingest_home(tmp_path), now_ms=T0 + 4 * MINUTE)
    assert reading.primary is not None and reading.primary.used_percent == 40.0
    assert reading.secondary is not None and reading.secondary.used_percent == 30.0


def test_a_codex_relative_reset_and_a_window_that_resets_now(tmp_path: Path) -> None:
    """Plan limits: older Codex logs `resets_in_seconds`, counted from the line's time; a
    window whose reset time is now has reset (expired)."""
    rollout = _rollout(tmp_path)
    rollout.token_count(T0 + MINUTE, 1000, 0, 100)
    rollout.lines[-1]["payload"]["rate_limits"]["primary"] = {
        "used_percent": 5.0,
        "window_minutes": 300,
        "resets_in_seconds": 1800,
    }
    rollout.write()
    ledger = ingest_home(tmp_path)
    reset_ms = T0 + MINUTE + 1800 * 1000
    (before,) = latest_limits(ledger, now_ms=reset_ms - 1)
    assert before.primary is not None
    assert (before.primary.resets_at_ms, before.primary.expired) == (reset_ms, False)
    (at_reset,) = latest_limits(ledger, now_ms=reset_ms)
    assert at_reset.primary is not None and at_reset.primary.expired


STATUS = {
    "session_id": "0b6c5d0e-1111-4222-8333-444455556666",
    "model": {"id": OPUS, "display_name": "Opus 4.5"},
    "rate_limits": {
        "five_hour": {"used_percentage": 39.4, "resets_at": T0 // 1000 + 3600},
        "seven_day": {"used_percentage": 15.0, "resets_at": T0 // 1000 + 86400},
    },
}


def test_claude_plan_readings_keep_their_window_lengths_and_stop_at_their_reset(
    ledger: Ledger,
) -> None:
    """Status line: Claude Code's five_hour / seven_day readings are stored as 300- and
    10080-minute windows; a stored reading is shown only before its reset (at the reset
    time the window has started over)."""
    record_status(ledger.conn, STATUS, T0)
    (reading,) = latest_limits(ledger, now_ms=T0)
    assert reading.primary is not None and reading.secondary is not None
    assert (reading.primary.window_minutes, reading.secondary.window_minutes) == (300, 10080)
    five_reset = (T0 // 1000 + 3600) * 1000
    assert "5h 39% · 7d 15%" in status_line(ledger.conn, {}, five_reset - 1, remember=False)
    at_reset = status_line(ledger.conn, {}, five_reset, remember=False)
    assert "5h" not in at_reset and "7d 15%" in at_reset


# --- runaway flags -------------------------------------------------------------------------


def _kinds(insight: SessionInsight) -> list[str]:
    return [flag.kind for flag in insight.flags]


def test_cache_churn_at_exactly_its_write_size_and_window(tmp_path: Path) -> None:
    """cache-churn: calls writing 50,000+ cache tokens ("at least"), each within 10
    minutes of the previous (exactly 10 counts)."""
    session = ClaudeSession(tmp_path / ".claude", "sess-churn", CWD)
    for k in range(3):
        session.assistant(T0 + k * 10 * MINUTE, cache_write=50_000, cache_read=0)
    session.write()
    assert _kinds(_insights(tmp_path)["sess-churn"]) == ["cache-churn"]


def test_a_call_that_read_more_cache_than_it_wrote_is_no_churn(tmp_path: Path) -> None:
    """cache-churn: a rewrite is a call that wrote more to the cache than it read."""
    session = ClaudeSession(tmp_path / ".claude", "sess-reuse", CWD)
    for k in range(3):
        session.assistant(T0 + k * MINUTE, cache_write=60_000, cache_read=100_000)
    session.write()
    assert _kinds(_insights(tmp_path)["sess-reuse"]) == []


def test_context_bloat_counts_cache_writes_and_exactly_the_threshold(tmp_path: Path) -> None:
    """context-bloat: a call's prompt is its new input, cache reads and cache writes, and
    150,000 of them ("150,000+") is enough."""
    session = ClaudeSession(tmp_path / ".claude", "sess-bloat", CWD)
    for k in range(10):
        session.assistant(
            T0 + k * MINUTE,
            input_tokens=10,
            cache_read=100_000,
            cache_write=49_990,  # 150,000 in all; below the churn size
            tools=[("Read", {"file_path": f"{CWD}/f{k}.py"})],
        )
    session.write()
    assert _kinds(_insights(tmp_path)["sess-bloat"]) == ["context-bloat"]


def test_subagent_calls_are_left_out_of_the_cache_and_context_rules(tmp_path: Path) -> None:
    """Flags: subagent (sidechain) calls have their own prompt, so they raise neither
    cache-churn nor context-bloat; the same calls on the main thread raise both."""
    heavy = {"input_tokens": 10, "cache_write": 160_000, "cache_read": 0}
    parent = ClaudeSession(tmp_path / ".claude", "sess-parent", CWD)
    parent.assistant(T0 - MINUTE)
    parent.write()
    agent = ClaudeSession(tmp_path / ".claude", "sess-parent", CWD)
    main = ClaudeSession(tmp_path / ".claude", "sess-main", CWD)
    for k in range(10):
        agent.assistant(T0 + k * MINUTE, sidechain=True, **heavy)  # type: ignore[arg-type]
        main.assistant(T0 + k * MINUTE, **heavy)  # type: ignore[arg-type]
    main.write()
    side = parent.path.parent / parent.session_id / "subagents" / "agent-a0b1c2d.jsonl"
    side.parent.mkdir(parents=True)
    side.write_text("".join(json.dumps(line) + "\n" for line in agent.lines))
    insights = _insights(tmp_path)
    assert _kinds(insights["sess-main"]) == ["cache-churn", "context-bloat"]
    assert _kinds(insights["sess-parent"]) == []
    assert insights["sess-parent"].cost_usd > insights["sess-main"].cost_usd  # read: 11 calls


# --- tiers and hints -----------------------------------------------------------------------

# Per call at Haiku 5.5, the economy reference model, at its rates above 100,000 input
# tokens (the call's 111,000: $0.50 in, $2.50 out, $0.05 cache read, $0.625 5-minute cache
# write per million) and Opus 4.5 ($5 / $25 / $0.50 / $6.25): 1,000 in, 2,000 out, 100,000
# read, 10,000 written.
HAIKU_PER_CALL = (1_000 * 0.5 + 2_000 * 2.5 + 100_000 * 0.05 + 10_000 * 0.625) / 1e6
OPUS_PER_CALL = (1_000 * 5.0 + 2_000 * 25.0 + 100_000 * 0.50 + 10_000 * 6.25) / 1e6
READER_USAGE = {
    "input_tokens": 1_000,
    "output_tokens": 2_000,
    "cache_write": 10_000,
    "cache_read": 100_000,
}


def _reader(home: Path, calls: int = 10, edits: int = 0) -> ClaudeSession:
    session = ClaudeSession(home / ".claude", "sess-hint", CWD)
    for k in range(calls):
        tool = (
            ("Edit", {"file_path": f"{CWD}/a.py"}) if k < edits else ("Grep", {"pattern": "TODO"})
        )
        session.assistant(T0 + k * MINUTE, OPUS, tools=[tool], **READER_USAGE)  # type: ignore[arg-type]
    return session


def test_the_saving_is_on_the_explore_and_chat_calls_only(tmp_path: Path) -> None:
    """Tier hints: only the explore/chat calls are repriced, and the saving is what those
    calls cost minus their counterfactual, not the whole frontier spend minus it."""
    _reader(tmp_path, calls=10, edits=5).write()
    hint = _insights(tmp_path)["sess-hint"].hint
    assert hint is not None
    assert hint.counterfactual_cost_usd == pytest.approx(5 * HAIKU_PER_CALL)
    assert hint.saving_usd == pytest.approx(5 * (OPUS_PER_CALL - HAIKU_PER_CALL))


def test_hint_thresholds_are_at_least(tmp_path: Path) -> None:
    """Tier hints: a session that spent exactly `hint_min_frontier_cost_usd` on frontier
    models is considered, and a saving of exactly `hint_min_saving_usd` is kept."""
    _reader(tmp_path).write()
    first = _insights(tmp_path)["sess-hint"]
    assert first.hint is not None
    exact = Settings.model_validate(
        {
            "insights": {
                "hint_min_frontier_cost_usd": first.cost_usd,
                "hint_min_saving_usd": first.hint.saving_usd,
            }
        }
    )
    assert _insights(tmp_path, exact)["sess-hint"].hint is not None


def test_a_free_api_error_call_is_not_repriced(tmp_path: Path) -> None:
    """Tier hints: an API error line costs nothing, so the counterfactual leaves it out
    too (repricing its tokens at Haiku would invent a cost the session never had)."""
    session = _reader(tmp_path)
    session.assistant(T0 + 10 * MINUTE, OPUS, **READER_USAGE)  # type: ignore[arg-type]
    session.lines[-1]["isApiErrorMessage"] = True
    session.write()
    hint = _insights(tmp_path)["sess-hint"].hint
    assert hint is not None
    assert hint.counterfactual_cost_usd == pytest.approx(10 * HAIKU_PER_CALL)
    assert "went to 10 calls" in hint.reason


def test_the_counterfactual_of_a_us_only_call_pays_the_reference_models_us_rate(
    tmp_path: Path,
) -> None:
    """Tier hints: the same tokens are repriced as the reference model would charge that
    call, US-only inference (`inference_geo: "us"`) included."""
    session = _reader(tmp_path)
    for line in session.lines:
        line["message"]["usage"]["inference_geo"] = "us"
    session.write()
    settings = Settings.model_validate(
        {"prices": {"claude-haiku-5-5": {"us_inference_multiplier": 2.0}}}
    )
    hint = _insights(tmp_path, settings)["sess-hint"].hint
    assert hint is not None
    assert hint.counterfactual_cost_usd == pytest.approx(2 * 10 * HAIKU_PER_CALL)


def test_a_tier_holding_exactly_the_dominant_share_is_the_sessions(tmp_path: Path) -> None:
    """Tiers: a session's tier is the one holding at least `dominant_tier_share` of its
    cost; exactly that share is enough."""
    session = ClaudeSession(tmp_path / ".claude", "sess-share", CWD)
    session.assistant(T0, OPUS, output_tokens=10_000)
    session.assistant(T0 + MINUTE, SONNET, output_tokens=15_000)
    session.write()
    ledger = ingest_home(tmp_path)
    opus, sonnet = (
        row[0] for row in ledger.conn.execute("SELECT cost_usd FROM usage_events ORDER BY ts_ms")
    )
    exact = Settings.model_validate({"insights": {"dominant_tier_share": opus / (opus + sonnet)}})
    insights = session_insights(ledger, exact, with_outcomes=False)
    assert insights["sess-share"].tier == "frontier"


# --- outcomes from git ---------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0 - DAY, {"app.py": "v0\n", "other.py": "v0\n"}, "initial")
    return repo


def _outcome(home: Path, sid: str) -> tuple[str, list[str]]:
    outcome = session_insights(ingest_home(home), Settings())[sid].outcome
    return outcome.status, outcome.commits


def test_a_commit_in_the_sessions_first_second_counts(tmp_path: Path, repo: GitRepo) -> None:
    """Outcomes: commit times have whole seconds, so a commit dated in the second the
    session started (here 500 ms into it) is "from the session's start"."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-first-second", T0 + 500)
    sha = repo.commit(T0, {"app.py": "v1\n"})
    assert _outcome(tmp_path, "sess-first-second") == ("committed", [sha])


def test_a_commit_exactly_at_the_end_of_the_window_counts(tmp_path: Path, repo: GitRepo) -> None:
    """Outcomes: commits "from the session's start up to 7 days later": exactly 7 days
    later is inside."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-window-end", T0)
    sha = repo.commit(T0 + 7 * DAY, {"app.py": "v1\n"})
    assert _outcome(tmp_path, "sess-window-end") == ("committed", [sha])


def test_each_session_of_a_repository_gets_its_own_window(tmp_path: Path, repo: GitRepo) -> None:
    """Outcomes: one `git log` per repository covers every session asked about, up to the
    latest session's window: a commit 6 days after a later session (11 after an earlier
    one) is the later session's."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-early", T0)
    write_editing_session(tmp_path, repo.root, ["other.py"], "sess-late", T0 + 5 * DAY)
    sha = repo.commit(T0 + 11 * DAY, {"other.py": "v1\n"})
    assert _outcome(tmp_path, "sess-late") == ("committed", [sha])
    assert _outcome(tmp_path, "sess-early") == ("uncommitted", [])


def test_a_file_in_a_sibling_folder_with_the_same_prefix_is_outside_the_repo(
    tmp_path: Path, repo: GitRepo
) -> None:
    """Outcomes: a changed file counts for the repository only when it is inside its
    folder; `shop-old/app.py` is not inside `shop`, so the session made no changes there."""
    sibling = tmp_path / "shop-old"
    sibling.mkdir()
    session = ClaudeSession(tmp_path / ".claude", "sess-sibling", str(repo.root))
    session.assistant(T0, tools=[("Edit", {"file_path": str(sibling / "app.py")})])
    session.write()
    assert _outcome(tmp_path, "sess-sibling") == ("no-changes", [])


def test_cost_per_commit_counts_a_commit_two_sessions_share_once(
    tmp_path: Path, repo: GitRepo
) -> None:
    """Cost per commit (`report repos`): the repository's spend over its *distinct*
    commits, and over its sessions that ended in a commit: two sessions committed by one
    commit are 1 commit and 2 committed sessions."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-one", T0)
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-two", T0 + HOUR)
    repo.commit(T0 + 2 * HOUR, {"app.py": "v1\n"})
    ledger = ingest_home(tmp_path)
    report = repos_report(ledger, Filters())
    add_commit_costs(report, ledger, Settings(), Filters())
    (row,) = report["repos"]
    assert (row["commits"], row["committed_sessions"]) == (1, 2)
    assert row["cost_per_commit_usd"] == pytest.approx(row["cost_usd"], abs=1e-6)
    assert row["cost_per_committed_session_usd"] == pytest.approx(row["cost_usd"] / 2, abs=1e-6)


# --- the weekly summary's insight numbers --------------------------------------------------


def _week_ledger(home: Path, tmp_path: Path) -> Ledger:
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    env = {"HOME": str(home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    return ledger


def test_a_week_across_two_months_lists_both_and_leverages_its_thursdays(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Summary: a week across a month's end (2026-W44 runs from Monday 26 October to Sunday
    1 November) lists the monthly budget of both months, and its leverage is that of the
    month holding most of the week (its Thursday's, as ISO weeks pick their year). It used
    to be the Sunday's month alone: a week spent in October read "$0.00, met"."""
    session = WeekSession(isolated_home, CWD)
    session.call(datetime(2026, 10, 28, 10, tzinfo=UTC), model=OPUS)
    session.call(datetime(2026, 11, 1, 10, tzinfo=UTC), model=SONNET)
    session.write()
    ledger = _week_ledger(isolated_home, tmp_path)
    settings = Settings.model_validate(
        {"budgets": {"monthly_usd": 100}, "subscription": {"monthly_price_usd": 100}}
    )
    summary = build_summary(ledger, settings, parse_week("2026-W44"), UTC_ZONE)
    november = summary["days"][-1]["cost_usd"]
    october = summary["cost_usd"] - november
    assert 0 < november < summary["cost_usd"]
    monthly = [state for state in summary["budgets"] if state["period"] == "monthly"]
    assert [state["label"] for state in monthly] == ["2026-10", "2026-11"]
    assert monthly[0]["spent_usd"] == pytest.approx(october, abs=1e-6)
    assert monthly[1]["spent_usd"] == pytest.approx(november, abs=1e-6)
    assert summary["leverage"]["month"]["month"] == "2026-10"
    assert summary["leverage"]["month"]["value_usd"] == pytest.approx(october, abs=1e-6)


def test_a_budget_spent_to_the_cent_is_missed_as_budgets_says_over(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Summary: a budget is met while its spend stays under the limit; spending exactly
    the limit is "over" in `budgets` (100 % and more), the tray and the 100 % notice, so
    the summary calls it missed too (it called it met, against every other view)."""
    session = WeekSession(isolated_home, CWD)
    session.call(datetime(2026, 11, 10, 10, tzinfo=UTC), model=OPUS)
    session.write()
    ledger = _week_ledger(isolated_home, tmp_path)
    week = parse_week("2026-W46")
    probe = Settings.model_validate({"budgets": {"weekly_usd": 1000}})
    (weekly,) = build_summary(ledger, probe, week, UTC_ZONE)["budgets"]
    exact = Settings.model_validate({"budgets": {"weekly_usd": weekly["spent_usd"]}})
    (weekly,) = build_summary(ledger, exact, week, UTC_ZONE)["budgets"]
    assert weekly["spent_usd"] == weekly["limit_usd"]
    assert weekly["state"] == "over" and not weekly["met"]
    just_above = Settings.model_validate({"budgets": {"weekly_usd": weekly["spent_usd"] + 0.01}})
    (weekly,) = build_summary(ledger, just_above, week, UTC_ZONE)["budgets"]
    assert weekly["state"] != "over" and weekly["met"]


def test_a_reading_or_call_at_the_weeks_exclusive_end_is_the_next_weeks(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Summary: a week ends at the next Monday 00:00, exclusive: a plan-limit reading and a
    call at that instant count in neither the week's plan-limit peaks nor its cache
    figures (which agree with its token totals)."""
    week = parse_week("2026-W46")
    end = datetime(2026, 11, 16, tzinfo=UTC)
    session = WeekSession(isolated_home, CWD)
    session.call(end - timedelta(days=1), model=SONNET, cache_read=10_000)
    session.call(end, model=SONNET, cache_read=500_000)
    session.write()
    rollout = WeekRollout(isolated_home, CWD, end - timedelta(hours=1))
    rollout.call(end - timedelta(hours=1), primary_percent=20.0, secondary_percent=30.0)
    rollout.call(end, primary_percent=99.0, secondary_percent=99.0)
    rollout.write()
    summary = build_summary(_week_ledger(isolated_home, tmp_path), Settings(), week, UTC_ZONE)
    peaks = {peak["window"]: peak["peak_used_percent"] for peak in summary["plan_limits"]}
    assert peaks == {"primary": 20.0, "secondary": 30.0}
    assert summary["cache"]["cache_read_tokens"] == summary["cache_read_tokens"] == 10_000


def test_outcome_and_hint_costs_in_the_summary(isolated_home: Path, tmp_path: Path) -> None:
    """Summary: `committed_cost_usd` is what the week's committed sessions cost, and a
    hint row's `session_cost_usd` is its whole session's cost (the hinted calls' own cost
    is `hinted_cost_usd`)."""
    repo = GitRepo((tmp_path / "shop").resolve())
    repo.commit(T0 - DAY, {"app.py": "v0\n"}, "initial")
    monday = datetime(2026, 11, 9, tzinfo=UTC)
    changer = WeekSession(isolated_home, str(repo.root))
    changer.call(
        monday + timedelta(hours=10),
        model=SONNET,
        tools=[("Edit", {"file_path": str(repo.root / "app.py")})],
    )
    changer.write()
    repo.commit(int((monday + timedelta(hours=11)).timestamp() * 1000), {"app.py": "v1\n"})
    reader = WeekSession(isolated_home, str(repo.root))
    for k in range(10):
        tool = ("Edit", {"file_path": str(repo.root / "b.py")}) if k < 3 else ("Grep", {})
        reader.call(
            monday + timedelta(days=1, minutes=k),
            model=OPUS,
            input_tokens=20_000,
            output_tokens=10_000,
            tools=[tool],
        )
    reader.write()
    summary = build_summary(
        _week_ledger(isolated_home, tmp_path), Settings(), parse_week("2026-W46"), UTC_ZONE
    )
    costs = {row["session_id"]: row["cost_usd"] for row in summary["top_sessions"]}
    assert summary["outcomes"]["sessions"]["committed"] == 1
    assert summary["outcomes"]["committed_cost_usd"] == pytest.approx(
        costs[changer.session_id], abs=1e-6
    )
    (hint,) = summary["tier_hints"]["sessions"]
    assert hint["session_cost_usd"] == pytest.approx(costs[reader.session_id], abs=1e-6)
    assert hint["hinted_cost_usd"] < hint["session_cost_usd"]


def test_a_free_calls_cache_reads_saved_nothing(isolated_home: Path, tmp_path: Path) -> None:
    """Summary cache efficiency: the saving is cache reads × (input − cache-read price) of
    each priced call; an API error line costs nothing, so its cache reads saved nothing
    (they still count in the input side)."""
    session = WeekSession(isolated_home, CWD)
    at = datetime(2026, 11, 10, 10, tzinfo=UTC)
    session.call(at, model=SONNET, input_tokens=0, cache_read=100_000)
    session.call(at + timedelta(minutes=1), model=SONNET, input_tokens=0, cache_read=100_000)
    session.lines[-1]["isApiErrorMessage"] = True
    session.write()
    ledger = _week_ledger(isolated_home, tmp_path)
    cache = build_summary(ledger, Settings(), parse_week("2026-W46"), UTC_ZONE)["cache"]
    assert cache["cache_read_tokens"] == 200_000
    # Sonnet 4.5: $3 input, $0.30 cache read per million.
    assert cache["saved_usd"] == pytest.approx(100_000 * (3.0 - 0.30) / 1e6)
    assert cache["unpriced_cache_read_tokens"] == 0
