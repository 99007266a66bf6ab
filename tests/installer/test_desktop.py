"""Desktop integration against temp XDG dirs (set by the autouse fixture in conftest)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared import desktop
from shared.paths import resources_dir

pytestmark = pytest.mark.skipif(not desktop.is_supported(), reason="XDG desktops only")

VALIDATOR = shutil.which("desktop-file-validate")


def validate(path: Path) -> None:
    if VALIDATOR is None:
        pytest.skip("desktop-file-validate (Debian desktop-file-utils) is not installed")
    result = subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def entry_keys(path: Path) -> dict[str, str]:
    return desktop._desktop_entry_keys(path.read_text())


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_bundled_desktop_file_is_valid() -> None:
    validate(resources_dir() / "burnmeter.desktop")


def test_bundled_icons_have_the_size_their_name_says() -> None:
    icons = desktop.bundled_icons()
    sizes = sorted(int(p.stem.rsplit("-", 1)[1]) for p in icons if p.suffix == ".png")
    assert sizes == [16, 22, 24, 32, 48, 64, 128, 256]
    for source in icons:
        if source.suffix == ".png":
            size = int(source.stem.rsplit("-", 1)[1])
            assert png_size(source) == (size, size)


def test_paths_follow_xdg_variables(isolated_home: Path) -> None:
    assert desktop.desktop_entry_path() == (
        isolated_home / ".local/share/applications/burnmeter.desktop"
    )
    assert desktop.autostart_path() == isolated_home / ".config/autostart/burnmeter.desktop"


def test_relative_xdg_variable_is_ignored(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/config")
    assert desktop.autostart_path() == isolated_home / ".config/autostart/burnmeter.desktop"


def test_exec_value_quotes_per_the_spec() -> None:
    assert desktop.exec_value(["/opt/burnmeter/burnmeter-tray"]) == "/opt/burnmeter/burnmeter-tray"
    assert (
        desktop.exec_value(["/home/a b/bin/burnmeter", "tray"]) == '"/home/a b/bin/burnmeter" tray'
    )
    # $ and " take a backslash inside quotes, then every backslash is doubled; % doubles.
    assert desktop.exec_value(['/x/$HOME "q"/b']) == '"/x/\\\\$HOME \\\\"q\\\\"/b"'
    assert desktop.exec_value(["/x/100%/b"]) == "/x/100%%/b"


def test_install_writes_valid_entry_and_icons_then_uninstall_removes_them(
    isolated_home: Path,
) -> None:
    command = [str(isolated_home / "my apps" / "burnmeter-tray")]
    written = desktop.install_desktop_entry(command)

    entry = desktop.desktop_entry_path()
    assert entry in written
    validate(entry)
    keys = entry_keys(entry)
    assert keys["Exec"] == f'"{command[0]}"'
    assert keys["Icon"] == "burnmeter"
    theme = isolated_home / ".local/share/icons/hicolor"
    svg = theme / "scalable/apps/burnmeter.svg"
    assert svg.read_bytes() == (resources_dir() / "icons/burnmeter.svg").read_bytes()
    assert png_size(theme / "48x48/apps/burnmeter.png") == (48, 48)
    assert png_size(theme / "256x256/apps/burnmeter.png") == (256, 256)

    desktop.enable_autostart(command)
    removed = desktop.uninstall_desktop_entry()
    assert set(removed) == set(written) | {desktop.autostart_path()}
    assert not any(path.exists() for path in removed)
    assert desktop.uninstall_desktop_entry() == []


def test_autostart_round_trip(isolated_home: Path) -> None:
    assert desktop.autostart_enabled() is False
    assert desktop.disable_autostart() is False

    path = desktop.enable_autostart(["/opt/burnmeter/burnmeter-tray"])
    assert path == isolated_home / ".config/autostart/burnmeter.desktop"
    validate(path)
    keys = entry_keys(path)
    assert keys["Exec"] == "/opt/burnmeter/burnmeter-tray"
    assert keys["X-GNOME-Autostart-enabled"] == "true"
    assert desktop.autostart_enabled() is True

    assert desktop.disable_autostart() is True
    assert not path.exists()
    assert desktop.autostart_enabled() is False


@pytest.mark.parametrize("switch_off", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_autostart_switched_off_by_the_desktop_counts_as_disabled(switch_off: str) -> None:
    path = desktop.enable_autostart(["/opt/burnmeter/burnmeter-tray"])
    text = path.read_text().replace("X-GNOME-Autostart-enabled=true\n", "")
    path.write_text(text + switch_off + "\n")
    assert desktop.autostart_enabled() is False


def test_default_command_is_an_absolute_executable() -> None:
    command = desktop.tray_command()
    assert Path(command[0]).is_absolute()
    assert os.access(command[0], os.X_OK)
    if Path(sys.executable).with_name("burnmeter-tray").exists():
        assert command == [str(Path(sys.executable).with_name("burnmeter-tray"))]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )


def test_install_desktop_command_and_doctor_report_it(isolated_home: Path) -> None:
    installed = run_cli("install-desktop", "--autostart")
    assert installed.returncode == 0, installed.stderr
    entry = isolated_home / ".local/share/applications/burnmeter.desktop"
    assert "~/.local/share/applications/burnmeter.desktop" in installed.stdout
    assert "9 icons in ~/.local/share/icons/hicolor" in installed.stdout
    validate(entry)
    exec_path = entry_keys(entry)["Exec"].strip('"')
    assert os.access(exec_path, os.X_OK)
    assert desktop.autostart_enabled()

    doctor = run_cli("doctor", "--json", "--no-ingest")
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    assert report["desktop"] == {"entry": str(entry), "autostart": True}
    assert report["frozen"] is False
    assert report["resources_ok"] is True

    removed = run_cli("install-desktop", "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not entry.exists()
    assert not desktop.autostart_path().exists()
    assert "removed ~/.config/autostart/burnmeter.desktop" in removed.stdout


@pytest.mark.skipif(shutil.which("gio") is None, reason="gio (Debian libglib2.0-bin) not installed")
def test_glib_launches_the_entry_with_awkward_paths(isolated_home: Path, tmp_path: Path) -> None:
    """GLib, which GNOME and most launchers use, parses our Exec= back into the same argv.
    (`%` in a path is left out: GLib looks for the program before undoing `%%`.)"""
    folder = tmp_path / 'my apps $HOME "q" back\\slash `tick`'
    folder.mkdir()
    marker = tmp_path / "launched"
    program = folder / "burnmeter-tray"
    # Written whole, then renamed: the test never reads a half-written marker.
    program.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$0" "$@" > "{marker}.tmp" && mv "{marker}.tmp" "{marker}"\n'
    )
    program.chmod(0o755)
    desktop.install_desktop_entry([str(program), "--dashboard", "two words"])

    launched = subprocess.run(
        ["gio", "launch", str(desktop.desktop_entry_path())],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=30,
    )
    assert launched.returncode == 0, launched.stderr
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.read_text().splitlines() == [str(program), "--dashboard", "two words"]


def test_a_folder_that_cannot_be_made_is_a_message_not_a_traceback(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file where the menu's `applications` folder goes made `install-desktop` end in a
    FileExistsError traceback (its folder was made outside the write's error handling)."""
    data = isolated_home / "xdg-data"
    data.mkdir()
    (data / "applications").write_text("a file in the way")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    with pytest.raises(desktop.DesktopIntegrationError, match=r"could not write .*applications"):
        desktop.install_desktop_entry([str(isolated_home / "burnmeter-tray")])
