"""Claude Desktop's Cowork (local agent mode): it runs Claude Code under a config dir of its
own per task, inside the app's data folder (`shared.sources.roots.cowork_folders`):

    local-agent-mode-sessions/<org>/<account>/local_<id>/.claude/projects/...
    local-agent-mode-sessions/<org>/<account>/agent/local_<id>/.claude/projects/...

Beside each `local_<id>/` lies the app's record of it (`local_<id>.json`); inside it, the
Agent SDK's stream (`audit.jsonl`, partial usage snapshots of the same calls) and the task's
own files (`uploads/`, `outputs/`). Only the `.claude/projects/` folders are read, as any
Claude Code config dir's are. A module of its own: a report on a machine without Claude
Desktop does not load it."""

from __future__ import annotations

import os
import stat as stat_mode
from pathlib import Path

from shared.sources.roots import LogRoot

_SESSION_PREFIX = "local_"
_AGENT_FOLDER = "agent"


def cowork_sessions(
    root: LogRoot, unlisted: list[str] | None = None
) -> tuple[list[LogRoot], list[str]]:
    """The sessions in the Cowork folder `root`, each its `.claude/projects/` as a plain
    Claude root by its real path (those not made yet too: the live engine watches for
    them), and the folders new sessions appear in (the Cowork folder, its organisations'
    and accounts' folders and their `agent/` folders), by real path."""
    sessions, folders = cowork_layout(root, unlisted)
    return [LogRoot(root.agent, Path(path)) for path, _ in sessions], folders


def cowork_layout(
    root: LogRoot, unlisted: list[str] | None
) -> tuple[list[tuple[str, bool]], list[str]]:
    """(projects folder, whether it is there) of each session, and the folders sessions
    appear in; see `cowork_sessions`."""
    top = os.path.realpath(root.path)
    folders = [top]
    sessions: list[tuple[str, bool]] = []
    for _, org in _subfolders(top, unlisted):
        folders.append(org)
        for _, account in _subfolders(org, unlisted):
            folders.append(account)
            for name, path in _subfolders(account, unlisted):
                if name.startswith(_SESSION_PREFIX):
                    sessions.append(_session_projects(path))
                elif name == _AGENT_FOLDER:
                    folders.append(path)
                    for inner, session in _subfolders(path, unlisted):
                        if inner.startswith(_SESSION_PREFIX):
                            sessions.append(_session_projects(session))
    return sessions, folders


def _subfolders(folder: str, unlisted: list[str] | None) -> list[tuple[str, str]]:
    """(name, real path) of each folder in `folder` (a real path)."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        if unlisted is not None:
            unlisted.append(f"{folder}: cannot list this folder ({exc.strerror or exc})")
        return []
    found = []
    for entry in entries:
        try:
            if entry.is_dir():
                real = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
                found.append((entry.name, real))
        except OSError:
            continue
    return found


def _session_projects(session: str) -> tuple[str, bool]:
    """A Cowork session's `.claude/projects/` (its real path) and whether it is a folder:
    two lstats, and a realpath() only where a link leads there."""
    config = os.path.join(session, ".claude")
    projects = os.path.join(config, "projects")
    try:
        if stat_mode.S_ISLNK(os.lstat(config).st_mode):
            projects = os.path.realpath(projects)
        mode = os.lstat(projects).st_mode
    except OSError:
        return projects, False  # not made yet (or gone)
    if stat_mode.S_ISLNK(mode):
        projects = os.path.realpath(projects)
        return projects, os.path.isdir(projects)
    return projects, stat_mode.S_ISDIR(mode)


def outside_sessions(top: str, path: str) -> bool:
    """Whether `path`, in the Cowork folder `top` (both real paths), lies outside its
    sessions' `.claude/projects/` and is no folder a session lies in: the app's records
    and settings, the Agent SDK's audit.jsonl, a task's own files (`outputs/`, which may
    hold a whole repository) and Claude Code's other files (`.claude/debug/`). The live
    engine drops the events of those as they come."""
    parts = path[len(top) + 1 :].split(os.sep)
    at = 3 if len(parts) > 2 and parts[2] == _AGENT_FOLDER else 2  # org/account/[agent/]
    if len(parts) <= at:
        return False  # an organisation's or account's folder, or agent/
    if len(parts) == at + 1:
        return not parts[at].startswith(_SESSION_PREFIX) or parts[at].endswith(".json")
    return parts[at + 1] != ".claude" or (len(parts) > at + 2 and parts[at + 2] != "projects")
