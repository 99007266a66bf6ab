"""Where burnmeter keeps its files and finds its bundled resources."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from shared.userdirs import CONFIG, DATA, quick_user_dir

APP_NAME = "burnmeter"
LEDGER_FILENAME = "ledger.sqlite"


def data_dir() -> Path:
    """The data dir: `BURNMETER_DATA_DIR`, else the platform's user data dir (platformdirs'
    rule; see shared.userdirs for when it is worked out without importing platformdirs)."""
    return _user_folder("BURNMETER_DATA_DIR", DATA)


def config_dir() -> Path:
    """The config dir: `BURNMETER_CONFIG_DIR`, else the platform's user config dir."""
    return _user_folder("BURNMETER_CONFIG_DIR", CONFIG)


def _user_folder(override_variable: str, xdg_variable: str) -> Path:
    override = os.environ.get(override_variable)
    if override:
        return Path(override).expanduser()
    quick = quick_user_dir(xdg_variable, APP_NAME)
    if quick is not None:
        return Path(quick)
    import platformdirs

    find = platformdirs.user_data_dir if xdg_variable == DATA else platformdirs.user_config_dir
    return Path(find(APP_NAME, appauthor=False))


def make_data_dir(path: Path) -> None:
    """Create the data folder `path` (and its parents) if it is missing, as the user's
    alone (0700, whatever the umask): whichever burnmeter file comes first (the ledger, the
    writer lock, the tray's lock or notes, the language server's token) makes it so. A
    folder that exists is left as it is."""
    if path.exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


def config_file() -> Path:
    return config_dir() / "config.toml"


def ledger_path() -> Path:
    return data_dir() / LEDGER_FILENAME


def resources_dir() -> Path:
    """The bundled `resources/` folder, in a checkout, an installed wheel or a frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    import resources

    return Path(resources.__file__).parent


def demo_history_dir() -> Path:
    """The small generated demo history shipped for newcomers (`--demo`)."""
    return resources_dir() / "demo" / "home"


def cli_command() -> list[str]:
    """How to run the `burnmeter` CLI in a child process of this one: in a bundle, the
    console executable beside this one (never the windowed tray's, which on Windows has no
    stdout); otherwise this Python with `-m shared`."""
    if getattr(sys, "frozen", False):
        executable = Path(sys.executable)
        return [str(executable.with_name(APP_NAME + executable.suffix))]
    return [sys.executable, "-m", "shared"]


def display_path(path: str | Path) -> str:
    """`path` as messages show it: under the home folder as `~/...`."""
    home = os.path.expanduser("~")
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text
