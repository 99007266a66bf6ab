"""The weekly summary's cache savings: a long request is priced at its long-context rates
(the whole request's size decides, cache reads included), and cache reads of a model with
no price are counted apart instead of being dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.ledger import open_ledger
from shared.pricing import PriceBook
from shared.summary.usage import cache_efficiency
from shared.summary.weeks import parse_week
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

AT = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)  # in 2026-W20
CWD = "/home/dev/app"


def test_long_requests_and_unpriced_reads(isolated_home: Path, tmp_path: Path) -> None:
    """A Sonnet 4.5 call of 1,000 new input tokens and 250,000 read from the cache is a
    251,000-token request, past the 200,000 at which its long-context rates apply: the
    saving is the reads at the long input rate less the long cache-read rate. A call of
    an unpriced model saves nothing known, and its 7,000 reads are counted as such."""
    session = ClaudeSession("s-cache", cwd=CWD)
    session.reply(
        AT,
        [text_block("x")],
        claude_usage(1_000, 100, cache_read=250_000),
        model="claude-sonnet-4-5",
    )
    session.reply(
        AT.replace(hour=11),
        [text_block("x")],
        claude_usage(10, 100, cache_read=7_000),
        model="acme-unknown-1",
    )
    session.write(claude_project_dir(isolated_home / ".claude", CWD) / "s-cache.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    book = PriceBook()
    prices = book.prices_for("claude-sonnet-4-5")
    assert prices is not None
    ts_ms = int(AT.timestamp() * 1000)
    long_rate = prices.rate_for(251_000, ts_ms)
    assert long_rate.input > prices.rate_for(1_000, ts_ms).input  # long context applies

    result = cache_efficiency(ledger, parse_week("2026-W20"), ZoneInfo("UTC"), book)
    assert result.cache_read_tokens == 257_000
    assert result.saved_usd == pytest.approx(250_000 * (long_rate.input - long_rate.cache_read))
    assert result.unpriced_cache_read_tokens == 7_000
    assert result.as_json()["unpriced_cache_read_tokens"] == 7_000
