"""The TCP token: created once, kept in the OS keyring; a 0600 file in the data dir when
no secure keyring backend exists (none, or only a plain-text one such as keyrings.alt's,
which the [dev] extra installs), with a warning, since a file is weaker than a keyring."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from shared.paths import data_dir, make_data_dir

log = logging.getLogger(__name__)

SERVICE = "burnmeter"
USERNAME = "lsp-tcp-token"
TOKEN_FILENAME = "lsp-token"


def token_file() -> Path:
    return data_dir() / TOKEN_FILENAME


def _priority(backend: Any) -> float:
    try:
        return float(backend.priority)
    except Exception:  # an unsuitable backend raises (RuntimeError, mostly)
        return -1.0


def _secure(backend: Any) -> bool:
    """A backend that keeps secrets safer than a 0600 file: not the fail or null backend,
    not keyrings.alt's plain-text file, and of priority 1 or more (keyring's own rule: a
    priority below 1 is for backends that are merely "suitable", e.g. keyrings.alt's)."""
    from keyring.backends import fail, null

    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    if type(backend).__name__ == "PlaintextKeyring":
        return False
    return _priority(backend) >= 1


def secure_keyring() -> Any | None:
    """The keyring backend to keep the token in, or None. A chain of backends (keyring's
    default when several exist) stands for its most secure member, so that the token
    never falls through to a weak one in the chain."""
    import keyring
    from keyring.backends.chainer import ChainerBackend

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration
        log.warning("keyring unavailable (%s)", exc)
        return None
    if isinstance(backend, ChainerBackend):
        members = [b for b in backend.backends if _secure(b)]
        return max(members, key=_priority) if members else None
    return backend if _secure(backend) else None


def load_or_create_token() -> tuple[str, str]:
    """The token and where it is kept ("keyring" or the file path)."""
    backend = secure_keyring()
    if backend is not None:
        from keyring.errors import KeyringError

        try:
            token = backend.get_password(SERVICE, USERNAME)
            if not token:
                token = secrets.token_urlsafe(32)
                backend.set_password(SERVICE, USERNAME, token)
            return token, "keyring"
        except KeyringError as exc:
            log.warning("keyring unavailable (%s); keeping the LSP token in a file", exc)
    path = token_file()
    log.warning(
        "No OS keyring backend (or only one that keeps secrets in plain text); the LSP TCP "
        "token is kept in %s (mode 0600). Install a keyring backend (e.g. gnome-keyring or "
        "KWallet) to keep it there instead.",
        path,
    )
    return _file_token(path), str(path)


def _file_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="ascii").strip()
        if token:
            os.chmod(path, 0o600)
            return token
    except (OSError, UnicodeDecodeError):
        pass
    make_data_dir(path.parent)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token
