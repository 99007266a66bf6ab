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
import secrets
from pathlib import Path

from shared.paths import make_data_dir

HASH_CHARS = 10
KEY_NAME = "redact.key"
# The input hash a loop flag's evidence quotes: a keyless hash of the failing command,
# which a reader could confirm for a guessed command.
INPUT_HASH_NOTE = re.compile(r" \(hash [0-9a-f]+\)")


def hashed_path(path: str, kind: str = "path", key: bytes = b"") -> str:
    data = path.encode("utf-8", "surrogatepass")
    digest = hmac.new(key, data, hashlib.sha256) if key else hashlib.sha256(data)
    return f"{kind}-{digest.hexdigest()[:HASH_CHARS]}"


def redaction_key(folder: Path) -> bytes:
    """This machine's secret for redaction hashes, made on first use (0600)."""
    path = folder / KEY_NAME
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        make_data_dir(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
    except FileExistsError:
        return redaction_key(folder)  # another process made it first: use theirs
    except OSError:
        pass  # a read-only folder: this summary's hashes are still keyed, just not kept
    return key


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
