"""`burnmeter doctor`: where burnmeter looks, what it found, and what it could not read."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sqlite3
import sys
from typing import Any

from shared import __version__, desktop
from shared.commands.context import POINT_ELSEWHERE, add_demo_flag, make_context
from shared.commands.render import make_console, plural, print_json
from shared.ledger import LedgerError, damaged
from shared.paths import config_file, data_dir, display_path, resources_dir
from shared.schema import SCHEMA_VERSION


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check roots, ledger, prices and bad lines",
        description="Where burnmeter looks for logs and what it found there (files, calls, "
        "rejected lines, unreadable files and folders), the ledger's path, size, schema and "
        "integrity, settings problems and models without a price. Exit code 1 when the "
        "ledger cannot be used.",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable JSON")
    parser.add_argument("--no-ingest", action="store_true", help="do not read new log lines first")
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def desktop_state() -> dict[str, Any] | None:
    """Whether the menu entry and the start-at-login entry are installed (XDG desktops)."""
    if not desktop.is_supported():
        return None
    entry = desktop.desktop_entry_path()
    return {
        "entry": str(entry) if entry.exists() else None,
        "autostart": desktop.autostart_enabled(),
    }


def collect(args: argparse.Namespace) -> dict[str, Any]:
    # The text lists the settings' problems under "config:"; said on stderr too, as other
    # commands say them, a terminal showed each twice. With --json they are said there too
    # (a person reads stderr, a program stdout). Anything else said meanwhile is kept.
    said = io.StringIO()
    with contextlib.redirect_stderr(sys.stderr if args.json else said):
        context = make_context(args)
        problems = context.settings.problems
    for line in said.getvalue().splitlines():
        if line.removeprefix("burnmeter: ") not in problems:
            print(line, file=sys.stderr)
    report: dict[str, Any] = {
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "executable": sys.executable,
        "resources": str(resources_dir()),
        "resources_ok": (resources_dir() / "price_overrides.json").is_file(),
        "data_dir": str(data_dir()),
        "config_file": str(config_file()),
        "config_problems": problems,
        "roots": [
            {
                "agent": r.agent,
                "path": str(r.path),
                "exists": r.exists,
                "readable": r.exists and os.access(r.path, os.R_OK | os.X_OK),
            }
            for r in context.roots
        ],
        "ledger": {"path": str(context.ledger_file)},
        "desktop": desktop_state(),
    }
    try:
        ledger = context.ledger
    except Exception as exc:  # a CommandError wrapping LedgerError: reported, not raised
        report["ledger"]["error"] = str(exc)
        return report
    try:
        # Before the ingest: new lines are not written into a damaged file.
        found = [row[0] for row in ledger.conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        found = [str(exc)]
    report["ledger"]["integrity"] = "ok" if found == ["ok"] else found
    if found != ["ok"]:
        report["ledger"]["error"] = str(
            damaged(sqlite3.DatabaseError("; ".join(found)), ledger.path, checked=True)
        )
        return report
    report["unlisted_folders"] = []
    if not args.no_ingest:
        try:
            report["unlisted_folders"] = context.ingest(show_progress=False).unlisted_folders
        except LedgerError as exc:
            report["ledger"]["error"] = str(exc)
    try:
        _describe(report, context, ledger)
    except sqlite3.DatabaseError as exc:
        corrupt = damaged(exc, ledger.path)
        if corrupt is None:
            raise
        report["ledger"]["error"] = str(corrupt)
    return report


def _describe(report: dict[str, Any], context: Any, ledger: Any) -> None:
    conn = ledger.conn
    size = sum(
        p.stat().st_size for p in ledger.path.parent.glob(ledger.path.name + "*") if p.is_file()
    )
    report["ledger"].update(
        {
            "size_bytes": size,
            "schema_version": ledger.schema_version(),
            "schema_version_supported": SCHEMA_VERSION,
            "price_version": ledger.get_meta("price_version"),
        }
    )
    agents = {}
    for agent, files, missing, lines, rejected in conn.execute(
        # Lines of the files still there: a rollout moved to archived_sessions/ is a new
        # file read again (its calls deduplicated), and counting the old path's lines too
        # showed its lines twice.
        "SELECT agent, count(*), sum(missing), sum(CASE WHEN missing = 0 THEN lines END), "
        "sum(CASE WHEN missing = 0 THEN rejected_lines END) FROM sources GROUP BY agent"
    ):
        agents[agent] = {
            "files": files,
            "files_gone": missing,
            "lines": lines,
            "rejected_lines": rejected,
        }
    for agent, calls in conn.execute("SELECT agent, count(*) FROM usage_events GROUP BY agent"):
        agents.setdefault(agent, {})["calls"] = calls
    report["agents"] = agents
    report["rejected_files"] = [
        {"path": path, "rejected_lines": rejected}
        for path, rejected in conn.execute(
            "SELECT path, rejected_lines FROM sources WHERE rejected_lines > 0 "
            "ORDER BY rejected_lines DESC LIMIT 20"
        )
    ]
    report["unreadable_files"] = [
        {"path": path, "error": error}
        for path, error in conn.execute(
            "SELECT path, last_error FROM sources WHERE last_error IS NOT NULL"
        )
    ]
    report["unpriced_models"] = [
        {"model": model, "calls": calls, "total_tokens": total}
        for model, calls, total in conn.execute(
            "SELECT model, count(*), sum(total_tokens) FROM usage_events WHERE priced = 0 "
            "GROUP BY model ORDER BY 2 DESC"
        )
    ]
    book = context.price_book()
    for item in report["unpriced_models"]:
        gaps = book.override_gaps(item["model"])
        if gaps is not None and gaps[1]:
            # The user did add a price, without all a model genai-prices lacks needs.
            item["override"], item["override_lacks"] = gaps
    report["fast_priced_as_standard"] = _priced_as_standard(context, conn, "fast")
    report["flex_priced_as_standard"] = _priced_as_standard(context, conn, "flex")
    report["unpriced_reference_models"] = _unpriced_reference_models(context)
    from shared.commands.reprice_cmd import stale_prices

    report["ledger"]["prices_current"] = book.version
    report["ledger"]["prices_stale"] = stale_prices(ledger, book)


def _unpriced_reference_models(context: Any) -> list[dict[str, str]]:
    """Tier hints reprice calls at each tier's reference model (`[tier_policy]
    reference_models`): one without a price makes every hint that suggests it vanish,
    which would otherwise go unexplained."""
    from shared.insights.tiers import TierPolicy

    policy = TierPolicy.from_settings(context.settings.settings)
    book = context.price_book()
    return [
        {"tier": tier, "provider": provider, "model": model}
        for tier, per_provider in policy.reference_models.items()
        for provider, model in per_provider.items()
        if book.prices_for(model) is None
    ]


def _priced_as_standard(context: Any, conn: Any, speed: str) -> list[dict[str, Any]]:
    """Models with calls at `speed` (`fast`: Claude's fast mode or a Codex priority call;
    `flex`: a Codex flex call) but no price for it (no genai-prices variant, for fast no
    `fast_multiplier` either): those calls are costed at standard rates."""
    models = conn.execute(
        "SELECT model, count(*) FROM usage_events WHERE speed = ? AND priced = 1 "
        "AND free = 0 GROUP BY model ORDER BY 2 DESC",
        (speed,),
    ).fetchall()
    if not models:
        return []
    book = context.price_book()
    return [
        {"model": model, "calls": calls}
        for model, calls in models
        if book.prices_for(model, speed) == book.prices_for(model, "standard")
    ]


def run(args: argparse.Namespace) -> int:
    report = collect(args)
    if args.json:
        print_json(report)
        return 1 if "error" in report["ledger"] else 0  # as the text output does
    from rich.markup import escape

    from shared.commands.render import visible

    def esc(text: str) -> str:
        # Paths and model names as logged: markup escaped, control characters shown.
        return escape(visible(text))

    # Every value printed below goes through `esc`: a path like `app/[slug]` or a message
    # with brackets is text, not console markup (rich would drop the brackets' content).
    # Piped, a line is not broken at rich's 80 columns: a path or a sentence stays whole.
    console = make_console(soft_wrap=not sys.stdout.isatty())
    console.print(
        f"[bold]burnmeter {report['version']}[/bold]" + (" (bundle)" if report["frozen"] else "")
    )
    # soft_wrap: a long path stays one line (copyable) instead of wrapping at 80 columns.
    if report["frozen"]:
        console.print(f"bundle:    {esc(display_path(report['executable']))}", soft_wrap=True)
    console.print(
        f"resources: {esc(display_path(report['resources']))}"
        + ("" if report["resources_ok"] else "  [red]missing price_overrides.json[/red]"),
        soft_wrap=True,
    )
    console.print(f"config:    {esc(display_path(report['config_file']))}")
    for problem in report["config_problems"]:
        # Unwrapped, as the paths are: a problem starts with the file's path and names the
        # setting after it (`tier_policy.reference_models.economy`), both copyable whole.
        console.print(f"  [yellow]{esc(problem)}[/yellow]", soft_wrap=True)
    console.print("[bold]log roots[/bold]")
    for root in report["roots"]:
        mark = "[green]found[/green]" if root["exists"] else "[dim]missing[/dim]"
        if root["exists"] and not root["readable"]:
            mark = "[red]found, but this user cannot read it[/red]"
        console.print(f"  {root['agent']:<12} {esc(display_path(root['path']))}  {mark}")
    for folder in report.get("unlisted_folders", []):
        console.print(f"  [red]not read[/red] {esc(folder)}", soft_wrap=True)
    state = report["desktop"]
    if state is not None:
        entry = display_path(state["entry"]) if state["entry"] else "not installed"
        console.print(f"menu:      {esc(entry)}", soft_wrap=True)
        console.print(f"at login:  {'on' if state['autostart'] else 'off'}")
    ledger = report["ledger"]
    console.print(f"[bold]ledger[/bold] {esc(display_path(ledger['path']))}")
    if "error" in ledger:
        console.print(f"  [red]{esc(ledger['error'])}[/red]")
        return 1
    console.print(
        f"  {ledger['size_bytes'] / 1e6:,.1f} MB, schema v{ledger['schema_version']}, "
        f"prices {esc(ledger['price_version'] or 'not yet loaded')}, integrity ok"
    )
    if ledger["prices_stale"]:
        console.print(f"  [yellow]{esc(ledger['prices_stale'])}[/yellow]", soft_wrap=True)
    console.print("[bold]agents[/bold]")
    if not report["agents"]:
        console.print("  no log files found yet")
        console.print(f"  {esc(POINT_ELSEWHERE)}", soft_wrap=True)
    for agent, stats in report["agents"].items():
        gone = stats.get("files_gone") or 0
        # Codex moves finished rollouts to archived_sessions/; Claude Code deletes old
        # transcripts: neither loses anything here, which "3 gone" left unsaid.
        gone_text = f" ({gone} moved or deleted since read, their calls kept)" if gone else ""
        console.print(
            f"  {agent:<12} {plural(stats.get('files', 0), 'file')}{gone_text}, "
            f"{plural(stats.get('calls', 0), 'model call')}, "
            f"{plural(stats.get('lines') or 0, 'line')}, "
            f"{stats.get('rejected_lines') or 0} rejected",
            soft_wrap=True,
        )
    for item in report["rejected_files"]:
        console.print(
            f"  [yellow]{plural(item['rejected_lines'], 'malformed line')}[/yellow] in "
            f"{esc(display_path(item['path']))}",
            soft_wrap=True,
        )
    for item in report["unreadable_files"]:
        # The path on a line of its own (whole, copyable), the reason under it. "not read":
        # a file may be refused, but also wait (an archive cut short, a line still growing).
        console.print(f"  [red]not read[/red] {esc(display_path(item['path']))}", soft_wrap=True)
        console.print(f"    {esc(item['error'])}")
    if report["unpriced_models"]:
        console.print(
            "[bold yellow]unpriced models[/bold yellow] (costs shown without them; "
            'add prices under \\[prices."MODEL"] in the config file)'
        )
        for item in report["unpriced_models"]:
            lacks = ""
            if item.get("override_lacks"):
                lacks = (
                    f"; its \\[prices.{esc(_toml_key(item['override']))}] has no "
                    + " and no ".join(item["override_lacks"])
                )
            console.print(
                f"  {esc(item['model'])}: {plural(item['calls'], 'call')}, "
                f"{plural(item['total_tokens'], 'token')}{lacks}",
                soft_wrap=True,
            )
    else:
        console.print("prices: every model is priced")
    # One line per tier and model: a plain name stands for every provider.
    providers: dict[tuple[str, str], list[str]] = {}
    for item in report.get("unpriced_reference_models", []):
        providers.setdefault((item["tier"], item["model"]), []).append(item["provider"])
    for (tier, model), names in providers.items():
        console.print(
            f"[bold yellow]no price for the {tier} tier's reference model[/bold yellow] "
            f"{esc(model)} ({', '.join(names)}): tier hints that would suggest it "
            "are not shown; name a priced model under \\[tier_policy] reference_models, or "
            'add its price under \\[prices."MODEL"]',
            soft_wrap=True,
        )
    if report.get("fast_priced_as_standard"):
        console.print(
            "[bold yellow]fast calls priced at standard rates[/bold yellow] (no fast price "
            'known; set fast_multiplier under \\[prices."MODEL"] in the config file)'
        )
        for item in report["fast_priced_as_standard"]:
            console.print(f"  {esc(item['model'])}: {plural(item['calls'], 'fast call')}")
    if report.get("flex_priced_as_standard"):
        console.print(
            "[bold yellow]flex calls priced at standard rates[/bold yellow] (no flex price "
            "known: their cost is overstated; give the model's flex rates as its prices "
            'under \\[prices."MODEL"] if all its calls ran on flex)'
        )
        for item in report["flex_priced_as_standard"]:
            console.print(f"  {esc(item['model'])}: {plural(item['calls'], 'flex call')}")
    return 0


def _toml_key(name: str) -> str:
    return json.dumps(name)  # a quoted TOML key: `"my-private-model"`
