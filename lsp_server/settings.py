"""The language server's settings: `initializationOptions` and
`workspace/didChangeConfiguration` (under a `burnmeter` key or at the top level),
validated with pydantic. A change updates only the keys it gives (eglot and Neovim send
an empty object on connect: it keeps the `initializationOptions`). Bad values are
reported to the user and keep their default (or current) value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class LspSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

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


def settings_section(raw: Any) -> Any:
    """The burnmeter part of a settings object: `{"burnmeter": {...}}` or `{...}`."""
    if isinstance(raw, dict) and "burnmeter" in raw:
        return raw["burnmeter"]
    return raw


def _aliased(section: dict[str, Any]) -> dict[str, Any]:
    """The section's settings under their JSON names (`code_lens` is also accepted)."""
    names = {name: field.alias for name, field in LspSettings.model_fields.items() if field.alias}
    return {names.get(key, key): value for key, value in section.items() if key not in NOT_SETTINGS}


def parse_settings(raw: Any, current: LspSettings | None = None) -> tuple[LspSettings, str | None]:
    """Settings from a client's JSON over `current` (the defaults when None, as for
    `initializationOptions`): the keys it gives replace current's, the others keep their
    value, and an empty, null or absent section changes nothing. Bad keys are reported in
    the message for the user and keep their value too."""
    base = current if current is not None else LspSettings()
    keeping = "using defaults" if current is None else "keeping the current values"
    section = settings_section(raw)
    if section is None:
        return base, None
    if not isinstance(section, dict):
        return base, (
            f"burnmeter settings must be an object, got {type(section).__name__}; {keeping}."
        )
    given = _aliased(section)
    try:
        return LspSettings.model_validate(base.model_dump(by_alias=True) | given), None
    except ValidationError as exc:
        errors = exc.errors()
    bad = {str(err["loc"][0]) for err in errors if err["loc"]}
    details = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in errors
    )
    good = {key: value for key, value in given.items() if key not in bad}
    settings = LspSettings.model_validate(base.model_dump(by_alias=True) | good)
    return settings, f"Invalid burnmeter settings ({details}); {keeping} for those."
