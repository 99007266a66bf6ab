"""Subscription plan presets: the plans the settings window offers, their monthly list
price, and the agent each one pays for.

A Claude plan (Pro, Max 5x, Max 20x) covers Claude Code; a ChatGPT plan (Plus, Pro)
covers Codex. Leverage counts only the plan's agent, and takes a preset's price when
`[subscription] monthly_price_usd` is not set.

- `plan_agent(plan)`: "claude-code" for a preset Claude plan or any name starting
  "Claude", "codex" for a preset ChatGPT plan or any name starting "ChatGPT" (in any
  case), else None: a name that names neither counts every agent.
- `preset_price(plan)`: the list price of a preset plan, its name matched in any case and
  spacing; None for any other name.

No Qt here: used by the CLI, the weekly summary and the tray alike (the settings window
offers `PRESETS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.sources.agents import CLAUDE, CODEX


@dataclass(frozen=True)
class PlanPreset:
    name: str
    monthly_price_usd: float
    agent: str


PRESETS = (
    PlanPreset("Claude Pro", 20.0, CLAUDE),
    PlanPreset("Claude Max 5x", 100.0, CLAUDE),
    PlanPreset("Claude Max 20x", 200.0, CLAUDE),
    PlanPreset("ChatGPT Plus", 20.0, CODEX),
    PlanPreset("ChatGPT Pro", 200.0, CODEX),
)
# A plan's name starting with one of these pays for that agent.
_PREFIXES = (("claude", CLAUDE), ("chatgpt", CODEX))


def _key(plan: str) -> str:
    return " ".join(plan.split()).casefold()


def preset(plan: str) -> PlanPreset | None:
    key = _key(plan)
    return next((p for p in PRESETS if _key(p.name) == key), None)


def preset_price(plan: str) -> float | None:
    found = preset(plan)
    return None if found is None else found.monthly_price_usd


def plan_agent(plan: str) -> str | None:
    found = preset(plan)
    if found is not None:
        return found.agent
    key = _key(plan)
    return next((agent for prefix, agent in _PREFIXES if key.startswith(prefix)), None)
