"""Prices an audit found wrong (December 2026): Codex calls on the priority ("Fast") and
flex service tiers, stored with speed "fast" and "flex"; Codex cache writes; Claude Mythos
5 and 5.1; model ids as gateways, Bedrock and Vertex log them. Each against genai-prices'
own calculator or the vendor's published rates."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.pricing import PriceBook, RatePerToken, base_model_id, cost_of_counts
from shared.sources.events import CLAUDE, CODEX, UsageEvent
from shared.sources.roots import LogRoot
from tests.core.helpers import run_cli
from tests.core.logwriters import (
    BASE_TIME,
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    text_block,
)

MTOK = 1_000_000


def _per_mtok(rate: RatePerToken) -> tuple[float, ...]:
    return tuple(
        round(value * MTOK, 9)
        for value in (
            rate.input,
            rate.output,
            rate.cache_read,
            rate.cache_write_5m,
            rate.cache_write_1h,
        )
    )


def _ms(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 12, tzinfo=UTC).timestamp() * 1000)


# --- Codex service tiers -------------------------------------------------------------------


def test_a_priority_call_of_gpt_5_5_costs_its_priority_rates() -> None:
    """gpt-5.5 on the priority tier: $12.50 in, $75 out, $1.25 cached per MTok (2.5× the
    standard $5 / $30 / $0.50); before, a "fast" Codex call cost the standard rates."""
    prices = PriceBook().prices_for("gpt-5.5", "fast")
    assert prices is not None
    assert _per_mtok(prices.base)[:3] == (12.5, 75.0, 1.25)
    assert prices.model_id == "gpt-5.5+fast"


def test_a_fast_call_of_gpt_5_3_codex_costs_twice_the_standard_rates() -> None:
    book = PriceBook()
    standard, fast = book.prices_for("gpt-5.3-codex"), book.prices_for("gpt-5.3-codex", "fast")
    assert standard is not None and fast is not None
    assert _per_mtok(fast.base)[:3] == pytest.approx(
        tuple(2 * value for value in _per_mtok(standard.base)[:3])
    )
    assert _per_mtok(fast.base)[:3] == (3.5, 28.0, 0.35)


def test_a_flex_call_costs_the_flex_variants_rates_long_context_included() -> None:
    """gpt-5.5 on flex: $2.50 / $15 / $0.25, and genai-prices' flex variant keeps the
    long-context tier above 272k input tokens ($5 / $22.50 / $0.50)."""
    prices = PriceBook().prices_for("gpt-5.5", "flex")
    assert prices is not None and prices.model_id == "gpt-5.5+flex"
    assert _per_mtok(prices.base)[:3] == (2.5, 15.0, 0.25)
    ((start, long_context),) = prices.tiers
    assert start == 272_000
    assert _per_mtok(long_context)[:3] == (5.0, 22.5, 0.5)


@pytest.mark.parametrize(
    "model",
    ["gpt-5.5", "gpt-5.3-codex", "gpt-5.4", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-6-astra"],
)
@pytest.mark.parametrize(
    ("speed", "context"),
    [
        ("fast", {"service_tier": "priority"}),
        ("flex", {"service_tier": "flex"}),
        ("standard", None),
    ],
)
@pytest.mark.parametrize(
    ("fresh", "read", "written", "out"),
    [(20_000, 100_000, 0, 5_000), (100_000, 200_000, 50_000, 5_000)],
)
def test_codex_tier_costs_match_genai_prices(
    model: str,
    speed: str,
    context: dict[str, str] | None,
    fresh: int,
    read: int,
    written: int,
    out: int,
) -> None:
    """Every tier, below and above the long-context threshold, with cache writes: the cost
    genai-prices gives for that service tier (the standard one where the model has no such
    variant, as gpt-5.3-codex on flex)."""
    prices = PriceBook().prices_for(model, speed)
    assert prices is not None
    ours = cost_of_counts(prices, fresh, out, written, 0, read)
    extra: dict[str, Any] = {} if context is None else {"price_context": context}
    theirs = calc_price(
        Usage(
            input_tokens=fresh + read + written,
            cache_read_tokens=read,
            cache_write_tokens=written,
            output_tokens=out,
        ),
        model,
        provider_id="openai",
        **extra,
    ).total_price
    assert ours == pytest.approx(float(theirs), rel=1e-9)


def test_a_tier_the_model_has_no_price_for_is_priced_at_the_standard_rates() -> None:
    """gpt-5.3-codex has no flex price and gpt-5.1-codex-mini no priority one: such calls
    cost the standard rates (the same prices, so `burnmeter doctor` lists fast calls of
    such a model under "fast calls priced at standard rates"), never $0."""
    book = PriceBook()
    assert book.prices_for("gpt-5.3-codex", "flex") == book.prices_for("gpt-5.3-codex")
    assert book.prices_for("gpt-5.1-codex-mini", "fast") == book.prices_for("gpt-5.1-codex-mini")


def test_a_fast_multiplier_still_prices_fast_calls_of_a_model_without_a_fast_price() -> None:
    book = PriceBook({"gpt-5.1-codex-mini": {"fast_multiplier": 2}})
    standard = book.prices_for("gpt-5.1-codex-mini")
    fast = book.prices_for("gpt-5.1-codex-mini", "fast")
    assert standard is not None and fast is not None
    assert _per_mtok(fast.base) == pytest.approx(tuple(2 * v for v in _per_mtok(standard.base)))
    # Flex is not fast: no multiplier.
    assert book.prices_for("gpt-5.1-codex-mini", "flex") == standard
    # Where genai-prices has the tier's price, a multiplier does not scale it again.
    assert PriceBook({"gpt-5.5": {"fast_multiplier": 6}}).prices_for(
        "gpt-5.5", "fast"
    ) == PriceBook().prices_for("gpt-5.5", "fast")


def test_a_tiers_first_recorded_price_holds_before_the_day_genai_prices_dates_it() -> None:
    """genai-prices dates every OpenAI priority and flex price from 2026-10-12 (when it
    recorded them; Codex's Fast mode cost 2.5× on gpt-5.5 from its launch): a priority call
    of March 2026 costs the priority rates, not the standard ones."""
    prices = PriceBook().prices_for("gpt-5.5", "fast")
    assert prices is not None
    assert _per_mtok(prices.rate_for(1_000, _ms(2026, 3, 10)))[:3] == (12.5, 75.0, 1.25)
    assert prices.earlier == ()


def test_a_codex_priority_call_with_cache_writes_is_stored_at_those_prices(
    tmp_path: Path,
) -> None:
    """Through the Codex reader and the ledger: a gpt-5.6-terra call run on the priority
    tier ($4 in, $0.40 cached, $5 written, $24 out per MTok) and one on flex ($1, $0.10,
    $1.25, $6); 100,000 input of which 60,000 cached and 20,000 written, 1,000 output."""
    codex_home = tmp_path / ".codex"
    rollout = CodexRollout("019d-priced-tiers", started=BASE_TIME, model="gpt-5.6-terra")
    rollout.turn(BASE_TIME)
    total = [0, 0, 0, 0]
    for tier in ("priority", "flex"):
        rollout.add(
            "event_msg",
            {
                "type": "thread_settings_applied",
                "thread_id": rollout.session_id,
                "thread_settings": {"model": rollout.model, "service_tier": tier},
            },
            BASE_TIME,
        )
        last = {
            "input_tokens": 100_000,
            "cached_input_tokens": 60_000,
            "cache_write_input_tokens": 20_000,
            "output_tokens": 1_000,
            "reasoning_output_tokens": 0,
            "total_tokens": 101_000,
        }
        total = [a + b for a, b in zip(total, (100_000, 60_000, 20_000, 1_000), strict=True)]
        cumulative = {
            **last,
            "input_tokens": total[0],
            "cached_input_tokens": total[1],
            "cache_write_input_tokens": total[2],
            "output_tokens": total[3],
            "total_tokens": total[0] + total[3],
        }
        rollout.add(
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": cumulative, "last_token_usage": last},
            },
            BASE_TIME,
        )
    rollout.write(codex_rollout_path(codex_home, rollout))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CODEX, codex_home / "sessions")])
    rows = ledger.conn.execute(
        "SELECT speed, input_tokens, cache_read_tokens, cache_write_5m_tokens, cost_usd "
        "FROM usage_events ORDER BY total_tokens"
    ).fetchall()
    priority = (20_000 * 4 + 60_000 * 0.4 + 20_000 * 5 + 1_000 * 24) / MTOK
    flex = (20_000 * 1 + 60_000 * 0.1 + 20_000 * 1.25 + 1_000 * 6) / MTOK
    assert [row[:4] for row in rows] == [
        ("fast", 20_000, 60_000, 20_000),
        ("flex", 20_000, 60_000, 20_000),
    ]
    assert [row[4] for row in rows] == [pytest.approx(priority), pytest.approx(flex)]


# --- Codex cache writes --------------------------------------------------------------------


def test_codex_cache_writes_cost_the_models_write_rate_where_genai_prices_has_one() -> None:
    """gpt-5.6-terra bills cache writes at 1.25× input: genai-prices' $2.50 per MTok."""
    prices = PriceBook().prices_for("gpt-5.6-terra")
    assert prices is not None
    assert _per_mtok(prices.base)[0] == 2.0
    assert _per_mtok(prices.base)[3] == 2.5


@pytest.mark.parametrize("model", ["gpt-5.5", "gpt-5.3-codex", "gpt-5.1-codex-mini", "gpt-5"])
@pytest.mark.parametrize("fresh", [10_000, 300_000])  # below and above any long context
def test_codex_cache_writes_cost_the_input_rate_where_the_model_has_no_write_rate(
    model: str, fresh: int
) -> None:
    """Models without a cache-write price: those tokens were input before Codex reported
    them apart, and cost the input rate (long-context tier included), as genai-prices
    prices them; not Anthropic's 1.25× (and never $0)."""
    prices = PriceBook().prices_for(model)
    assert prices is not None
    assert prices.base.cache_write_5m == prices.base.input > 0
    ours = cost_of_counts(prices, fresh, 1_000, 50_000, 0, 20_000)
    theirs = calc_price(
        Usage(
            input_tokens=fresh + 50_000 + 20_000,
            cache_write_tokens=50_000,
            cache_read_tokens=20_000,
            output_tokens=1_000,
        ),
        model,
        provider_id="openai",
    ).total_price
    assert ours == pytest.approx(float(theirs), rel=1e-9)


def test_an_openai_override_of_the_input_rate_keeps_the_models_write_ratio() -> None:
    """An override giving an OpenAI model's input rate only: cache writes follow it at the
    model's own ratio (×1 on gpt-5.5, ×1.25 on gpt-5.6-terra, ×1 on a model genai-prices
    does not know); Claude's stay ×1.25."""

    def written(model: str, entry: dict[str, float]) -> float:
        prices = PriceBook({model: entry}).prices_for(model)
        assert prices is not None
        return _per_mtok(prices.base)[3]

    assert written("gpt-5.5", {"input_mtok": 4}) == 4
    assert written("gpt-5.6-terra", {"input_mtok": 4}) == 5
    assert written("gpt-9-private", {"input_mtok": 4, "output_mtok": 8}) == 4
    assert written("claude-opus-5", {"input_mtok": 4}) == 5


# --- Claude Mythos 5 and 5.1 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "rates"),
    [
        ("claude-mythos-5", (10.0, 50.0, 1.0, 12.5, 20.0)),
        ("claude-mythos-5-20260401", (10.0, 50.0, 1.0, 12.5, 20.0)),
        ("claude-mythos-5-1", (10.0, 50.0, 0.25, 12.5, 20.0)),
    ],
)
def test_mythos_5_and_5_1_cost_what_fable_5_and_5_1_cost(
    model: str, rates: tuple[float, ...]
) -> None:
    """Anthropic: Claude Mythos 5 shares Claude Fable 5's pricing ($10 in, $12.50 5-minute
    write, $20 1-hour write, $1 read, $50 out; 5.1 reads at $0.25), web searches included,
    no long-context tier, no fast price."""
    book = PriceBook()
    prices = book.prices_for(model)
    fable = book.prices_for(model.replace("mythos", "fable"))
    assert prices is not None and fable is not None
    assert _per_mtok(prices.base) == rates == _per_mtok(fable.base)
    assert (prices.tiers, prices.web_search) == (fable.tiers, fable.web_search) == ((), 0.01)
    assert book.prices_for(model, "fast") == prices  # doctor lists its fast calls
    assert book.us_factor(model) == 1.1


