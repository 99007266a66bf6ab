"""Linux desktop integration: the launcher entry, its icon, and the start-at-login entry.

Everything goes into the user's own XDG folders (no root needed), following the
freedesktop.org Desktop Entry, Icon Theme and Autostart specifications:

- launcher: `$XDG_DATA_HOME/applications/burnmeter.desktop`
- icons:    `$XDG_DATA_HOME/icons/hicolor/{scalable,NxN}/apps/burnmeter.{svg,png}`
- autostart: `$XDG_CONFIG_HOME/autostart/burnmeter.desktop` (the tray's "start at login")

The entries start the tray by absolute path, so they work without burnmeter on PATH
(a pipx venv, a bundle unpacked anywhere).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from shared.atomic_file import ReadOnlyFileError, write_atomically
from shared.paths import resources_dir

DESKTOP_FILE_NAME = "burnmeter.desktop"
ICON_NAME = "burnmeter"
TRAY_EXECUTABLE = "burnmeter-tray"
# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The
# Exec key"); inside quotes these four take a backslash.
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_EXEC_ESCAPED_IN_QUOTES = frozenset('"`$\\')


# The tray's Qt, as pyproject.toml's `[tray]` extra asks for it (tests/tray/test_main.py
# holds the two together).
PYSIDE6_REQUIREMENT = "PySide6-Essentials>=6.7,!=6.12.0"


def pyside6_advice() -> str:
    """How to add the tray's Qt to this very install: with its own Python's pip, or pipx's
    inject. (`pip install 'burnmeter[tray]'` would ask PyPI for a package of that name,
    which is not this one, and another venv's `pip` installs it elsewhere.)"""
    python = shlex.quote(sys.executable)
    return (
        f"{python} -m pip install '{PYSIDE6_REQUIREMENT}' "
        f"(installed with pipx: pipx inject burnmeter '{PYSIDE6_REQUIREMENT}')"
    )


class DesktopIntegrationError(Exception):
    """Desktop integration is not possible here (not an XDG desktop, unwritable folder)."""


def is_supported() -> bool:
    """XDG desktop entries mean something on Linux and the BSDs, not on macOS or Windows."""
    return sys.platform not in ("darwin", "win32", "cygwin")


def _require_support() -> None:
    if not is_supported():
        raise DesktopIntegrationError(
            "desktop entries and start at login use the XDG specifications, which only Linux "
            "and BSD desktops follow; on macOS and Windows use the app bundle instead"
        )


def _xdg_dir(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "")
    # The spec says a relative path in these variables is invalid and must be ignored.
    return Path(value) if value and Path(value).is_absolute() else default


def xdg_data_home() -> Path:
    return _xdg_dir("XDG_DATA_HOME", Path.home() / ".local" / "share")


def xdg_config_home() -> Path:
    return _xdg_dir("XDG_CONFIG_HOME", Path.home() / ".config")


def desktop_entry_path() -> Path:
    return xdg_data_home() / "applications" / DESKTOP_FILE_NAME


def autostart_path() -> Path:
    return xdg_config_home() / "autostart" / DESKTOP_FILE_NAME


def icon_theme_dir() -> Path:
    return xdg_data_home() / "icons" / "hicolor"


def bundled_icons() -> dict[Path, Path]:
    """{bundled icon file: where it goes in the user's hicolor theme}."""
    icons = resources_dir() / "icons"
    theme = icon_theme_dir()
    placed = {icons / f"{ICON_NAME}.svg": theme / "scalable" / "apps" / f"{ICON_NAME}.svg"}
    for png in sorted(icons.glob(f"{ICON_NAME}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        if size.isdigit():
            placed[png] = theme / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
    return placed


def tray_installed() -> bool:
    """Whether this install has the tray's Qt (the `[tray]` extra), without importing it."""
    import importlib.util

    return importlib.util.find_spec("PySide6") is not None


def tray_command() -> list[str]:
    """The command that starts the tray, by absolute path where one exists."""
    executable = Path(sys.executable)
    if getattr(sys, "frozen", False):
        tray = executable.with_name(TRAY_EXECUTABLE + executable.suffix)
        return [str(tray)] if tray.exists() else [str(executable), "tray"]
    # pip and pipx put the gui-script beside the interpreter of the venv they installed into.
    beside = executable.parent / TRAY_EXECUTABLE
    if beside.exists():
        return [str(beside)]
    found = shutil.which(TRAY_EXECUTABLE)
    if found:
        return [str(Path(found).absolute())]
    return [str(executable), "-m", "shared", "tray"]


def _exec_argument(argument: str) -> str:
    quoted = argument
    if not argument or any(char in _EXEC_RESERVED for char in argument):
        escaped = "".join(
            "\\" + char if char in _EXEC_ESCAPED_IN_QUOTES else char for char in argument
        )
        quoted = f'"{escaped}"'
    return quoted.replace("%", "%%")


def exec_value(command: list[str]) -> str:
    """The Exec= value for a command line, quoted per the Desktop Entry spec (quoting first,
    then the string-value escape that doubles every backslash). GLib-based launchers parse
    it back exactly, except a `%` in the program's path: GLib looks the program up before
    undoing `%%`, so an install under such a path needs a `%`-free symlink."""
    return " ".join(_exec_argument(arg) for arg in command).replace("\\", "\\\\")


def desktop_entry_text(command: list[str] | None = None, *, autostart: bool = False) -> str:
    """The bundled `resources/burnmeter.desktop` with Exec= pointing at this install."""
    template = (resources_dir() / DESKTOP_FILE_NAME).read_text(encoding="utf-8")
    exec_line = "Exec=" + exec_value(command or tray_command())
    lines = [exec_line if line.startswith("Exec=") else line for line in template.splitlines()]
    if autostart:
        # Honoured by GNOME, KDE and most others; Delay lets the panel's tray host start first.
        lines += ["X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-Delay=5"]
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, data: bytes) -> None:
    """`data` into `path` in one rename (`shared.atomic_file`); its folder is made too, and
    one that cannot be (a file in its way, no permission) is the same "could not write"."""
    try:
        write_atomically(path, data)
    except ReadOnlyFileError as exc:
        raise DesktopIntegrationError(f"could not write {path}: {exc.strerror}") from exc
    except OSError as exc:
        raise DesktopIntegrationError(f"could not write {path}: {exc}") from exc


def _refresh_icon_cache() -> None:
    """GTK ignores new icons in a theme folder whose icon-theme.cache is older; refresh it
    if there is one (best effort: a missing tool only delays the icon)."""
    theme = icon_theme_dir()
    tool = shutil.which("gtk-update-icon-cache")
    if tool and (theme / "icon-theme.cache").exists():
        subprocess.run([tool, "-q", "-f", "-t", str(theme)], check=False, capture_output=True)


def install_desktop_entry(command: list[str] | None = None) -> list[Path]:
    """Install the launcher entry and icons for this user; returns the files written."""
    _require_support()
    written = []
    for source, target in bundled_icons().items():
        _write_atomically(target, source.read_bytes())
        written.append(target)
    entry = desktop_entry_path()
    _write_atomically(entry, desktop_entry_text(command).encode())
    written.append(entry)
    _refresh_icon_cache()
    return written


def uninstall_desktop_entry() -> list[Path]:
    """Remove the launcher entry, the icons and the autostart entry; returns what was removed."""
    _require_support()
    removed = []
    for target in [*bundled_icons().values(), desktop_entry_path(), autostart_path()]:
        if target.exists():
            target.unlink()
            removed.append(target)
    _refresh_icon_cache()
    return removed


def enable_autostart(command: list[str] | None = None) -> Path:
    """Start the tray at login: write the XDG autostart entry; returns its path."""
    _require_support()
    path = autostart_path()
    _write_atomically(path, desktop_entry_text(command, autostart=True).encode())
    return path


def disable_autostart() -> bool:
    """Stop starting at login; True if there was an entry to remove."""
    _require_support()
    path = autostart_path()
    if not path.exists():
        return False
    path.unlink()
    return True


def _desktop_entry_keys(text: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    in_main_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_main_group = line == "[Desktop Entry]"
        elif in_main_group and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip()
    return keys


def autostart_enabled() -> bool:
    """True if the session will start the tray at login: our entry exists and is neither
    hidden nor switched off (desktop settings panels do either instead of deleting it)."""
    if not is_supported():
        return False
    try:
        keys = _desktop_entry_keys(autostart_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
    return (
        keys.get("Hidden", "false").lower() != "true"
        and keys.get("X-GNOME-Autostart-enabled", "true").lower() != "false"
    )
