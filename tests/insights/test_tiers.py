"""Tier policy and work kinds: defaults from resources/, user overrides on top."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.insights.tiers import TierPolicy, work_kind


@pytest.mark.parametrize(
    ("model", "tier"),
    [
        ("claude-haiku-4-5-20251001", "economy"),
        ("gpt-5.1-codex-mini", "economy"),
        ("gpt-5-mini", "economy"),
        ("claude-sonnet-4-5-20250929", "standard"),
        ("gpt-5.3-codex", "standard"),
        ("gpt-5", "standard"),
        ("claude-opus-4-7", "frontier"),
        ("claude-fable-5", "frontier"),
        ("gpt-5.5", "frontier"),
        ("llama-3-70b", "unknown"),
    ],
)
def test_default_tiers(model: str, tier: str) -> None:
    assert TierPolicy.load().tier_of(model) == tier


def test_reference_model_follows_the_provider() -> None:
    """The reference models are each tier's current model (they were Claude 4.5's and
    gpt-5.1-codex-mini / gpt-5.3-codex until Claude Code's aliases and Codex moved on)."""
    policy = TierPolicy.load()
    assert policy.reference_model("economy", "claude-opus-4-7") == "claude-haiku-5-5"
    assert policy.reference_model("economy", "gpt-5.5") == "gpt-6-luna"
    assert policy.reference_model("economy", "openai/gpt-5.5") == "gpt-6-luna"
    assert policy.reference_model("standard") == "claude-sonnet-5-5"


def test_user_policy_wins_and_bad_entries_are_reported() -> None:
    settings = Settings.model_validate(
        {
            "tier_policy": {
                "models": {"claude-sonnet-4-5": "frontier"},
                "rules": [{"match": "llama*", "tier": "economy"}, {"match": "x*"}],
                "reference_models": {"economy": "claude-3-5-haiku"},
            }
        }
    )
    policy = TierPolicy.from_settings(settings)
    assert policy.tier_of("claude-sonnet-4-5") == "frontier"
    assert policy.tier_of("claude-sonnet-4-6") == "standard"
    assert policy.tier_of("llama-3-70b") == "economy"
    assert policy.reference_model("economy", "gpt-5.5") == "claude-3-5-haiku"
    assert len(policy.problems) == 1 and "'x*'" in policy.problems[0]


@pytest.mark.parametrize(
    ("tools", "kind"),
    [
        ([], "chat"),
        (["TodoWrite"], "chat"),
        (["Read", "Grep"], "explore"),
        (["Read", "Edit"], "change"),
        (["apply_patch"], "change"),
        (["Bash", "Read"], "run"),
        (["exec_command"], "run"),
        (["Task", "Bash"], "delegate"),
        (["WebFetch"], "explore"),
        (["mcp__db__list_tables"], "explore"),
        (["mcp__db__execute_sql"], "run"),
    ],
)
def test_work_kind(tools: list[str], kind: str) -> None:
    assert work_kind(tools) == kind