def test_mythos_5_2_keeps_genai_prices_own_price() -> None:
    """The bundled claude-mythos-5 does not match claude-mythos-5-2 by prefix: 5.2 keeps
    genai-prices' $8 / $40 and its fast price."""
    book = PriceBook()
    prices, fast = (
        book.prices_for("claude-mythos-5-2"),
        book.prices_for("claude-mythos-5-2", "fast"),
    )
    assert prices is not None and fast is not None
    assert _per_mtok(prices.base)[:2] == (8.0, 40.0)
    assert fast.model_id == "claude-mythos-5-2+fast" and _per_mtok(fast.base)[:2] == (16.0, 80.0)


# --- model ids as logged -------------------------------------------------------------------

ID_VARIANTS = [
    ("claude-opus-5[1m]", "claude-opus-5"),
    ("claude-fable-5-2[1m]", "claude-fable-5-2"),
    ("anthropic/claude-opus-5-5", "claude-opus-5-5"),
    ("openai/gpt-5.5", "gpt-5.5"),
    ("us.anthropic.claude-opus-5-5-v1:0", "claude-opus-5-5"),
    ("claude-opus-5-5@20260923", "claude-opus-5-5"),
    ("global.anthropic.claude-mythos-5-1-v2:0", "claude-mythos-5-1"),
    ("anthropic.claude-sonnet-5-5", "claude-sonnet-5-5"),
    # routes as LiteLLM and OpenRouter log them
    ("bedrock/us.anthropic.claude-opus-5-5-v1:0", "claude-opus-5-5"),
    ("vertex_ai/claude-opus-5-5@20260923", "claude-opus-5-5"),
    ("azure/gpt-5.5", "gpt-5.5"),
    ("bedrock/converse/us.anthropic.claude-opus-5-5-v1:0", "claude-opus-5-5"),
    ("bedrock/invoke/anthropic.claude-sonnet-5-5", "claude-sonnet-5-5"),
    ("openrouter/openai/gpt-5.5", "gpt-5.5"),
    ("OpenRouter/Anthropic/claude-sonnet-5-5", "claude-sonnet-5-5"),
]


@pytest.mark.parametrize(("logged", "base"), ID_VARIANTS)
def test_a_model_id_variant_costs_what_its_base_model_costs(logged: str, base: str) -> None:
    assert base_model_id(logged) == base
    book = PriceBook()
    for speed in ("standard", "fast"):
        event = UsageEvent(
            "k",
            CLAUDE,
            "s",
            _ms(2026, 11, 20),
            logged,
            input_tokens=100_000,
            output_tokens=10_000,
            cache_write_1h_tokens=100_000,
            cache_read_tokens=100_000,
            speed=speed,
        )
        cost = book.cost(event)
        assert cost is not None and cost > 0
        assert cost == book.cost(dataclasses.replace(event, model=base))
    assert book.us_factor(logged) == book.us_factor(base)


@pytest.mark.parametrize(
    "name",
    ["claude-opus-5", "gpt-5.5", "my-model@home", "anthropic", "openai/", "azure/", "[1m]"],
)
def test_a_plain_name_is_its_own_base(name: str) -> None:
    assert base_model_id(name) == name


def test_an_override_for_the_logged_name_or_the_base_name_applies() -> None:
    book = PriceBook(
        {
            "us.anthropic.claude-opus-5-5-v1:0": {"input_mtok": 1, "output_mtok": 2},
            "gpt-5.5": {"output_mtok": 3},
        }
    )
    bedrock = book.prices_for("us.anthropic.claude-opus-5-5-v1:0")
    gateway = book.prices_for("openai/gpt-5.5")
    assert bedrock is not None and gateway is not None
    assert _per_mtok(bedrock.base)[:2] == (1.0, 2.0)
    assert _per_mtok(gateway.base)[:2] == (5.0, 3.0)


