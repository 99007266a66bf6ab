"""The bundled demo history, copied with its times moved so it looks current."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.demo import LATEST_BEFORE_NOW, latest_activity, prepare_demo_home
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.paths import demo_history_dir
from shared.reports import Filters, period_report
from shared.sources.roots import claude_roots, codex_roots

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")


def _totals(home: Path, ledger_file: Path) -> dict[str, object]:
    env = {"HOME": str(home)}
    ledger = open_ledger(ledger_file)
    try:
        ingest(ledger, claude_roots(env) + codex_roots(env))
        report = period_report(ledger, "daily", Filters())
    finally:
        ledger.close()
    return report["totals"]


def test_shifted_copy_keeps_every_token_and_ends_just_before_now(tmp_path: Path) -> None:
    now = datetime(2027, 5, 4, 15, 7, 30, tzinfo=UTC)
    home = prepare_demo_home(tmp_path / "copy", now=now)

    latest = latest_activity(home)
    assert now - LATEST_BEFORE_NOW - timedelta(seconds=1) <= latest <= now - LATEST_BEFORE_NOW
    original = _totals(demo_history_dir(), tmp_path / "original.sqlite")
    shifted = _totals(home, tmp_path / "shifted.sqlite")
    assert original["total_tokens"] > 0
    for field in (*TOKEN_FIELDS, "total_tokens", "reasoning_tokens"):
        assert shifted[field] == original[field], field
    # Codex rollouts sit in the dated folders of their shifted start.
    rollouts = sorted((home / ".codex" / "sessions").rglob("rollout-*.jsonl"))
    assert rollouts
    for rollout in rollouts:
        year, month, day = rollout.parent.parts[-3:]
        assert rollout.name.startswith(f"rollout-{year}-{month}-{day}T")


def test_demo_daily_report_shows_today(tmp_path: Path) -> None:
    """`burnmeter report daily --demo --json`, as the README's first command runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "shared", "report", "daily", "--demo", "--json", "--tz", "UTC"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    daily = json.loads(result.stdout)["daily"]
    today = datetime.now(UTC) - LATEST_BEFORE_NOW
    assert daily[-1]["date"] == today.strftime("%Y-%m-%d")
    assert len(daily) >= 10
    expected = json.loads((demo_history_dir().parent / "expected.json").read_text())
    assert sum(row["total_tokens"] for row in daily) == expected["totals"]["total_tokens"]


def test_the_demo_has_a_running_session(tmp_path: Path) -> None:
    """The README promises a running session in the demo: its latest call was half an
    hour old, and a session runs for 10 minutes after its last call, so the tray's menu
    said "No running sessions"."""
    from tray_app.snapshot import running_sessions

    now = datetime.now(UTC)
    home = prepare_demo_home(tmp_path / "copy", now=now)
    ledger = open_ledger(tmp_path / "demo.sqlite")
    env = {"HOME": str(home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    assert running_sessions(ledger, int(now.timestamp() * 1000))
