"""A keyring backend for the token tests that counts as secure (priority 5, like the OS
keyrings) but keeps its secrets in a JSON file under the temp HOME, never the real
keyring. Selected with PYTHON_KEYRING_BACKEND=tests.lsp.secure_keyring.TestKeyring."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


def _store() -> Path:
    return Path(os.environ["HOME"]) / "test-keyring.json"


class TestKeyring(KeyringBackend):
    priority = 5  # type: ignore[assignment]

    def _load(self) -> dict[str, str]:
        path = _store()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        secrets = self._load()
        secrets[f"{service}/{username}"] = password
        _store().write_text(json.dumps(secrets))

    def delete_password(self, service: str, username: str) -> None:
        secrets = self._load()
        secrets.pop(f"{service}/{username}", None)
        _store().write_text(json.dumps(secrets))
