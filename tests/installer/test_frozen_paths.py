"""Where code looks for things when it runs from the PyInstaller bundle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.paths import cli_command, resources_dir


def test_resources_come_from_the_bundle_when_frozen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / "resources"


def test_cli_command_runs_burnmeter() -> None:
    result = subprocess.run(
        [*cli_command(), "--version"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("burnmeter ")


def test_cli_command_in_a_bundle_is_the_console_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/burnmeter/burnmeter-tray")
    assert cli_command() == ["/opt/burnmeter/burnmeter"]
