"""The language server's settings: `initializationOptions` and
`workspace/didChangeConfiguration` (under a `burnmeter` key or at the top level),
validated with pydantic. Bad values are reported to the user and replaced by defaults."""

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
    if isinstance(raw, dict) and isinstance(raw.get("burnmeter"), dict):
        return raw["burnmeter"]
    return raw


def parse_settings(raw: Any) -> tuple[LspSettings, str | None]:
    """Settings from a client's JSON, and a message for the user if it was bad."""
    section = settings_section(raw)
    if section is None:
        return LspSettings(), None
    if not isinstance(section, dict):
        return LspSettings(), f"burnmeter settings must be an object, got {type(section).__name__}"
    values = {key: value for key, value in section.items() if key not in NOT_SETTINGS}
    try:
        return LspSettings.model_validate(values), None
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        return LspSettings(), f"Invalid burnmeter settings ({details}); using defaults."
