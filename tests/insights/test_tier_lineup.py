"""The default tier policy against the vendors' current line-ups (December 2026): every
current model in a tier (none "unknown"), model ids as gateways, Bedrock and Vertex log
them in their base model's tier, and each tier's reference model current, priced and of
its tier."""

from __future__ import annotations

import pytest

from shared.insights.tiers import TIERS, TierPolicy, provider_of
from shared.pricing import PriceBook


@pytest.mark.parametrize(
    ("model", "tier"),
    [
        # Anthropic: Haiku economy, Sonnet standard; Opus, Fable and Mythos (which shares
        # Fable's specifications and pricing) frontier.
        ("claude-haiku-5-5", "economy"),
        ("claude-sonnet-5-5", "standard"),
        ("claude-opus-5-5", "frontier"),
        ("claude-mythos-5", "frontier"),
        ("claude-mythos-5-1", "frontier"),
        ("claude-mythos-5-2", "frontier"),
        # GPT-5.6: Sol the flagship (gpt-5.6 is its alias), Terra balanced, Luna the fast,
        # lowest-cost tier.
        ("gpt-5.6-sol", "frontier"),
        ("gpt-5.6", "frontier"),
        ("gpt-5.6-terra", "standard"),
        ("gpt-5.6-luna", "economy"),
        # GPT-6: Astra the flagship; Sol the everyday workhorse beside it ($2 / $10, Terra
        # below it); Luna the light, fast one.
        ("gpt-6-astra", "frontier"),
        ("gpt-6.2-astra", "frontier"),
        ("gpt-6-sol", "standard"),
        ("gpt-6.1-sol", "standard"),
        ("gpt-6.2-sol", "standard"),
        ("gpt-6.1-terra", "standard"),
        ("gpt-6-luna", "economy"),
        ("gpt-6-cyber", "frontier"),
        # As gateways, Bedrock, Vertex and Claude Code's 1M-context ids name them.
        ("openai/gpt-5.5", "frontier"),
        ("openai/gpt-6-luna", "economy"),
        ("anthropic/claude-sonnet-5-5", "standard"),
        ("us.anthropic.claude-haiku-5-5-v1:0", "economy"),
        ("claude-sonnet-5-5@20260923", "standard"),
        ("claude-opus-5[1m]", "frontier"),
    ],
)
def test_current_models_have_their_line_ups_tier(model: str, tier: str) -> None:
    assert TierPolicy.load().tier_of(model) == tier


def test_a_users_exact_name_for_a_logged_id_still_wins() -> None:
    policy = TierPolicy.load({"models": {"openai/gpt-5.5": "standard"}})
    assert policy.tier_of("openai/gpt-5.5") == "standard"
    assert policy.tier_of("gpt-5.5") == "frontier"


def test_a_gateway_id_of_an_openai_model_is_openai_s() -> None:
    assert provider_of("openai/gpt-5.5") == "openai"
    assert provider_of("us.anthropic.claude-opus-5-5-v1:0") == "anthropic"


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_each_reference_model_is_priced_and_of_its_tier(tier: str, provider: str) -> None:
    policy = TierPolicy.load()
    model = policy.reference_models[tier][provider]
    assert policy.tier_of(model) == tier
    assert provider_of(model) == provider
    assert PriceBook().prices_for(model) is not None


def test_the_reference_models_are_each_tiers_current_model() -> None:
    """Claude Code's haiku, sonnet and opus aliases name the 5.5 models; Codex offers
    GPT-6 Luna, Sol and Astra (the references were Claude 4.5's, gpt-5.1-codex-mini,
    gpt-5.3-codex and gpt-5.5)."""
    assert TierPolicy.load().reference_models == {
        "economy": {"anthropic": "claude-haiku-5-5", "openai": "gpt-6-luna"},
        "standard": {"anthropic": "claude-sonnet-5-5", "openai": "gpt-6-sol"},
        "frontier": {"anthropic": "claude-opus-5-5", "openai": "gpt-6-astra"},
    }
