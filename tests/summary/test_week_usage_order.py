"""The weekly summary's per-model and per-agent tables list the most expensive first,
whatever day each was used on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ledger import open_ledger
from shared.summary.build import build_summary
from shared.summary.weeks import parse_week
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

CWD = "/home/dev/app"


def test_models_are_ordered_by_cost_not_by_first_use(isolated_home: Path, tmp_path: Path) -> None:
    """Haiku on Monday (cheap), Opus on Friday (dear): Opus comes first."""
    session = ClaudeSession("s-week", cwd=CWD)
    monday, friday = datetime(2026, 5, 11, 9, tzinfo=UTC), datetime(2026, 5, 15, 9, tzinfo=UTC)
    session.reply(monday, [text_block("x")], claude_usage(100, 500), model="claude-haiku-4-5")
    session.reply(friday, [text_block("x")], claude_usage(100, 4_000), model="claude-opus-4-7")
    session.write(claude_project_dir(isolated_home / ".claude", CWD) / "s-week.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    summary = build_summary(ledger, Settings(), parse_week("2026-W20"), ZoneInfo("UTC"))
    models = summary["models"]
    assert [row["model"] for row in models] == ["claude-opus-4-7", "claude-haiku-4-5"]
    assert models[0]["cost_usd"] > models[1]["cost_usd"] > 0
