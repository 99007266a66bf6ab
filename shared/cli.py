"""`burnmeter`: the command line. Each command lives in `shared/commands/`."""

from __future__ import annotations

import errno
import importlib
import sys

from shared import __version__

# Not `from typing import TYPE_CHECKING`: `burnmeter statusline` runs on every refresh of
# Claude Code's status bar, and importing typing alone costs it milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

# Commands in the order `--help` lists them. Front-end commands (tray, lsp) live in their
# own packages and are imported only when run, so the core never loads Qt or pygls.
COMMAND_MODULES = [
    "shared.commands.ingest_cmd",
    "shared.commands.report_cmd",
    "shared.commands.doctor_cmd",
    "shared.commands.reprice_cmd",
    "shared.commands.watch_cmd",
    "shared.commands.lsp_cmd",
    "shared.commands.statusline_cmd",
    "shared.commands.budgets_cmd",
    "shared.commands.summary_cmd",
    "shared.commands.desktop_cmd",
    "shared.commands.tray_cmd",
]


def version_text() -> str:
    """`burnmeter 0.1.0`, plus where it runs from when that is a PyInstaller bundle."""
    if getattr(sys, "frozen", False):
        from pathlib import Path

        return f"burnmeter {__version__} (bundle: {Path(sys.executable).parent})"
    return f"burnmeter {__version__}"


def _module_for(arguments: Sequence[str]) -> str | None:
    """The one command module a command line needs, when its first word names one
    (`report` -> shared.commands.report_cmd): a warm `burnmeter report` then skips
    importing every other command's dependencies. None means: build the full parser."""
    if not arguments or arguments[0].startswith("-"):
        return None
    name = f"shared.commands.{arguments[0].replace('-', '_')}_cmd"
    return name if name in COMMAND_MODULES else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    import argparse

    class PrintVersion(argparse.Action):
        """Like argparse's "version" action, but never wraps a long bundle path."""

        def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
            print(version_text())
            parser.exit()

    class WholeFlags(argparse.ArgumentParser):
        """A parser that takes no flag from its first letters, this one and every command's:
        `burnmeter --versio` printed the version, `report daily --tim Asia/Tokyo` counted
        days in Tokyo (a typo's prefix, or a later flag sharing it, changed the meaning)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("allow_abbrev", False)
            super().__init__(*args, **kwargs)

    parser = WholeFlags(
        prog="burnmeter",
        description="See and steer what your AI coding agents cost. Reads Claude Code and "
        "Codex logs into a local ledger; nothing leaves your machine.",
    )
    parser.add_argument("--version", action=PrintVersion, nargs=0, help="show the version and exit")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=WholeFlags)
    for name in COMMAND_MODULES if only is None else [only]:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["statusline"]:
        # Claude Code runs this on every refresh: skip importing every command's module.
        from shared.commands.statusline_cmd import run_fast

        status = run_fast(arguments[1:])
        if status >= 0:
            return status
    try:
        import sqlite3

        from shared.commands.context import CommandError, check_demo_flags
        from shared.ledger import LedgerError

        _usable_streams()
        parser = build_parser(_module_for(arguments))
        args = parser.parse_args(arguments)
        check_demo_flags(args)
    except KeyboardInterrupt:
        # Ctrl-C in the first tenth of a second, while the command is being set up: a
        # message as later, not a traceback through argparse.
        print("burnmeter: interrupted before it began; nothing was read.", file=sys.stderr)
        return 130
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        status = int(args.run(args))
        # Written out here, where a full disk or a closed pipe is still ours to report,
        # not at interpreter exit.
        if not sys.stdout.closed:  # the language server's stdio closes it on exit
            sys.stdout.flush()
        return status
    except (CommandError, LedgerError) as exc:
        print(f"burnmeter: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        # A read that found the ledger damaged inside (opening it checked its header only),
        # or a write (reprice, a budget reading) the file or another process refused.
        from shared.ledger import damaged, last_opened, stayed_locked, storage_problem, write_failed

        path = last_opened()
        if path is None:
            raise
        problem = storage_problem(exc)
        reported = (
            damaged(exc, path)
            or stayed_locked(path, exc)
            or (write_failed(path, problem) if problem is not None else None)
        )
        if reported is None:
            raise
        print(f"burnmeter: {reported}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"burnmeter: {interrupted(exc, demo=getattr(args, 'demo', False))}", file=sys.stderr)
        if _running_as_the_program():
            _exit_even_if_the_pool_hangs(130)
        return 130
    except BrokenPipeError:
        # The reader stopped reading (`| head`): not a failure. Later writes (Python's own
        # flush at exit) go nowhere instead of raising again.
        stdout_to_devnull()
        return 0
    except OSError as exc:
        if exc.errno not in WRITE_ERRNOS:
            raise
        stdout_to_devnull()
        print(f"burnmeter: cannot write the output: {exc.strerror}", file=sys.stderr)
        return 1


def interrupted(exc: KeyboardInterrupt, *, demo: bool = False) -> str:
    """What a Ctrl-C left, as the command was doing it: an ingest keeps each batch it
    committed, a first import nothing; a command interrupted anywhere else (before or after
    its ingest, or with `--no-ingest`) read nothing into the ledger just then, and `reprice`
    changes every cost in one transaction. Every one of them said "what was read so far is
    kept", even an ingest stopped before it had begun reading."""
    from shared.ingest import FirstImportInterrupted

    if isinstance(exc, FirstImportInterrupted):
        return (
            "interrupted; a first import is kept only once it completes, so nothing of it "
            "was kept. Run it again (it starts over)."
        )
    kept = _ingest_kept(exc)
    if kept is None or demo:  # the demo's ledger is thrown away on exit whatever it holds
        return "interrupted."
    if kept:
        return "interrupted; what was read so far is kept (the next run reads on from there)."
    return "interrupted before the ingest had kept any new model call."


