"""The synthetic history generator: deterministic, and its expected totals are what a
correct reader (burnmeter's ingest) finds, day by day and model by model."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from bench.generate_corpus import generate, generate_single_file
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.reports import Filters, period_report
from shared.sources.roots import claude_roots, codex_roots

FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "total_tokens",
)


def _digest(home: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(home.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(home)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _daily(home: Path, ledger_file: Path, workers: int | None = None) -> dict[str, dict]:
    env = {"HOME": str(home)}
    ledger = open_ledger(ledger_file)
    try:
        ingest(ledger, claude_roots(env) + codex_roots(env), workers=workers)
        report = period_report(ledger, "daily", Filters())
    finally:
        ledger.close()
    return {row["date"]: row for row in report["daily"]}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a" / "home", 300_000, 12, seed=3, start_date=date(2026, 2, 1))
    again = generate(tmp_path / "b" / "home", 300_000, 12, seed=3, start_date=date(2026, 2, 1))
    other = generate(tmp_path / "c" / "home", 300_000, 12, seed=4, start_date=date(2026, 2, 1))
    assert first == again
    assert _digest(tmp_path / "a" / "home") == _digest(tmp_path / "b" / "home")
    assert _digest(tmp_path / "a" / "home") != _digest(tmp_path / "c" / "home")
    assert other["totals"] != first["totals"]


def test_both_agents_and_every_shape_are_there(tmp_path: Path) -> None:
    home = tmp_path / "h" / "home"
    expected = generate(home, 8_000_000, 150, seed=11, days=10)
    assert expected["files"] == 150
    assert 7_000_000 < expected["bytes"] < 9_500_000
    assert set(expected["agents"]) == {"claude-code", "codex"}
    claude = home / ".claude" / "projects"
    assert list(claude.rglob("*/subagents/agent-*.jsonl"))  # new subagent layout
    assert [p for p in claude.glob("*/agent-*.jsonl")]  # legacy layout beside sessions
    raw = b"".join(p.read_bytes() for p in claude.rglob("*.jsonl"))
    for marker in (b'"is_error":true', b'"ephemeral_1h_input_tokens"', b'"<synthetic>"'):
        assert marker in raw
    codex = b"".join(p.read_bytes() for p in (home / ".codex").rglob("*.jsonl"))
    for marker in (b'"apply_patch"', b'"rate_limits"', b"*** Update File: "):
        assert marker in codex


def test_expected_totals_match_what_ingest_reads(tmp_path: Path) -> None:
    home = tmp_path / "h" / "home"
    expected = generate(home, 2_000_000, 40, seed=5, days=8)
    written = json.loads((tmp_path / "h" / "expected.json").read_text())
    assert written == json.loads(json.dumps(expected))
    ours = _daily(home, tmp_path / "ledger.sqlite")
    assert sorted(ours) == [row["date"] for row in expected["daily"]]
    for row in expected["daily"]:
        got = ours[row["date"]]
        for field in FIELDS:
            assert got[field] == row[field], (row["date"], field)
        for model, counts in row["models"].items():
            for field in FIELDS:
                assert got["models"][model][field] == counts[field], (row["date"], model)


def test_single_file_history(tmp_path: Path) -> None:
    home = tmp_path / "s" / "home"
    expected = generate_single_file(home, 1_500_000, seed=2)
    (session,) = [p for p in home.rglob("*.jsonl") if "agent-" not in p.name]
    assert 1_400_000 < session.stat().st_size < 1_700_000
    ours = _daily(home, tmp_path / "ledger.sqlite")
    assert sum(r["total_tokens"] for r in ours.values()) == expected["totals"]["total_tokens"]
