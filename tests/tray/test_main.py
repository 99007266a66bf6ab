"""`burnmeter tray` as a process: what it leaves behind and how a second start behaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.desktop import PYSIDE6_REQUIREMENT
from tests.tray.offscreen import REPO, run_offscreen


def start_tray(log: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shared", "tray", *args],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for_line(log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in:\n{log.read_text()}")


def stop(tray: subprocess.Popen[bytes], log: Path) -> str:
    tray.send_signal(signal.SIGTERM)
    code = tray.wait(timeout=30)
    output = log.read_text()
    assert code == 0, output
    assert "Traceback" not in output
    return output


def test_the_demo_leaves_no_folder_behind(isolated_home: Path, tmp_path: Path) -> None:
    """Each `burnmeter tray --demo` used to leave a burnmeter-demo-config-* folder."""
    temp = tmp_path / "temp"
    temp.mkdir()
    log = tmp_path / "tray.log"
    tray = start_tray(log, "--demo", env={"TMPDIR": str(temp)})
    try:
        wait_for_line(log, "watching 2 log roots")
        assert list(temp.iterdir())  # the demo's history and ledger
    finally:
        stop(tray, log)
    assert list(temp.iterdir()) == []


def test_a_second_start_opens_the_first_ones_dashboard_and_exits(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Two trays on one data dir gave two icons and every notification twice."""
    log = tmp_path / "first.log"
    first = start_tray(log, "--verbose")
    try:
        wait_for_line(log, "watching")
        second = run_offscreen("-m", "shared", "tray", timeout=30)
        assert second.returncode == 0, second.stderr
        assert (
            f"burnmeter tray is already running (pid {first.pid}); its dashboard was opened."
            in second.stderr
        )
        wait_for_line(log, "a second start of the tray asked for the dashboard")

        # The demo keeps its own throwaway data dir, so it runs beside the real tray.
        demo_log = tmp_path / "demo.log"
        demo = start_tray(demo_log, "--demo")
        try:
            wait_for_line(demo_log, "watching 2 log roots")
        finally:
            stop(demo, demo_log)
    finally:
        stop(first, log)

    # Once the first has quit, the lock is free again.
    log = tmp_path / "again.log"
    again = start_tray(log)
    try:
        wait_for_line(log, "watching")
    finally:
        stop(again, log)


def test_without_pyside6_the_tray_says_what_to_install(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An install without the [tray] extra ended `burnmeter tray` in a ModuleNotFoundError
    traceback, and install-desktop wrote an entry that could not start, without a word."""
    from shared.cli import main

    monkeypatch.setitem(sys.modules, "PySide6", None)  # import and find_spec see no PySide6
    assert main(["tray"]) == 2
    err = capsys.readouterr().err
    # Advice that works for this install: its own Python's pip (or pipx inject), never
    # `pip install 'burnmeter[tray]'`, which asks PyPI for someone else's package.
    assert "the tray needs PySide6" in err and "burnmeter[tray]" not in err
    assert f"{sys.executable} -m pip install '{PYSIDE6_REQUIREMENT}'" in err
    assert f"pipx inject burnmeter '{PYSIDE6_REQUIREMENT}'" in err
    assert "Traceback" not in err
    assert main(["install-desktop"]) == 0
    assert "warning: this install has no PySide6" in capsys.readouterr().err
    assert main(["install-desktop", "--uninstall"]) == 0


def test_the_advised_requirement_is_the_tray_extras() -> None:
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["tray"] == [PYSIDE6_REQUIREMENT]
