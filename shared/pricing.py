"""Prices for model calls: genai-prices as the source, bundled and user overrides on top.

Unit prices are resolved once per (model, speed) and cached; pricing an event is a few
multiplications. A model with no price resolves to None and is reported as unpriced,
never as $0.

Resolved prices are also kept in a small file beside the ledger (`price-cache.json`), keyed
by the price version (genai-prices' version and a digest of the overrides) and by
burnmeter's own version: importing genai-prices (with pydantic and httpx) costs ~0.1-0.3 s,
which a report after a few new log lines, or any sessions/repos report, would otherwise
pay on every run. Any change of version, or a damaged file, means resolving again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from shared import __version__ as BURNMETER_VERSION
from shared.paths import resources_dir
from shared.sources.events import UsageEvent

MTOK = 1_000_000
UNITS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
PRICE_CACHE_NAME = "price-cache.json"
# Bump when the way prices are resolved below changes: a cache written by other rules is
# then resolved again even where burnmeter's version number did not move.
# 2: a partial override keeps genai's other rates; 3: dated prices; 4: web-search fees;
# 5: US-only inference; 6: OpenAI service tiers (fast = priority, flex), OpenAI cache writes
# at the input rate where genai-prices has no write rate, model ids as Bedrock, Vertex and
# gateways log them resolved to the base model, bundled overrides matched exactly;
# 7: LiteLLM and OpenRouter routes (`bedrock/`, `vertex_ai/`, `azure/`, …) resolved too;
# 8: an override's `long_context` rates (Claude Sonnet 4 above 200k input)
PRICE_RULES = 8


@dataclass(frozen=True, slots=True)
class RatePerToken:
    """USD per token for each kind of token, at one context size."""

    input: float
    output: float
    cache_read: float
    cache_write_5m: float
    cache_write_1h: float


Tiers = tuple[tuple[int, RatePerToken], ...]


@dataclass(frozen=True, slots=True)
class UnitPrices:
    """A model's prices: a base rate and, for long-context models, rates that apply to the
    whole request once its total input reaches a threshold. `earlier` holds the prices a
    model had before a price change genai-prices records (claude-opus-4-6 had a
    long-context tier until 2026-03-13): (until_ms, base, tiers), oldest first; a call is
    priced by the period it was made in."""

    model_id: str
    base: RatePerToken
    tiers: Tiers = ()
    earlier: tuple[tuple[int, RatePerToken, Tiers], ...] = ()
    # USD per server-side web search (a fee per request, not per token: neither the
    # long-context tiers nor the fast multiplier touch it).
    web_search: float = 0.0

    def rate_for(self, total_input: int, ts_ms: int | None = None) -> RatePerToken:
        base, tiers = self.base, self.tiers
        if ts_ms is not None:
            for until_ms, earlier_base, earlier_tiers in self.earlier:
                if ts_ms < until_ms:
                    base, tiers = earlier_base, earlier_tiers
                    break
        rate = base
        for start, tier_rate in tiers:
            if total_input > start:
                rate = tier_rate
        return rate


def cost_of(prices: UnitPrices, event: UsageEvent, token_factor: float = 1.0) -> float:
    return cost_of_counts(
        prices,
        event.input_tokens,
        event.output_tokens,
        event.cache_write_5m_tokens,
        event.cache_write_1h_tokens,
        event.cache_read_tokens,
        event.ts_ms,
        event.web_search_requests,
        token_factor,
    )


def cost_of_counts(
    prices: UnitPrices,
    input_tokens: int,
    output_tokens: int,
    cache_write_5m_tokens: int,
    cache_write_1h_tokens: int,
    cache_read_tokens: int,
    ts_ms: int | None = None,
    web_search_requests: int = 0,
    token_factor: float = 1.0,
) -> float:
    """`cost_of` on plain counts (the ingest writer holds rows, not events); `ts_ms`, when
    the call's time is known, picks the price of its day; `token_factor` scales the
    tokens' part (US-only inference), not the per-search fees."""
    total_input = input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens
    rate = prices.rate_for(total_input, ts_ms)
    if token_factor != 1.0:
        rate = _scaled(rate, token_factor)
    tokens = (
        input_tokens * rate.input
        + output_tokens * rate.output
        + cache_read_tokens * rate.cache_read
        + cache_write_5m_tokens * rate.cache_write_5m
        + cache_write_1h_tokens * rate.cache_write_1h
    )
    # Added only when there are searches, so a call without any costs exactly what it
    # did before (`x + 0.0` would be the same float, but this is the hot path).
    return tokens + web_search_requests * prices.web_search if web_search_requests else tokens


