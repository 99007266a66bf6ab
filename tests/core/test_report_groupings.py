"""How reports group and order: the models and repos reports list the most expensive
first, the repos report puts sessions started in different folders of one git repository
on the repository's row, and the sessions report orders sessions by their last call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.ledger import open_ledger
from shared.reports import Filters, models_report, repos_report, sessions_report
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

AT = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)


def _write(home: Path, session_id: str, cwd: str, model: str, output: int) -> None:
    session = ClaudeSession(session_id, cwd=cwd)
    session.reply(AT, [text_block("x")], claude_usage(100, output), model=model)
    session.write(claude_project_dir(home / ".claude", cwd) / f"{session_id}.jsonl")


def test_models_report_lists_the_most_expensive_model_first(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A cheap model with more calls and tokens still comes after a dearer one."""
    for index in range(3):
        _write(isolated_home, f"s-haiku-{index}", "/home/dev/app", "claude-haiku-4-5", 5_000)
    _write(isolated_home, "s-opus", "/home/dev/app", "claude-opus-4-7", 4_000)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    rows = models_report(ledger, Filters())["models"]
    assert [row["model"] for row in rows] == ["claude-opus-4-7", "claude-haiku-4-5"]
    assert rows[0]["cost_usd"] > rows[1]["cost_usd"] > 0


def test_repos_report_groups_sessions_by_repository(isolated_home: Path, tmp_path: Path) -> None:
    """Sessions whose working directories are two folders of one git repository count
    on one row named after the repository's top folder."""
    repo = tmp_path / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / "api").mkdir()
    (repo / "web").mkdir()
    _write(isolated_home, "s-api", str(repo / "api"), "claude-sonnet-4-5", 1_000)
    _write(isolated_home, "s-web", str(repo / "web"), "claude-sonnet-4-5", 2_000)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    (row,) = repos_report(ledger, Filters())["repos"]
    assert row["repo"] == str(repo)
    assert row["sessions"] == 2
    assert row["output_tokens"] == 3_000


def test_repos_report_lists_the_most_expensive_repository_first(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rows are ordered by cost, not by name: `/home/dev/aaa` (cheap) comes after
    `/home/dev/zzz` (dear)."""
    _write(isolated_home, "s-cheap", "/home/dev/aaa", "claude-haiku-4-5", 1_000)
    _write(isolated_home, "s-dear", "/home/dev/zzz", "claude-opus-4-7", 9_000)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    rows = repos_report(ledger, Filters())["repos"]
    assert [row["repo"] for row in rows] == ["/home/dev/zzz", "/home/dev/aaa"]


def test_sessions_report_orders_sessions_by_their_last_call(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A session that started first but was still running after a shorter one comes
    after it."""
    long = ClaudeSession("s-long", cwd="/home/dev/app")
    long.reply(AT, [text_block("x")], claude_usage(10, 10))
    long.reply(AT + timedelta(hours=3), [text_block("x")], claude_usage(10, 10))
    long.write(claude_project_dir(isolated_home / ".claude", "/home/dev/app") / "s-long.jsonl")
    short = ClaudeSession("s-short", cwd="/home/dev/app")
    short.reply(AT + timedelta(hours=1), [text_block("x")], claude_usage(10, 10))
    short.write(claude_project_dir(isolated_home / ".claude", "/home/dev/app") / "s-short.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    rows = sessions_report(ledger, Filters())["sessions"]
    assert [row["session_id"] for row in rows] == ["s-short", "s-long"]
