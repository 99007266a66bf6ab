"""Model names in the tier policy: a `[tier_policy] models` entry matches whatever the
case of its name, and a model with "codex" anywhere in its name is an OpenAI model, so a
hint reprices it with OpenAI's reference model."""

from __future__ import annotations

from shared.insights.tiers import TierPolicy, provider_of


def test_a_users_model_entry_matches_whatever_its_case() -> None:
    """`models = {"Acme-Coder-2" = "economy"}` tiers the model as logged in any case."""
    policy = TierPolicy.load({"models": {"Acme-Coder-2": "economy"}})
    assert policy.problems == []
    assert policy.tier_of("acme-coder-2") == "economy"
    assert policy.tier_of("ACME-Coder-2") == "economy"


def test_a_model_with_codex_inside_its_name_is_openais() -> None:
    """A fine-tuned or prefixed name ("ft:codex-mini-latest:acme") is OpenAI's: its
    reference model is OpenAI's, not Anthropic's."""
    name = "ft:codex-mini-latest:acme"
    assert provider_of(name) == "openai"
    policy = TierPolicy.load()
    assert policy.reference_model("economy", name) == policy.reference_model(
        "economy", "gpt-5.3-codex"
    )
    assert policy.reference_model("economy", name) != policy.reference_model(
        "economy", "claude-opus-4-7"
    )
