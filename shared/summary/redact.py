"""Stable short hashes for repo and file paths, so a summary can be shared without
naming the projects it covers. The same path always gives the same hash, so rows stay
comparable from week to week."""

from __future__ import annotations

import hashlib

HASH_CHARS = 10


def hashed_path(path: str, kind: str = "path") -> str:
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{kind}-{digest}"


class PathShower:
    """Shows repository paths as they are, or as stable hashes when redacting. (The
    summary shows no file paths; outcome reasons, which name folders, are dropped.)"""

    def __init__(self, redact: bool) -> None:
        self.redact = redact

    def repo(self, path: str | None) -> str:
        if not path:
            return "(no repo)"
        return hashed_path(path, "repo") if self.redact else path
