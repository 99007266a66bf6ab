"""`burnmeter watch`: keep the ledger live without the tray, until stopped.

Takes the writer role if no other burnmeter process holds it, else waits as a reader and
takes over when the writer exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType

from shared.commands.context import CommandError, add_demo_flag, command_description, make_context
from shared.ingest import display_path
from shared.ledger import LedgerError
from shared.live import LiveEngine


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="keep the ledger live: ingest log lines as agents write them",
        description=command_description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_demo_flag(parser)
    parser.add_argument(
        "--verbose", action="store_true", help="print a line each time the ledger changes"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    stopping = threading.Event()
    verbose = bool(args.verbose)

    def changed() -> None:
        if verbose:
            print(f"{time.strftime('%H:%M:%S')} ledger updated", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    engine = LiveEngine(
        context.roots, context.ledger_file, on_change=changed, prices=context.price_book
    )
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        engine.start()
    except LedgerError as exc:
        raise CommandError(str(exc)) from exc
    role = "writing" if engine.is_writer else "reading (another burnmeter process writes)"
    print(
        f"burnmeter watch: {role} {display_path(context.ledger_file)}; "
        f"watching {len(context.roots)} log roots. Stop with Ctrl-C.",
        file=sys.stderr,
        flush=True,
    )
    was_writer = engine.is_writer
    try:
        while not stopping.wait(0.5):
            if engine.failure is not None:
                raise CommandError(engine.failure)
            if engine.is_writer and not was_writer:
                print("burnmeter watch: took over as the writer", file=sys.stderr, flush=True)
            was_writer = engine.is_writer
    finally:
        engine.stop()
    return 0
