"""`burnmeter report {daily,weekly,monthly,sessions,models,repos,files}`."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.commands.context import (
    CommandError,
    add_demo_flag,
    make_context,
    stdout_is_terminal,
    where_we_looked,
)
from shared.commands.render import (
    money,
    plural,
    print_csv,
    print_json,
    print_table,
    short_ids,
    short_model,
    tokens,
    visible,
)
from shared.paths import display_path
from shared.reports import (
    TOKEN_FIELDS,
    Filters,
    files_report,
    models_report,
    period_report,
    repos_report,
    sessions_report,
)
from shared.sources.agents import AGENTS
from shared.timezones import local_zone, zone_named

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from shared.commands.context import CommandContext
    from shared.config import Settings

KINDS = ("daily", "weekly", "monthly", "sessions", "blocks", "models", "repos", "files")
TOKEN_COLUMNS = ["Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Cost (USD)"]
CSV_TOKENS = [
    *TOKEN_FIELDS,
    "cost_usd",
    # Calls of models with no price: their cost is missing from cost_usd, never a silent $0.
    "unpriced_calls",
]


# Dates the reports can turn into times and back, a day either side included: a date near
# Python's limits (`--until 9999-12-31`, "no upper bound") ended in an OverflowError.
FIRST_DATE, LAST_DATE = date(1970, 1, 2), date(9998, 12, 31)


def _date(text: str) -> date:
    try:
        parsed = date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD (or YYYYMMDD), got {text!r}"
        ) from exc
    # Nothing was logged before 1970 or after 9998: the same calls, within range.
    return min(max(parsed, FIRST_DATE), LAST_DATE)


def zone(text: str) -> ZoneInfo:
    found = zone_named(text)
    if found is None:
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r} (use an IANA name such as Europe/Berlin)"
        )
    return found


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    # The short forms and --timezone are ccusage's spellings: muscle memory works here too.
    parser.add_argument(
        "--since", "-s", type=_date, help="first local date to include (YYYY-MM-DD or YYYYMMDD)"
    )
    parser.add_argument(
        "--until", "-u", type=_date, help="last local date to include (YYYY-MM-DD or YYYYMMDD)"
    )
    parser.add_argument(
        "--tz",
        "--timezone",
        "-z",
        type=zone,
        help="IANA time zone for dates (default: config, else local)",
    )
    parser.add_argument("--agent", choices=AGENTS, help="only this agent's calls")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        # A flag is spelt whole: `--tim Asia/Tokyo` was taken for --timezone.
        allow_abbrev=False,
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
    parser.add_argument(
        "--no-insights",
        action="store_true",
        help="sessions and repos without tiers, hints, git outcomes and flags (faster)",
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def filters_from(
    args: argparse.Namespace, context: CommandContext, configured: str = ""
) -> Filters:
    if args.since and args.until and args.since > args.until:
        raise CommandError(f"--since {args.since} is after --until {args.until}")
    return Filters(
        since=args.since, until=args.until, agent=args.agent, tz=report_zone(args, configured)
    )


def report_zone(args: argparse.Namespace, configured: str = "") -> ZoneInfo:
    """`--tz`, else the config's `timezone` (`configured`, as `checked_zone_name` found it:
    as budgets, the summary, the tray, the status line and the language server count days;
    reports used the machine's zone), else the machine's."""
    flag: ZoneInfo | None = args.tz
    if flag is not None:
        return flag
    return (zone_named(configured) if configured else None) or local_zone()


# Beside the ledger: the last check of the config file (what it was, its zone, its problems).
CONFIG_CHECK_NAME = "config-check"
CONFIG_CHECK_FORMAT = "burnmeter config check 1"


def checked_zone_name(context: CommandContext) -> str:
    """The config file's `timezone` as validated ("" when it names none, or none that is
    valid), each problem of the file said once on stderr, as every command says them (the
    reports that use no other setting said none: a misplaced or misspelt `timezone` went
    unnoticed while days were counted in the machine's zone).

    Validating loads pydantic, which would cost a warm report more than the rest of its
    start-up, so the result is kept in the data dir beside the ledger, keyed by the file's
    bytes (and burnmeter's version and validating code): the file is validated again only
    once it has changed, and its problems are said from the kept result meanwhile. With no
    config file nothing is read but its absence."""
    from shared.paths import config_file

    path = config_file()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return ""
    except OSError:
        return context.settings.settings.timezone  # loading them says why it cannot be read
    key = _config_check_key(path, data)
    kept = context.ledger_file.with_name(CONFIG_CHECK_NAME)
    found = _read_config_check(kept, key)
    if found is not None:
        zone_name, problems = found
        if not zone_name or zone_named(zone_name) is not None:
            for problem in problems:
                context.say(problem)
            return zone_name
    loaded = context.settings  # says each problem
    try:
        with open(path, "rb") as handle:
            unchanged = handle.read() == data
    except OSError:
        unchanged = False
    if unchanged:  # not a file rewritten while it was being validated
        _write_config_check(kept, [key, loaded.settings.timezone, *loaded.problems])
    return loaded.settings.timezone


def _config_check_key(path: Path, data: bytes) -> str:
    import os
    import zlib

    import shared

    stamps = []
    code = os.path.dirname(shared.__file__)
    for module in ("config.py", os.path.join("insights", "tiers.py"), "config_fast.py"):
        try:
            info = os.stat(os.path.join(code, module))
        except OSError:
            stamps.append("-")
        else:
            stamps.append(f"{info.st_mtime_ns}:{info.st_size}")
    version = shared.__version__
    return (
        f"{CONFIG_CHECK_FORMAT} {version} {' '.join(stamps)} {len(data)} {zlib.crc32(data)} {path}"
    )


def _read_config_check(kept: Path, key: str) -> tuple[str, list[str]] | None:
    """The zone and problems kept for the file `key` describes, None if none are."""
    try:
        with open(kept, "rb") as handle:
            lines = [line.decode("unicode_escape") for line in handle.read().split(b"\n")]
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 3 or lines[0] != key or lines[-1] != "":
        return None  # another file or code, or a write cut short
    return lines[1], lines[2:-1]


def _write_config_check(kept: Path, lines: list[str]) -> None:
    """Each line escaped (a problem can quote a newline), written whole or not at all."""
    import contextlib
    import os

    if not kept.parent.is_dir():
        return  # no data dir yet: the ledger makes it, and the next command keeps the check
    partial = kept.with_name(f"{CONFIG_CHECK_NAME}.{os.getpid()}.tmp")
    try:
        with open(partial, "wb") as handle:
            handle.write(b"".join(line.encode("unicode_escape") + b"\n" for line in lines))
        os.replace(partial, kept)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)


def build_report(
    kind: str, context_ledger: Any, filters: Filters, settings: Settings | None = None
) -> dict[str, Any]:
    """The report as its JSON contract says. Sessions and repos carry insights (tier, hint,
    outcome, flags; cost per commit) when `settings` is given."""
    if kind in ("daily", "weekly", "monthly"):
        return period_report(context_ledger, kind, filters)
    if kind == "models":
        return models_report(context_ledger, filters)
    if kind == "blocks":
        from shared.insights.reporting import blocks_report

        return blocks_report(context_ledger, filters)
    if kind == "sessions":
        if settings is not None:
            from shared.insights.reporting import sessions_report_with_insights

            return sessions_report_with_insights(context_ledger, filters, settings)
        return sessions_report(context_ledger, filters)
    if kind == "repos":
        report = repos_report(context_ledger, filters)
        if settings is not None:
            from shared.insights.reporting import add_commit_costs

            add_commit_costs(report, context_ledger, settings, filters)
        return report
    return files_report(context_ledger, filters)


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    # Every report says what is wrong with the config file, not only those that use more of
    # it than the zone (the demo reads its zone from the machine only).
    configured = "" if context.demo else checked_zone_name(context)
    filters = filters_from(args, context, configured)
    machine_output = args.json or args.csv
    no_logs = False
    if not args.no_ingest:
        summary = context.ingest(show_progress=not machine_output and stdout_is_terminal())
        no_logs = summary.files_seen == 0
        if no_logs:
            # On stderr, so --json and --csv output stays clean.
            print(where_we_looked(context.roots), file=sys.stderr)
        for problem in summary.unreadable:
            print(f"warning: {problem}", file=sys.stderr)
    wants_insights = args.kind in ("sessions", "repos") and not args.no_insights
    # `[tier_policy]`'s problems were named when the settings were loaded.
    settings = context.settings.settings if wants_insights else None
    report = build_report(args.kind, context.ledger, filters, settings)
    if machine_output and args.no_ingest and not report.get(args.kind):
        importer = _importer_pid(context.ledger.path)
        if importer is not None:
            # On stderr: the output stays clean, and an empty result is not taken for a
            # quiet day while another process is still importing the logs.
            print(_importing_note(context.ledger.path, importer), file=sys.stderr)
    if args.json:
        print_json(report)
    elif args.csv:
        _print_csv(args.kind, report)
    elif no_logs and not report.get(args.kind):
        pass  # where it looked says it all; an empty table under it adds nothing
    else:
        _print_table(args.kind, report, filters.tz)
        if not report.get(args.kind):
            note = _nothing_found(args.kind, context.ledger, filters, ingested=not args.no_ingest)
            if note:
                print(note, file=sys.stderr)
    return 0


def _importing_note(ledger_path: Path, importer: int) -> str:
    return (
        f"The ledger at {display_path(ledger_path)} holds no model calls yet: another "
        f"burnmeter process (pid {importer}) is importing the agents' logs into it. "
        "Run the report again when it is done."
    )


def _importer_pid(ledger_path: Path) -> int | None:
    """The pid of another process reading logs into the ledger (holding the ingest lock),
    if one is."""
    from shared.ingest import ingest_lock

    lock = ingest_lock(ledger_path)
    try:
        return None if lock.is_free() else lock.holder_pid()
    except OSError:
        return None


def _nothing_found(kind: str, ledger: Any, filters: Filters, *, ingested: bool) -> str:
    """Why an empty table is empty, so that it does not read as a broken reader ("" when the
    ingest found no logs: it has already said where it looked)."""
    held = ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    if not held:
        if ingested:
            return ""
        importer = _importer_pid(ledger.path)
        if importer is not None:
            return _importing_note(ledger.path, importer)
        return (
            f"The ledger at {display_path(ledger.path)} holds no model calls yet; run without "
            "--no-ingest (or `burnmeter ingest`) to read the agents' logs."
        )
    scope = []
    if filters.since and filters.until:
        scope.append(f"from {filters.since} to {filters.until}")
    elif filters.since or filters.until:
        scope.append(f"since {filters.since}" if filters.since else f"up to {filters.until}")
    if filters.since or filters.until:
        scope.append(f"({filters.tz})")
    if filters.agent and kind != "blocks":
        scope.append(f"for {filters.agent}")
    what = "No model calls"
    if kind == "files":
        what = "No calls whose tools touched a file"
    elif kind == "blocks":
        # Blocks are Claude Code's unless --agent names another.
        what = f"No {'Codex' if filters.agent == 'codex' else 'Claude Code'} calls"
    where = f" {' '.join(scope)}" if scope else ""
    return f"{what}{where}; the ledger holds {held:,} model calls in all."


BLOCK_FIELDS = [
    "start",
    "end",
    "is_gap",
    "is_active",
    "total_tokens",
    "cost_usd",
    "unpriced_calls",
    "models",
    "burn_rate_tokens_per_min",
    "projected_cost_usd",
]


def _flatten_insights(report: dict[str, Any]) -> None:
    """CSV has no nesting: the insight fields as flat columns."""
    for row in report["sessions"]:
        outcome = row.get("outcome") or {}
        row["outcome_status"] = outcome.get("status", "")
        row["flag_kinds"] = [flag["kind"] for flag in row.get("flags", [])]
        hint = row.get("hint")
        row["hint_saving_usd"] = None if not hint else hint["saving_usd"]


def _insight_line(row: dict[str, Any]) -> str:
    """`frontier · committed (2) · loop · hint: haiku-5-5 saves $1.20`, for the table."""
    if "tier" not in row:
        return ""
    parts = [row["tier"]]
    outcome = row.get("outcome")
    if outcome:
        commits = f" ({len(outcome['commits'])})" if outcome["commits"] else ""
        parts.append(outcome["status"] + commits)
    parts.extend(flag["kind"] for flag in row.get("flags", []))
    hint = row.get("hint")
    if hint:
        parts.append(
            f"hint: {short_model(hint['suggested_model'])} saves {money(hint['saving_usd'])}"
        )
    return " · ".join(parts)


def _print_csv(kind: str, report: dict[str, Any]) -> None:
    if kind == "sessions":
        _flatten_insights(report)
    for row in report.get(kind) or []:
        if isinstance(row, dict) and "cost_usd" in row:
            row.setdefault("unpriced_calls", 0)
    if kind in ("daily", "weekly", "monthly"):
        label = {"daily": "date", "weekly": "week", "monthly": "month"}[kind]
        rows = [
            {label: row[label], "model": model, "unpriced_calls": 0, **values}
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
                "files_touched",
                "tier",
                "outcome_status",
                "flag_kinds",
                "hint_saving_usd",
            ],
        )
    elif kind == "blocks":
        print_csv(report["blocks"], BLOCK_FIELDS)
    elif kind == "models":
        print_csv(report["models"], ["model", *CSV_TOKENS, "calls"])
    elif kind == "repos":
        print_csv(
            report["repos"],
            [
                "repo",
                "sessions",
                "models",
                *CSV_TOKENS,
                "commits",
                "committed_sessions",
                "cost_per_commit_usd",
                "cost_per_committed_session_usd",
            ],
        )
    else:
        print_csv(
            report["files"],
            ["path", "folder", "cost_usd", "unpriced_calls", "sessions", "calls", "last_activity"],
        )


def _token_cells(row: dict[str, Any]) -> list[str]:
    return [
        tokens(row["input_tokens"]),
        tokens(row["output_tokens"]),
        tokens(row["cache_write_tokens"]),
        tokens(row["cache_read_tokens"]),
        tokens(row["total_tokens"]),
        money(row["cost_usd"], row.get("unpriced_calls", 0)),
    ]


def _print_table(kind: str, report: dict[str, Any], tz: ZoneInfo) -> None:
    totals = report.get("totals")
    if kind in ("daily", "weekly", "monthly"):
        label = {"daily": "Date", "weekly": "Week", "monthly": "Month"}[kind]
        key = label.lower()
        rows = [
            [row[key], "\n".join(short_model(m) for m in row["models"]), *_token_cells(row)]
            for row in report[kind]
        ]
        title = f"Agent token usage and cost, {kind} ({tz.key})"
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
            text_columns=1,
        )
    elif kind == "sessions":
        sessions = report["sessions"]
        ids = short_ids(r["session_id"] for r in sessions)
        rows = [
            [
                f"{visible(_cut_id(ids[r['session_id']], r['session_id']))}\n{r['agent']}\n"
                + local_minute(r["last_activity"], tz),
                f"{visible(r['project_path']) or '-'}"
                + (f" ({visible(r['git_branch'])})" if r.get("git_branch") else "")
                + "\n"
                + ", ".join(short_model(m) for m in r["models"])
                + (f"\n{_insight_line(r)}" if "tier" in r else ""),
                *_token_cells(r),
                _tool_cell(r["tool_calls"], r["tool_errors"], len(r["files_touched"])),
            ]
            for r in sessions
        ]
        tool_totals = (
            sum(r["tool_calls"] for r in sessions),
            sum(r["tool_errors"] for r in sessions),
            len({path for r in sessions for path in r["files_touched"]}),
        )
        print_table(
            "Usage by session",
            [f"Session\n({tz.key})", "Project / models / insights", *TOKEN_COLUMNS, "Tools"],
            rows,
            ["Total", "", *_token_cells(totals or {}), _tool_cell(*tool_totals)],
        )
    elif kind == "repos":
        rows = [
            [
                visible(r["repo"]) if r["repo"] else "(unknown)",
                str(r["sessions"]),
                *_token_cells(r),
                str(r.get("commits", "")),
                "-" if r.get("cost_per_commit_usd") is None else money(r["cost_per_commit_usd"]),
            ]
            for r in report["repos"]
        ]
        print_table(
            "Usage by repository",
            ["Repository", "Sessions", *TOKEN_COLUMNS, "Commits", "Cost/commit"],
            rows,
            ["Total", "", *_token_cells(totals or {}), "", ""],
            text_columns=1,
        )
    elif kind == "blocks":
        _print_blocks(report, tz)
    else:
        files = report["files"]
        rows = [
            [
                visible(r["path"]) + ("/ (folder)" if r.get("folder") else ""),
                str(r["sessions"]),
                money(r["cost_usd"], r["unpriced_calls"]),
                local_minute(r["last_activity"], tz) if r["last_activity"] else "",
            ]
            for r in files
        ]
        shown = plural(len(files), "file")
        print_table(
            "Agent cost per file",
            ["File", "Sessions", "Cost (USD)", f"Last activity ({tz.key})"],
            rows,
            [shown, "", money(sum(r["cost_usd"] for r in files), report["unpriced_calls"]), ""],
            text_columns=1,
        )


def _tool_cell(calls: int, errors: int, files: int) -> str:
    """`12 calls` / `1 failed` / `5 files`: a session's tool use, in the table."""
    return "\n".join(
        (
            f"{calls:,} " + ("call" if calls == 1 else "calls"),
            f"{errors:,} failed",
            f"{files:,} " + ("file" if files == 1 else "files"),
        )
    )


def local_minute(iso: str, tz: ZoneInfo) -> str:
    """`2026-12-05T20:19:59.804Z` → `2026-12-05 21:19` in Europe/Berlin."""
    return f"{_local(iso, tz):%Y-%m-%d %H:%M}"


def _local(iso: str, tz: ZoneInfo) -> datetime:
    """A report's UTC time (`…Z`) in `tz`."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz)


def block_span(start_iso: str, end_iso: str, tz: ZoneInfo) -> str:
    """`2026-02-16 18:00 – 23:00`, or with the end's date too when it falls on another day
    (gap blocks often span weeks)."""
    start, end = _local(start_iso, tz), _local(end_iso, tz)
    end_format = "%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M"
    return f"{start:%Y-%m-%d %H:%M} – {end.strftime(end_format)}"


def _print_blocks(report: dict[str, Any], tz: ZoneInfo) -> None:
    rows = []
    total_tokens, total_cost, total_unpriced = 0, 0.0, 0
    for block in report["blocks"]:
        total_tokens += block["total_tokens"]
        total_cost += block["cost_usd"]
        total_unpriced += block["unpriced_calls"]
        status = "gap" if block["is_gap"] else "ACTIVE" if block["is_active"] else ""
        models = ", ".join(short_model(m) for m in block["models"])
        rate = block["burn_rate_tokens_per_min"]
        projected = block["projected_cost_usd"]
        rows.append(
            [
                block_span(block["start"], block["end"], tz),
                "\n".join(part for part in (status, models) if part) or "-",
                tokens(block["total_tokens"]),
                money(block["cost_usd"], block["unpriced_calls"]),
                "" if rate is None else tokens(round(rate)),
                "" if projected is None else money(projected),
            ]
        )
    print_table(
        "5-hour blocks (as ccusage computes them)",
        [
            f"Block ({tz.key})",
            "Status / models",
            "Total Tokens",
            "Cost (USD)",
            "Tokens/min",
            "Projected",
        ],
        rows,
        ["Total", "", tokens(total_tokens), money(total_cost, total_unpriced), "", ""],
    )


def _cut_id(prefix: str, session_id: str) -> str:
    return prefix + "…" if len(prefix) < len(session_id) else prefix
