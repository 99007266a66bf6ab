"""Every test runs with a private HOME, data dir, config dir and keyring: nothing of the
developer's real ledger, logs or secrets is read or written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "real"

ISOLATED_VARS = (
    "HOME",
    "BURNMETER_DATA_DIR",
    "BURNMETER_CONFIG_DIR",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_RUNTIME_DIR",
    "PYTHON_KEYRING_BACKEND",
)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    for name in ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BURNMETER_DATA_DIR", str(home / "burnmeter-data"))
    monkeypatch.setenv("BURNMETER_CONFIG_DIR", str(home / "burnmeter-config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    # keyring's `fail` backend: every read and write of a secret fails, so no test reaches
    # the real keyring. (Tests that need a working one select a file-backed keyring under
    # the temp home: tests/lsp/secure_keyring.py.)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("TZ", "UTC")
    os.environ.pop("BURNMETER_DEMO", None)
    yield home


@pytest.fixture
def real_corpus() -> Path:
    if not (REAL_CORPUS / "reference.json").exists():
        pytest.skip("../shared/corpus/real is not present beside this checkout")
    return REAL_CORPUS