# Anthropic's price for US-only inference on Claude 4.6 and later, every token category.
US_INFERENCE_FACTOR = 1.1
_CLAUDE_VERSION = re.compile(r"claude-[a-z]+-(\d+)(?:-(\d{1,2}))?(?:-|$)")


def _claude_from_4_6(model: str) -> bool:
    """claude-opus-4-6, claude-sonnet-4-6-20260217, claude-opus-5: yes; claude-haiku-4-5,
    claude-3-7-sonnet: no."""
    found = _CLAUDE_VERSION.match(model.lower())
    if found is None:
        return False
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    return (major, minor) >= (4, 6)


# How model ids reach the logs besides the plain name: a context-size suffix (Claude Code's
# `claude-opus-5[1m]`), a gateway's provider prefix (`anthropic/…`, `openai/…`), Bedrock's
# `us.anthropic.claude-opus-5-5-v1:0` and Vertex's `claude-opus-5-5@20260923`.
_CONTEXT_SUFFIX = re.compile(r"\[\d+[km]\]$", re.IGNORECASE)
# Gateways (LiteLLM, OpenRouter) log a route before the model id, sometimes two:
# `bedrock/us.anthropic.claude-…`, `vertex_ai/claude-…@DATE`, `openrouter/openai/gpt-5.5`.
_PROVIDER_PREFIX = re.compile(
    r"^(?:(?:anthropic|openai|bedrock(?:/converse|/invoke)?|bedrock_converse|vertex_ai|azure"
    r"|azure_ai|openrouter)/)+",
    re.IGNORECASE,
)
_BEDROCK_ID = re.compile(
    r"^(?:[a-z]{2,}(?:-[a-z]+)?\.)?anthropic\.(claude-.+?)(?:-v\d+(?::\d+)?)?$", re.IGNORECASE
)
_VERTEX_ID = re.compile(r"^(claude-[^@]+)@[^@]+$", re.IGNORECASE)


def base_model_id(model: str) -> str:
    """The model id a logged name stands for, for looking up its price and tier:
    `claude-opus-5[1m]`, `anthropic/claude-opus-5`, `us.anthropic.claude-opus-5-v1:0` and
    `claude-opus-5@20260101` are `claude-opus-5`, `openai/gpt-5.5`, `azure/gpt-5.5` and
    `openrouter/openai/gpt-5.5` are `gpt-5.5`; any other name is itself. Reports keep the
    name as logged."""
    name = _CONTEXT_SUFFIX.sub("", model.strip())
    name = _PROVIDER_PREFIX.sub("", name)
    for form in (_BEDROCK_ID, _VERTEX_ID):
        found = form.match(name)
        if found is not None:
            name = found.group(1)
    return name or model


def _provider_for(model: str) -> str | None:
    lowered = model.lower()
    if "claude" in lowered:
        return "anthropic"
    if lowered.startswith(("gpt", "o1", "o3", "o4", "codex")):
        return "openai"
    return None


