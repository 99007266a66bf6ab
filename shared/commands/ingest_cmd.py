"""`burnmeter ingest`: read new bytes from every log root into the ledger."""

from __future__ import annotations

import argparse
import sys
import time

from shared.commands.context import (
    add_demo_flag,
    command_description,
    make_context,
    stdout_is_terminal,
    where_we_looked,
)
from shared.commands.render import plural
from shared.paths import display_path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="read new log lines into the ledger",
        description=command_description(__doc__),
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    started = time.perf_counter()
    summary = context.ingest(show_progress=stdout_is_terminal())
    elapsed = time.perf_counter() - started
    if summary.files_seen == 0:
        print(where_we_looked(context.roots), file=sys.stderr)
        return 0
    print(
        f"Ingested {summary.files_read:,} of {plural(summary.files_seen, 'file')} "
        f"({summary.bytes_read / 1e6:,.1f} MB, {plural(summary.events_read, 'usage record')}, "
        f"{plural(summary.new_calls, 'new or updated call')}) in {elapsed:.2f}s into "
        # The demo's ledger is deleted on exit: its path would name a file gone by then.
        + (
            "a throwaway ledger (deleted on exit)"
            if context.demo
            else display_path(context.ledger_file)
        )
        + (
            f"; skipped {plural(summary.rejected_lines, 'malformed line')}"
            if summary.rejected_lines
            else ""
        )
        + (
            f"; waited {summary.waited_s:.1f}s for another burnmeter process reading the same logs"
            if summary.waited_s >= 0.05
            else ""
        )
        + (
            (
                "; 1 file was deleted before it could be read"
                if summary.vanished == 1
                else f"; {summary.vanished:,} files were deleted before they could be read"
            )
            if summary.vanished
            else ""
        )
    )
    for problem in summary.unreadable:
        print(f"warning: {problem}", file=sys.stderr)
    from shared.commands.reprice_cmd import stale_prices

    stale = stale_prices(context.ledger, context.price_book())
    if stale is not None:
        print(f"note: {stale}", file=sys.stderr)
    return 0
