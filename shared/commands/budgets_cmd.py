"""`burnmeter budgets`: budget states, subscription leverage, plan limits, current block."""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime
from typing import Any

from shared.commands.context import (
    add_demo_flag,
    make_context,
    stdout_is_terminal,
    where_we_looked,
)
from shared.commands.render import money, nearest_minute, print_json
from shared.commands.report_cmd import zone
from shared.timezones import resolve_zone


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "budgets",
        help="budget states, subscription leverage, plan limits and the 5-hour block",
        description="Where today, this week and this month stand against the budgets in "
        "config.toml, what the subscription delivered this month (API-equivalent value "
        "against its price), the latest plan-limit readings and the active 5-hour block.",
    )
    parser.add_argument(
        "--month",
        type=_month,
        help="month for the leverage line (YYYY-MM or YYYYMM; default: this one)",
    )
    parser.add_argument(
        "--tz",
        "--timezone",
        "-z",
        type=zone,
        help="IANA time zone for periods (default: timezone in the config file, else local)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable JSON")
    parser.add_argument(
        "--no-ingest", action="store_true", help="use the ledger as it is, reading no logs"
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def _month(text: str) -> str:
    """`2026-03` (or `202603`), checked: a bad month used to end in a traceback."""
    digits = text.replace("-", "")
    if (
        len(digits) == 6
        and digits.isdigit()
        and 1 <= int(digits[4:]) <= 12
        and 1971 <= int(digits[:4]) <= 9998  # a month either side stays a valid date
    ):
        return f"{digits[:4]}-{digits[4:]}"
    raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM or YYYYMM, got {text!r}")


def build_budgets(
    ledger: Any, settings: Any, tz: Any, month: str | None, now_ms: int
) -> dict[str, Any]:
    from shared.insights.blocks import current_block
    from shared.insights.budgets import budget_states, leverage
    from shared.insights.limits import latest_limits

    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    block = current_block(ledger, now_ms, remember=True)
    return {
        "budgets": [state.as_json() for state in budget_states(ledger, settings, now, tz)],
        "leverage": leverage(ledger, settings, month, tz, now=now).as_json(),
        "plan_limits": [reading.as_json() for reading in latest_limits(ledger, now_ms)],
        "active_block": None
        if block is None
        else {
            **block.as_json(),
            "minutes_left": round(block.minutes_left(now_ms), 1),
            "projection_settled": block.projection_settled,
        },
    }


def _minutes_left(end: str, now_ms: int) -> int:
    """To the nearest minute from the block's end, as the tray counts down (the JSON's
    `minutes_left`, already rounded to 0.1, rounded again: 119.47 min read 120)."""
    end_ms = round(datetime.fromisoformat(end).timestamp() * 1000)
    return nearest_minute(end_ms - now_ms)


def _window_text(window: dict[str, Any] | None, fallback: str, tz: Any) -> str:
    from shared.insights.limits import window_short

    if window is None:
        return ""
    label = window_short(window["window_minutes"], fallback)
    resets = window["resets_at_ms"]
    when = (
        datetime.fromtimestamp(resets / 1000, tz).strftime("%a %H:%M")
        if resets is not None
        else "?"
    )
    note = " (reset since)" if window["expired"] else ""
    return f"{label} {window['used_percent']:.0f}% (resets {when}){note}"


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    if not args.no_ingest:
        summary = context.ingest(show_progress=not args.json and stdout_is_terminal())
        if summary.files_seen == 0:  # on stderr: JSON on stdout stays whole
            print(where_we_looked(context.roots), file=sys.stderr)
        for problem in summary.unreadable:
            print(f"warning: {problem}", file=sys.stderr)
    settings = context.settings.settings
    tz = resolve_zone(settings.timezone, args.tz)
    now_ms = int(time.time() * 1000)
    report = build_budgets(context.ledger, settings, tz, args.month, now_ms)
    if args.json:
        print_json(report)
        return 0
    if not report["budgets"]:
        print("Budgets: none set (add [budgets] daily_usd / weekly_usd / monthly_usd).")
    for state in report["budgets"]:
        spent, limit = money(state["spent_usd"]), money(state["limit_usd"])
        unpriced = state["unpriced_calls"]
        # A limit of $0 allows nothing: no share of it to show (the JSON's fraction is null).
        share = f"{state['fraction']:>5.0%}" if math.isfinite(state["fraction"]) else "    -"
        print(
            f"{state['period']:<8} {state['label']:<11} {spent:>10} of {limit:<10} "
            f"{share}  {state['state']}"
            + (f"  (+{unpriced} unpriced calls, not in the sum)" if unpriced else "")
        )
    print(f"Leverage {report['leverage']['month']}: {report['leverage']['text']}")
    for reading in report["plan_limits"]:
        parts = [
            _window_text(reading["primary"], "5h", tz),
            _window_text(reading["secondary"], "7d", tz),
        ]
        print(f"Plan limits {reading['agent']}: " + "; ".join(p for p in parts if p))
    block = report["active_block"]
    if block is None:
        print("5-hour block: none active")
    else:
        projected = block["projected_cost_usd"]
        # A projection over a burst of calls is noise (shared.insights.blocks explains).
        if projected is not None and block["projection_settled"]:
            tail = f", projected ${projected:,.2f}"
        else:
            tail = ", projected once its calls span 15 min"
        unpriced = block.get("unpriced_calls", 0)
        print(
            f"5-hour block: ${block['cost_usd']:,.2f}"
            + (f" (+{unpriced} unpriced)" if unpriced else "")
            + f" so far, {_minutes_left(block['end'], now_ms)} min left{tail}"
        )
    return 0
