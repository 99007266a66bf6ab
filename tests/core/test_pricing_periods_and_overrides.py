"""Pricing rules: which of several dated price periods a call falls in, which model names
count as Claude 4.6 or later for US-only inference, how overrides and missing genai-prices
cache rates give the cache rates, and the fast variant against `fast_multiplier`."""

from __future__ import annotations

import pytest

from shared.pricing import PriceBook, RatePerToken, UnitPrices


def _flat(per_token: float) -> RatePerToken:
    return RatePerToken(per_token, per_token, per_token, per_token, per_token)


def test_a_call_before_the_first_of_two_price_changes_gets_the_oldest_price() -> None:
    """`earlier` is oldest first; a call is priced by the first period it falls before, not
    by the last one (a call before both changes must not get the middle price)."""
    oldest, middle, today = _flat(1.0), _flat(2.0), _flat(3.0)
    prices = UnitPrices(
        "m",
        today,
        earlier=((1_000, oldest, ()), (2_000, middle, ())),
    )
    assert prices.rate_for(10, ts_ms=500) == oldest
    assert prices.rate_for(10, ts_ms=1_000) == middle
    assert prices.rate_for(10, ts_ms=1_999) == middle
    assert prices.rate_for(10, ts_ms=2_000) == today
    assert prices.rate_for(10) == today


@pytest.mark.parametrize(
    ("model", "factor"),
    [
        # A dated name whose date follows the major version is not a minor version.
        ("claude-sonnet-4-20250514", 1.0),
        ("claude-opus-4-20250514", 1.0),
        ("claude-opus-4-1-20250805", 1.0),
        ("claude-haiku-4-5-20251001", 1.0),
        ("claude-sonnet-4-6-20260217", 1.1),
        ("claude-opus-4-6", 1.1),
        ("claude-opus-5", 1.1),
    ],
)
def test_us_only_inference_premium_reads_the_version_not_the_date(
    model: str, factor: float
) -> None:
    """The 1.1 US-only premium applies from Claude 4.6 on; the date suffix of
    `claude-sonnet-4-20250514` must not be read as minor version 20250514."""
    assert PriceBook().us_factor(model) == pytest.approx(factor)


MTOK = 1_000_000


def test_an_override_with_only_token_rates_derives_every_cache_rate_from_its_input() -> None:
    """A model genai-prices lacks, overridden with input/output rates only: cache reads at
    ×0.1, 5-minute writes at ×1.25 and 1-hour writes at ×2 of the override's input rate."""
    book = PriceBook({"acme-coder-1": {"input_mtok": 10, "output_mtok": 40}})
    prices = book.prices_for("acme-coder-1")
    assert prices is not None
    assert prices.base == RatePerToken(
        input=pytest.approx(10 / MTOK),
        output=pytest.approx(40 / MTOK),
        cache_read=pytest.approx(1 / MTOK),
        cache_write_5m=pytest.approx(12.5 / MTOK),
        cache_write_1h=pytest.approx(20 / MTOK),
    )


def test_an_input_override_on_a_known_model_moves_its_cache_rates_with_it() -> None:
    """Overriding a known model's input rate prices its cache tokens from that rate (×0.1,
    ×1.25, ×2), not at genai-prices' cache rates for the old input price; an override that
    leaves input out keeps genai-prices' cache rates."""
    known = PriceBook().prices_for("claude-sonnet-4-5")
    assert known is not None
    repriced = PriceBook({"claude-sonnet-4-5": {"input_mtok": 5}}).prices_for("claude-sonnet-4-5")
    assert repriced is not None
    assert repriced.base.input == pytest.approx(5 / MTOK)
    assert repriced.base.output == pytest.approx(known.base.output)
    assert repriced.base.cache_read == pytest.approx(0.5 / MTOK)
    assert repriced.base.cache_write_5m == pytest.approx(6.25 / MTOK)
    assert repriced.base.cache_write_1h == pytest.approx(10 / MTOK)
    output_only = PriceBook({"claude-sonnet-4-5": {"output_mtok": 99}}).prices_for(
        "claude-sonnet-4-5"
    )
    assert output_only is not None
    assert output_only.base.input == pytest.approx(known.base.input)
    assert output_only.base.output == pytest.approx(99 / MTOK)
    assert output_only.base.cache_read == pytest.approx(known.base.cache_read)
    assert output_only.base.cache_write_1h == pytest.approx(known.base.cache_write_1h)


