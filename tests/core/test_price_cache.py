"""Resolved prices kept beside the ledger: a later run reads them without importing
genai-prices, gets the same floats, and resolves again when prices or overrides change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.pricing import PRICE_CACHE_NAME, PriceBook, UnitPrices, price_cache_file
from tests.core.helpers import REPO_ROOT, run_cli
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

MODELS = [
    ("claude-sonnet-4-20250514", "standard"),
    ("claude-opus-4-6", "fast"),
    ("gpt-5.3-codex", "standard"),
    ("no-such-model-anywhere", "standard"),  # unpriced: kept as unpriced, never $0
]


def _rates(prices: UnitPrices) -> list[Any]:
    def rate(r: Any) -> list[float]:
        return [r.input, r.output, r.cache_read, r.cache_write_5m, r.cache_write_1h]

    return [rate(prices.base), [[start, rate(r)] for start, r in prices.tiers]]


def _resolve_in_a_fresh_process(cache: Path, overrides: dict[str, Any] | None = None) -> Any:
    script = f"""
import json, sys
from pathlib import Path
from shared.pricing import PriceBook
from tests.core.test_price_cache import _resolved
book = PriceBook({overrides!r}, cache_file=Path({str(cache)!r}))
print(json.dumps({{"prices": _resolved(book), "genai_imported": "genai_prices" in sys.modules}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _resolved(book: PriceBook) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model, speed in MODELS:
        prices = book.prices_for(model, speed)
        found[f"{speed}:{model}"] = None if prices is None else [prices.model_id, _rates(prices)]
    return found


def _fresh(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    return _resolved(PriceBook(overrides))


def test_a_later_run_reads_the_same_prices_without_importing_genai_prices(
    tmp_path: Path,
) -> None:
    cache = tmp_path / PRICE_CACHE_NAME
    first = _resolve_in_a_fresh_process(cache)
    assert first["genai_imported"] is True
    assert cache.exists()
    second = _resolve_in_a_fresh_process(cache)
    assert second["genai_imported"] is False
    assert second["prices"] == first["prices"] == json.loads(json.dumps(_fresh()))
    assert second["prices"]["standard:no-such-model-anywhere"] is None


def test_other_overrides_resolve_again(tmp_path: Path) -> None:
    cache = tmp_path / PRICE_CACHE_NAME
    _resolve_in_a_fresh_process(cache)
    overrides = {"claude-sonnet-4": {"input_mtok": 1.0, "output_mtok": 2.0}}
    again = _resolve_in_a_fresh_process(cache, overrides)
    sonnet = again["prices"]["standard:claude-sonnet-4-20250514"]
    assert sonnet[1][0][:2] == [1.0 / 1_000_000, 2.0 / 1_000_000]
    assert json.loads(cache.read_text())["stamp"]["version"] == PriceBook(overrides).version


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        json.dumps({"stamp": "x", "prices": []}),
        "[]",
        # The right stamp but entries this code did not write.
        "RIGHT_STAMP",
    ],
)
def test_a_damaged_cache_is_resolved_again_and_rewritten(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / PRICE_CACHE_NAME
    if damage == "RIGHT_STAMP":
        book = PriceBook(cache_file=cache)
        book.prices_for("claude-sonnet-4-20250514")
        stored = json.loads(cache.read_text())
        stored["prices"] = {key: ["x", [1, 2], "tiers"] for key in stored["prices"]}
        stored["prices"]["standard:gpt-5.3-codex"] = {"input": 1}
        damage = json.dumps(stored)
    cache.write_text(damage)
    found = _resolved(PriceBook(cache_file=cache))
    assert found == _fresh()
    rewritten = json.loads(cache.read_text())
    assert set(rewritten["prices"]) == {f"{speed}:{model}" for model, speed in MODELS}


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    book = PriceBook(cache_file=blocked / PRICE_CACHE_NAME)
    assert [book.prices_for(m, s) for m, s in MODELS] == [
        PriceBook().prices_for(m, s) for m, s in MODELS
    ]


def test_reports_keep_the_cache_beside_the_ledger(isolated_home: Path) -> None:
    session = ClaudeSession("s-cache", cwd="/home/dev/app")
    session.reply(1, [text_block("x")], claude_usage(10, 100, cache_read=1000))
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/app") / "s.jsonl")
    first = run_cli("report", "sessions", "--json")
    assert first.returncode == 0, first.stderr
    data_dir = Path(os.environ["BURNMETER_DATA_DIR"])
    cache = price_cache_file(data_dir / "ledger.sqlite")
    assert cache.parent == data_dir and cache.exists()
    stored = json.loads(cache.read_text())
    assert any(key.endswith(":claude-opus-4-7") for key in stored["prices"])
    again = run_cli("report", "sessions", "--json")
    assert json.loads(again.stdout) == json.loads(first.stdout)
