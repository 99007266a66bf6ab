"""`burnmeter summary` against `burnmeter report` for the same week and zone, through the
real command line, in every format."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from shared.summary.formatting import money, tokens

CASES = [
    ("2026-W46", "Europe/Berlin", "2026-11-09", "2026-11-15"),
    ("2026-W45", "America/New_York", "2026-11-02", "2026-11-08"),
]


def burnmeter(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "shared", *args],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def report(kind: str, zone: str, since: str, until: str, *extra: str) -> dict[str, Any]:
    out = burnmeter(
        "report", kind, "--json", "--tz", zone, "--since", since, "--until", until, *extra
    )
    return dict(json.loads(out))


@pytest.mark.parametrize(("week", "zone", "since", "until"), CASES)
def test_json_agrees_with_report(
    history_home: Path, week: str, zone: str, since: str, until: str
) -> None:
    summary = json.loads(burnmeter("summary", "--week", week, "--tz", zone, "--format", "json"))
    daily = report("daily", zone, since, until)
    assert summary["week"] == week
    assert summary["start"].startswith(since) and summary["end"][:10] > until
    assert summary["cost_usd"] == pytest.approx(daily["totals"]["cost_usd"], abs=1e-6)
    assert summary["total_tokens"] == daily["totals"]["total_tokens"]
    assert summary["total_tokens"] > 0
    by_date = {row["date"]: row for row in daily["daily"]}
    for day in summary["days"]:
        expected = by_date.get(day["date"], {"cost_usd": 0.0, "total_tokens": 0})
        assert day["cost_usd"] == pytest.approx(expected["cost_usd"], abs=1e-6)
        assert day["total_tokens"] == expected["total_tokens"]

    models = {row["model"]: row for row in report("models", zone, since, until)["models"]}
    assert {row["model"] for row in summary["models"]} == set(models)
    for row in summary["models"]:
        assert row["cost_usd"] == pytest.approx(models[row["model"]]["cost_usd"], abs=1e-6)
        assert row["total_tokens"] == models[row["model"]]["total_tokens"]

    for row in summary["agents"]:
        agent_total = report("daily", zone, since, until, "--agent", row["agent"])["totals"]
        assert row["cost_usd"] == pytest.approx(agent_total["cost_usd"], abs=1e-6)
        assert row["total_tokens"] == agent_total["total_tokens"]

    repos = {row["repo"]: row for row in report("repos", zone, since, until)["repos"]}
    assert {row["repo"] for row in summary["repos"]} == set(repos)
    for row in summary["repos"]:
        assert row["cost_usd"] == pytest.approx(repos[row["repo"]]["cost_usd"], abs=1e-6)

    sessions = report("sessions", zone, since, until)["sessions"]
    assert summary["sessions"] == len(sessions)
    top = max(sessions, key=lambda row: row["cost_usd"])
    assert summary["top_sessions"][0]["session_id"] == top["session_id"]


def test_csv_rows_add_up_to_the_daily_report(history_home: Path) -> None:
    week, zone, since, until = CASES[0]
    text = burnmeter("summary", "--week", week, "--tz", zone, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and set(rows[0]) >= {"date", "agent", "model", "total_tokens", "cost_usd"}
    assert len({(r["date"], r["agent"], r["model"]) for r in rows}) == len(rows)
    per_day_model: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        cell = per_day_model[(row["date"], row["model"])]
        cell[0] += float(row["cost_usd"])
        cell[1] += int(row["total_tokens"])
    daily = report("daily", zone, since, until)["daily"]
    expected = {
        (row["date"], model): values for row in daily for model, values in row["models"].items()
    }
    assert set(per_day_model) == set(expected)
    for key, (cost, total) in per_day_model.items():
        assert cost == pytest.approx(expected[key]["cost_usd"], abs=1e-5)
        assert total == expected[key]["total_tokens"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_text_formats_show_the_report_numbers(history_home: Path, fmt: str) -> None:
    week, zone, since, until = CASES[0]
    text = burnmeter("summary", "--week", week, "--tz", zone, "--format", fmt)
    daily = report("daily", zone, since, until)
    assert money(daily["totals"]["cost_usd"]) in text
    assert tokens(daily["totals"]["total_tokens"]) in text
    for row in daily["daily"]:
        assert money(row["cost_usd"]) in text
        assert tokens(row["total_tokens"]) in text
    for row in report("models", zone, since, until)["models"]:
        assert money(row["cost_usd"]) in text


def test_default_is_last_complete_week_as_markdown(history_home: Path) -> None:
    text = burnmeter("summary", "--tz", "UTC")
    assert text.startswith("# Agent cost, week ")
    assert "--last-week" in burnmeter("summary", "--help")
    assert burnmeter("summary", "--last-week", "--tz", "UTC") == text


def test_output_file_takes_its_format_from_the_suffix(history_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "week.html"
    burnmeter("summary", "--week", "2026-W46", "--tz", "Europe/Berlin", "-o", str(target))
    assert target.read_text().startswith("<!DOCTYPE html>")
    folder = tmp_path / "folder"
    folder.mkdir()
    burnmeter("summary", "--week", "2026-W46", "--format", "json", "-o", str(folder))
    written = json.loads((folder / "burnmeter-2026-W46.json").read_text())
    assert written["week"] == "2026-W46"


def test_output_goes_through_links_into_pipes_and_keeps_permissions(
    history_home: Path, tmp_path: Path
) -> None:
    """`-o` used to write a temporary 0600 file and rename it over the target: a symlink
    became a file (its target kept the old text), a FIFO was replaced (its reader waited
    forever), an existing file lost its permissions, and a trailing `/` or `-` were file
    names."""
    week = ("summary", "--week", "2026-W46", "--tz", "UTC", "--no-ingest")
    burnmeter("summary", "--week", "2026-W46", "--tz", "UTC")  # ingest once
    expected = burnmeter(*week)
    # A symlink stays a symlink; its target gets the summary.
    real = tmp_path / "real" / "target.md"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    burnmeter(*week, "-o", str(link))
    assert link.is_symlink() and real.read_text() == expected
    # An existing file keeps its mode; a new one gets 0666 less the umask, not 0600.
    shared_file = tmp_path / "shared.md"
    shared_file.write_text("old")
    shared_file.chmod(0o664)
    burnmeter(*week, "-o", str(shared_file))
    assert shared_file.read_text() == expected and shared_file.stat().st_mode & 0o777 == 0o664
    old_umask = os.umask(0o022)
    try:
        burnmeter(*week, "-o", str(tmp_path / "new.md"))
    finally:
        os.umask(old_umask)
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o644
    # A FIFO is written into, not replaced.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    burnmeter(*week, "-o", str(fifo))
    assert reader.communicate(timeout=30)[0] == expected
    assert fifo.is_fifo()
    # A path ending in / is a folder (made if missing); `-` is stdout.
    burnmeter(*week, "-o", str(tmp_path / "new-folder") + "/")
    assert (tmp_path / "new-folder" / "burnmeter-2026-W46.md").read_text() == expected
    assert burnmeter(*week, "-o", "-") == expected
    assert not Path("-").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_bad_week_is_a_clear_error(history_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared", "summary", "--week", "2027-W53"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "2027 has no ISO week 53" in done.stderr


def test_demo_summary_is_last_complete_week_with_spend() -> None:
    """The demo history ends half an hour ago, so the default week (the last complete one)
    is full of demo sessions rather than the one-day-old current week."""
    from datetime import UTC, datetime, timedelta

    summary = json.loads(burnmeter("summary", "--demo", "--format", "json", "--tz", "UTC"))
    year, week, _ = (datetime.now(UTC).date() - timedelta(days=7)).isocalendar()
    assert summary["week"] == f"{year}-W{week:02d}"
    assert summary["cost_usd"] > 1.0
    assert summary["total_tokens"] > 1_000_000


def test_an_existing_file_is_replaced_where_os_has_no_fchmod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has os.fchmod only from Python 3.13: writing over an existing summary (the
    tray's export, the Monday auto-export) raised AttributeError on 3.11 and 3.12."""
    from shared.summary import export

    target = tmp_path / "week.md"
    target.write_text("old")
    target.chmod(0o640)
    monkeypatch.delattr(os, "fchmod")
    export.write_atomically(target, "new text")
    assert target.read_text() == "new text"
    assert target.stat().st_mode & 0o777 == 0o640


def test_chart_labels_shorten_windows_paths_too() -> None:
    from shared.summary.html import _last_parts

    assert _last_parts("/home/dev/work/acme/api") == "acme/api"
    assert _last_parts("C:\\Users\\me\\work\\acme\\api") == "acme/api"
    assert _last_parts("api") == "api"
