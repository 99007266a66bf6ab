"""Pricing rules against genai-prices' own calculator, overrides, and price resolution
happening once per model rather than per call."""

from __future__ import annotations

from pathlib import Path

import genai_prices
import pytest
from genai_prices import Usage, calc_price

from shared.pricing import PriceBook
from shared.sources.events import CLAUDE, CODEX, UsageEvent


def _claude(
    model: str, *, fresh: int, read: int = 0, write_5m: int = 0, out: int = 0
) -> UsageEvent:
    return UsageEvent(
        "k",
        CLAUDE,
        "s",
        0,
        model,
        input_tokens=fresh,
        output_tokens=out,
        cache_read_tokens=read,
        cache_write_5m_tokens=write_5m,
    )


@pytest.mark.parametrize(
    ("fresh", "read", "write_5m", "out"),
    [
        (10_000, 150_000, 0, 1_000),  # below the 200k long-context threshold
        (10_000, 240_000, 0, 1_000),  # above it: the whole request at the long-context rate
        (1_000, 0, 199_000, 10),
        (1_000, 0, 200_000, 10),
    ],
)
def test_claude_costs_match_genai_prices_including_long_context_tiers(
    fresh: int, read: int, write_5m: int, out: int
) -> None:
    ours = PriceBook().cost(
        _claude("claude-sonnet-4-5", fresh=fresh, read=read, write_5m=write_5m, out=out)
    )
    theirs = calc_price(
        Usage(
            input_tokens=fresh + read + write_5m,
            cache_read_tokens=read,
            cache_write_tokens=write_5m,
            output_tokens=out,
        ),
        "claude-sonnet-4-5",
        provider_id="anthropic",
    ).total_price
    assert ours == pytest.approx(float(theirs), rel=1e-9)


def test_long_context_tier_applies_to_the_whole_request() -> None:
    book = PriceBook()
    below = book.cost(_claude("claude-sonnet-4-5", fresh=200_000))
    above = book.cost(_claude("claude-sonnet-4-5", fresh=200_001))
    assert below is not None and above is not None
    assert above / 200_001 == pytest.approx(2 * below / 200_000)


def test_codex_cost_is_non_cached_plus_cached_plus_output_with_reasoning_inside() -> None:
    event = UsageEvent(
        "k",
        CODEX,
        "s",
        0,
        "gpt-5.3-codex",
        input_tokens=800_000,
        cache_read_tokens=200_000,
        output_tokens=100_000,
        reasoning_tokens=50_000,
    )
    rates = calc_price(Usage(input_tokens=1), "gpt-5.3-codex", provider_id="openai").model_price
    expected = (
        0.8 * float(rates.input_mtok)
        + 0.2 * float(rates.cache_read_mtok)
        + 0.1 * float(rates.output_mtok)
    )
    assert PriceBook().cost(event) == pytest.approx(expected)


def test_user_overrides_win_and_match_by_longest_prefix() -> None:
    book = PriceBook(
        {
            "claude-nova": {"input_mtok": 1.0, "output_mtok": 2.0},
            "claude-nova-9": {"input_mtok": 3.0, "output_mtok": 4.0, "fast_multiplier": 6.0},
            "claude-opus-4-7": {"input_mtok": 9.0, "output_mtok": 9.0},
        }
    )
    one_each = {"fresh": 1_000_000, "out": 1_000_000}
    assert book.cost(_claude("claude-nova-9-20270101", **one_each)) == pytest.approx(7.0)
    assert book.cost(_claude("claude-nova-2", **one_each)) == pytest.approx(3.0)
    assert book.cost(_claude("claude-opus-4-7", **one_each)) == pytest.approx(18.0)
    fast = _claude("claude-nova-9", **one_each)
    fast.speed = "fast"
    assert book.cost(fast) == pytest.approx(42.0)
    assert book.cost(_claude("claude-unknown-0", **one_each)) is None


def test_fast_multiplier_override_for_a_model_without_a_fast_variant() -> None:
    book = PriceBook({"claude-opus-4-7": {"fast_multiplier": 6.0}})
    standard = _claude("claude-opus-4-7", fresh=1_000_000)
    fast = _claude("claude-opus-4-7", fresh=1_000_000)
    fast.speed = "fast"
    assert book.cost(fast) == pytest.approx(6 * book.cost(standard))  # type: ignore[operator]