def _unit_value(price: object) -> tuple[float, list[tuple[int, float]]]:
    """(base per-token price, [(threshold, per-token price)]) for a genai-prices unit."""
    if price is None:
        return 0.0, []
    if isinstance(price, Decimal | int | float):
        return float(price) / MTOK, []
    base = float(getattr(price, "base", 0)) / MTOK
    tiers = [(int(t.start), float(t.price) / MTOK) for t in getattr(price, "tiers", [])]
    return base, tiers


def _rates_from_genai(
    model_price: Any, provider: str | None = None
) -> tuple[RatePerToken, tuple[tuple[int, RatePerToken], ...]]:
    units: dict[str, tuple[float, list[tuple[int, float]]]] = {}
    for unit in UNITS:
        units[unit] = _unit_value(getattr(model_price, unit, None))
    input_base = units["input_mtok"][0]
    # Missing cache prices: tokens read from the cache without a price of their own are
    # input (as genai-prices counts them, long-context tiers included). Written ones are
    # too at OpenAI (before GPT-5.6 it billed no cache writes apart; Codex reports them
    # from 0.145); elsewhere they follow the provider's usual ratio to the input price.
    if units["cache_read_mtok"][0] == 0 and not units["cache_read_mtok"][1]:
        units["cache_read_mtok"] = units["input_mtok"]
    if units["cache_write_mtok"][0] == 0 and not units["cache_write_mtok"][1]:
        if provider == "openai":
            units["cache_write_mtok"] = units["input_mtok"]
        else:
            units["cache_write_mtok"] = (input_base * 1.25, [])
    if units["cache_write_1h_mtok"][0] == 0 and not units["cache_write_1h_mtok"][1]:
        units["cache_write_1h_mtok"] = (input_base * 2.0, [])

    def rate_at(threshold: int | None) -> RatePerToken:
        def pick(unit: str) -> float:
            base, tiers = units[unit]
            value = base
            if threshold is not None:
                for start, tier_price in tiers:
                    if start <= threshold:
                        value = tier_price
            return value

        return RatePerToken(
            input=pick("input_mtok"),
            output=pick("output_mtok"),
            cache_read=pick("cache_read_mtok"),
            cache_write_5m=pick("cache_write_mtok"),
            cache_write_1h=pick("cache_write_1h_mtok"),
        )

    thresholds = sorted({start for _, tiers in units.values() for start, _ in tiers})
    return rate_at(None), tuple((start, rate_at(start)) for start in thresholds)


def _per_token(entry: dict[str, Any], key: str) -> float | None:
    """An override's rate `key` (USD per million tokens) per token; None if it gives none."""
    value = entry.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / MTOK
    return None


