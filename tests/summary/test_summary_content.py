"""What the summary computes, on a real ledger: week cuts by zone and DST, the change
against the week before, cache efficiency, empty weeks, redaction and exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.config import Budgets, Settings, SummarySettings
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.machine_key import machine_key
from shared.sources.roots import claude_roots, codex_roots
from shared.summary import (
    auto_export_due,
    build_summary,
    export_summary,
    parse_week,
    render,
    run_auto_export,
    weekly_markdown,
)
from shared.summary.redact import hashed_path
from tests.summary.conftest import BILLING, HAIKU, WEBSHOP
from tests.summary.history import ClaudeSession

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
# USD per million tokens (input, cache read), as the vendors publish them.
KNOWN_PRICES = {
    "claude-opus-4-5-20251101": (5.0, 0.5),
    "claude-sonnet-4-5-20250929": (3.0, 0.3),
    "claude-haiku-4-5-20251001": (1.0, 0.1),
    "gpt-5.1-codex": (1.25, 0.125),
}


def _model_calls(summary: dict, model: str) -> int:
    return sum(row["calls"] for row in summary["models"] if row["model"] == model)


def test_calls_near_midnight_land_in_the_zones_week(ledger: Ledger, settings: Settings) -> None:
    week = parse_week("2026-W46")
    # Both edge calls are inside W46 in Berlin; in UTC the first is still Sunday of W45.
    assert _model_calls(build_summary(ledger, settings, week, BERLIN), HAIKU) == 2
    assert _model_calls(build_summary(ledger, settings, week, UTC_ZONE), HAIKU) == 1
    assert _model_calls(build_summary(ledger, settings, week.previous(), UTC_ZONE), HAIKU) == 1


def _dst_ledger(home: Path, tmp_path: Path, moments: list[str]) -> Ledger:
    session = ClaudeSession(home, WEBSHOP)
    for moment in moments:
        session.call(datetime.fromisoformat(moment), model=HAIKU)
    session.write()
    opened = open_ledger(tmp_path / "dst.sqlite")
    env = {"HOME": str(home)}
    ingest(opened, claude_roots(env) + codex_roots(env))
    return opened


@pytest.mark.parametrize(
    ("zone", "moments", "week", "expected_days"),
    [
        # Berlin falls back on 25 Oct 2026: 22:30Z is Sunday 23:30 CET (W43), 23:30Z is
        # Monday 00:30 (W44). Before the change, 21:30Z on Saturday is 23:30 CEST.
        (
            BERLIN,
            ["2026-10-24T21:30:00+00:00", "2026-10-25T22:30:00+00:00", "2026-10-25T23:30:00+00:00"],
            "2026-W43",
            {"2026-10-24": 1, "2026-10-25": 1},
        ),
        # Berlin springs forward on 29 Mar 2026: 21:30Z is Sunday 23:30 CEST (W13),
        # 22:30Z is Monday 00:30.
        (
            BERLIN,
            ["2026-03-29T21:30:00+00:00", "2026-03-29T22:30:00+00:00"],
            "2026-W13",
            {"2026-03-29": 1},
        ),
        # New York falls back on 1 Nov 2026: 04:30Z on 2 Nov is Sunday 23:30 EST (W44).
        (
            NEW_YORK,
            ["2026-11-02T04:30:00+00:00", "2026-11-02T05:30:00+00:00"],
            "2026-W44",
            {"2026-11-01": 1},
        ),
        # ...and springs forward on 8 Mar 2026: 03:30Z on 9 Mar is Sunday 23:30 EDT.
        (
            NEW_YORK,
            ["2026-03-09T03:30:00+00:00", "2026-03-09T04:30:00+00:00"],
            "2026-W10",
            {"2026-03-08": 1},
        ),
    ],
)
def test_week_cut_across_dst_changes(
    isolated_home: Path,
    tmp_path: Path,
    zone: ZoneInfo,
    moments: list[str],
    week: str,
    expected_days: dict[str, int],
) -> None:
    dst_ledger = _dst_ledger(isolated_home, tmp_path, moments)
    summary = build_summary(dst_ledger, Settings(), parse_week(week), zone)
    calls = {day["date"]: day["calls"] for day in summary["days"] if day["calls"]}
    assert calls == expected_days
    following = build_summary(dst_ledger, Settings(), parse_week(week).next(), zone)
    assert following["calls"] == 1
    dst_ledger.close()


def test_change_against_previous_week(ledger: Ledger, settings: Settings) -> None:
    week = parse_week("2026-W46")
    this = build_summary(ledger, settings, week, BERLIN)
    before = build_summary(ledger, settings, week.previous(), BERLIN)
    assert before["cost_usd"] > 0
    assert this["previous_week"]["cost_usd"] == pytest.approx(before["cost_usd"])
    assert this["change"]["cost_usd"] == pytest.approx(this["cost_usd"] - before["cost_usd"])
    assert this["change"]["cost_ratio"] == pytest.approx(
        (this["cost_usd"] - before["cost_usd"]) / before["cost_usd"], abs=1e-4
    )
    assert this["change"]["total_tokens"] == this["total_tokens"] - before["total_tokens"]


def test_cache_efficiency_against_published_prices(ledger: Ledger, settings: Settings) -> None:
    week = parse_week("2026-W46")
    summary = build_summary(ledger, settings, week, BERLIN)
    low, high = week.bounds_ms(BERLIN)
    rows = ledger.conn.execute(
        """SELECT model, sum(input_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens),
                  sum(cache_read_tokens) FROM usage_events WHERE ts_ms >= ? AND ts_ms < ?
           GROUP BY model""",
        (low, high),
    ).fetchall()
    read = sum(row[3] for row in rows)
    side = sum(row[1] + row[2] + row[3] for row in rows)
    saved = sum(row[3] * (KNOWN_PRICES[row[0]][0] - KNOWN_PRICES[row[0]][1]) / 1e6 for row in rows)
    cache = summary["cache"]
    assert read > 0
    assert cache["cache_read_tokens"] == read
    assert cache["input_side_tokens"] == side
    assert cache["share_from_cache"] == pytest.approx(read / side, abs=1e-4)
    assert cache["saved_usd"] == pytest.approx(saved, rel=1e-6)


def test_empty_week_renders_cleanly_in_every_format(ledger: Ledger, settings: Settings) -> None:
    summary = build_summary(ledger, settings, parse_week("2026-W30"), BERLIN)
    assert summary["calls"] == 0 and summary["cost_usd"] == 0 and summary["total_tokens"] == 0
    assert [day["calls"] for day in summary["days"]] == [0] * 7
    markdown = render(summary, "md")
    assert "No agent activity was recorded in this week." in markdown
    assert "None" not in markdown and "nan" not in markdown.lower()
    html = render(summary, "html")
    assert "No agent activity was recorded in this week." in html and html.endswith("</html>\n")
    assert json.loads(render(summary, "json"))["week"] == "2026-W30"
    rows = list(csv.reader(io.StringIO(render(summary, "csv"))))
    assert len(rows) == 1 and rows[0][:3] == ["date", "agent", "model"]


def test_redaction_hides_every_path_in_every_format(ledger: Ledger, settings: Settings) -> None:
    week = parse_week("2026-W46")
    plain = build_summary(ledger, settings, week, BERLIN)
    assert any(row["repo"] == WEBSHOP for row in plain["repos"])
    redacted = build_summary(ledger, settings, week, BERLIN, redact=True)
    again = build_summary(ledger, settings, week, BERLIN, redact=True)
    assert redacted["repos"] == again["repos"]
    repos = {row["repo"] for row in redacted["repos"]}
    key = machine_key(ledger.path.parent)
    assert repos == {hashed_path(WEBSHOP, "repo", key), hashed_path(BILLING, "repo", key)}
    for fmt in ("md", "html", "json", "csv"):
        text = render(redacted, fmt)
        assert "/home/dev" not in text and "webshop" not in text and "billing" not in text, fmt
    assert hashed_path(WEBSHOP, "repo", key) in render(redacted, "md")
    assert redacted["cost_usd"] == plain["cost_usd"]
    # Keyed with this machine's secret (0600 beside the ledger): an unkeyed hash of a path
    # could be checked against guessed paths by anyone reading the summary.
    assert hashed_path(WEBSHOP, "repo") not in repos
    key_file = ledger.path.parent / "redact.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert machine_key(ledger.path.parent) == key


def test_weekly_markdown_and_export(ledger: Ledger, settings: Settings, tmp_path: Path) -> None:
    week = parse_week("2026-W46")
    markdown = weekly_markdown(ledger, settings, week, BERLIN)
    assert markdown.startswith("# Agent cost, week 2026-W46")
    path = export_summary(ledger, settings, week, BERLIN, "md", tmp_path / "week.md")
    assert path.read_text() == markdown
    written = export_summary(ledger, settings, week, BERLIN, "html", tmp_path)
    assert written == tmp_path / "burnmeter-2026-W46.html"
    assert "<svg" in written.read_text()


def test_automatic_monday_export(ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    settings = Settings(
        timezone="Europe/Berlin",
        summary=SummarySettings(auto_export_dir=str(folder), auto_export_format="json"),
    )
    assert not auto_export_due(Settings(), datetime(2026, 11, 16, 9, tzinfo=UTC))
    # Monday 16 Nov 2026, 00:30 in Berlin: W46 has just ended there.
    monday = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)
    assert auto_export_due(settings, monday)
    written = run_auto_export(ledger, settings, monday)
    assert written == folder / "burnmeter-2026-W46.json"
    assert json.loads(written.read_text())["week"] == "2026-W46"
    assert not auto_export_due(settings, monday)
    assert run_auto_export(ledger, settings, monday) is None
    # A week later the next file is due.
    assert auto_export_due(settings, datetime(2026, 11, 23, 8, tzinfo=UTC))


def test_long_lists_show_the_largest_rows_and_say_so(ledger: Ledger, settings: Settings) -> None:
    summary = build_summary(ledger, settings, parse_week("2026-W46"), BERLIN)
    hint = {
        "session_id": "s",
        "repo": "r",
        "suggested_tier": "economy",
        "suggested_model": HAIKU,
        "hinted_cost_usd": 2.0,
        "counterfactual_cost_usd": 0.5,
        "reason": "because",
    }
    hints = [{**hint, "session_id": f"sess{n:04d}", "saving_usd": 20.0 - n} for n in range(12)]
    summary["tier_hints"] = {
        "total_saving_usd": sum(h["saving_usd"] for h in hints),
        "sessions": hints,
    }
    markdown = render(summary, "md")
    assert "across 12 sessions" in markdown
    assert "sess0009" in markdown and "sess0010" not in markdown
    assert "The table shows the 10 largest of 12" in markdown


def _week_46(
    tmp_path: Path, settings: Settings, cwd: str, calls: list[tuple[int, str, list[Any]]]
) -> dict[str, Any]:
    """The UTC summary of 2026-W46 for one Claude Code session in `cwd` whose calls are
    (hour on Tuesday 10 November, model, tools), through a real ingest."""
    home = tmp_path / "home"
    session = ClaudeSession(home, cwd)
    for hour, model, tools in calls:
        session.call(datetime(2026, 11, 10, hour, tzinfo=UTC), model=model, tools=tools)
    session.write()
    ledger = open_ledger(tmp_path / "week46.sqlite")
    env = {"HOME": str(home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    return build_summary(ledger, settings, parse_week("2026-W46"), UTC_ZONE)


def test_a_model_with_no_price_is_shown_as_unpriced_never_as_zero(
    tmp_path: Path, settings: Settings
) -> None:
    """The summary's tables showed such a model at "$0.00", and its headline said those
    calls "count as $0"; the reports show them as unpriced."""
    calls = [(9, "claude-nova-9", []), (10, "claude-nova-9", []), (11, HAIKU, [])]
    summary = _week_46(tmp_path, settings, WEBSHOP, calls)
    markdown = render(summary, "md")
    assert "| nova-9 |" in markdown
    nova_row = next(line for line in markdown.splitlines() if line.startswith("| nova-9 |"))
    assert "unpriced (2 calls)" in nova_row and "$0.00" not in nova_row
    assert "(+2 unpriced)" in markdown  # the day's and the agent's rows: part priced
    assert "2 calls used models with no known price (nova-9)" in markdown
    assert "count as $0" not in markdown
    assert "unpriced (2 calls)" in render(summary, "html")
    # Every table that shows those calls' cost says so: repositories, sessions, tiers
    # (they said $0.00 there), and the CSV and JSON carry the count.
    for title in ("## By repository", "## Top sessions", "## By tier"):
        section = markdown.split(title, 1)[1].split("\n## ", 1)[0]
        assert "unpriced" in section, title
    (session,) = summary["top_sessions"]
    assert session["unpriced_calls"] == 2 and "files_touched_count" in session
    assert sum(tier["unpriced_calls"] for tier in summary["tiers"]) == 2
    rows = list(csv.DictReader(io.StringIO(render(summary, "csv"))))
    assert {row["model"]: row["unpriced_calls"] for row in rows} == {
        "claude-nova-9": "2",
        HAIKU: "0",
    }
    # The budgets' spent too (it said "$0.00 | met" beside a week of unpriced calls).
    with_budget = _week_46(
        tmp_path / "budget", Settings(budgets=Budgets(weekly_usd=50)), WEBSHOP, calls
    )
    section = render(with_budget, "md").split("## Budgets", 1)[1].split("\n## ", 1)[0]
    assert "(+2 unpriced)" in section, section


def test_unknown_outcomes_are_not_given_a_reason_they_do_not_have(
    tmp_path: Path, settings: Settings
) -> None:
    """The summary said every unknown outcome had "no git repository or no answer from
    git", also for a session whose edit named no file."""
    summary = _week_46(tmp_path, settings, WEBSHOP, [(9, HAIKU, [("Edit", {})])])
    assert summary["outcomes"]["sessions"]["unknown"] == 1
    line = next(line for line in render(summary, "md").splitlines() if "unknown:" in line)
    assert "no git repository or no answer from git)" not in line
    assert "unknown: 1 (git could not tell" in line and "report sessions" in line


