"""This machine's secret beside the ledger (`redact.key`, 0600): the key of every hash that
must not be checked against guesses by someone who reads the ledger or a report without it
(repository and file paths under `summary --redact`, the tool-input hashes of the ledger)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from shared.paths import make_data_dir

KEY_NAME = "redact.key"


def machine_key(folder: Path) -> bytes:
    """The secret kept in `folder`, made on first use (0600). Two processes that make it at
    once end with the same one; in a folder that cannot be written, a fresh one that this
    process alone uses."""
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
        return machine_key(folder)  # another process made it first: use theirs
    except OSError:
        pass  # a read-only folder: hashes are still keyed, just not kept
    return key
