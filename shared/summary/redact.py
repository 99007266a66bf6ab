"""Stable short hashes for repo and file paths, so a summary can be shared without
naming the projects it covers. The same path always gives the same hash on one machine,
so rows stay comparable from week to week.

The hash is keyed with a random secret kept beside the ledger (`redact.key`, 0600): an
unkeyed hash of a path can be checked against guesses (`/Users/NAME/src/REPO`) by anyone
who reads the summary.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

HASH_CHARS = 10
# The input hash a loop flag's evidence quotes: keyed (see shared.sources.hashing), but a
# ledger from before 2026-12-07 holds keyless ones, which a reader could confirm for a
# guessed command; and a summary to share has no use for it.
INPUT_HASH_NOTE = re.compile(r" \(hash [0-9a-f]+\)")


def hashed_path(path: str, kind: str = "path", key: bytes = b"") -> str:
    data = path.encode("utf-8", "surrogatepass")
    digest = hmac.new(key, data, hashlib.sha256) if key else hashlib.sha256(data)
    return f"{kind}-{digest.hexdigest()[:HASH_CHARS]}"


class PathShower:
    """Shows repository paths as they are, or as stable keyed hashes when redacting. (The
    only file path the summary shows is the one a loop flag names, hashed the same way;
    outcome reasons, which name folders, are dropped.)"""

    def __init__(self, redact: bool, key: bytes = b"") -> None:
        self.redact = redact
        self.key = key

    def repo(self, path: str | None) -> str:
        if not path:
            return "(no repo)"
        return hashed_path(path, "repo", self.key) if self.redact else path

    def file(self, repo: str, file: str) -> str:
        """A file a flag names (relative to `repo` when inside it, see
        `shared.insights.flags.shown_path`), or a keyed hash of its whole path: the same
        file gives the same hash whichever session or week named it."""
        if not self.redact:
            return file
        return hashed_path(os.path.join(repo, file), "file", self.key)

    def evidence(self, text: str) -> str:
        return INPUT_HASH_NOTE.sub("", text) if self.redact else text