def test_missing_genai_cache_prices_fall_back_to_ratios_of_the_input_price() -> None:
    """A genai-prices model without cache prices, not OpenAI's: cached input at the input
    rate, 5-minute writes at ×1.25, 1-hour writes at ×2; never at $0. (An OpenAI model's
    writes cost its input rate: tests/core/test_pricing_tiers_and_ids.py.)"""
    from decimal import Decimal
    from types import SimpleNamespace

    from shared.pricing import _rates_from_genai

    base, tiers = _rates_from_genai(SimpleNamespace(input_mtok=Decimal(2), output_mtok=Decimal(8)))
    assert tiers == ()
    assert base.cache_read == pytest.approx(2 / MTOK)
    assert base.cache_write_5m == pytest.approx(2.5 / MTOK)
    assert base.cache_write_1h == pytest.approx(4 / MTOK)


def test_fast_multiplier_is_ignored_where_genai_prices_has_a_fast_variant() -> None:
    """`fast_multiplier` applies to fast calls only when genai-prices has no fast variant
    (resources/price_overrides.json); where it has one, the variant's rates are the fast
    price and the multiplier must not scale them a second time."""
    plain = PriceBook().prices_for("claude-opus-5", "fast")
    # The case this pins needs genai-prices to have the variant (0.2.5 has it); should a
    # release drop it, this fails rather than passing without checking anything.
    assert plain is not None and plain.model_id.endswith("+fast"), plain
    overridden = PriceBook({"claude-opus-5": {"fast_multiplier": 6}}).prices_for(
        "claude-opus-5", "fast"
    )
    assert overridden == plain


def _dated_model(*entries: tuple[object, float]) -> object:
    """A genai-prices model shape: `prices` as a list of (constraint, prices) entries, a
    constraint None (the undated price) or one with a `start_date`; `input` per MTok."""
    from decimal import Decimal
    from types import SimpleNamespace

    return SimpleNamespace(
        prices=[
            SimpleNamespace(
                constraint=None if start is None else SimpleNamespace(start_date=start),
                prices=SimpleNamespace(input_mtok=Decimal(str(rate)), output_mtok=Decimal(1)),
            )
            for start, rate in entries
        ]
    )


def test_each_earlier_period_has_the_price_that_held_in_it() -> None:
    """Prices 1 → 2 (from 2025-01-01) → 3 (from 2025-06-01): calls before the first change
    at 1, between the changes at 2; today's price (3) is the model's base, not a period."""
    from datetime import date

    from shared.pricing import _earlier_periods

    periods = _earlier_periods(
        _dated_model((date(2025, 6, 1), 3), (None, 1), (date(2025, 1, 1), 2))
    )
    assert [(until, base.input * MTOK) for until, base, _ in periods] == [
        (1_735_689_600_000, pytest.approx(1)),  # 2025-01-01T00:00Z
        (1_748_736_000_000, pytest.approx(2)),  # 2025-06-01T00:00Z
    ]


def test_a_price_that_starts_today_already_holds_today() -> None:
    """A dated price whose first day is today is today's price (the one before it becomes
    an earlier period); only a price starting after today is ignored for now."""
    from datetime import UTC, datetime, timedelta

    from shared.pricing import _earlier_periods

    today = datetime.now(UTC).date()
    periods = _earlier_periods(
        _dated_model((None, 1), (today, 2), (today + timedelta(days=1), 3)), today
    )
    assert len(periods) == 1
    until, base, _ = periods[0]
    assert base.input * MTOK == pytest.approx(1)
    assert until == int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp() * 1000)


def test_prices_that_depend_on_more_than_the_date_get_no_periods() -> None:
    """Two undated prices (conditions other than a start date): no dated periods."""
    from datetime import date

    from shared.pricing import _earlier_periods

    assert _earlier_periods(_dated_model((None, 1), (None, 2), (date(2025, 1, 1), 3))) == ()
