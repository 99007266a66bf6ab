"""shared.userdirs works out the data and config folders without importing platformdirs
only where platformdirs' answer is plain; everywhere it answers, the answer must be
platformdirs' own, to the character (the statusline and the reports must open the same
ledger), and everywhere else the callers must ask platformdirs."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
from platformdirs.macos import MacOS

from shared import paths
from shared.commands.statusline_cmd import quick_ledger_path
from shared.userdirs import CONFIG, DATA, quick_user_dir

HOMES = ["/home/dev", "/home/dev/", "relative/home", None]
XDG_VALUES = [None, "", "   ", "/srv/xdg", "/srv/xdg/", " /srv/xdg", "/srv/xdg ", "rel/xdg"]
ANDROID = [None, {"ANDROID_DATA": "/data", "ANDROID_ROOT": "/system"}]


def _set(monkeypatch: pytest.MonkeyPatch, name: str, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux rule")
@pytest.mark.parametrize(
    ("home", "xdg", "android"),
    list(itertools.product(HOMES, XDG_VALUES, ANDROID)),
)
def test_linux_folders_are_platformdirs_own(
    monkeypatch: pytest.MonkeyPatch,
    home: str | None,
    xdg: str | None,
    android: dict[str, str] | None,
) -> None:
    monkeypatch.delenv("BURNMETER_DATA_DIR", raising=False)
    monkeypatch.delenv("BURNMETER_CONFIG_DIR", raising=False)
    _set(monkeypatch, "HOME", home)
    _set(monkeypatch, DATA, xdg)
    _set(monkeypatch, CONFIG, xdg)
    for name in ("ANDROID_DATA", "ANDROID_ROOT"):
        _set(monkeypatch, name, (android or {}).get(name))

    expected_data = platformdirs.user_data_dir("burnmeter", appauthor=False)
    expected_config = platformdirs.user_config_dir("burnmeter", appauthor=False)
    for variable, expected in ((DATA, expected_data), (CONFIG, expected_config)):
        quick = quick_user_dir(variable, "burnmeter")
        assert quick is None or quick == expected, (variable, quick, expected)
    assert paths.data_dir() == Path(expected_data)
    assert paths.config_dir() == Path(expected_config)
    quick_ledger = quick_ledger_path()
    assert quick_ledger is None or quick_ledger == str(paths.ledger_path())

    # The plain cases are answered here, not left to platformdirs.
    plain = home is not None and home.startswith("/") and android is None
    plain = plain and (not xdg or xdg in ("/srv/xdg", "/srv/xdg/"))
    assert (quick_user_dir(DATA, "burnmeter") is not None) == plain


@pytest.mark.parametrize("variable", [DATA, CONFIG])
@pytest.mark.parametrize("xdg", [None, "/srv/xdg", ""])
def test_macos_folders_are_platformdirs_own_or_left_to_it(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, variable: str
) -> None:
    """The status line reads the config's `timezone` on every refresh: on macOS, asking
    platformdirs for the config folder cost each refresh 4.4 ms of imports."""
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", "/Users/dev")
    _set(monkeypatch, variable, xdg)
    quick = quick_user_dir(variable, "burnmeter")
    if xdg is None:
        folders = MacOS("burnmeter", appauthor=False)
        expected = folders.user_data_dir if variable == DATA else folders.user_config_dir
        assert quick == expected
    else:
        # platformdirs releases differ here (newer ones read the variable on macOS too).
        assert quick is None


def test_windows_is_left_to_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("HOME", "/home/dev")
    assert quick_user_dir(DATA, "burnmeter") is None
    assert quick_user_dir(CONFIG, "burnmeter") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux rule")
def test_a_plain_start_does_not_import_platformdirs(tmp_path: Path) -> None:
    """What the quick rule is for: every command's start (a warm report, the statusline)
    skips platformdirs' import."""
    code = (
        "import sys\n"
        "from shared.paths import config_file, ledger_path\n"
        "print(ledger_path(), config_file(), 'platformdirs' in sys.modules)\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    ledger, config, imported = done.stdout.split()
    assert ledger == f"{tmp_path}/.local/share/burnmeter/ledger.sqlite"
    assert config == f"{tmp_path}/.config/burnmeter/config.toml"
    assert imported == "False"