def _rates_from_override(
    entry: dict[str, Any], known: RatePerToken | None = None, write_ratio: float = 1.25
) -> RatePerToken | None:
    """The rates an override gives; a rate it leaves out comes from `known` (genai-prices'
    rates for the model), and a cache rate from its own input rate when it gives one (×0.1
    read, ×`write_ratio` (1.25) and ×2 written). None if input or output has no rate either
    way: the model is then unpriced, never charged $0 for what the override forgot."""

    input_rate = _per_token(entry, "input_mtok")
    output_rate = _per_token(entry, "output_mtok")
    if known is not None:
        input_rate = known.input if input_rate is None else input_rate
        output_rate = known.output if output_rate is None else output_rate
    if input_rate is None or output_rate is None:
        return None
    if known is None or "input_mtok" in entry:
        fallback = (input_rate * 0.1, input_rate * write_ratio, input_rate * 2.0)
    else:
        fallback = (known.cache_read, known.cache_write_5m, known.cache_write_1h)
    given_cache = (
        _per_token(entry, key)
        for key in ("cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
    )
    cache = (
        default if rate is None else rate
        for rate, default in zip(given_cache, fallback, strict=True)
    )
    return RatePerToken(input_rate, output_rate, *cache)


def _long_context_tier(
    entry: dict[str, Any], base: RatePerToken
) -> tuple[int, RatePerToken] | None:
    """An override's `long_context` as a tier: (threshold, rates), the rates it leaves out
    being `base`'s (before any fast multiplier); None if it names no threshold."""
    start = entry.get("above_input_tokens")
    if not isinstance(start, int) or isinstance(start, bool) or start < 1:
        return None

    def rate(key: str, default: float) -> float:
        given = _per_token(entry, key)
        return default if given is None else given

    return start, RatePerToken(
        input=rate("input_mtok", base.input),
        output=rate("output_mtok", base.output),
        cache_read=rate("cache_read_mtok", base.cache_read),
        cache_write_5m=rate("cache_write_mtok", base.cache_write_5m),
        cache_write_1h=rate("cache_write_1h_mtok", base.cache_write_1h),
    )


def _override_web_search(entry: dict[str, Any], known: UnitPrices | None) -> float:
    """USD per web search: the override's `web_searches_kcount` (per 1,000), else
    genai-prices' fee for the model, else none."""
    value = entry.get("web_searches_kcount")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000
    return 0.0 if known is None else known.web_search


def _write_ratio(model: str, known: RatePerToken | None) -> float:
    """What an override's input rate is multiplied by for cache writes it gives no rate
    for: Anthropic's 1.25; for an OpenAI model, the model's own ratio in genai-prices
    (1.25 from GPT-5.6, 1 before: its writes were input), 1 for one it does not know."""
    if _provider_for(base_model_id(model)) != "openai":
        return 1.25
    if known is None or known.input <= 0:
        return 1.0
    return known.cache_write_5m / known.input


def _scaled(rate: RatePerToken, factor: float) -> RatePerToken:
    return RatePerToken(
        input=rate.input * factor,
        output=rate.output * factor,
        cache_read=rate.cache_read * factor,
        cache_write_5m=rate.cache_write_5m * factor,
        cache_write_1h=rate.cache_write_1h * factor,
    )


def _scaled_tiers(tiers: Tiers, factor: float) -> Tiers:
    return tuple((start, _scaled(rate, factor)) for start, rate in tiers)


def load_bundled_overrides() -> dict[str, dict[str, Any]]:
    path = resources_dir() / "price_overrides.json"
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    models = loaded.get("models", {})
    return models if isinstance(models, dict) else {}


def price_cache_file(ledger_file: Path) -> Path:
    """Where the resolved prices of the ledger at `ledger_file` are kept."""
    return ledger_file.with_name(PRICE_CACHE_NAME)


@functools.cache
def _genai_prices_version() -> str:
    # The distribution's metadata, as genai_prices.__version__ reads it, without importing
    # the package itself; once per process (~0.7 ms a lookup: the tray and the language
    # server build a PriceBook per session detail and per hints pass).
    from importlib.metadata import version

    return version("genai_prices")


class PriceBook:
    """Resolves and caches unit prices per (model, speed); with `cache_file`, also across
    runs (see the module docstring)."""

    def __init__(
        self,
        user_overrides: dict[str, dict[str, Any]] | None = None,
        cache_file: Path | None = None,
    ) -> None:
        # Per model, the user's keys over the bundled ones: rates of their own for
        # claude-opus-4-6 keep the bundled fast_multiplier (dropped before, so its fast
        # calls fell to standard rates), unless they give one too.
        bundled = load_bundled_overrides()
        # A user's entry matches every name it begins (`[prices."my-model"]` covers
        # my-model-2); a bundled one only its own name, dated (`claude-mythos-5-20260101`),
        # or its base name (`us.anthropic.claude-mythos-5-v1:0`): `claude-mythos-5` must
        # not price claude-mythos-5-2, which genai-prices knows.
        self._user_names = frozenset(user_overrides or {})
        self._overrides = {
            **bundled,
            **{
                model: {**bundled.get(model, {}), **entry}
                for model, entry in (user_overrides or {}).items()
            },
        }
        self._cache: dict[tuple[str, str], UnitPrices | None] = {}
        digest = hashlib.sha256(json.dumps(self._overrides, sort_keys=True).encode()).hexdigest()
        # The rules' number too: a burnmeter that prices differently (web searches, dated
        # prices) leaves stored costs to reprice just as a new genai-prices does.
        self.version = f"genai-prices {_genai_prices_version()}+{digest[:8]} rules {PRICE_RULES}"
        self._cache_file = cache_file
        self._stored: dict[str, Any] | None = None

    def prices_for(self, model: str, speed: str = "standard") -> UnitPrices | None:
        key = (model, speed)
        if key not in self._cache:
            self._cache[key] = self._stored_or_resolved(model, speed)
        return self._cache[key]

    def _stored_or_resolved(self, model: str, speed: str) -> UnitPrices | None:
        if self._cache_file is None:
            return self._resolve(model, speed)
        if self._stored is None:
            self._stored = self._load_stored()
        entry_key = f"{speed}:{model}"
        if entry_key in self._stored:
            try:
                return _unit_prices_from_json(self._stored[entry_key])
            except ValueError:
                pass  # not an entry this code wrote: resolved again
        resolved = self._resolve(model, speed)
        self._stored[entry_key] = None if resolved is None else _unit_prices_json(resolved)
        self._save_stored()
        return resolved

    def _stamp(self) -> dict[str, Any]:
        return {"rules": PRICE_RULES, "burnmeter": BURNMETER_VERSION, "version": self.version}

    def _load_stored(self) -> dict[str, Any]:
        assert self._cache_file is not None
        try:
            loaded = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: resolved again and rewritten
        if not isinstance(loaded, dict) or loaded.get("stamp") != self._stamp():
            return {}
        prices = loaded.get("prices")
        return dict(prices) if isinstance(prices, dict) else {}

    def _save_stored(self) -> None:
        assert self._cache_file is not None and self._stored is not None
        target = self._cache_file
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            temporary.write_text(
                json.dumps({"stamp": self._stamp(), "prices": self._stored}, sort_keys=True),
                encoding="utf-8",
            )
            os.replace(temporary, target)  # readers see the old file or the new one
        except OSError:
            # Only a cache: the next run resolves again.
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)

    def cost(self, event: UsageEvent) -> float | None:
        if event.free:
            return 0.0
        prices = self.prices_for(event.model, event.speed)
        if prices is None:
            return None
        factor = self.us_factor(event.model) if event.inference_geo == "us" else 1.0
        return cost_of(prices, event, factor)

    def us_factor(self, model: str) -> float:
        """What US-only inference (`inference_geo: "us"`) multiplies a call's tokens by:
        an override's `us_inference_multiplier`, else Anthropic's 1.1 on Claude 4.6 and
        later (its data-residency pricing), else 1."""
        override = self._override_for(model)
        given = None if override is None else override.get("us_inference_multiplier")
        if isinstance(given, int | float) and not isinstance(given, bool):
            return float(given)
        return US_INFERENCE_FACTOR if _claude_from_4_6(base_model_id(model)) else 1.0

    def override_gaps(self, model: str) -> tuple[str, list[str]] | None:
        """For a model an override names but leaves unpriced: the override's name and the
        rates it lacks (`input_mtok`, `output_mtok`) that genai-prices cannot fill."""
        name = self._override_name(model)
        if name is None or self.prices_for(model) is not None:
            return None
        override = self._overrides[name]
        lacking = [rate for rate in ("input_mtok", "output_mtok") if rate not in override]
        return name, lacking

    def _override_for(self, model: str) -> dict[str, Any] | None:
        name = self._override_name(model)
        return None if name is None else self._overrides[name]

    def _override_name(self, model: str) -> str | None:
        """The override that applies to `model`: its own name (as logged, else its base
        name, `base_model_id`), else the longest that begins it (a bundled one: that is
        its name with a date after it)."""
        names = dict.fromkeys((model, base_model_id(model)))
        for name in names:
            if name in self._overrides:
                return name
        for name in names:
            matches = [entry for entry in self._overrides if self._begins(entry, name)]
            if matches:
                return max(matches, key=len)
        return None

    def _begins(self, entry: str, model: str) -> bool:
        if not model.startswith(entry):
            return False
        return entry in self._user_names or _DATE_SUFFIX.fullmatch(model[len(entry) :]) is not None

    def _resolve(self, model: str, speed: str) -> UnitPrices | None:
        resolved = self._resolve_without_long_context(model, speed)
        override = self._override_for(model)
        if resolved is None or not override or not isinstance(override.get("long_context"), dict):
            return resolved
        standard = (
            resolved
            if speed == "standard"
            else self._resolve_without_long_context(model, "standard")
        )
        if standard is None:
            return resolved
        tier = _long_context_tier(override["long_context"], standard.base)
        if tier is None:
            return resolved
        # A fast or flex call's long-context rates move with its base rates (a fast
        # multiplier, or genai-prices' own priority or flex prices).
        if standard.base.input > 0 and resolved.base.input != standard.base.input:
            tier = (tier[0], _scaled(tier[1], resolved.base.input / standard.base.input))
        others = tuple(kept for kept in resolved.tiers if kept[0] != tier[0])
        return dataclasses.replace(
            resolved, tiers=tuple(sorted((*others, tier), key=lambda kept: kept[0]))
        )

    def _resolve_without_long_context(self, model: str, speed: str) -> UnitPrices | None:
        override = self._override_for(model)
        if override is not None and any(key in override for key in UNITS):
            # A rate override is a flat price: genai-prices fills only the rates it leaves
            # out (its long-context tiers would price the user's rates wrongly).
            known = self._resolve_genai(model, "standard")
            base = _rates_from_override(
                override,
                None if known is None else known.base,
                _write_ratio(model, None if known is None else known.base),
            )
            if base is None:
                return None
            if speed == "fast":
                base = _scaled(base, float(override.get("fast_multiplier", 1.0)))
            return UnitPrices(
                model_id=model,
                base=base,
                web_search=_override_web_search(override, known),
            )
        resolved = self._resolve_genai(model, speed)
        if resolved is None:
            return None
        already_fast = resolved.model_id.endswith("+fast")
        if speed == "fast" and not already_fast and override and "fast_multiplier" in override:
            factor = float(override["fast_multiplier"])
            return UnitPrices(
                resolved.model_id,
                _scaled(resolved.base, factor),
                _scaled_tiers(resolved.tiers, factor),
                tuple(
                    (until, _scaled(base, factor), _scaled_tiers(tiers, factor))
                    for until, base, tiers in resolved.earlier
                ),
                resolved.web_search,
            )
        if override and "web_searches_kcount" in override:
            return dataclasses.replace(
                resolved, web_search=_override_web_search(override, resolved)
            )
        return resolved

    def _resolve_genai(self, model: str, speed: str) -> UnitPrices | None:
        from genai_prices import Usage, calc_price

        name = base_model_id(model)
        try:
            found = calc_price(Usage(input_tokens=1), name, provider_id=_provider_for(name))
        except Exception:
            try:
                found = calc_price(Usage(input_tokens=1), name)
            except Exception:
                return None
        provider = getattr(found.provider, "id", None)
        context = _variant_context(found.model, speed)
        if context is None:
            model_price = found.model_price
            suffix = ""
        else:
            now = datetime.now(UTC)
            model_price = (
                _prices_on(found.model, now.date(), context)
                if _dated_only(found.model, context)
                else found.model.get_prices(now, context)
            )
            suffix = f"+{speed}"  # "+fast" also tells `_resolve` not to multiply again
        base, tiers = _rates_from_genai(model_price, provider)
        return UnitPrices(
            model_id=found.model.id + suffix,
            base=base,
            tiers=tiers,
            earlier=_earlier_periods(found.model, None, context, provider),
            web_search=_web_search_fee(model_price),
        )


