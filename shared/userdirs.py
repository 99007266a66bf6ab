"""The user data and config folders where platformdirs' answer is plain, without importing
platformdirs (its import, with the `tempfile` and `random` it brings, took 4.4 ms in a bare
process and ~1.5 ms of a warm report end to end; `burnmeter statusline` runs on every
refresh of Claude Code's status bar).

Only the cases every platformdirs release this project allows (>= 4) answers alike: Linux
(not Android, which platformdirs detects from the environment) and macOS's data and config
folder (one folder there),
with an absolute `HOME` and the XDG variable either unset or a clean absolute path. For
anything else (a relative or blank XDG value, which newer releases ignore and older ones
used; no usable `HOME`; another system) this returns None and the caller asks
platformdirs. tests/core/test_userdirs.py compares both over those environments.
"""

from __future__ import annotations

import os
import sys

DATA = "XDG_DATA_HOME"
CONFIG = "XDG_CONFIG_HOME"
_LINUX_DEFAULTS = {DATA: "~/.local/share", CONFIG: "~/.config"}
_MACOS_DATA = "~/Library/Application Support"


def quick_user_dir(variable: str, app: str) -> str | None:
    """platformdirs' `user_data_dir(app)` (variable XDG_DATA_HOME) or `user_config_dir(app)`
    (XDG_CONFIG_HOME), with `appauthor=False` and no version; None where the rule is not
    plain."""
    if not os.path.isabs(os.environ.get("HOME", "")):
        return None  # platformdirs then asks the password database, or gives up
    value = os.environ.get(variable)
    if sys.platform.startswith("linux"):
        if "ANDROID_DATA" in os.environ or "ANDROID_ROOT" in os.environ:
            return None
        if not value:
            return os.path.join(os.path.expanduser(_LINUX_DEFAULTS[variable]), app)
        if os.path.isabs(value) and value == value.strip():
            return os.path.join(value, app)
        return None
    if sys.platform == "darwin" and value is None:
        # Newer platformdirs read the XDG variables on macOS too, older ones do not; unset,
        # both give Application Support for data and config alike.
        return os.path.join(os.path.expanduser(_MACOS_DATA), app)
    return None
