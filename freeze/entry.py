"""The frozen bundle's entry point: one program, two names.

`burnmeter` is the command line (`burnmeter report`, `burnmeter lsp`, `burnmeter tray`, ...).
`burnmeter-tray` is the same program built as a windowed executable (no console on
Windows, the app bundle's executable on macOS); started under that name it runs the tray.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.cli import main

TRAY_EXECUTABLE = "burnmeter-tray"


def argv_for(executable: str, args: list[str]) -> list[str]:
    """The command line to run: the tray's name means `burnmeter tray ARGS`, unless ARGS
    name a command (the tray runs `sys.executable summary ...` for its exports)."""
    if Path(executable).stem.lower() == TRAY_EXECUTABLE and (not args or args[0].startswith("-")):
        return ["tray", *args]
    return args


if __name__ == "__main__":
    sys.exit(main(argv_for(sys.executable, sys.argv[1:])))
