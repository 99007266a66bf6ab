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
    file that cannot be read or is not TOML, a `[roots]` that is not a table, entries that
    are not folders), worded as `shared.config.load_settings` words it, so a command that
    reads both says it once; nothing if the file is absent."""
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
        return [], [], roots_not_a_table(path)
    found: list[list[str]] = []
    bad: list[str] = []
    for agent in ("claude", "codex"):
        value = roots.get(agent, [])
        if isinstance(value, str):
            value = [value]  # one folder, written without the brackets
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            found.append(value)
        else:
            found.append([])
            bad.append(agent)
    return found[0], found[1], bad_roots(path, bad) if bad else None


# `shared.config` says these, word for word, so a command that reads the roots here and the
# whole file there says each once (the command context says a problem once).
def bad_roots(path: object, agents: list[str]) -> str:
    """Both agents in one line: a problem per agent was said only for the last one here."""
    names = " and ".join(agents)
    each = " each" if len(agents) > 1 else ""
    return f"{path}: [roots] {names} must{each} be a folder or a list of folders; not read."


def roots_not_a_table(path: object) -> str:
    return f"{path}: [roots] is not a table; its folders are not read."


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