def test_reports_keep_the_logged_names_and_doctor_finds_none_unpriced(
    isolated_home: Path,
) -> None:
    session = ClaudeSession("s-ids", cwd="/home/dev/ids")
    for n, (logged, _) in enumerate(ID_VARIANTS):
        if logged.startswith("openai/"):
            continue
        session.reply(n + 1, [text_block("x")], claude_usage(1_000, 100), model=logged)
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/ids") / "s.jsonl")
    report = run_cli("report", "models", "--json")
    assert report.returncode == 0, report.stderr
    rows = {row["model"]: row for row in json.loads(report.stdout)["models"]}
    book = PriceBook()
    for logged, base in ID_VARIANTS:
        if logged.startswith("openai/"):
            continue
        cost = book.cost(
            UsageEvent("k", CLAUDE, "s", 0, base, input_tokens=1_000, output_tokens=100)
        )
        assert rows[logged]["cost_usd"] == pytest.approx(cost, abs=1e-6)
        assert "unpriced_calls" not in rows[logged]
    doctor = json.loads(run_cli("doctor", "--json", "--no-ingest").stdout)
    assert doctor["unpriced_models"] == []


# --- Long-context rates of Claude Sonnet 4 (an override's `long_context`) ----------------


def test_a_sonnet_4_request_over_200k_input_costs_the_long_context_rates(
    isolated_home: Path,
) -> None:
    """genai-prices prices Claude Sonnet 4.5 above 200k input at $6 / $22.50 / $0.60 read /
    $7.50 and $12 written, but its entry for Sonnet 4 has no such tier: a 260,010-token
    request of claude-sonnet-4-20250514 cost $0.12753 at the base rates (found by the
    format audit); it costs what the same request of Sonnet 4.5 costs."""
    session = ClaudeSession("s-long", cwd="/home/dev/long")
    big = claude_usage(10, 1_000, write_5m=10_000, cache_read=250_000)
    small = claude_usage(10, 1_000, write_5m=10_000, cache_read=150_000)
    session.reply(1, [text_block("x")], big, model="claude-sonnet-4-20250514")
    session.reply(2, [text_block("x")], small, model="claude-sonnet-4-20250514")
    session.reply(3, [text_block("x")], big, model="claude-sonnet-4-5-20250929")
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/long") / "s.jsonl")
    report = run_cli("report", "models", "--json")
    assert report.returncode == 0, report.stderr
    rows = {row["model"]: row for row in json.loads(report.stdout)["models"]}
    over = (10 * 6 + 1_000 * 22.5 + 10_000 * 7.5 + 250_000 * 0.6) / MTOK
    under = (10 * 3 + 1_000 * 15 + 10_000 * 3.75 + 150_000 * 0.3) / MTOK
    assert rows["claude-sonnet-4-20250514"]["cost_usd"] == pytest.approx(over + under, abs=1e-6)
    assert rows["claude-sonnet-4-5-20250929"]["cost_usd"] == pytest.approx(over, abs=1e-6)
    for name in ("claude-sonnet-4-0", "us.anthropic.claude-sonnet-4-20250514-v1:0"):
        prices = PriceBook().prices_for(name)
        assert prices is not None
        assert [(start, _per_mtok(rate)) for start, rate in prices.tiers] == [
            (200_000, (6.0, 22.5, 0.6, 7.5, 12.0))
        ]
    # Other models keep genai-prices' tiers (none for Sonnet 4.6 or Opus 4.1).
    for name in ("claude-sonnet-4-6", "claude-opus-4-1-20250805"):
        prices = PriceBook().prices_for(name)
        assert prices is not None and prices.tiers == ()


def test_a_users_long_context_rates_go_with_a_flat_price_and_a_fast_multiplier() -> None:
    """`[prices."MODEL".long_context]`: rates it leaves out are the base rates; a fast call
    above the threshold takes the multiplier too."""
    book = PriceBook(
        {
            "house-model": {
                "input_mtok": 2,
                "output_mtok": 10,
                "fast_multiplier": 3,
                "long_context": {"above_input_tokens": 100_000, "input_mtok": 4},
            }
        }
    )
    prices = book.prices_for("house-model")
    assert prices is not None
    assert _per_mtok(prices.base) == (2.0, 10.0, 0.2, 2.5, 4.0)
    assert [(start, _per_mtok(rate)) for start, rate in prices.tiers] == [
        (100_000, (4.0, 10.0, 0.2, 2.5, 4.0))
    ]
    assert cost_of_counts(prices, 100_000, 0, 0, 0, 0) == pytest.approx(0.2)
    assert cost_of_counts(prices, 100_001, 0, 0, 0, 0) == pytest.approx(100_001 * 4 / MTOK)
    fast = book.prices_for("house-model", "fast")
    assert fast is not None
    assert cost_of_counts(fast, 100_001, 0, 0, 0, 0) == pytest.approx(100_001 * 12 / MTOK)


def test_a_long_context_entry_without_its_threshold_is_a_config_problem(
    isolated_home: Path,
) -> None:
    from shared.config import config_file, load_settings

    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(
        '[prices."house-model"]\ninput_mtok = 2\noutput_mtok = 10\n'
        '[prices."house-model".long_context]\ninput_mtok = 4\n',
        encoding="utf-8",
    )
    loaded = load_settings()
    # Only the table that lacks its threshold is left out (the whole file was dropped).
    assert [problem.split(": ", 1)[1] for problem in loaded.problems] == [
        "prices.house-model.long_context: above_input_tokens is missing; ignored."
    ]
    kept = loaded.settings.prices["house-model"]
    assert (kept.input_mtok, kept.output_mtok, kept.long_context) == (2, 10, None)
