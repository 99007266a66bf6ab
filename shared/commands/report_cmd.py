"""`burnmeter report {daily,weekly,monthly,sessions,models,repos,files}`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.commands.context import (
    CommandError,
    add_demo_flag,
    make_context,
    stdout_is_terminal,
    where_we_looked,
)
from shared.commands.render import (
    money,
    print_csv,
    print_json,
    print_table,
    short_model,
    tokens,
)
from shared.reports import (
    Filters,
    files_report,
    models_report,
    period_report,
    repos_report,
    sessions_report,
)
from shared.sources.events import AGENTS

KINDS = ("daily", "weekly", "monthly", "sessions", "models", "repos", "files")
TOKEN_COLUMNS = ["Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Cost (USD)"]
CSV_TOKENS = [
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_usd",
]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r} (use an IANA name such as Europe/Berlin)"
        ) from exc


def local_zone() -> ZoneInfo:
    import os

    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return ZoneInfo("UTC")


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_date, help="first local date to include (YYYY-MM-DD)")
    parser.add_argument("--until", type=_date, help="last local date to include (YYYY-MM-DD)")
    parser.add_argument("--tz", type=zone, help="IANA time zone for dates (default: local)")
    parser.add_argument("--agent", choices=AGENTS, help="only this agent's calls")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="token and cost reports",
        description="Token and cost reports. "
        "Every report reads new log lines first, so it is always current.",
    )
    parser.add_argument("kind", choices=KINDS, help="which report")
    add_filter_flags(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable JSON")
    output.add_argument("--csv", action="store_true", help="CSV with a header row")
    parser.add_argument(
        "--no-ingest", action="store_true", help="report from the ledger as it is, reading no logs"
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def filters_from(args: argparse.Namespace) -> Filters:
    if args.since and args.until and args.since > args.until:
        raise CommandError(f"--since {args.since} is after --until {args.until}")
    return Filters(since=args.since, until=args.until, agent=args.agent, tz=args.tz or local_zone())


def build_report(kind: str, context_ledger: Any, filters: Filters) -> dict[str, Any]:
    if kind in ("daily", "weekly", "monthly"):
        return period_report(context_ledger, kind, filters)
    if kind == "models":
        return models_report(context_ledger, filters)
    if kind == "sessions":
        return sessions_report(context_ledger, filters)
    if kind == "repos":
        return repos_report(context_ledger, filters)
    return files_report(context_ledger, filters)


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    filters = filters_from(args)
    machine_output = args.json or args.csv
    if not args.no_ingest:
        summary = context.ingest(show_progress=not machine_output and stdout_is_terminal())
        if summary.files_seen == 0 and not machine_output:
            print(where_we_looked(context.roots), file=sys.stderr)
        for problem in summary.unreadable:
            print(f"warning: {problem}", file=sys.stderr)
    report = build_report(args.kind, context.ledger, filters)
    if args.json:
        print_json(report)
    elif args.csv:
        _print_csv(args.kind, report)
    else:
        _print_table(args.kind, report)
    return 0


def _print_csv(kind: str, report: dict[str, Any]) -> None:
    if kind in ("daily", "weekly", "monthly"):
        label = {"daily": "date", "weekly": "week", "monthly": "month"}[kind]
        rows = [
            {label: row[label], "model": model, **values}
            for row in report[kind]
            for model, values in row["models"].items()
        ]
        print_csv(rows, [label, "model", *CSV_TOKENS])
    elif kind == "sessions":
        print_csv(
            report["sessions"],
            [
                "session_id",
                "agent",
                "project_path",
                "repo",
                "git_branch",
                "first_activity",
                "last_activity",
                "models",
                *CSV_TOKENS,
                "tool_calls",
                "tool_errors",
            ],
        )
    elif kind == "models":
        print_csv(report["models"], ["model", *CSV_TOKENS, "calls"])
    elif kind == "repos":
        print_csv(report["repos"], ["repo", "sessions", "models", *CSV_TOKENS])
    else:
        print_csv(report["files"], ["path", "cost_usd", "sessions", "calls", "last_activity"])


def _token_cells(row: dict[str, Any]) -> list[str]:
    return [
        tokens(row["input_tokens"]),
        tokens(row["output_tokens"]),
        tokens(row["cache_write_tokens"]),
        tokens(row["cache_read_tokens"]),
        tokens(row["total_tokens"]),
        money(row["cost_usd"], row.get("unpriced_calls", 0)),
    ]


def _print_table(kind: str, report: dict[str, Any]) -> None:
    totals = report.get("totals")
    if kind in ("daily", "weekly", "monthly"):
        label = {"daily": "Date", "weekly": "Week", "monthly": "Month"}[kind]
        key = label.lower()
        rows = [
            [row[key], "\n".join(short_model(m) for m in row["models"]), *_token_cells(row)]
            for row in report[kind]
        ]
        title = f"Agent token usage and cost, {kind}"
        print_table(
            title,
            [label, "Models", *TOKEN_COLUMNS],
            rows,
            ["Total", "", *_token_cells(totals or {})],
        )
    elif kind == "models":
        rows = [
            [short_model(r["model"]), str(r["calls"]), *_token_cells(r)] for r in report["models"]
        ]
        print_table(
            "Usage by model",
            ["Model", "Calls", *TOKEN_COLUMNS],
            rows,
            ["Total", "", *_token_cells(totals or {})],
        )
    elif kind == "sessions":
        rows = [
            [
                f"{r['session_id'][:8]}…\n{r['agent']}",
                f"{r['project_path'] or '-'}\n" + ", ".join(short_model(m) for m in r["models"]),
                *_token_cells(r),
            ]
            for r in report["sessions"]
        ]
        print_table(
            "Usage by session",
            ["Session", "Project / models", *TOKEN_COLUMNS],
            rows,
            ["Total", "", *_token_cells(totals or {})],
        )
    elif kind == "repos":
        rows = [
            [r["repo"] or "(unknown)", str(r["sessions"]), *_token_cells(r)]
            for r in report["repos"]
        ]
        print_table(
            "Usage by repository",
            ["Repository", "Sessions", *TOKEN_COLUMNS],
            rows,
            ["Total", "", *_token_cells(totals or {})],
        )
    else:
        rows = [
            [r["path"], str(r["sessions"]), money(r["cost_usd"]), r["last_activity"] or ""]
            for r in report["files"]
        ]
        print_table(
            "Agent cost per file",
            ["File", "Sessions", "Cost (USD)", "Last activity"],
            rows,
            ["", "", "", ""],
        )
