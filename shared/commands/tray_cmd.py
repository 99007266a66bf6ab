"""`burnmeter tray`: the desktop tray meter (PySide6, imported only when run)."""

from __future__ import annotations

import argparse
from typing import Any

from shared.commands.context import CommandError, add_demo_flag


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tray",
        help="live cost meter in the system tray, with notifications and a dashboard",
        description="Start the tray app. It becomes the live writer of the ledger if no other "
        "burnmeter process is; without a system tray it opens the dashboard as a window.",
    )
    parser.add_argument(
        "--dashboard", action="store_true", help="open the dashboard window at start"
    )
    parser.add_argument("--verbose", action="store_true", help="log debug messages to stderr")
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from tray_app.main import run as run_tray
    except ImportError as exc:
        from shared.desktop import pyside6_advice

        raise CommandError(
            f"the tray needs PySide6 ({exc}); add it to this install: {pyside6_advice()}"
        ) from exc
    return run_tray(args)
