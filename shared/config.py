"""User settings: a TOML file in the platform config dir, validated with pydantic.

A broken file never stops burnmeter: a setting that is not valid (a typo in a name, a
value of the wrong type, an unknown time zone) is reported and left out, and its default
is used, while the rest of the file applies; a file that cannot be read or is not TOML is
reported and all defaults are used. The file is left as it is for the user to fix.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.config_fast import bad_roots, cannot_read, roots_not_a_table
from shared.paths import config_file

# Every table is strict (a number is a TOML number, not a string or a boolean: `true` was
# taken for 1 and `"20"` for 20) and refuses NaN and infinity (`1e400` is infinity in TOML:
# a budget of $inf, a plan price printed with 300 digits). The upper bounds keep a value
# a typo made absurd from reaching the reports; the README's Configuration section lists them.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
MONEY_MAX = 1e9  # any dollar amount: a budget, a plan, a price per million tokens
MULTIPLIER_MAX = 100.0
CALLS_MAX = 1_000_000
TOKENS_MAX = 1_000_000_000


def _money() -> Any:
    return Field(default=None, ge=0, le=MONEY_MAX)


class Budgets(BaseModel):
    model_config = STRICT
    daily_usd: float | None = _money()
    weekly_usd: float | None = _money()
    monthly_usd: float | None = _money()


class Subscription(BaseModel):
    model_config = STRICT
    plan: str = ""
    monthly_price_usd: float | None = _money()


class LongContext(BaseModel):
    """The rates of a whole request whose input (cache reads and writes included) is over
    `above_input_tokens`; a rate left out is the base rate's."""

    model_config = STRICT
    above_input_tokens: int = Field(ge=1, le=1_000_000_000)
    input_mtok: float | None = _money()
    output_mtok: float | None = _money()
    cache_read_mtok: float | None = _money()
    cache_write_mtok: float | None = _money()
    cache_write_1h_mtok: float | None = _money()


class PriceOverride(BaseModel):
    model_config = STRICT
    input_mtok: float | None = _money()
    output_mtok: float | None = _money()
    cache_read_mtok: float | None = _money()
    cache_write_mtok: float | None = _money()
    cache_write_1h_mtok: float | None = _money()
    fast_multiplier: float | None = Field(default=None, ge=0, le=MULTIPLIER_MAX)
    # USD per 1,000 server-side web searches (Claude's web search tool).
    web_searches_kcount: float | None = _money()
    # What US-only inference (`inference_geo: "us"`) multiplies the tokens' price by.
    us_inference_multiplier: float | None = Field(default=None, ge=0, le=MULTIPLIER_MAX)
    # Long-context rates (`[prices."MODEL".long_context]`): in place of genai-prices' own
    # tier from the same threshold, beside any others.
    long_context: LongContext | None = None


class Roots(BaseModel):
    """Extra log roots, on top of the environment and the defaults."""

    model_config = STRICT
    claude: list[str] = Field(default_factory=list)
    codex: list[str] = Field(default_factory=list)

    @field_validator("claude", "codex", mode="before")
    @classmethod
    def _one_folder(cls, value: object) -> object:
        """`claude = "/path"`: one folder, written without the brackets."""
        return [value] if isinstance(value, str) else value


class Insights(BaseModel):
    """Thresholds of the insights (`shared.insights`); every default is documented in the
    README's "Insights" section."""

    model_config = STRICT
    # A session's tier is the tier holding at least this share of its cost, else "mixed".
    dominant_tier_share: float = Field(default=0.6, gt=0, le=1)
    # Tier hint: frontier spend worth a look, the share of it on explore/chat calls, and the
    # smallest saving worth mentioning.
    hint_min_frontier_cost_usd: float = Field(default=1.0, ge=0, le=MONEY_MAX)
    hint_min_share: float = Field(default=0.5, gt=0, le=1)
    hint_min_saving_usd: float = Field(default=0.25, ge=0, le=MONEY_MAX)
    # Outcomes: commits made this long after a session started still count as its outcome.
    outcome_window_days: int = Field(default=7, ge=1, le=90)
    git_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Runaway loops: the same failing tool call N times in a row, or N tool errors in a row.
    loop_same_call_repeats: int = Field(default=5, ge=2, le=CALLS_MAX)
    loop_consecutive_errors: int = Field(default=8, ge=2, le=CALLS_MAX)
    # Cache churn: calls rewriting at least this many cached tokens (more than they read),
    # this many times, each within this many minutes of the previous.
    churn_min_write_tokens: int = Field(default=50_000, ge=1, le=TOKENS_MAX)
    churn_min_calls: int = Field(default=3, ge=2, le=CALLS_MAX)
    churn_window_minutes: float = Field(default=10.0, gt=0, le=24 * 60)
    # Context bloat: this many calls in a row, without a change call, each sending at least
    # this many prompt tokens (input + cache reads + cache writes).
    bloat_min_prompt_tokens: int = Field(default=150_000, ge=1, le=TOKENS_MAX)
    bloat_min_calls: int = Field(default=10, ge=2, le=CALLS_MAX)
    # Budgets: the state turns "warning" at this fraction of the limit.
    budget_warning_fraction: float = Field(default=0.8, gt=0, lt=1)


