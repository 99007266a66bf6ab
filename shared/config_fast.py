"""The few settings the hot path needs, read without pydantic.

A warm `burnmeter report` must start in tens of milliseconds; validating the whole
config costs more than that. Full validation (and its error messages) happens in
`shared.config` wherever the rest of the settings are used.
"""

from __future__ import annotations

from pathlib import Path

from shared.paths import config_file


def extra_roots() -> tuple[list[str], list[str], str | None]:
    """Extra Claude and Codex roots from `[roots]`, and the problem that left them out (a
    file that cannot be read or is not TOML), worded as `shared.config.load_settings`
    words it; nothing if the file is absent."""
    path = config_file()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [], [], None
    except (OSError, UnicodeDecodeError) as exc:
        return [], [], cannot_read(path, exc)
    # Imported only when there is a file to parse: it costs a warm report milliseconds.
    import tomllib

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [], cannot_read(path, exc)
    roots = raw.get("roots", {})
    if not isinstance(roots, dict):
        return [], [], f"{path}: [roots] is not a table; its folders are not read."
    found: list[list[str]] = []
    problem = None
    for agent in ("claude", "codex"):
        value = roots.get(agent, [])
        if isinstance(value, str):
            value = [value]  # one folder, written without the brackets
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            found.append(value)
        else:
            found.append([])
            problem = bad_roots(path, agent)
    return found[0], found[1], problem


def bad_roots(path: object, agent: str) -> str:
    # `shared.config` says the same, word for word, so a command says it once.
    return f"{path}: [roots] {agent} must be a folder or a list of folders; not read."


def cannot_read(path: object, exc: BaseException) -> str:
    return f"{path}: cannot read settings ({exc}); using defaults."


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed config file from the one read (modification time, size, inode),
    None if there is none: long-running commands read their settings again when it moves."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino
