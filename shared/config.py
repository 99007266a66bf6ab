"""User settings: a TOML file in the platform config dir, validated with pydantic.

A broken file never stops burnmeter: the problem is reported and defaults are used, and
the file is left as it is for the user to fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.paths import config_file


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    daily_usd: float | None = Field(default=None, ge=0)
    weekly_usd: float | None = Field(default=None, ge=0)
    monthly_usd: float | None = Field(default=None, ge=0)


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: str = ""
    monthly_price_usd: float | None = Field(default=None, ge=0)


class PriceOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input_mtok: float | None = Field(default=None, ge=0)
    output_mtok: float | None = Field(default=None, ge=0)
    cache_read_mtok: float | None = Field(default=None, ge=0)
    cache_write_mtok: float | None = Field(default=None, ge=0)
    cache_write_1h_mtok: float | None = Field(default=None, ge=0)
    fast_multiplier: float | None = Field(default=None, ge=0)


class Roots(BaseModel):
    """Extra log roots, on top of the environment and the defaults."""

    model_config = ConfigDict(extra="forbid")
    claude: list[str] = Field(default_factory=list)
    codex: list[str] = Field(default_factory=list)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budgets: Budgets = Field(default_factory=Budgets)
    subscription: Subscription = Field(default_factory=Subscription)
    prices: dict[str, PriceOverride] = Field(default_factory=dict)
    roots: Roots = Field(default_factory=Roots)
    meter_mode: Literal["today", "session"] = "today"
    tier_policy: dict[str, Any] = Field(default_factory=dict)
    start_at_login: bool = False
    lsp_tcp: bool = False
    timezone: str = ""

    def price_overrides(self) -> dict[str, dict[str, Any]]:
        return {
            model: override.model_dump(exclude_none=True) for model, override in self.prices.items()
        }


@dataclass
class LoadedSettings:
    settings: Settings
    path: Path
    problems: list[str] = field(default_factory=list)


def load_settings(path: Path | None = None) -> LoadedSettings:
    """Settings from `path` (default: the config file); defaults, with the reason, if broken."""
    path = path or config_file()
    if not path.exists():
        return LoadedSettings(Settings(), path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return LoadedSettings(
            Settings(), path, [f"{path}: cannot read settings ({exc}); using defaults."]
        )
    try:
        return LoadedSettings(Settings.model_validate(raw), path)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return LoadedSettings(
            Settings(), path, [f"{path}: invalid settings ({details}); using defaults."]
        )


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    import tomli_w

    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = settings.model_dump(mode="json", exclude_none=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path