class SummarySettings(BaseModel):
    """The weekly summary's automatic export (the tray runs it on Monday)."""

    model_config = STRICT
    auto_export_dir: str = ""
    auto_export_format: Literal["md", "html", "json", "csv"] = "html"
    redact: bool = False


class Settings(BaseModel):
    model_config = STRICT
    budgets: Budgets = Field(default_factory=Budgets)
    subscription: Subscription = Field(default_factory=Subscription)
    prices: dict[str, PriceOverride] = Field(default_factory=dict)
    roots: Roots = Field(default_factory=Roots)
    meter_mode: Literal["today", "session"] = "today"
    tier_policy: dict[str, Any] = Field(default_factory=dict)
    insights: Insights = Field(default_factory=Insights)
    start_at_login: bool = False
    # Read and ignored: the settings window wrote it for a TCP switch nothing ever served
    # (`burnmeter lsp --tcp` is the way); kept so the files it wrote load without a warning.
    lsp_tcp: bool = False
    timezone: str = ""
    summary: SummarySettings = Field(default_factory=SummarySettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """The zone's own spelling (`utc` → `UTC`), as `--tz` accepts it; an error for a
        name no zone has."""
        if not value:
            return value
        from shared.timezones import zone_named

        found = zone_named(value)
        if found is None:
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)")
        return found.key

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
        # utf-8-sig: Notepad's "UTF-8 with BOM" and PowerShell 5.1 write a BOM, which
        # TOML does not allow; the whole file was refused for it.
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return LoadedSettings(Settings(), path, [cannot_read(path, exc)])
    problems: list[str] = []
    # [roots] claude and codex are named in one line, where the first of them was met, as
    # `shared.config_fast.extra_roots` (which every command runs first) names them.
    bad_agents: list[str] = []
    roots_at = 0

    def said() -> list[str]:
        if not bad_agents:
            return problems
        agents: list[str] = [agent for agent in ("claude", "codex") if agent in bad_agents]
        return [*problems[:roots_at], bad_roots(path, agents), *problems[roots_at:]]

    # Each round leaves out the settings pydantic rejected; a rejected table or value is
    # gone after one round, so this ends (the bound is only a guard).
    for _ in range(100):
        try:
            settings = Settings.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                where = _leave_out(raw, error["loc"])
                if where is None:
                    continue
                if where in (("roots", "claude"), ("roots", "codex")):
                    roots_at = roots_at if bad_agents else len(problems)
                    bad_agents.append(where[1])
                    continue
                if where == ("roots",):
                    problems.append(roots_not_a_table(path))
                    continue
                name = ".".join(str(part) for part in where)
                if error["type"] == "missing":
                    needed = error["loc"][-1]
                    problems.append(f"{path}: {name}: {needed} is missing; ignored.")
                    continue
                if error["type"] == "extra_forbidden":
                    problems.append(f"{path}: {name}: unknown setting (a typo?); ignored.")
                    continue
                problem = error["msg"].removeprefix("Value error, ")
                problems.append(f"{path}: {name}: {problem}; ignored, the default is used.")
            continue
        if settings.tier_policy:
            # Checked here, not only where the policy is used: a bad entry is then named
            # by every command, doctor and the tray, once, like any other setting.
            from shared.insights.tiers import checked_policy

            settings.tier_policy, left_out = checked_policy(settings.tier_policy)
            problems.extend(f"{path}: tier_policy.{problem}; ignored." for problem in left_out)
        return LoadedSettings(settings, path, said())
    return LoadedSettings(Settings(), path, [*said(), f"{path}: not usable; using defaults."])


