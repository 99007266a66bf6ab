"""Start at login on Linux: an XDG autostart entry (`~/.config/autostart/*.desktop`).

Desktop environments that follow the XDG autostart spec (GNOME, KDE, Xfce, Cinnamon, LXQt,
MATE) start every entry in that folder when the user logs in; removing the file undoes it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

ENTRY_NAME = "burnmeter-tray.desktop"


def autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def autostart_file() -> Path:
    return autostart_dir() / ENTRY_NAME


def tray_command() -> str:
    """How to start the tray from a login session: the frozen bundle, the installed
    `burnmeter-tray` script, or this Python running the `tray_app` package."""
    if getattr(sys, "frozen", False):
        return f"{shlex.quote(sys.executable)} tray"
    script = shutil.which("burnmeter-tray")
    if script:
        return shlex.quote(script)
    beside = Path(sys.executable).with_name("burnmeter-tray")
    if beside.exists():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m tray_app"


def desktop_entry(command: str) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=burnmeter\n"
        "Comment=Live cost meter for AI coding agents\n"
        f"Exec={command}\n"
        "Icon=burnmeter\n"
        "Terminal=false\n"
        "Categories=Development;Utility;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def autostart_enabled() -> bool:
    return autostart_file().is_file()


def set_autostart(enabled: bool, command: str | None = None) -> Path:
    """Write or remove the entry; returns its path."""
    path = autostart_file()
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(desktop_entry(command or tray_command()), encoding="utf-8")
        os.replace(tmp, path)
    else:
        path.unlink(missing_ok=True)
    return path
