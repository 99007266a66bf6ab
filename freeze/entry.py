"""The frozen bundle's entry point: one program, two names.

`burnmeter` is the command line (`burnmeter report`, `burnmeter lsp`, `burnmeter tray`, ...).
`burnmeter-tray` is the same program built as a windowed executable (no console on
Windows, the app bundle's executable on macOS); started under that name it runs the tray.

The ingest's parser pool starts its workers with `spawn` on Windows, and on every OS once
the process has other threads (`burnmeter watch`, `lsp`, the tray): a spawned worker, and
multiprocessing's resource tracker, are this same executable started with
`--multiprocessing-fork ...` or `-c ...`. `multiprocessing.freeze_support()` runs those
before anything else; without it the command line parser refused them and every big
ingest failed with BrokenProcessPool.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

TRAY_EXECUTABLE = "burnmeter-tray"


def argv_for(executable: str, args: list[str]) -> list[str]:
    """The command line to run: the tray's name means `burnmeter tray ARGS`, unless ARGS
    name a command (the tray runs `sys.executable summary ...` for its exports)."""
    if Path(executable).stem.lower() == TRAY_EXECUTABLE and (not args or args[0].startswith("-")):
        return ["tray", *args]
    return args


if __name__ == "__main__":
    # First: in a worker or the resource tracker this runs its job and exits.
    multiprocessing.freeze_support()
    from shared.cli import main

    sys.exit(main(argv_for(sys.executable, sys.argv[1:])))