def test_prices_are_resolved_once_per_model_and_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[str] = []
    real = genai_prices.calc_price

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        lookups.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(genai_prices, "calc_price", counting)
    book = PriceBook()
    for index in range(2_000):
        model = ("claude-opus-4-7", "claude-sonnet-4-5", "gpt-5.3-codex")[index % 3]
        event = _claude(model, fresh=index, out=index)
        event.speed = "fast" if index % 2 else "standard"
        assert book.cost(event) is not None
    assert len(lookups) <= 6


def test_a_partial_override_keeps_the_known_rates_it_does_not_give() -> None:
    """`input_mtok` alone priced output at $0 (and cache rates from it), silently; a model
    genai-prices does not know needs both input and output, or it stays unpriced."""
    known = PriceBook({})
    partial = PriceBook({"claude-opus-4-7": {"input_mtok": 5.0}})
    out_only = _claude("claude-opus-4-7", fresh=0, out=1_000_000)
    assert partial.cost(out_only) == pytest.approx(known.cost(out_only))  # genai's output rate
    fresh_only = _claude("claude-opus-4-7", fresh=1_000_000)
    assert partial.cost(fresh_only) == pytest.approx(5.0)
    # Cache rates follow the input rate the override gives (×0.1 read, ×1.25 written).
    cached = _claude("claude-opus-4-7", fresh=0, read=1_000_000, write_5m=1_000_000)
    assert partial.cost(cached) == pytest.approx(0.5 + 6.25)
    # Output alone: input and cache rates stay genai-prices' own.
    output_only = PriceBook({"claude-opus-4-7": {"output_mtok": 100.0}})
    assert output_only.cost(out_only) == pytest.approx(100.0)
    assert output_only.cost(cached) == pytest.approx(known.cost(cached))
    # An unknown model with half a price is unpriced, not half free.
    half = PriceBook({"claude-nova-9": {"input_mtok": 1.0}})
    assert half.cost(_claude("claude-nova-9", fresh=1_000_000, out=1)) is None
    assert half.cost(_claude("claude-nova-9", fresh=1_000_000)) is None


@pytest.mark.parametrize("model", ["claude-opus-4-6", "claude-sonnet-4-6"])
@pytest.mark.parametrize("day", ["2026-02-20", "2026-03-12", "2026-03-13", "2026-06-01"])
def test_a_call_is_priced_as_genai_prices_priced_it_on_its_day(
    model: str, day: str, tmp_path: Path
) -> None:
    """genai-prices dates some price changes (these two models had a long-context tier
    until 2026-03-13): every call was priced at today's price, half the price of a
    February call over 200k tokens."""
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    event = _claude(model, fresh=5_000, read=196_000, out=1_000)
    event.ts_ms = int(moment.timestamp() * 1000)
    expected = calc_price(
        Usage(input_tokens=201_000, cache_read_tokens=196_000, output_tokens=1_000),
        model,
        provider_id="anthropic",
        genai_request_timestamp=moment,
    ).total_price
    assert PriceBook({}).cost(event) == pytest.approx(float(expected))
    # Kept in the price cache beside the ledger, the dated prices come back the same.
    cache = tmp_path / "price-cache.json"
    first = PriceBook({}, cache_file=cache)
    assert first.cost(event) == pytest.approx(float(expected))  # resolved, then saved
    assert cache.exists()
    assert PriceBook({}, cache_file=cache).cost(event) == first.cost(event)


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-opus-4-7", "claude-haiku-4-5"])
@pytest.mark.parametrize(("searches", "read"), [(3, 0), (1, 240_000), (12, 5_000)])
def test_web_searches_are_priced_as_genai_prices_prices_them(
    model: str, searches: int, read: int, tmp_path: Path
) -> None:
    """Claude's server-side web searches are billed per search on top of the tokens
    ($10 per 1,000); they were left out, so a session that searched cost less than
    genai-prices (burnmeter's price source) says. Long-context tiers do not touch them."""
    event = _claude(model, fresh=2_000, read=read, out=500)
    event.web_search_requests = searches
    expected = calc_price(
        Usage(
            input_tokens=2_000 + read,
            cache_read_tokens=read,
            output_tokens=500,
            web_searches=searches,
        ),
        model,
        provider_id="anthropic",
    ).total_price
    assert PriceBook().cost(event) == pytest.approx(float(expected), rel=1e-9)
    without = _claude(model, fresh=2_000, read=read, out=500)
    assert PriceBook().cost(event) == pytest.approx(PriceBook().cost(without) + searches / 100)  # type: ignore[operator]
    # The fee survives the price cache beside the ledger.
    cache = tmp_path / "price-cache.json"
    assert PriceBook({}, cache_file=cache).cost(event) == PriceBook().cost(event)
    assert PriceBook({}, cache_file=cache).cost(event) == PriceBook().cost(event)


