"""The git repository a session worked in: the nearest folder above its cwd holding `.git`."""

from __future__ import annotations

import os


class RepoFinder:
    """Caches lookups: many sessions share a cwd, and a lookup costs a few `stat` calls."""

    def __init__(self) -> None:
        self._cache: dict[str, str | None] = {}

    def repo_for(self, cwd: str) -> str | None:
        if not cwd or not os.path.isabs(cwd):
            return None
        if cwd not in self._cache:
            self._cache[cwd] = _find_git_root(cwd)
        return self._cache[cwd]


def _find_git_root(start: str) -> str | None:
    current = os.path.normpath(start)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
