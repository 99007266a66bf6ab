"""`burnmeter statusline`: Claude Code's statusLine command.

Claude Code runs it on every status refresh with a JSON object on stdin (session id,
model, `cost.total_cost_usd`, context window, and `rate_limits.five_hour/seven_day` for
subscribers). It records the numbers in the ledger (never any text but the model id and
cwd) and prints one line: model, session cost, today's cost, time left in the 5-hour
block, plan-limit use.

It runs on every refresh, so it must finish in tens of milliseconds: `shared.cli` sends
`statusline` here before building the full parser, and this module imports only the
ledger, the blocks and nothing that parses logs or prices.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from shared.ledger import Ledger

# A busy writer (ingest) must never stall the status bar: give up on recording quickly.
WRITE_BUSY_MS = 150


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "statusline",
        help="Claude Code statusLine command: record what Claude Code reports, print a status",
        description="Reads the statusLine JSON Claude Code passes on stdin, records session "
        "cost and plan limits in the ledger, and prints: model, session cost, today, time "
        "left in the 5-hour block, plan %. Set it up in ~/.claude/settings.json (see README).",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print the status line without writing"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return run_statusline(record=not getattr(args, "no_record", False))


def run_fast(argv: list[str]) -> int:
    """Entry from `shared.cli.main` without building the full parser."""
    if any(arg in ("-h", "--help") for arg in argv):
        return -1  # let the full parser print the help
    return run_statusline(record="--no-record" not in argv)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def parse_status(raw: bytes) -> dict[str, Any]:
    import orjson

    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}


def _int(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def record_status(ledger: Ledger, status: dict[str, Any], now_ms: int) -> None:
    session_id = status.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        return
    model = _dig(status, "model", "id")
    cwd = _dig(status, "workspace", "current_dir") or status.get("cwd")
    context = status.get("context_window")
    used_tokens = None
    if isinstance(context, dict):
        parts = [_int(context.get(k)) for k in ("total_input_tokens", "total_output_tokens")]
        used_tokens = sum(p for p in parts if p is not None) if any(parts) else None
    five = _dig(status, "rate_limits", "five_hour")
    seven = _dig(status, "rate_limits", "seven_day")
    row = (
        session_id,
        now_ms,
        model if isinstance(model, str) else "",
        cwd if isinstance(cwd, str) else "",
        _number(_dig(status, "cost", "total_cost_usd")),
        _int(_dig(status, "cost", "total_duration_ms")),
        _int(_dig(status, "cost", "total_api_duration_ms")),
        _int(_dig(status, "cost", "total_lines_added")),
        _int(_dig(status, "cost", "total_lines_removed")),
        used_tokens,
        _int(_dig(context, "context_window_size")),
        _number(_dig(five, "used_percentage")),
        _int(_dig(five, "resets_at")),
        _number(_dig(seven, "used_percentage")),
        _int(_dig(seven, "resets_at")),
    )
    conn = ledger.conn
    conn.execute(f"PRAGMA busy_timeout = {WRITE_BUSY_MS}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT OR REPLACE INTO statusline VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row
        )
        limits = (row[11], 300, row[12], row[13], 10080, row[14])
        if row[11] is not None or row[13] is not None:
            last = conn.execute(
                "SELECT primary_used_percent, primary_window_minutes, primary_resets_at, "
                "secondary_used_percent, secondary_window_minutes, secondary_resets_at "
                "FROM rate_limits WHERE agent = 'claude-code' ORDER BY ts_ms DESC LIMIT 1"
            ).fetchone()
            if last != limits:
                conn.execute(
                    "INSERT OR IGNORE INTO rate_limits VALUES "
                    "('claude-code', ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    (session_id, now_ms, *limits),
                )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def today_cost(ledger: Ledger, now_ms: int) -> float:
    from shared.ledger import BUCKET_MS

    local = time.localtime(now_ms / 1000)
    midnight_s = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
    # mktime normalises day 32 into the next month, and knows the DST rules of the day.
    tomorrow_s = time.mktime((local.tm_year, local.tm_mon, local.tm_mday + 1, 0, 0, 0, 0, 0, -1))
    low = int(midnight_s * 1000) // BUCKET_MS
    high = int(tomorrow_s * 1000) // BUCKET_MS
    value = ledger.conn.execute(
        "SELECT coalesce(sum(cost_usd), 0) FROM usage_buckets WHERE bucket >= ? AND bucket < ?",
        (low, high),
    ).fetchone()[0]
    return float(value)


def _duration(minutes: float) -> str:
    whole = int(minutes)
    return f"{whole // 60}h{whole % 60:02d}m" if whole >= 60 else f"{whole}m"


def _plan_part(status: dict[str, Any], ledger: Ledger, now_ms: int) -> str:
    five = _number(_dig(status, "rate_limits", "five_hour", "used_percentage"))
    seven = _number(_dig(status, "rate_limits", "seven_day", "used_percentage"))
    if five is None and seven is None:
        from shared.insights.limits import latest_limits

        for reading in latest_limits(ledger, now_ms):
            if reading.agent != "claude-code":
                continue
            if reading.primary and not reading.primary.expired:
                five = reading.primary.used_percent
            if reading.secondary and not reading.secondary.expired:
                seven = reading.secondary.used_percent
    parts = []
    if five is not None:
        parts.append(f"5h {five:.0f}%")
    if seven is not None:
        parts.append(f"7d {seven:.0f}%")
    return " · ".join(parts)


def status_line(ledger: Ledger | None, status: dict[str, Any], now_ms: int) -> str:
    model = _dig(status, "model", "display_name") or _dig(status, "model", "id") or "Claude"
    parts = [str(model)]
    session_cost = _number(_dig(status, "cost", "total_cost_usd"))
    if session_cost is not None:
        parts.append(f"session ${session_cost:,.2f}")
    if ledger is not None:
        from shared.insights.blocks import current_block

        parts.append(f"today ${today_cost(ledger, now_ms):,.2f}")
        block = current_block(ledger, now_ms)
        if block is not None:
            parts.append(f"block {_duration(block.minutes_left(now_ms))} left")
        plan = _plan_part(status, ledger, now_ms)
        if plan:
            parts.append(plan)
    return " │ ".join(parts)


def run_statusline(record: bool = True, stdin: Any = None) -> int:
    import sqlite3

    from shared.ledger import LedgerError, open_ledger

    now_ms = int(time.time() * 1000)
    source = stdin if stdin is not None else sys.stdin.buffer
    raw = b"" if source.isatty() else source.read()
    status = parse_status(raw)
    ledger = None
    try:
        ledger = open_ledger()
        if record:
            try:
                record_status(ledger, status, now_ms)
            except sqlite3.OperationalError as exc:
                # Busy writer or read-only disk: the line still prints, the reading is skipped.
                print(f"burnmeter statusline: not recorded ({exc})", file=sys.stderr)
    except (LedgerError, sqlite3.DatabaseError) as exc:
        print(f"burnmeter statusline: {exc}", file=sys.stderr)
        ledger = None
    try:
        print(status_line(ledger, status, now_ms))
    except sqlite3.DatabaseError as exc:
        print(status_line(None, status, now_ms))
        print(f"burnmeter statusline: {exc}", file=sys.stderr)
    finally:
        if ledger is not None:
            ledger.close()
    return 0
