"""`burnmeter tray` with no screen to show it on, and the demo's throwaway folder."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tray.offscreen import REPO

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="DISPLAY / WAYLAND_DISPLAY are X11/Wayland's"
)


def without_display(temp: Path) -> dict[str, str]:
    env = {**os.environ, "TMPDIR": str(temp)}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "BURNMETER_QT_ARGS"):
        env.pop(name, None)
    return env


@linux_only
@pytest.mark.parametrize(
    "command",
    [("-m", "shared", "tray", "--demo"), ("-m", "shared", "tray"), ("-m", "tray_app", "--demo")],
    ids=["tray --demo", "tray", "burnmeter-tray --demo"],
)
def test_without_a_display_the_tray_says_so_and_leaves_nothing(
    isolated_home: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Qt aborted the process (SIGABRT, exit 134) advising to reinstall the application,
    and each `--demo` left its 1.7 MB burnmeter-demo-* folder in the temp folder."""
    temp = tmp_path / "temp"
    temp.mkdir()
    stderr = refused_tray(command, without_display(temp), temp, isolated_home)
    assert "burnmeter tray needs a graphical session" in stderr


def refused_tray(command: tuple[str, ...], env: dict[str, str], temp: Path, home: Path) -> str:
    """The tray's stderr, having checked that it refused to start (status 2, not Qt's abort),
    pointed to `burnmeter watch`, and made nothing: no demo folder, no ledger."""
    done = subprocess.run(
        [sys.executable, *command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "burnmeter watch" in done.stderr
    assert "Reinstalling" not in done.stderr and "Traceback" not in done.stderr
    assert list(temp.iterdir()) == []
    assert not (home / "burnmeter-data").exists()
    return done.stderr


@linux_only
def test_a_platform_chosen_on_purpose_needs_no_display(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tray_app.main import missing_display

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "BURNMETER_QT_ARGS"):
        monkeypatch.delenv(name, raising=False)
    assert missing_display()
    monkeypatch.setenv("BURNMETER_QT_ARGS", "-platform offscreen")
    assert not missing_display()
    monkeypatch.delenv("BURNMETER_QT_ARGS")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert not missing_display()
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert not missing_display()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.setenv("DISPLAY", ":0")
    assert not missing_display()


@pytest.mark.parametrize("ending", ["returns", "raises"])
def test_the_demo_folder_goes_when_the_tray_returns_not_only_at_exit(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """The folder was removed only by an exit hook, which the forced exit after a stopped
    import (os._exit) skips."""
    import tray_app.main as tray_main
    from tray_app import diagnostics

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", None)  # tempfile caches the folder it found
    monkeypatch.setattr(diagnostics, "install", lambda verbose=False: None)
    seen: list[Path] = []

    def app(args: object, qapp: object, context: object) -> int:
        folder = context.ledger_file.parent  # type: ignore[attr-defined]
        assert folder.parent == temp and folder.name.startswith("burnmeter-demo-")
        assert any(folder.iterdir())
        seen.append(folder)
        if ending == "raises":
            raise RuntimeError("the tray failed")
        return 0

    monkeypatch.setattr(tray_main, "_run_app", app)
    args = argparse.Namespace(demo=True, dashboard=False, verbose=False)
    if ending == "raises":
        with pytest.raises(RuntimeError):
            tray_main.run(args)
    else:
        assert tray_main.run(args) == 0
    assert seen and not seen[0].exists()
    assert list(temp.iterdir()) == []


def unused_x_display() -> str:
    """A display number with no X server's socket behind it."""
    for number in range(4711, 4800):
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            return f":{number}"
    raise AssertionError("every display from :4711 to :4799 has an X server")


@linux_only
@pytest.mark.parametrize(
    "command",
    [("-m", "shared", "tray", "--demo"), ("-m", "tray_app")],
    ids=["tray --demo", "burnmeter-tray"],
)
def test_a_display_no_x_server_answers_on_is_said_not_aborted_on(
    isolated_home: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """With DISPLAY naming a display no X server runs on (left from an ended session), Qt
    aborted the process (SIGABRT, exit -6) advising to reinstall the application."""
    temp = tmp_path / "temp"
    temp.mkdir()
    display = unused_x_display()
    env = {**without_display(temp), "DISPLAY": display}
    stderr = refused_tray(command, env, temp, isolated_home)
    assert f"cannot open the display '{display}'" in stderr


@linux_only
def test_only_an_xcb_platform_has_its_display_asked_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tray_app.display import unreachable_x_display
    from tray_app.main import chosen_platform

    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "BURNMETER_QT_ARGS"):
        monkeypatch.delenv(name, raising=False)
    display = unused_x_display()
    monkeypatch.setenv("DISPLAY", display)
    assert chosen_platform() is None
    assert unreachable_x_display(None) == display
    assert unreachable_x_display("xcb") == display
    # Another platform chosen on purpose does not need the X server.
    assert unreachable_x_display("offscreen") is None
    assert unreachable_x_display("wayland;xcb") is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert chosen_platform() == "offscreen"
    # Qt takes `-platform` over QT_QPA_PLATFORM, and so does the question.
    monkeypatch.setenv("BURNMETER_QT_ARGS", "-reverse -platform xcb")
    assert chosen_platform() == "xcb"
    monkeypatch.setenv("BURNMETER_QT_ARGS", "-platform")
    assert chosen_platform() is None
    # With a Wayland display and no platform chosen, Qt may not use xcb at all.
    monkeypatch.delenv("BURNMETER_QT_ARGS")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert unreachable_x_display(None) is None


def test_burnmeter_tray_takes_no_abbreviated_flags(tmp_path: Path) -> None:
    """`python -m tray_app --dem` ran the demo: its parser took prefixes, as no other
    burnmeter command does."""
    done = subprocess.run(
        [sys.executable, "-m", "tray_app", "--dem"],
        env=without_display(tmp_path),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "unrecognized arguments: --dem" in done.stderr
