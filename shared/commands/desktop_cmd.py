"""`burnmeter install-desktop`: add burnmeter to the Linux app menu (or take it out again)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared import desktop
from shared.commands.context import CommandError
from shared.paths import display_path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "install-desktop",
        help="add the tray to the app menu (XDG .desktop entry and icons)",
        description="Install burnmeter's .desktop entry and icons into your XDG data dir "
        "(~/.local/share by default) so the tray shows in the app menu; --uninstall removes "
        "them and the start-at-login entry.",
    )
    parser.add_argument(
        "--uninstall",
        action="store_true",
        help="remove the menu entry, the icons and the start-at-login entry",
    )
    parser.add_argument(
        "--autostart",
        action="store_true",
        help="also start the tray at login (XDG autostart entry)",
    )
    parser.set_defaults(run=run)


def _summarise(paths: list[Path]) -> list[str]:
    """One line per file, except the icons: one line for all of them."""
    theme = desktop.icon_theme_dir()
    icons = [path for path in paths if path.is_relative_to(theme)]
    lines = [display_path(path) for path in paths if path not in icons]
    if icons:
        lines.insert(0, f"{len(icons)} icons in {display_path(theme)}")
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        if args.uninstall:
            removed = desktop.uninstall_desktop_entry()
            for line in _summarise(removed):
                print(f"removed {line}")
            if not removed:
                print("nothing to remove: burnmeter's desktop entry was not installed")
            return 0
        for line in _summarise(desktop.install_desktop_entry()):
            print(f"wrote   {line}")
        if args.autostart:
            print(f"wrote   {display_path(desktop.enable_autostart())} (start at login)")
    except desktop.DesktopIntegrationError as exc:
        raise CommandError(str(exc)) from exc
    print(f"the menu entry starts: {' '.join(desktop.tray_command())}")
    if not desktop.tray_installed():
        print(
            "warning: this install has no PySide6, so the entry cannot start the tray yet: "
            + desktop.pyside6_advice(),
            file=sys.stderr,
        )
    return 0
