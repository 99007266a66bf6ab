"""Model tiers and the kind of work a model call did.

Public API (used by the language server, the tray and the weekly summary):

- `TierPolicy.load(overrides)` / `TierPolicy.from_settings(settings)`: the policy from
  `resources/tier_policy.json`, with the user's `[tier_policy]` on top. Problems with the
  user's part are listed in `policy.problems` and that part is ignored.
- `policy.tier_of(model) -> "economy" | "standard" | "frontier" | "unknown"`.
- `policy.reference_model(tier, like_model=None) -> str`: the model a hint reprices with;
  `like_model` picks the provider (a Codex session is repriced at an OpenAI model).
- `work_kind(tool_names) -> "explore" | "change" | "run" | "delegate" | "chat"`: from tool
  names only (never their input). A call using several tools takes the strongest kind:
  change > delegate > run > explore; bookkeeping tools (todo lists, plans) do not count,
  so a call with only those is "chat".
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shared.paths import resources_dir

if TYPE_CHECKING:
    from shared.config import Settings

Tier = Literal["economy", "standard", "frontier", "unknown"]
WorkKind = Literal["explore", "change", "run", "delegate", "chat"]
TIERS: tuple[str, ...] = ("economy", "standard", "frontier")
TIER_RANK = {"economy": 0, "standard": 1, "frontier": 2}
PROVIDERS = ("anthropic", "openai")

CHANGE_TOOLS = frozenset(
    {"Edit", "Write", "MultiEdit", "NotebookEdit", "apply_patch", "str_replace_based_edit_tool"}
)
DELEGATE_TOOLS = frozenset({"Task", "Agent", "SendMessage", "spawn_agent", "delegate"})
RUN_TOOLS = frozenset(
    {
        "Bash",
        "BashOutput",
        "KillShell",
        "KillBash",
        "shell",
        "local_shell",
        "local_shell_call",
        "exec_command",
        "write_stdin",
        "unified_exec",
        "container.exec",
    }
)
EXPLORE_TOOLS = frozenset(
    {
        "Read",
        "Grep",
        "Glob",
        "LS",
        "WebFetch",
        "WebSearch",
        "ToolSearch",
        "ListMcpResourcesTool",
        "ReadMcpResourceTool",
        "view_image",
        "web_search",
        "read_file",
        "list_dir",
        "grep_files",
        "list_mcp_resources",
        "list_mcp_resource_templates",
        "read_mcp_resource",
    }
)
# Bookkeeping: to-do lists, plans and questions to the user say nothing about the work.
NEUTRAL_TOOLS = frozenset(
    {
        "TodoWrite",
        "TodoRead",
        "TaskCreate",
        "TaskUpdate",
        "TaskList",
        "TaskGet",
        "ExitPlanMode",
        "EnterPlanMode",
        "AskUserQuestion",
        "update_plan",
    }
)
# Unknown tools (MCP servers, plugins) whose name says they only look things up.
EXPLORE_WORDS = ("search", "fetch", "read", "list", "grep", "glob", "find", "get", "query")
KIND_ORDER: tuple[WorkKind, ...] = ("change", "delegate", "run", "explore")


def tool_kind(name: str) -> WorkKind | None:
    """The kind of one tool, or None for bookkeeping tools."""
    if name in NEUTRAL_TOOLS:
        return None
    if name in CHANGE_TOOLS:
        return "change"
    if name in DELEGATE_TOOLS:
        return "delegate"
    if name in RUN_TOOLS:
        return "run"
    if name in EXPLORE_TOOLS:
        return "explore"
    lowered = name.lower().rsplit("__", 1)[-1]
    if any(word in lowered for word in EXPLORE_WORDS):
        return "explore"
    # Anything else acts on the world (an MCP "execute_sql", a plugin): count it as running.
    return "run"


def work_kind(tool_names: Iterable[str]) -> WorkKind:
    kinds = {tool_kind(name) for name in tool_names}
    for kind in KIND_ORDER:
        if kind in kinds:
            return kind
    return "chat"


def provider_of(model: str) -> str:
    lowered = model.lower()
    if lowered.startswith(("gpt", "o1", "o3", "o4", "codex")) or "codex" in lowered:
        return "openai"
    return "anthropic"


@dataclass(frozen=True)
class TierRule:
    pattern: str
    tier: str


@dataclass
class TierPolicy:
    models: dict[str, str]
    rules: list[TierRule]
    reference_models: dict[str, dict[str, str]]
    problems: list[str] = field(default_factory=list)
    _cache: dict[str, Tier] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None) -> TierPolicy:
        return cls.load(settings.tier_policy if settings is not None else None)

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None) -> TierPolicy:
        defaults = json.loads((resources_dir() / "tier_policy.json").read_text("utf-8"))
        policy = cls(models={}, rules=[], reference_models={})
        policy._apply(defaults, "resources/tier_policy.json")
        if overrides:
            user = TierPolicy(models={}, rules=[], reference_models={})
            user._apply(overrides, "[tier_policy] in config.toml")
            policy.problems.extend(user.problems)
            # The user's rules are tried before the defaults; exact names and references win.
            policy.rules = user.rules + policy.rules
            policy.models.update(user.models)
            for tier, per_provider in user.reference_models.items():
                policy.reference_models.setdefault(tier, {}).update(per_provider)
        return policy

    def _apply(self, raw: Mapping[str, Any], origin: str) -> None:
        known = {"models", "rules", "reference_models", "_comment"}
        for key in raw:
            if key not in known:
                self.problems.append(f"{origin}: unknown key {key!r} ignored")
        models = raw.get("models", {})
        if isinstance(models, Mapping):
            for name, tier in models.items():
                if tier in (*TIERS, "unknown"):
                    self.models[str(name).lower()] = str(tier)
                else:
                    self.problems.append(f"{origin}: models.{name}: unknown tier {tier!r}")
        rules = raw.get("rules", [])
        for rule in rules if isinstance(rules, list) else []:
            pattern = rule.get("match") if isinstance(rule, Mapping) else None
            tier = rule.get("tier") if isinstance(rule, Mapping) else None
            if isinstance(pattern, str) and tier in (*TIERS, "unknown"):
                self.rules.append(TierRule(pattern.lower(), str(tier)))
            else:
                self.problems.append(
                    f"{origin}: rule {rule!r} needs a `match` pattern and a tier "
                    f"({', '.join(TIERS)} or unknown)"
                )
        references = raw.get("reference_models", {})
        if isinstance(references, Mapping):
            for tier, value in references.items():
                if tier not in TIERS:
                    self.problems.append(f"{origin}: reference_models.{tier}: unknown tier")
                elif isinstance(value, str):
                    # One model for every provider.
                    self.reference_models[tier] = dict.fromkeys(PROVIDERS, value)
                elif isinstance(value, Mapping):
                    self.reference_models[tier] = {str(k): str(v) for k, v in value.items()}

    def tier_of(self, model: str) -> Tier:
        cached = self._cache.get(model)
        if cached is not None:
            return cached
        lowered = model.lower()
        tier: str = self.models.get(lowered, "")
        if not tier:
            tier = next(
                (rule.tier for rule in self.rules if fnmatch.fnmatchcase(lowered, rule.pattern)),
                "unknown",
            )
        result: Tier = tier  # type: ignore[assignment]
        self._cache[model] = result
        return result

    def reference_model(self, tier: str, like_model: str | None = None) -> str:
        """The model a hint suggesting `tier` reprices with, from `like_model`'s provider."""
        per_provider = self.reference_models.get(tier, {})
        provider = provider_of(like_model) if like_model else "anthropic"
        if provider in per_provider:
            return per_provider[provider]
        if per_provider:
            return next(iter(per_provider.values()))
        raise KeyError(f"no reference model for tier {tier!r}")
