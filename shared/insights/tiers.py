"""Model tiers and the kind of work a model call did.

Public API (used by the language server, the tray and the weekly summary):

- `TierPolicy.load(overrides)` / `TierPolicy.from_settings(settings)`: the policy from
  `resources/tier_policy.json`, with the user's `[tier_policy]` on top. Problems with the
  user's part are listed in `policy.problems` and that part is ignored.
- `checked_policy(raw) -> (valid part, problems)`: what `load` keeps of a policy and what
  it leaves out; `shared.config.load_settings` reports `[tier_policy]`'s problems with the
  other settings' through it (so `from_settings` of loaded settings has none left).
- `policy.tier_of(model) -> "economy" | "standard" | "frontier" | "unknown"`: by the name
  as logged, else by its base name (`shared.pricing.base_model_id`: a Bedrock, Vertex or
  gateway id, a `[1m]` suffix), so `openai/gpt-5.5` is gpt-5.5's tier.
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
from shared.pricing import base_model_id

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
    lowered = base_model_id(model).lower()
    if lowered.startswith(("gpt", "o1", "o3", "o4", "codex")) or "codex" in lowered:
        return "openai"
    return "anthropic"


POLICY_KEYS = ("models", "rules", "reference_models")
TIER_NAMES = f"{', '.join(TIERS)} or unknown"


def checked_policy(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The valid part of a tier policy (`[tier_policy]` in config.toml, or
    `resources/tier_policy.json`), in its own shape (empty parts dropped), and each entry
    left out as "name: why" (names as in the file: `models.NAME`,
    `reference_models.TIER.PROVIDER`)."""
    problems: list[str] = []
    valid: dict[str, Any] = {"models": {}, "rules": [], "reference_models": {}}
    for key in raw:
        if key not in (*POLICY_KEYS, "_comment"):
            problems.append(f"{key}: unknown setting (a typo?)")
    models = raw.get("models", {})
    if not isinstance(models, Mapping):
        problems.append(
            f"models: must be a table of model names and tiers ({TIER_NAMES}), not {models!r}"
        )
        models = {}
    for name, tier in models.items():
        if tier in (*TIERS, "unknown"):
            valid["models"][name] = tier
        else:
            problems.append(f"models.{name}: unknown tier {tier!r} ({TIER_NAMES})")
    rules = raw.get("rules", [])
    if not isinstance(rules, list):
        problems.append(
            f"rules: must be a list of {{ match = PATTERN, tier = TIER }}, not {rules!r}"
        )
        rules = []
    for rule in rules:
        pattern = rule.get("match") if isinstance(rule, Mapping) else None
        tier = rule.get("tier") if isinstance(rule, Mapping) else None
        if not (isinstance(pattern, str) and pattern and tier in (*TIERS, "unknown")):
            problems.append(
                f"rules: rule {rule!r} needs a `match` pattern and a tier ({TIER_NAMES})"
            )
            continue
        extra = [key for key in rule if key not in ("match", "tier")]
        if extra:
            # Left out whole, as the message says: a key the user meant to narrow the
            # rule with (a typo, or one rules do not have) would otherwise be dropped
            # silently and the rule applied wider than written.
            names = ", ".join(repr(key) for key in extra)
            problems.append(f"rules: rule {rule!r}: unknown key {names} (a typo?)")
            continue
        valid["rules"].append({"match": pattern, "tier": tier})
    references = raw.get("reference_models", {})
    if not isinstance(references, Mapping):
        problems.append(f"reference_models: must be a table of tiers, not {references!r}")
        references = {}
    for tier, value in references.items():
        where = f"reference_models.{tier}"
        if tier not in TIERS:
            problems.append(f"{where}: unknown tier ({', '.join(TIERS)})")
        elif isinstance(value, str) and value:
            valid["reference_models"][tier] = value
        elif isinstance(value, Mapping):
            per_provider = {}
            for provider, model in value.items():
                if provider not in PROVIDERS:
                    problems.append(
                        f"{where}.{provider}: unknown provider ({' or '.join(PROVIDERS)})"
                    )
                elif isinstance(model, str) and model:
                    per_provider[provider] = model
                else:
                    problems.append(f"{where}.{provider}: must be a model name, not {model!r}")
            if per_provider:
                valid["reference_models"][tier] = per_provider
        else:
            problems.append(
                f"{where}: must be a model name or a table of them by provider "
                f"({' and '.join(PROVIDERS)}), not {value!r}"
            )
    return {key: value for key, value in valid.items() if value}, problems


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
        valid, problems = checked_policy(raw)
        self.problems.extend(f"{origin}: {problem}" for problem in problems)
        models = valid.get("models", {})
        self.models.update((str(name).lower(), tier) for name, tier in models.items())
        rules = valid.get("rules", [])
        self.rules.extend(TierRule(rule["match"].lower(), rule["tier"]) for rule in rules)
        for tier, value in valid.get("reference_models", {}).items():
            # A plain name is one model for every provider.
            per_provider = dict.fromkeys(PROVIDERS, value) if isinstance(value, str) else value
            self.reference_models[tier] = dict(per_provider)

    def tier_of(self, model: str) -> Tier:
        cached = self._cache.get(model)
        if cached is not None:
            return cached
        names = tuple(dict.fromkeys((model.lower(), base_model_id(model).lower())))
        tier: str = next((self.models[name] for name in names if name in self.models), "")
        if not tier:
            tier = next(
                (
                    rule.tier
                    for rule in self.rules
                    if any(fnmatch.fnmatchcase(name, rule.pattern) for name in names)
                ),
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
