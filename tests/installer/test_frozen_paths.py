"""Where code looks for things when it runs from the PyInstaller bundle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import desktop
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


def test_desktop_entries_start_the_bundled_tray(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = tmp_path / "burnmeter"
    cli.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(cli))
    assert desktop.tray_command() == [str(cli), "tray"]
    (tmp_path / "burnmeter-tray").write_text("")
    assert desktop.tray_command() == [str(tmp_path / "burnmeter-tray")]


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_desktop_integration_refuses_clearly_off_xdg(
    monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    with pytest.raises(desktop.DesktopIntegrationError, match="XDG"):
        desktop.install_desktop_entry()
    with pytest.raises(desktop.DesktopIntegrationError, match="XDG"):
        desktop.enable_autostart()
    assert desktop.autostart_enabled() is False