def _ingest_kept(exc: BaseException) -> bool | None:
    """Whether the ingest the interrupt stopped had committed new model calls; None when
    it stopped no ingest."""
    in_ingest = False
    trace = exc.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_globals.get("__name__") == "shared.ingest.run":
            if frame.f_code.co_name == "_read_into_ledger":
                # Its summary counts the calls of each batch once that batch is committed.
                return getattr(frame.f_locals.get("summary"), "new_calls", 0) > 0
            in_ingest = True  # still finding or planning what to read: nothing written
        trace = trace.tb_next
    return False if in_ingest else None


# A full disk, an I/O error, a closed descriptor: the output could not be written.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EBADF})


def _usable_streams() -> None:
    """Output that cannot fail for the wrong reason: a closed stdout (`>&-`) left Python's
    sys.stdout as None, and an encoding that is not UTF-8 (PYTHONIOENCODING=latin-1, a
    Windows console) raised UnicodeEncodeError on a `…` or `–`; such characters now come
    out as `?` there."""
    import os

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        elif (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="replace")


def stdout_to_devnull() -> None:
    """Point stdout at /dev/null after a write to it failed, so that Python's own flush at
    exit does not raise the same error again (the CLI and the status line's fast path)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _running_as_the_program() -> bool:
    """`burnmeter ...` or `python -m shared ...`, not a caller of `main` in its own process."""
    import os

    entry = sys.modules.get("__main__")
    spec = getattr(entry, "__spec__", None)
    if spec is not None and spec.name == "shared.__main__":
        return True
    return os.path.basename(sys.argv[0]).removesuffix(".exe") == "burnmeter"


# How long an interrupted burnmeter may take to exit by itself: the pool's workers finish the
# task in hand (well under a second) and the ledger is closed; all is committed or rolled
# back by then.
EXIT_GRACE_SECONDS = 2.0


def _exit_even_if_the_pool_hangs(code: int) -> None:
    """After a Ctrl-C, the parser pool's manager thread can stay blocked reading a result a
    worker had half-written when the pool shut down, and the pool's exit hook joins that
    thread forever. That hook runs before Python counts the main thread as finished, so
    this does not wait for it: it ends the process with `code` EXIT_GRACE_SECONDS from now,
    if it is still there (whatever was read is committed or rolled back already)."""
    import contextlib
    import os
    import threading
    import time

    def watch() -> None:
        time.sleep(EXIT_GRACE_SECONDS)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed or broken stream: exiting anyway
                stream.flush()
        os._exit(code)

    threading.Thread(target=watch, name="exit-after-interrupt", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
