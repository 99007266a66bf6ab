"""Where Claude Code and Codex keep their logs, and which files under those roots count."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.sources.agents import CLAUDE, CODEX

# Claude Desktop's Cowork sessions folder (see shared.sources.cowork for what is read in it).
COWORK_FOLDER = "local-agent-mode-sessions"
# The Microsoft Store (MSIX) install's copy of the app's Roaming data folder.
_COWORK_MSIX_PACKAGE = "Claude_pzs8sxrjxfjjc"


class LogRoot:
    """A folder an agent keeps its logs in; `cowork`: Claude Desktop's Cowork sessions
    folder, whose sessions' `.claude/projects/` folders are the roots really read."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.7 ms.
    __slots__ = ("agent", "cowork", "path")

    def __init__(self, agent: str, path: Path, cowork: bool = False) -> None:
        self.agent = agent
        self.path = path
        self.cowork = cowork

    def __repr__(self) -> str:
        cowork = ", cowork=True" if self.cowork else ""
        return f"LogRoot({self.agent!r}, {self.path!r}{cowork})"

    def __eq__(self, other: object) -> bool:
        # By value: the tray restarts its watcher only when the roots really changed.
        if not isinstance(other, LogRoot):
            return NotImplemented
        return self.agent == other.agent and self.path == other.path and self.cowork == other.cowork

    def __hash__(self) -> int:
        return hash((self.agent, self.path, self.cowork))

    @property
    def exists(self) -> bool:
        return self.path.is_dir()


def ledger_key(path: str) -> str:
    """A path as the ledger stores it. Linux names are bytes: one that is not UTF-8 (Python
    keeps such bytes as surrogates, which SQLite text cannot hold) is stored with those
    bytes written as `\\xNN`; the path itself still opens the file."""
    if path.isascii():
        return path  # nearly every path, and the round trip below would change nothing
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class LogFile:
    """One log file and its identity, size and time when it was found."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.7 ms.
    __slots__ = ("agent", "device", "inode", "mtime_ns", "path", "size")

    def __init__(
        self, agent: str, path: str, device: int, inode: int, size: int, mtime_ns: int
    ) -> None:
        self.agent = agent
        self.path = path
        self.device = device
        self.inode = inode
        self.size = size
        self.mtime_ns = mtime_ns

    def __repr__(self) -> str:
        return f"LogFile({self.agent!r}, {self.path!r}, size={self.size})"

    @classmethod
    def from_stat(cls, agent: str, path: str, stat: os.stat_result) -> LogFile:
        return cls(agent, path, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)

    @property
    def compressed(self) -> bool:
        return self.path.endswith(".zst")

    @property
    def key(self) -> str:
        """The path as the ledger stores it (see `ledger_key`)."""
        return ledger_key(self.path)


# One log file as the walk finds it: agent, real path, stat. A warm run compares thousands
# of these with the ledger and builds a `LogFile` only for the few that changed.
FoundFile = tuple[str, str, os.stat_result]


def _split_env(value: str) -> list[Path]:
    return _folders(value.split(","))


def _folders(entries: Sequence[str]) -> list[Path]:
    """Folder names as a user writes them (blank ones skipped, `~` expanded)."""
    return [Path(entry.strip()).expanduser() for entry in entries if entry.strip()]


def claude_roots(env: Mapping[str, str] | None = None) -> list[LogRoot]:
    """`CLAUDE_CONFIG_DIR` (comma-separated config dirs or their `projects/`), else
    `~/.config/claude`, `~/.claude` and Claude Desktop's Cowork sessions folder(s)."""
    env = os.environ if env is None else env
    # A value that names no folder (" ", ",,") is taken as unset, as an empty one is:
    # otherwise Claude Code's logs would silently not be read at all.
    bases = _split_env(env.get("CLAUDE_CONFIG_DIR", ""))
    if not bases:
        home = Path(env.get("HOME") or Path.home())
        bases = [home / ".config" / "claude", home / ".claude", *cowork_folders(env, home)]
    return _claude_roots_in(bases)