def test_web_search_fee_with_overrides_and_fast_mode() -> None:
    """A rate override keeps genai-prices' fee for the model unless it gives its own
    `web_searches_kcount`; the fast multiplier scales tokens, not the per-search fee; a
    Codex model (no fee in genai-prices) charges nothing for them."""
    searched = _claude("claude-opus-4-7", fresh=1_000_000)
    searched.web_search_requests = 4
    plain = _claude("claude-opus-4-7", fresh=1_000_000)
    flat = PriceBook({"claude-opus-4-7": {"input_mtok": 5.0, "output_mtok": 25.0}})
    assert flat.cost(searched) == pytest.approx(5.0 + 0.04)
    own_fee = PriceBook({"claude-opus-4-7": {"input_mtok": 5.0, "web_searches_kcount": 25}})
    assert own_fee.cost(searched) == pytest.approx(5.0 + 0.1)
    fee_only = PriceBook({"claude-opus-4-7": {"web_searches_kcount": 0}})
    assert fee_only.cost(searched) == pytest.approx(PriceBook().cost(plain))
    fast_searched = _claude("claude-opus-4-7", fresh=1_000_000)
    fast_searched.speed, fast_searched.web_search_requests = "fast", 4
    fast_plain = _claude("claude-opus-4-7", fresh=1_000_000)
    fast_plain.speed = "fast"
    book = PriceBook()
    assert book.cost(fast_searched) == pytest.approx(book.cost(fast_plain) + 0.04)  # type: ignore[operator]
    codex = UsageEvent("k", CODEX, "s", 0, "gpt-5.3-codex", input_tokens=1_000)
    codex_searched = UsageEvent(
        "k", CODEX, "s", 0, "gpt-5.3-codex", input_tokens=1_000, web_search_requests=9
    )
    assert book.cost(codex_searched) == book.cost(codex)


def test_own_rates_for_a_model_keep_the_bundled_fast_multiplier() -> None:
    """An override with rates for claude-opus-4-6 replaced the bundled entry whole: its
    6× fast multiplier went with it and fast calls were priced at standard rates."""
    book = PriceBook({"claude-opus-4-6": {"input_mtok": 10.0, "output_mtok": 50.0}})
    standard = _claude("claude-opus-4-6", fresh=1_000_000)
    fast = _claude("claude-opus-4-6", fresh=1_000_000)
    fast.speed = "fast"
    assert book.cost(standard) == pytest.approx(10.0)
    assert book.cost(fast) == pytest.approx(60.0)
    own = PriceBook({"claude-opus-4-6": {"input_mtok": 10.0, "fast_multiplier": 2}})
    assert own.cost(fast) == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("model", "factor"),
    [
        ("claude-opus-4-6", 1.1),
        ("claude-sonnet-4-6", 1.1),
        ("claude-opus-4-7", 1.1),
        ("claude-opus-5", 1.1),
        ("claude-haiku-4-5", 1.0),
        ("claude-sonnet-4-5-20250929", 1.0),
        ("claude-3-7-sonnet-20250219", 1.0),
        ("gpt-5.3-codex", 1.0),
    ],
)
def test_us_only_inference_costs_a_tenth_more_on_claude_4_6_and_later(
    model: str, factor: float
) -> None:
    """Anthropic bills `inference_geo: "us"` at 1.1x on every token category of Claude 4.6
    and later (its data-residency pricing); it was priced as a global call."""
    book = PriceBook()
    global_call = _claude(model, fresh=10_000, read=50_000, write_5m=2_000, out=1_000)
    us_call = _claude(model, fresh=10_000, read=50_000, write_5m=2_000, out=1_000)
    us_call.inference_geo = "us"
    assert book.cost(us_call) == pytest.approx(factor * book.cost(global_call))  # type: ignore[operator]
    # The per-search fee is no token: not scaled.
    us_call.web_search_requests = 10
    fee = book.prices_for(model).web_search  # type: ignore[union-attr]
    assert book.cost(us_call) == pytest.approx(factor * book.cost(global_call) + 10 * fee)  # type: ignore[operator]


def test_us_inference_multiplier_override() -> None:
    book = PriceBook({"claude-opus-4-7": {"us_inference_multiplier": 1.25}})
    us_call = _claude("claude-opus-4-7", fresh=1_000_000)
    us_call.inference_geo = "us"
    plain = _claude("claude-opus-4-7", fresh=1_000_000)
    assert book.cost(us_call) == pytest.approx(1.25 * book.cost(plain))  # type: ignore[operator]