def _leave_out(raw: dict[str, Any], loc: tuple[int | str, ...]) -> tuple[str, ...] | None:
    """Delete the setting an error's location points into (the innermost table entry on
    the way: `roots.claude.0` deletes `roots.claude`); the dotted name deleted, or None if
    it was already gone."""
    table: Any = raw
    parents: list[str] = []
    holder: Any = None
    for index, part in enumerate(loc):
        if isinstance(table, dict) and part not in table and holder is not None and parents:
            # A required key missing (`long_context` without `above_input_tokens`): the
            # table that lacks it goes; it stayed and was refused again, round after
            # round, until the whole file was dropped ("not usable; using defaults").
            del holder[parents[-1]]
            return tuple(parents)
        if not isinstance(table, dict) or part not in table:
            break
        # By position, not name: `[insights] insights = 1` is an error at
        # insights.insights, which must not take the whole [insights] table with it.
        if not isinstance(table[part], dict) or index == len(loc) - 1:
            del table[part]
            return (*parents, str(part))
        parents.append(str(part))
        holder, table = table, table[part]
    return None


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write `settings`: the values that differ from the defaults, and those the file
    already names (a default written on purpose stays written). A default nobody wrote
    stays out, so a later release's default reaches this user too; every default used to
    be written at the first save from the settings window. A value emptied (no folders,
    no time zone, no plan) leaves the file, as a budget set to "not set" does.

    The file is edited, not rewritten: its comments, blank lines, key order, quoting and
    every value that still means the same (`timezone = 'utc'`, `daily_usd = 5`) stay byte
    for byte; only what changed is replaced, added or removed (the window dropped every
    comment and reordered the file). A file that is not TOML is replaced whole. The new
    file takes the old one's place in one rename, with its permission bits."""
    from shared.atomic_file import write_atomically

    path = path or config_file()
    everything = settings.model_dump(mode="json", exclude_none=True)
    changed = settings.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    text = _text_of(path)
    present = _parsed(text)
    data = _written(everything, changed, present or {})
    # A byte order mark (Notepad's "UTF-8 with BOM") is not kept: TOML readers other
    # than burnmeter's refuse the file for it.
    written = _edited(text.removeprefix("\ufeff"), data) if text and present is not None else None
    if written is None:
        from shared.config_write import new_toml

        written = new_toml(data)
    write_atomically(path, written.encode("utf-8"))
    return path


def _text_of(path: Path) -> str | None:
    """The file's text, line ends as they are (None if there is none to read)."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _parsed(text: str | None) -> dict[str, Any] | None:
    """The tables and keys `text` holds (None if it is not TOML)."""
    if text is None:
        return None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError:
        return None


def _edited(text: str, data: dict[str, Any]) -> str | None:
    """`text` edited to say `data`, or None if that cannot be done faithfully (the edit
    is read back and must mean what `data` means; tomlkit and tomllib may disagree)."""
    from tomlkit.exceptions import TOMLKitError

    from shared.config_write import edited_toml

    meant = _meaning(data)

    def same(where: tuple[str, ...], raw: Any) -> bool:
        if meant is None:
            return False
        candidate = copy.deepcopy(data)
        table = candidate
        for part in where[:-1]:
            table = table.setdefault(part, {})
        table[where[-1]] = raw
        return _meaning(candidate) == meant

    try:
        edited = edited_toml(text, data, same)
        back = tomllib.loads(edited)
    except (TOMLKitError, tomllib.TOMLDecodeError):
        return None
    except (LookupError, ValueError, TypeError):
        # tomlkit's edits of unusual layouts have raised IndexError (a table split by
        # another, edited twice): the file is then written whole, never left unsaved.
        return None
    faithful = _meaning(back) == meant if meant is not None else back == data
    return edited if faithful else None


def _meaning(data: dict[str, Any]) -> Settings | None:
    """The settings `data` gives, as `load_settings` reads them; None if any part of it
    would be reported and left out."""
    try:
        settings = Settings.model_validate(copy.deepcopy(data))
    except ValidationError:
        return None
    if settings.tier_policy:
        from shared.insights.tiers import checked_policy

        settings.tier_policy, left_out = checked_policy(settings.tier_policy)
        if left_out:
            return None
    return settings


def _written(
    everything: dict[str, Any], changed: dict[str, Any], present: dict[str, Any]
) -> dict[str, Any]:
    written: dict[str, Any] = {}
    for name, value in everything.items():
        was = present.get(name)
        if isinstance(value, dict) and value and isinstance(was, dict):
            inner = _written(value, changed.get(name) or {}, was)
            if inner:
                written[name] = inner
        elif name in changed:
            written[name] = changed[name]
        elif value in ("", [], {}) and was != value:
            # Emptied (a folder list, a time zone, the rules): the key leaves the file
            # rather than stay as `claude = []`.
            continue
        elif name in present and not (isinstance(value, dict) and not isinstance(was, dict)):
            # (A table the file gave as something else, `insights = 5`, named nothing.)
            written[name] = value
    return written