def cowork_folders(env: Mapping[str, str], home: Path) -> list[Path]:
    """Claude Desktop's Cowork sessions folder(s) on this system: in the app's data folder
    (Electron's `appData`/Claude), and on Windows in the Store install's copy of it too.
    Only paths: nothing is looked at until the scan (one stat when it is missing)."""
    if sys.platform == "darwin":
        return [home / "Library" / "Application Support" / "Claude" / COWORK_FOLDER]
    if sys.platform == "win32":
        roaming = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        local = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
        store = local / "Packages" / _COWORK_MSIX_PACKAGE / "LocalCache" / "Roaming"
        return [roaming / "Claude" / COWORK_FOLDER, store / "Claude" / COWORK_FOLDER]
    config = env.get("XDG_CONFIG_HOME", "")
    app_data = Path(config) if os.path.isabs(config) else home / ".config"
    return [app_data / "Claude" / COWORK_FOLDER]


def codex_roots(env: Mapping[str, str] | None = None) -> list[LogRoot]:
    """`CODEX_HOME` (comma-separated), default `~/.codex`; its `sessions/` and
    `archived_sessions/`."""
    env = os.environ if env is None else env
    bases = _split_env(env.get("CODEX_HOME", ""))
    if not bases:  # unset, or naming no folder
        home = Path(env.get("HOME") or Path.home())
        bases = [home / ".codex"]
    return _codex_roots_in(bases)


def configured_roots(claude: Sequence[str], codex: Sequence[str]) -> list[LogRoot]:
    """The config file's `[roots]`: each Claude entry read like a `CLAUDE_CONFIG_DIR` entry
    (a config dir or its `projects/`), each Codex entry like a `CODEX_HOME` (its
    `sessions/` and `archived_sessions/`), `~` expanded. One rule for every front end: the
    CLI, the tray and the language server read the same files."""
    return _claude_roots_in(_folders(claude)) + _codex_roots_in(_folders(codex))


def _claude_roots_in(bases: list[Path]) -> list[LogRoot]:
    """Each base a config dir or its `projects/`, or a Cowork sessions folder (by its name,
    `local-agent-mode-sessions`: one copied from another machine, say)."""
    roots = []
    for base in bases:
        if base.name == COWORK_FOLDER:
            roots.append(LogRoot(CLAUDE, base, cowork=True))
            continue
        projects = base if base.name == "projects" else base / "projects"
        roots.append(LogRoot(CLAUDE, projects))
    return _unique_roots(roots)


def _codex_roots_in(bases: list[Path]) -> list[LogRoot]:
    roots = []
    for base in bases:
        roots.append(LogRoot(CODEX, base / "sessions"))
        roots.append(LogRoot(CODEX, base / "archived_sessions"))
    return _unique_roots(roots)


def all_roots(env: Mapping[str, str] | None = None) -> list[LogRoot]:
    return claude_roots(env) + codex_roots(env)


def _unique_roots(roots: list[LogRoot]) -> list[LogRoot]:
    seen: set[str] = set()
    unique = []
    for root in roots:
        key = os.path.realpath(root.path)
        if key not in seen:
            seen.add(key)
            unique.append(root)
    return unique


def is_log_name(agent: str, name: str) -> bool:
    if agent == CLAUDE:
        return name.endswith(".jsonl")
    return name.startswith("rollout-") and name.endswith((".jsonl", ".jsonl.zst"))