_DATE_SUFFIX = re.compile(r"-\d{8}")
# The request context of genai-prices' price variants a call's `speed` stands for, most
# fitting first: Claude's fast mode; a Codex call on the priority tier ("Fast" in Codex,
# stored as speed "fast"; genai-prices names it both ways) or the flex tier.
SPEED_CONTEXTS: dict[str, tuple[dict[str, str], ...]] = {
    "fast": ({"speed": "fast"}, {"service_tier": "priority"}, {"service_tier": "fast"}),
    "flex": ({"service_tier": "flex"},),
}
_PRICE_KEYS = (*UNITS, "web_searches_kcount")


def _variant_context(model: Any, speed: str) -> dict[str, str] | None:
    """The first of `speed`'s contexts genai-prices has prices for on `model` (on any
    day), or None: the call is priced at the standard rates."""
    variants = getattr(model, "price_variants", None) or []
    for context in SPEED_CONTEXTS.get(speed, ()):
        for variant in variants:
            if variant.when == context and any(
                getattr(variant.prices, key, None) is not None for key in _PRICE_KEYS
            ):
                return context
    return None


def _dated_only(model: Any, context: dict[str, str] | None) -> bool:
    """Whether the model's prices (and its variants for `context`) change by date only:
    one undated price, the others and the variants from a start date or always."""
    conditional = getattr(model, "prices", None)
    constraints = []
    if isinstance(conditional, list):
        if sum(entry.constraint is None for entry in conditional) != 1:
            return False
        constraints = [entry.constraint for entry in conditional if entry.constraint is not None]
    constraints += [variant.constraint for variant in _variants_for(model, context)]
    return all(c is None or hasattr(c, "start_date") for c in constraints)


