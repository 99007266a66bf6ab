"""Tier and work-kind rules: the order of work kinds in one call, MCP tool names, and how the
user's tier policy combines with the defaults."""

from __future__ import annotations

import pytest

from shared.insights.tiers import TierPolicy, tool_kind, work_kind


@pytest.mark.parametrize(
    ("tools", "kind"),
    [
        (["Task", "Edit"], "change"),  # change > delegate
        (["Bash", "Agent"], "delegate"),  # delegate > run
        (["Read", "Bash"], "run"),  # run > explore
        (["apply_patch", "spawn_agent", "exec_command", "read_file"], "change"),
        (["TodoWrite"], "chat"),
    ],
)
def test_a_call_with_several_tools_takes_the_strongest_kind(tools: list[str], kind: str) -> None:
    """change > delegate > run > explore, as the module documents."""
    assert work_kind(tools) == kind


def test_an_mcp_tools_kind_comes_from_its_own_name_not_its_servers() -> None:
    """`mcp__<server>__<tool>`: a server called "search-db" does not make its
    `execute_sql` tool a look-up; a `query` tool of a plain server is one."""
    assert tool_kind("mcp__search-db__execute_sql") == "run"
    assert tool_kind("mcp__warehouse__query") == "explore"


def test_user_rules_are_tried_before_the_default_rules() -> None:
    """A user rule for a name a default rule also matches (`*opus*` is frontier) wins."""
    policy = TierPolicy.load({"rules": [{"match": "claude-opus-9*", "tier": "economy"}]})
    assert policy.tier_of("claude-opus-9-1") == "economy"
    assert policy.tier_of("claude-opus-4-7") == "frontier"


def test_a_users_reference_model_for_one_provider_keeps_the_others_default() -> None:
    """`[tier_policy.reference_models.standard] openai = "…"` changes OpenAI's reference
    only; Anthropic's stays the default."""
    default = TierPolicy.load().reference_model("standard", "claude-opus-4-7")
    policy = TierPolicy.load({"reference_models": {"standard": {"openai": "gpt-5.1-codex"}}})
    assert policy.reference_model("standard", "gpt-5.5") == "gpt-5.1-codex"
    assert policy.reference_model("standard", "claude-opus-4-7") == default