def _walk(
    agent: str,
    directory: str,
    seen: set[tuple[int, int]],
    out: list[os.DirEntry[str]],
    unlisted: list[str] | None,
) -> None:
    """Add the wanted files under `directory` (a real path) to `out`, following links; each
    directory is entered once, so a link back to a parent ends the walk instead of looping.
    A folder that cannot be listed (no permission, an I/O error) goes to `unlisted`, with
    why: its logs are missing from the totals, which the user must hear about.

    Listing the real path makes every entry that is not itself a link carry its real path
    already: no realpath() (an lstat per path component) per file."""
    try:
        stat = os.stat(directory)
        if (stat.st_dev, stat.st_ino) in seen:
            return
        seen.add((stat.st_dev, stat.st_ino))
        with os.scandir(directory) as listing:
            entries = list(listing)
    except (FileNotFoundError, NotADirectoryError):
        return  # gone since it was seen
    except OSError as exc:
        if unlisted is not None:
            unlisted.append(f"{directory}: cannot list this folder ({exc.strerror or exc})")
        return
    for entry in entries:
        try:
            if entry.is_dir():
                real = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
                _walk(agent, real, seen, out, unlisted)
            elif is_log_name(agent, entry.name) and entry.is_file():
                out.append(entry)
        except FileNotFoundError:
            continue  # gone since it was listed
        except OSError as exc:
            _not_reached(directory, exc, unlisted)


def _not_reached(directory: str, exc: OSError, unlisted: list[str] | None) -> None:
    """A folder listed whose entries cannot be looked at (read permission without search
    permission, an I/O error): named once in `unlisted`, as a folder that cannot be listed
    is, since its logs are missing from the totals too."""
    if unlisted is None:
        return
    message = f"{directory}: cannot read the files in this folder ({exc.strerror or exc})"
    if message not in unlisted:
        unlisted.append(message)


def _folders_to_walk(roots: list[LogRoot], unlisted: list[str] | None) -> list[tuple[str, str]]:
    """(agent, real path) of each folder to walk: each root that is there, and for a Cowork
    folder each of its sessions' `projects/` that is there."""
    folders: list[tuple[str, str]] = []
    for root in roots:
        if not root.exists:
            continue
        if root.cowork:
            # Imported here: a machine without Claude Desktop never needs it.
            from shared.sources.cowork import cowork_layout

            sessions, _ = cowork_layout(root, unlisted)
            folders.extend((root.agent, path) for path, there in sessions if there)
        else:
            folders.append((root.agent, os.path.realpath(root.path)))
    return folders


def find_log_files(roots: list[LogRoot], unlisted: list[str] | None = None) -> list[FoundFile]:
    """Every log file under the roots as (agent, real path, stat); a file reached through
    two roots (or a link) counts once. Folders that could not be listed go to `unlisted`."""
    seen: set[tuple[int, int]] = set()
    found: list[FoundFile] = []
    for agent, folder in _folders_to_walk(roots, unlisted):
        entries: list[os.DirEntry[str]] = []
        _walk(agent, folder, set(), entries, unlisted)
        for entry in entries:
            try:
                stat = entry.stat()
                if not stat.st_ino:
                    # Windows' directory entries carry no file id (st_ino and st_dev are
                    # 0, as Python documents): every file would count as the first one.
                    stat = os.stat(entry.path)
                path = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
            except FileNotFoundError:
                continue  # gone since it was listed
            except OSError as exc:
                _not_reached(os.path.dirname(entry.path), exc, unlisted)
                continue
            identity = (stat.st_dev, stat.st_ino)
            if identity not in seen:
                seen.add(identity)
                found.append((agent, path, stat))
    return found


def discover_files(roots: list[LogRoot]) -> list[LogFile]:
    """Every log file under the roots as a `LogFile`; see `find_log_files`."""
    return [LogFile.from_stat(agent, path, stat) for agent, path, stat in find_log_files(roots)]


def log_file_at(agent: str, path: str) -> LogFile | None:
    """The `LogFile` for one path under a root of `agent`, or None if it is not a log file
    (wrong name, gone, unreadable). Used by the live engine for the files that changed."""
    if not is_log_name(agent, os.path.basename(path)):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    return LogFile(
        agent=agent,
        path=os.path.realpath(path),
        device=stat.st_dev,
        inode=stat.st_ino,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
    )