def test_a_week_not_over_yet_says_its_figures_are_partial(
    ledger: Ledger, settings: Settings
) -> None:
    """The current week was compared with a whole previous week ("tokens -35.2% vs ...")
    without a word, and a week not begun said only that no activity was recorded."""
    week = parse_week("2026-W46")
    during = build_summary(ledger, settings, week, BERLIN, now=datetime(2026, 11, 12, tzinfo=UTC))
    text = render(during, "md")
    assert "This week is still in progress (it ends 2026-11-15)" in text
    after = build_summary(ledger, settings, week, BERLIN, now=datetime(2026, 11, 20, tzinfo=UTC))
    assert "still in progress" not in render(after, "md")
    before = build_summary(
        ledger, settings, parse_week("2026-W50"), BERLIN, now=datetime(2026, 11, 20, tzinfo=UTC)
    )
    assert "This week has not begun yet." in render(before, "md")
    assert "This week has not begun yet." in render(before, "html")


def test_names_in_the_markdown_are_not_read_as_markup(tmp_path: Path, settings: Settings) -> None:
    """`<synthetic>` became an empty HTML element once the Markdown was rendered (a blank
    cell), a folder `a_b*c` turned into emphasis, `<b>x</b>` into bold."""
    calls: list[tuple[int, str, list[Any]]] = [(9, "<synthetic>", []), (10, HAIKU, [])]
    folder = "/home/dev/<b>x</b>/a_b*c/~old~"
    markdown = render(_week_46(tmp_path, settings, folder, calls), "md")
    assert "| \\<synthetic\\> |" in markdown
    assert "/home/dev/\\<b\\>x\\</b\\>/a\\_b\\*c/\\~old\\~" in markdown  # ~ is strikethrough
    assert "<b>" not in markdown and "<synthetic>" not in markdown


def test_redaction_drops_the_input_hash_a_loop_flag_quotes() -> None:
    """A loop flag's evidence quotes an unkeyed hash of the failing command, which a
    reader of a shared summary could confirm for a guessed command."""
    from shared.summary.redact import PathShower

    evidence = "Bash failed 6 times in a row with the same input (hash 373ddc46) over 4 min"
    assert PathShower(True, b"k").evidence(evidence) == (
        "Bash failed 6 times in a row with the same input over 4 min"
    )
    assert PathShower(False).evidence(evidence) == evidence


def test_sessions_started_together_keep_ids_a_reader_can_tell_apart(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Codex ids are UUIDv7: their first 8 hex digits are the start time in 65-second steps,
    so two rollouts opened seconds apart showed as the same `019c8a4c` in every table."""
    from tests.summary.history import CodexSession

    ids = ["019c8a4c-ed82-7c61-9d0e-3f1a2b3c4d5e", "019c8a4c-f9c0-7a12-8b3c-4d5e6f708192"]
    started = datetime(2026, 11, 10, 10, 1, tzinfo=UTC)
    for at, session_id in enumerate(ids):
        rollout = CodexSession(isolated_home, WEBSHOP, started, session_id=session_id)
        rollout.call(started.replace(second=at * 3 + 10))
        rollout.write()
    ledger = open_ledger(tmp_path / "uuid7.sqlite")
    env = {"HOME": str(isolated_home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    summary = build_summary(ledger, Settings(), parse_week("2026-W46"), UTC_ZONE)
    markdown = render(summary, "md")
    rows = [line for line in markdown.splitlines() if line.startswith("| 019c8a4c")]
    assert sorted(row.split(" | ")[0] for row in rows) == ["| 019c8a4c-e", "| 019c8a4c-f"]