def _variants_for(model: Any, context: dict[str, str] | None) -> list[Any]:
    if not context:
        return []
    return [
        variant
        for variant in getattr(model, "price_variants", None) or []
        if all(context.get(key) == value for key, value in variant.when.items())
    ]


def _first_of_their_kind(variants: list[Any]) -> set[int]:
    """Of `variants`, the ids of those each `when` starts with: the undated one, else the
    earliest dated. genai-prices dates the first price it records of a tier (every OpenAI
    priority and flex price "from 2026-10-12") though the tier cost that before; such a
    price holds back to the model's first day, and only a later one is a price change."""
    first: dict[str, Any] = {}
    for variant in variants:
        kind = json.dumps(variant.when, sort_keys=True)
        if kind not in first or _start_of(variant) < _start_of(first[kind]):
            first[kind] = variant
    return {id(variant) for variant in first.values()}


def _start_of(variant: Any) -> date:
    return date.min if variant.constraint is None else variant.constraint.start_date


def _prices_on(model: Any, day: date, context: dict[str, str] | None) -> Any:
    """The model's prices on `day` (UTC) in `context`, put together as genai-prices'
    `get_prices` does (the latest dated price started by then, else the undated one; each
    price key overridden by the first variant for the context in force that day), but for
    a tier's first recorded price holding before its date (`_first_of_their_kind`). For
    models whose prices change by date only (`_dated_only`)."""
    conditional = getattr(model, "prices", None)
    if isinstance(conditional, list):
        standard = next(e.prices for e in conditional if e.constraint is None)
        started = [
            e for e in conditional if e.constraint is not None and e.constraint.start_date <= day
        ]
        if started:
            standard = max(started, key=lambda e: e.constraint.start_date).prices
    else:
        standard = conditional
    merged = {key: getattr(standard, key, None) for key in _PRICE_KEYS}
    variants = _variants_for(model, context)
    first = _first_of_their_kind(variants)
    overrides: dict[str, Any] = {}
    for variant in variants:
        constraint = variant.constraint
        if constraint is not None and constraint.start_date > day and id(variant) not in first:
            continue
        for key in _PRICE_KEYS:
            value = getattr(variant.prices, key, None)
            if value is not None:
                overrides.setdefault(key, value)
    merged.update(overrides)
    return SimpleNamespace(**merged)


def _web_search_fee(model_price: Any) -> float:
    """USD per web search from genai-prices' `web_searches_kcount` (per 1,000), 0 if none."""
    value = getattr(model_price, "web_searches_kcount", None)
    return float(value) / 1000 if isinstance(value, Decimal | int | float) else 0.0


def _earlier_periods(
    model: Any,
    today: date | None = None,
    context: dict[str, str] | None = None,
    provider: str | None = None,
) -> tuple[tuple[int, RatePerToken, Tiers], ...]:
    """The model's prices before each change genai-prices dates (`StartDateConstraint`, on
    its prices or on a later variant for `context`): (the day the next price started, as
    UTC ms; the rates before it), oldest first, up to today's price (`today`: the current
    UTC date). Nothing for a model whose prices depend on anything but the date."""
    if not _dated_only(model, context):
        return ()
    conditional = getattr(model, "prices", None)
    constraints = []
    if isinstance(conditional, list):
        constraints = [entry.constraint for entry in conditional if entry.constraint is not None]
    variants = _variants_for(model, context)
    first = _first_of_their_kind(variants)
    constraints += [
        variant.constraint
        for variant in variants
        if variant.constraint is not None and id(variant) not in first
    ]
    today = today or datetime.now(UTC).date()
    # A price announced for later does not count yet: today's still holds.
    starts = sorted({c.start_date for c in constraints if c.start_date <= today})
    periods = []
    for start in starts:
        before = _prices_on(model, start - timedelta(days=1), context)
        base, tiers = _rates_from_genai(before, provider)
        until_ms = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
        periods.append((until_ms, base, tiers))
    return tuple(periods)


