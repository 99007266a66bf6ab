"""The language server's settings: `initializationOptions` and
`workspace/didChangeConfiguration` (at the top level, under a `burnmeter` key, or both:
the `burnmeter` key's values win), validated with pydantic. A change updates only the
keys it gives (eglot and Neovim send an empty object on connect: it keeps the
`initializationOptions`). Bad values are reported to the user and keep their default (or
current) value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class LspSettings(BaseModel):
    # Strict: pydantic's lax mode took "3" for 3, 1 for true, "yes" for true and 5.0 for 5
    # without a word, where the README promises that invalid settings are reported.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    code_lens: bool = Field(default=True, alias="codeLens")
    hover: bool = True
    tier_hints: bool = Field(default=True, alias="tierHints")
    status_sessions: int = Field(default=10, ge=0, le=200, alias="statusSessions")
    running_minutes: int = Field(default=10, ge=1, le=24 * 60, alias="runningMinutes")
    progress: bool = True


# Keys that travel with the settings but are not the server's: the TCP token, and the VS
# Code extension's `burnmeter.path` (the executable), which vscode-languageclient sends
# with the rest of the `burnmeter` section.
NOT_SETTINGS = ("token", "path")
SECTION = "burnmeter"
# The settings' JSON names and their Python ones (`code_lens` is accepted too).
_ALIASES = {name: field.alias or name for name, field in LspSettings.model_fields.items()}
SETTING_NAMES = frozenset(_ALIASES) | frozenset(_ALIASES.values())


def _aliased(section: dict[str, Any]) -> dict[str, Any]:
    """The section's settings under their JSON names."""
    return {
        _ALIASES.get(key, key): value for key, value in section.items() if key not in NOT_SETTINGS
    }


def _checked(
    given: dict[str, Any], base: LspSettings, prefix: str = ""
) -> tuple[dict[str, Any], list[str], set[str]]:
    """The keys of `given` that are valid settings over `base`, what is wrong with the
    others (their names after `prefix`), and those others' names."""
    try:
        LspSettings.model_validate(base.model_dump(by_alias=True) | given)
        return given, [], set()
    except ValidationError as exc:
        errors = exc.errors()
    bad = {str(err["loc"][0]) for err in errors if err["loc"]}
    details = [
        f"{prefix}{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
        for err in errors
    ]
    return {key: value for key, value in given.items() if key not in bad}, details, bad


def parse_settings(raw: Any, current: LspSettings | None = None) -> tuple[LspSettings, str | None]:
    """Settings from a client's JSON over `current` (the defaults when None, as for
    `initializationOptions`): the keys it gives replace current's, the others keep their
    value, and an empty, null or absent object changes nothing. Settings are read at the
    top level and under a `burnmeter` key, the latter winning where both name one; next to
    a `burnmeter` key, top-level keys that name no setting are left alone, and without one
    such keys holding an object (other servers' sections, as in eglot's shared workspace
    configuration). Bad keys are reported in the
    message for the user and keep their value too."""
    base = current if current is not None else LspSettings()
    keeping = "using defaults" if current is None else "keeping the current values"
    if raw is None:
        return base, None
    if not isinstance(raw, dict):
        return base, f"burnmeter settings must be an object, got {type(raw).__name__}; {keeping}."
    details: list[str] = []
    bad: set[str] = set()
    if SECTION not in raw:
        # Every setting is a plain value: an object under a name that is no setting is
        # another server's section (eglot sends its whole workspace configuration).
        ours = {
            key: value
            for key, value in raw.items()
            if key in SETTING_NAMES or not isinstance(value, dict)
        }
        given, details, bad = _checked(_aliased(ours), base)
    else:
        top = {key: value for key, value in raw.items() if key in SETTING_NAMES}
        given, details, bad = _checked(_aliased(top), base)
        section = raw[SECTION]
        if isinstance(section, dict):
            inner, inner_details, inner_bad = _checked(_aliased(section), base, f"{SECTION}.")
            given |= inner
            details += inner_details
            bad |= inner_bad
        elif section is not None:
            details.append(f"{SECTION}: must be an object, got {type(section).__name__}")
    settings = LspSettings.model_validate(base.model_dump(by_alias=True) | given)
    if not details:
        return settings, None
    said = f"Invalid burnmeter settings ({'; '.join(details)})"
    # A bad value at one level with a good one at the other: the good one is used.
    other = sorted(name for name in bad if name in given)
    if not other:
        return settings, f"{said}; {keeping} for those."
    rest = f", {keeping} for the rest" if len(other) < len(bad) else ""
    return settings, f"{said}; the other level's value is used for {', '.join(other)}{rest}."
