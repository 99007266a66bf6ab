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

from shared.commands.context import (
    CommandError,
    add_demo_flag,
    command_description,
    make_context,
    where_we_looked,
)
from shared.ledger import LedgerError
from shared.live import LiveEngine
from shared.paths import display_path
from shared.sources.roots import find_log_files


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


def _engine_messages_on_stderr() -> None:
    """The live engine's warnings and errors (a failed ingest, a ledger it must stop
    writing) as `burnmeter watch: …` lines: they are this command's own messages."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("burnmeter watch: %(message)s"))
    engine_log = logging.getLogger("shared.live.engine")
    engine_log.addHandler(handler)
    engine_log.propagate = False


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    _engine_messages_on_stderr()
    stopping = threading.Event()
    verbose = bool(args.verbose)

    def changed() -> None:
        if verbose:
            print(f"{time.strftime('%H:%M:%S')} ledger updated", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    engine = LiveEngine(
        context.roots,
        context.ledger_file,
        on_change=changed,
        prices=context.price_book,
        progress=_BigReadProgress(),
    )
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        engine.start()
    except LedgerError as exc:
        raise CommandError(str(exc)) from exc
    if not find_log_files(context.roots):
        # As every other command says it; watch then waits for the logs to appear.
        print(where_we_looked(context.roots), file=sys.stderr, flush=True)
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
                return 2  # the engine said why, once (see _engine_messages_on_stderr)
            if engine.is_writer and not was_writer:
                print("burnmeter watch: took over as the writer", file=sys.stderr, flush=True)
            was_writer = engine.is_writer
    finally:
        engine.stop()
        if engine.stopped_ingest is not None:
            print(f"burnmeter watch: {engine.stopped_ingest}", file=sys.stderr, flush=True)
        from shared.cli import _exit_even_if_the_pool_hangs, _running_as_the_program

        if engine.stopped_ingest is not None and _running_as_the_program():
            # An ingest cut short can leave the parser pool's manager thread blocked, and
            # Python's exit joins it forever (seen once: SIGINT, SIGTERM, then only
            # SIGKILL ended it): the process ends a moment later whatever that thread does.
            _exit_even_if_the_pool_hangs(0)
    return 0


class _BigReadProgress:
    """A line now and then while a big read (a first import) runs: without it `watch`
    said nothing for the minutes a large history takes."""

    EVERY_S = 5.0

    def __init__(self) -> None:
        self._next = 0.0

    def __call__(self, done: int, total: int, path: str) -> None:
        from shared.ingest import FINISHING_LEDGER, WAITING_FOR_INGEST, run

        if path == WAITING_FOR_INGEST:
            print(
                "burnmeter watch: waiting for another burnmeter process to finish reading the logs",
                file=sys.stderr,
                flush=True,
            )
            return
        now = time.monotonic()
        if total < run.PARALLEL_THRESHOLD_BYTES or (now < self._next and path != FINISHING_LEDGER):
            return
        self._next = now + self.EVERY_S
        what = (
            "building the ledger's indexes and totals"
            if path == FINISHING_LEDGER
            else f"reading the logs: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB"
        )
        print(f"burnmeter watch: {what}", file=sys.stderr, flush=True)
