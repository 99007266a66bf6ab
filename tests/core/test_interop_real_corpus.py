"""The real Claude Code and Codex logs in ../shared/corpus/real, against ccusage's numbers.

Token counts must match exactly per day (and per model for Claude Code); cost within 1%.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.reports import Filters, period_report
from shared.sources.events import CLAUDE, CODEX
from shared.sources.roots import claude_roots, codex_roots


def _daily(corpus: Path, tmp_path: Path, agent: str) -> dict[str, dict]:
    home = corpus / "home"
    env = {"HOME": str(home)}
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, claude_roots(env) + codex_roots(env))
    report = period_report(ledger, "daily", Filters(agent=agent))
    ledger.close()
    return {row["date"]: row for row in report["daily"]}


def test_claude_code_days_match_ccusage(real_corpus: Path, tmp_path: Path) -> None:
    reference = json.loads((real_corpus / "reference.json").read_text())["claude_code"]["daily"]
    ours = _daily(real_corpus, tmp_path, CLAUDE)
    assert sorted(ours) == [day["date"] for day in reference]
    for day in reference:
        row = ours[day["date"]]
        for field in (
            "input_tokens",
            "output_tokens",
            "cache_write_tokens",
            "cache_read_tokens",
            "total_tokens",
        ):
            assert row[field] == day[field], (day["date"], field)
        assert row["cost_usd"] == pytest.approx(day["cost_usd"], rel=0.01)
        assert sorted(row["models"]) == sorted(day["models"])
        for model, expected in day["models"].items():
            for field in (
                "input_tokens",
                "output_tokens",
                "cache_write_tokens",
                "cache_read_tokens",
            ):
                assert row["models"][model][field] == expected[field], (day["date"], model)
            assert row["models"][model]["cost_usd"] == pytest.approx(expected["cost_usd"], rel=0.01)


def test_codex_days_match_ccusage(real_corpus: Path, tmp_path: Path) -> None:
    reference = json.loads((real_corpus / "reference.json").read_text())["codex"]["daily"]
    ours = _daily(real_corpus, tmp_path, CODEX)
    assert sorted(ours) == [day["date"] for day in reference]
    for day in reference:
        row = ours[day["date"]]
        assert row["input_tokens"] == day["input_tokens_non_cached"]
        assert row["cache_read_tokens"] == day["cached_input_tokens"]
        assert row["output_tokens"] == day["output_tokens"]
        assert row["reasoning_tokens"] == day["reasoning_output_tokens"]
        assert row["total_tokens"] == day["total_tokens"]
        assert row["cost_usd"] == pytest.approx(day["cost_usd"], rel=0.01)
        assert sorted(row["models"]) == sorted(day["models"])


def test_second_ingest_of_unchanged_logs_adds_nothing(real_corpus: Path, tmp_path: Path) -> None:
    env = {"HOME": str(real_corpus / "home")}
    roots = claude_roots(env) + codex_roots(env)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    first = ingest(ledger, roots)
    assert first.new_calls > 0
    before = period_report(ledger, "daily", Filters())["totals"]
    second = ingest(ledger, roots)
    assert second.files_read == 0 and second.new_calls == 0
    assert period_report(ledger, "daily", Filters())["totals"] == before
