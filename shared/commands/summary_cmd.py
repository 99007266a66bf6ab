"""`burnmeter summary`: one ISO week of agent cost as Markdown, HTML, JSON or CSV."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shared.commands.context import (
    CommandError,
    add_demo_flag,
    make_context,
    stdout_is_terminal,
    where_we_looked,
)
from shared.commands.render import terminal_safe, write_utf8
from shared.commands.report_cmd import zone

if TYPE_CHECKING:
    from shared.summary.export import Format
    from shared.summary.weeks import IsoWeek

# The summary modules load pydantic and the price book; they are imported inside run() so
# that building the CLI parser stays fast for every other command.

FORMAT_CHOICES = ("md", "html", "json", "csv")


def _week(text: str) -> IsoWeek | None:
    from shared.summary.weeks import WeekError, parse_week

    try:
        return parse_week(text)
    except WeekError as exc:
        raise CommandError(str(exc)) from exc


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="weekly summary of agent cost (Markdown, HTML, JSON, CSV)",
        description="A summary of one ISO week: cost and tokens against the week before, "
        "per day, agent, model, tier and repo, top sessions, outcomes, tier hints, loops, "
        "cache efficiency, plan limits, leverage and budgets. Default: the last complete "
        "week in local time, as Markdown on stdout.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--week", metavar="YYYY-Www", help="the ISO week to show")
    which.add_argument(
        "--last-week",
        action="store_true",
        help="the last complete ISO week (the default)",
    )
    parser.add_argument(
        "--tz",
        "--timezone",
        "-z",
        type=zone,
        help="IANA time zone the week is cut in (default: config, else local)",
    )
    parser.add_argument(
        "--format", choices=FORMAT_CHOICES, default=None, help="output format (default: md)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write to this file (or into this folder: one that exists, or any path ending "
        "in /) instead of stdout ('-' is stdout); the format follows the file's suffix "
        "unless --format says otherwise",
    )
    parser.add_argument(
        "--redact",
        action="store_true",
        help="replace repository paths by stable short hashes, for sharing",
    )
    parser.add_argument(
        "--no-ingest", action="store_true", help="summarise the ledger as it is, reading no logs"
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


SUFFIX_FORMATS: dict[str, Format] = {
    "md": "md",
    "markdown": "md",
    "htm": "html",
    "html": "html",
    "json": "json",
    "csv": "csv",
}


def _format_for(args: argparse.Namespace) -> Format:
    """--format, else the output file's suffix, else Markdown."""
    if args.format:
        return SUFFIX_FORMATS[args.format]
    if args.output not in (None, "-"):
        return SUFFIX_FORMATS.get(Path(args.output).suffix.lower().lstrip("."), "md")
    return "md"


def _write_document(text: str) -> None:
    """The summary on stdout. Redirected (`> week.html`), it is a document whose HTML says
    UTF-8, so it is written as UTF-8 whatever the stream's encoding (PYTHONIOENCODING, a
    Windows console's code page); a terminal gets text in its own encoding, with the
    control characters of logged names written as escapes (`terminal_safe`)."""
    if sys.stdout.isatty():
        sys.stdout.write(terminal_safe(text))
    else:
        write_utf8(text)


def run(args: argparse.Namespace) -> int:
    from shared.summary import build_summary, render
    from shared.summary.export import SUFFIXES, write_atomically

    fmt = _format_for(args)
    # An empty `--week ""` is a bad week like any other, not "no week given".
    week = _week(args.week) if args.week is not None else None
    context = make_context(args)
    if not args.no_ingest:
        writes_file = args.output not in (None, "-")
        ingested = context.ingest(show_progress=writes_file and stdout_is_terminal())
        if ingested.files_seen == 0:
            print(where_we_looked(context.roots), file=sys.stderr)
        for problem in ingested.unreadable:
            print(f"warning: {problem}", file=sys.stderr)
    summary = build_summary(
        context.ledger,
        context.settings.settings,
        week,
        args.tz,
        redact=args.redact,
        prices=context.price_book(),
    )
    text = render(summary, fmt)
    if args.output in (None, "-"):
        _write_document(text)
        return 0
    target = Path(args.output).expanduser()
    if target.is_dir() or args.output.endswith(("/", os.sep)):
        target = target / f"burnmeter-{summary['week']}{SUFFIXES[fmt]}"
    try:
        write_atomically(target, text)
    except OSError as exc:
        # strerror alone: the message would otherwise name the temporary file beside it.
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from exc
    print(f"Wrote the {summary['week']} summary ({fmt}) to {target}", file=sys.stderr)
    return 0
