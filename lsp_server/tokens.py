"""The TCP token: created once, kept in the OS keyring; a 0600 file in the data dir when
no keyring backend exists (with a warning, since a file is weaker than a keyring)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from shared.paths import data_dir

log = logging.getLogger(__name__)

SERVICE = "burnmeter"
USERNAME = "lsp-tcp-token"
TOKEN_FILENAME = "lsp-token"


def token_file() -> Path:
    return data_dir() / TOKEN_FILENAME


def _keyring_usable() -> bool:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    return not isinstance(backend, fail.Keyring)


def load_or_create_token() -> tuple[str, str]:
    """The token and where it is kept ("keyring" or the file path)."""
    if _keyring_usable():
        import keyring
        from keyring.errors import KeyringError

        try:
            token = keyring.get_password(SERVICE, USERNAME)
            if not token:
                token = secrets.token_urlsafe(32)
                keyring.set_password(SERVICE, USERNAME, token)
            return token, "keyring"
        except KeyringError as exc:
            log.warning("keyring unavailable (%s); keeping the LSP token in a file", exc)
    path = token_file()
    log.warning(
        "No OS keyring backend; the LSP TCP token is kept in %s (mode 0600). Install a "
        "keyring backend (e.g. gnome-keyring or KWallet) to keep it there instead.",
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
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token
