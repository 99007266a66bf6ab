"""The few settings the hot path needs, read without pydantic.

A warm `burnmeter report` must start in tens of milliseconds; validating the whole
config costs more than that. Full validation (and its error messages) happens in
`shared.config` wherever the rest of the settings are used.
"""

from __future__ import annotations

from shared.paths import config_file


def extra_roots() -> tuple[list[str], list[str]]:
    """Extra Claude and Codex roots from `[roots]`; nothing if the file is absent or broken."""
    try:
        text = config_file().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [], []
    # Imported only when there is a file to parse: it costs a warm report milliseconds.
    import tomllib

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return [], []
    roots = raw.get("roots")
    if not isinstance(roots, dict):
        return [], []

    def strings(value: object) -> list[str]:
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    return strings(roots.get("claude")), strings(roots.get("codex"))