def _rate_json(rate: RatePerToken) -> list[float]:
    return [rate.input, rate.output, rate.cache_read, rate.cache_write_5m, rate.cache_write_1h]


def _unit_prices_json(prices: UnitPrices) -> list[Any]:
    # Floats go through JSON as their shortest repr, which reads back to the same float:
    # costs from the file equal costs from a fresh resolve to the last bit.
    return [
        prices.model_id,
        _rate_json(prices.base),
        _tiers_json(prices.tiers),
        [[until, _rate_json(base), _tiers_json(tiers)] for until, base, tiers in prices.earlier],
        prices.web_search,
    ]


def _tiers_json(tiers: Tiers) -> list[Any]:
    return [[start, _rate_json(rate)] for start, rate in tiers]


def _tiers_from_json(value: Any) -> Tiers:
    if not isinstance(value, list):
        raise ValueError(value)
    return tuple((int(start), _rate_from_json(rate)) for start, rate in value)


def _rate_from_json(value: Any) -> RatePerToken:
    if not (
        isinstance(value, list)
        and len(value) == 5
        and all(type(item) in (int, float) for item in value)
    ):
        raise ValueError(value)
    return RatePerToken(*(float(item) for item in value))


def _unit_prices_from_json(value: Any) -> UnitPrices | None:
    """The stored prices (None for a model stored as unpriced); ValueError if the entry is
    not one this code wrote."""
    if value is None:
        return None
    try:
        model_id, base, tiers, earlier, web_search = value
        if (
            not isinstance(model_id, str)
            or not isinstance(earlier, list)
            or type(web_search) not in (int, float)
        ):
            raise ValueError(value)
        return UnitPrices(
            model_id,
            _rate_from_json(base),
            _tiers_from_json(tiers),
            tuple(
                (int(until), _rate_from_json(old_base), _tiers_from_json(old_tiers))
                for until, old_base, old_tiers in earlier
            ),
            float(web_search),
        )
    except TypeError as exc:
        raise ValueError(value) from exc


def overrides_path() -> Path:
    return resources_dir() / "price_overrides.json"
