"""The insight sections of the summary on a real git repository and real logs: outcomes
and cost per commit, tier hints, loop flags, tiers, plan-limit peaks, leverage, budgets."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Budgets, Settings, Subscription
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.sources.roots import claude_roots, codex_roots
from shared.summary import build_summary, parse_week, render
from shared.summary.formatting import money
from tests.summary.history import ClaudeSession, CodexSession

OPUS = "claude-opus-4-5-20251101"
SONNET = "claude-sonnet-4-5-20250929"
MONDAY = datetime(2026, 11, 9, tzinfo=UTC)  # 2026-W46 in UTC
WEEK = parse_week("2026-W46")


def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


@pytest.fixture
def scene(isolated_home: Path, tmp_path: Path) -> tuple[Ledger, Path, dict[str, str]]:
    repo = (tmp_path / "shop").resolve()
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("print('v1')\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "start", when=MONDAY + timedelta(hours=8))

    changer = ClaudeSession(isolated_home, str(repo))
    for minute in range(3):
        changer.call(
            MONDAY + timedelta(days=1, hours=10, minutes=minute),
            model=SONNET,
            tools=[("Edit", {"file_path": str(repo / "app.py")})],
        )
    changer.write()
    (repo / "app.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "change", when=MONDAY + timedelta(days=1, hours=12))

    reader = ClaudeSession(isolated_home, str(repo))
    for minute in range(10):
        reader.call(
            MONDAY + timedelta(days=2, hours=9, minutes=minute),
            model=OPUS,
            input_tokens=20_000,
            output_tokens=10_000,
            tools=[("Read", {"file_path": str(repo / f"m{minute}.py")})],
        )
    reader.write()

    looper = ClaudeSession(isolated_home, str(repo))
    for minute in range(6):
        looper.call(
            MONDAY + timedelta(days=3, hours=15, minutes=minute),
            model=SONNET,
            tools=[("Bash", {"command": "make test"})],
            failing=True,
        )
    looper.write()

    codex = CodexSession(isolated_home, str(repo), MONDAY + timedelta(days=4, hours=8))
    for index, percent in enumerate((12.0, 57.5, 31.0)):
        codex.call(
            MONDAY + timedelta(days=4, hours=8, minutes=index),
            primary_percent=percent,
            secondary_percent=20.0 + index,
        )
    codex.write()

    ledger = open_ledger(tmp_path / "ledger.sqlite")
    env = {"HOME": str(isolated_home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    ids = {"changer": changer.session_id, "reader": reader.session_id, "looper": looper.session_id}
    return ledger, repo, ids


def _settings() -> Settings:
    return Settings(
        budgets=Budgets(daily_usd=1.0, weekly_usd=100.0),
        subscription=Subscription(plan="Max", monthly_price_usd=100.0),
    )


def test_outcomes_and_cost_per_commit(scene: tuple[Ledger, Path, dict[str, str]]) -> None:
    ledger, repo, ids = scene
    summary = build_summary(ledger, _settings(), WEEK, ZoneInfo("UTC"))
    head = git(repo, "rev-parse", "HEAD")
    outcomes = summary["outcomes"]
    assert outcomes["commits"] == 1 and outcomes["committed_sessions"] == 1
    assert outcomes["sessions"]["committed"] == 1
    assert outcomes["cost_per_commit_usd"] == pytest.approx(summary["cost_usd"], abs=1e-5)
    changer = next(row for row in summary["top_sessions"] if row["session_id"] == ids["changer"])
    assert changer["outcome"]["status"] == "committed"
    assert changer["outcome"]["commits"] == [head]
    (repo_row,) = summary["repos"]
    assert repo_row["repo"] == str(repo) and repo_row["commits"] == 1
    assert repo_row["cost_per_commit_usd"] == pytest.approx(repo_row["cost_usd"], abs=1e-5)
    markdown = render(summary, "md")
    assert f"Cost per commit: {money(summary['cost_usd'])}" in markdown


def test_tier_hints_flags_and_tiers(scene: tuple[Ledger, Path, dict[str, str]]) -> None:
    ledger, _, ids = scene
    summary = build_summary(ledger, _settings(), WEEK, ZoneInfo("UTC"))
    hints = summary["tier_hints"]
    assert [hint["session_id"] for hint in hints["sessions"]] == [ids["reader"]]
    (hint,) = hints["sessions"]
    assert hint["suggested_tier"] == "economy"
    assert 0 < hint["saving_usd"] < hint["hinted_cost_usd"]
    assert hints["total_saving_usd"] == pytest.approx(hint["saving_usd"])
    assert hint["counterfactual_cost_usd"] + hint["saving_usd"] == pytest.approx(
        hint["hinted_cost_usd"], abs=1e-5
    )

    flagged = summary["flags"]
    loops = [flag for flag in flagged["flags"] if flag["kind"] == "loop"]
    assert [flag["session_id"] for flag in loops] == [ids["looper"]]
    assert flagged["cost_usd"] == pytest.approx(sum(f["cost_usd"] for f in flagged["flags"]))
    assert loops[0]["cost_usd"] > 0

    tiers = {row["tier"]: row["cost_usd"] for row in summary["tiers"]}
    assert set(tiers) >= {"frontier", "standard"}
    assert sum(tiers.values()) == pytest.approx(summary["cost_usd"], abs=1e-5)
    assert {row["model"]: row["tier"] for row in summary["models"]}[OPUS] == "frontier"

    markdown = render(summary, "md")
    assert f"Possible saving: {money(hints['total_saving_usd'])}" in markdown
    assert "| loop |" in markdown
    assert f"Flagged stretches cost {money(flagged['cost_usd'])}" in markdown


def test_limits_leverage_and_budgets(scene: tuple[Ledger, Path, dict[str, str]]) -> None:
    ledger, _, _ = scene
    summary = build_summary(ledger, _settings(), WEEK, ZoneInfo("UTC"))
    peaks = {(p["agent"], p["window_minutes"]): p for p in summary["plan_limits"]}
    assert peaks[("codex", 300)]["peak_used_percent"] == 57.5
    assert peaks[("codex", 10080)]["peak_used_percent"] == 22.0

    leverage = summary["leverage"]
    share = 100.0 * 12 / 52
    assert leverage["week_plan_share_usd"] == pytest.approx(share, abs=1e-5)
    assert leverage["week_ratio"] == pytest.approx(summary["cost_usd"] / share, abs=1e-3)
    assert leverage["month"]["month"] == "2026-11"

    budgets = summary["budgets"]
    daily = [state for state in budgets if state["period"] == "daily"]
    assert [state["label"] for state in daily] == [day["date"] for day in summary["days"]]
    for state, day in zip(daily, summary["days"], strict=True):
        assert state["spent_usd"] == pytest.approx(day["cost_usd"], abs=1e-5)
        assert state["met"] == (day["cost_usd"] < 1.0)
    assert any(not state["met"] for state in daily)  # the reader's Opus day costs more
    (weekly,) = [state for state in budgets if state["period"] == "weekly"]
    assert weekly["label"] == "2026-W46" and weekly["met"]
    assert "missed" in render(summary, "md")


def test_redacted_insights_name_no_folder(scene: tuple[Ledger, Path, dict[str, str]]) -> None:
    ledger, repo, _ = scene
    summary = build_summary(ledger, _settings(), WEEK, ZoneInfo("UTC"), redact=True)
    for fmt in ("md", "html", "json", "csv"):
        assert str(repo) not in render(summary, fmt), fmt
    assert json.loads(render(summary, "json"))["outcomes"]["commits"] == 1
    # A commit's sha would name the repository to anyone who can look it up.
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for fmt in ("md", "html", "json", "csv"):
        assert head not in render(summary, fmt) and head[:8] not in render(summary, fmt), fmt
    # The count stays: "committed (1)", as without --redact (it read "committed (0)").
    plain = build_summary(ledger, _settings(), WEEK, ZoneInfo("UTC"))
    for fmt in ("md", "html"):
        assert render(plain, fmt).count("committed (1)") == 1, fmt
        assert render(summary, fmt).count("committed (1)") == 1, fmt
    (changer,) = [row for row in summary["top_sessions"] if row["commits"]]
    assert changer["outcome"]["commits"] == ["redacted"]


def test_a_week_across_a_months_end_lists_both_months(isolated_home: Path, tmp_path: Path) -> None:
    """2026-W09 runs from Monday 23 February to Sunday 1 March. Its monthly budget and
    leverage were read from March alone (the Sunday's month): $0.00 and "met", while the
    week's whole spend fell in February."""
    session = ClaudeSession(isolated_home, "/home/dev/shop")
    session.call(datetime(2026, 2, 23, 10, tzinfo=UTC), model=OPUS, output_tokens=100_000)
    session.write()
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    env = {"HOME": str(isolated_home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    settings = Settings(
        budgets=Budgets(monthly_usd=1.0),
        subscription=Subscription(plan="Max", monthly_price_usd=100.0),
    )
    summary = build_summary(ledger, settings, parse_week("2026-W09"), ZoneInfo("UTC"))
    monthly = [(s["label"], s["met"]) for s in summary["budgets"] if s["period"] == "monthly"]
    assert monthly == [("2026-02", False), ("2026-03", True)]
    # Leverage: the month holding most of the week (its Thursday's), February.
    assert summary["leverage"]["month"]["month"] == "2026-02"
    assert summary["leverage"]["month"]["value_usd"] == pytest.approx(summary["cost_usd"])
