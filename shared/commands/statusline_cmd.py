"""`burnmeter statusline`: Claude Code's statusLine command.

Claude Code runs it on every status refresh with a JSON object on stdin (session id,
model, `cost.total_cost_usd`, context window, and `rate_limits.five_hour/seven_day` for
subscribers). It records the numbers in the ledger (never any text but the model id and
cwd) and prints one line: model, session cost, today's cost, time left in the 5-hour
block, plan-limit use.

It runs on every refresh, so it must finish in tens of milliseconds: `shared.cli` sends
`statusline` here before building the full parser, and this path imports only sqlite3,
json and `shared.insights.block_chain` (no pathlib, dataclasses, pydantic, orjson or
pricing); a config file that names a `timezone` adds tomllib, zoneinfo and datetime.
"""

from __future__ import annotations

import sys
import time

# Light (io and sys): the reports' own rounding of money and of minutes left.
from shared.commands.render import money, nearest_minute

# Not `from typing import TYPE_CHECKING`: importing typing alone costs this path milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    import sqlite3
    from typing import Any

# A busy writer (ingest) must never stall the status bar: give up on recording quickly.
WRITE_BUSY_MS = 150
# The first ledger schema version with the statusline table and the per-agent time index.
STATUSLINE_SCHEMA = 4
# Copies of shared.ledger constants (importing it costs more than this command's budget);
# tests/insights/test_cli_insights.py checks they agree.
BUCKET_MS = 15 * 60 * 1000
APPLICATION_ID = 0x42524E4D
# The newest ledger schema this code knows (shared.schema.SCHEMA_VERSION): a ledger a newer
# burnmeter wrote is read for the line, never written to.
NEWEST_SCHEMA = 20


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
    if any(arg != "--no-record" for arg in argv):
        return -1  # help, or an argument only the full parser can judge (a typo is an error)
    return run_statusline(record="--no-record" not in argv)


# Beyond any real cost, count or timestamp (seconds or ms): such a value is noise, and
# SQLite's integers stop at 2**63.
_LARGEST = 1e15


def _number(value: object) -> float | None:
    """A JSON number that means something: not a bool, not NaN or infinite, not absurd."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    number = float(value)
    return number if -_LARGEST < number < _LARGEST else None  # NaN compares false


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def parse_status(raw: bytes) -> dict[str, Any]:
    import json

    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past Python's limit
        data = {}
    return data if isinstance(data, dict) else {}


def _int(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def record_status(conn: sqlite3.Connection, status: dict[str, Any], now_ms: int) -> None:
    session_id = status.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        return
    model = _dig(status, "model", "id")
    cwd = _dig(status, "workspace", "current_dir") or status.get("cwd")
    context = status.get("context_window")
    window = _int(_dig(context, "context_window_size"))
    # Tokens in the window now: the last call's prompt, else the share Claude Code reports.
    current = _dig(context, "current_usage")
    keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    counts = [_int(_dig(current, key)) for key in keys]
    used_tokens = sum(c for c in counts if c is not None) if any(counts) else None
    used_share = _number(_dig(context, "used_percentage"))
    if used_tokens is None and used_share is not None and window:
        used_tokens = round(window * used_share / 100)
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
        window,
        _number(_dig(five, "used_percentage")),
        _int(_dig(five, "resets_at")),
        _number(_dig(seven, "used_percentage")),
        _int(_dig(seven, "resets_at")),
    )
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
        if conn.in_transaction:  # as shared.ledger.rollback_if_open (not imported: start-up)
            conn.execute("ROLLBACK")
        raise


def today_spend(conn: sqlite3.Connection, now_ms: int, zone_name: str = "") -> tuple[float, int]:
    """Today's cost and its calls of a model with no price: the day in the config's
    `timezone` (as the tray and `budgets` count it), else in the machine's zone."""
    zone = _zone(zone_name)
    if zone is not None:
        from datetime import datetime, timedelta

        now = datetime.fromtimestamp(now_ms / 1000, zone)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # Aware arithmetic is wall-clock: midnight to midnight, 23 or 25 hours across DST.
        midnight_s, tomorrow_s = midnight.timestamp(), (midnight + timedelta(days=1)).timestamp()
    else:
        local = time.localtime(now_ms / 1000)
        midnight_s = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
        # mktime normalises day 32 into the next month, and knows the DST rules of the day.
        tomorrow_s = time.mktime(
            (local.tm_year, local.tm_mon, local.tm_mday + 1, 0, 0, 0, 0, 0, -1)
        )
    cost, unpriced = conn.execute(
        "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(unpriced_calls), 0) FROM usage_buckets "
        "WHERE bucket >= ? AND bucket < ?",
        (int(midnight_s * 1000) // BUCKET_MS, int(tomorrow_s * 1000) // BUCKET_MS),
    ).fetchone()
    return float(cost), int(unpriced)


def _zone(name: str) -> Any:
    if not name:
        return None
    from shared.timezones import zone_named

    return zone_named(name)


def configured_zone_name() -> str:
    """The config file's `timezone`, read without pydantic or pathlib (this runs on every
    status refresh); "" when there is none or it cannot be read (the commands report a
    broken file)."""
    import os

    from shared.userdirs import CONFIG

    folder = _quick_folder("BURNMETER_CONFIG_DIR", CONFIG)
    if folder is None:
        from shared.paths import config_dir

        folder = str(config_dir())
    try:
        with open(os.path.join(folder, "config.toml"), "rb") as handle:
            data = handle.read()
    except OSError:
        return ""
    if b"timezone" not in data:
        return ""  # the usual case: no TOML parsing at all
    import tomllib

    try:
        value = tomllib.loads(data.decode("utf-8-sig")).get("timezone")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    return value if isinstance(value, str) else ""


def _duration(ms: int) -> str:
    """A time left to the nearest minute, as `burnmeter budgets` and the tray count it
    (4 h 24 min 40 s reads 4h25m everywhere; it read 4h24m here alone)."""
    whole = nearest_minute(ms)
    return f"{whole // 60}h{whole % 60:02d}m" if whole >= 60 else f"{whole}m"


def _stored_limits(conn: sqlite3.Connection, now_ms: int) -> tuple[float | None, float | None]:
    """The last Claude plan-limit reading, each window only while it has not reset."""
    row = conn.execute(
        "SELECT primary_used_percent, primary_resets_at, secondary_used_percent, "
        "secondary_resets_at FROM rate_limits WHERE agent = 'claude-code' "
        "ORDER BY ts_ms DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None, None

    def current(used: float | None, resets_at_s: int | None) -> float | None:
        return used if resets_at_s is None or resets_at_s * 1000 > now_ms else None

    return current(row[0], row[1]), current(row[2], row[3])


def _plan_part(status: dict[str, Any], conn: sqlite3.Connection, now_ms: int) -> str:
    five = _number(_dig(status, "rate_limits", "five_hour", "used_percentage"))
    seven = _number(_dig(status, "rate_limits", "seven_day", "used_percentage"))
    if five is None and seven is None:
        five, seven = _stored_limits(conn, now_ms)
    parts = []
    if five is not None:
        parts.append(f"5h {five:.0f}%")
    if seven is not None:
        parts.append(f"7d {seven:.0f}%")
    return " · ".join(parts)


def status_line(
    conn: sqlite3.Connection | None, status: dict[str, Any], now_ms: int, remember: bool = True
) -> str:
    """The line; `remember=False` (`--no-record`, a ledger newer than this code) writes
    nothing, not even the block start it found."""
    names = (_dig(status, "model", "display_name"), _dig(status, "model", "id"))
    model = next((name for name in names if isinstance(name, str) and name.strip()), "Claude")
    parts = [model]
    session_cost = _number(_dig(status, "cost", "total_cost_usd"))
    if session_cost is not None:
        parts.append(f"session ${session_cost:,.2f}")
    if conn is not None:
        from shared.insights.block_chain import active_block_end

        cost, unpriced = today_spend(conn, now_ms, configured_zone_name())
        # Calls of a model with no price are said, never counted as $0 silently; the sum
        # is rounded as every report rounds it (0.03 + 0.045 is $0.07 there and here).
        parts.append(f"today {money(cost, unpriced)}")
        end = active_block_end(conn, "claude-code", now_ms, remember=remember)
        if end is not None:
            parts.append(f"block {_duration(end - now_ms)} left")
        plan = _plan_part(status, conn, now_ms)
        if plan:
            parts.append(plan)
    return " │ ".join(parts)


def quick_ledger_path() -> str | None:
    """`shared.paths.ledger_path()` without importing pathlib and platformdirs, where the
    rule is plain (the variable, or see shared.userdirs); None elsewhere. A test keeps them
    equal."""
    import os

    from shared.userdirs import DATA

    folder = _quick_folder("BURNMETER_DATA_DIR", DATA)
    return None if folder is None else os.path.join(folder, "ledger.sqlite")


def _quick_folder(override_variable: str, xdg_variable: str) -> str | None:
    """`shared.paths`' rule for a folder (the override variable, else the user folder),
    without pathlib or platformdirs; None where only platformdirs can tell."""
    import os

    from shared.userdirs import quick_user_dir

    override = os.environ.get(override_variable)
    if override:
        return os.path.expanduser(override)
    return quick_user_dir(xdg_variable, "burnmeter")


def open_ledger_fast(create: bool = True) -> tuple[sqlite3.Connection | None, str | None]:
    """The ledger, opened directly when it already has this command's schema; otherwise
    through `open_ledger`, which creates, checks and migrates it (once). With it, why the
    reading must not be recorded, if it must not. Without `create`, a missing ledger stays
    missing (None): `--no-record` writes nothing, not even a new ledger."""
    import os
    import sqlite3

    path = quick_ledger_path()
    if path is None:
        from shared.paths import ledger_path

        path = str(ledger_path())
    if os.path.exists(path):
        conn = None
        try:
            conn = sqlite3.connect(path, timeout=1, isolation_level=None, check_same_thread=False)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            # SQLite's own words ("unable to open database file", "file is not a database")
            # name no file.
            if conn is not None:
                conn.close()
            raise sqlite3.DatabaseError(
                f"cannot open the ledger at {path} ({exc}); `burnmeter doctor` says what to do"
            ) from exc
        if version >= STATUSLINE_SCHEMA and app_id == APPLICATION_ID:
            # As open_ledger sets it: in WAL mode a commit then needs no fsync.
            conn.execute("PRAGMA synchronous = NORMAL")
            if version > NEWEST_SCHEMA:
                return conn, (
                    f"the ledger at {path} has schema version {version}, newer than this "
                    f"burnmeter understands ({NEWEST_SCHEMA}); upgrade burnmeter"
                )
            return conn, None
        conn.close()
        if not create:
            # Opening it would upgrade (write) it: `--no-record` writes nothing.
            if app_id != APPLICATION_ID:
                return None, (
                    f"the file at {path} is not a burnmeter ledger (application_id "
                    f"{app_id:#x}); `burnmeter doctor` says what to do"
                )
            return None, (
                f"the ledger at {path} is older than this burnmeter reads as it is (schema "
                f"version {version}); `--no-record` does not upgrade it, any other "
                "burnmeter command does"
            )
    elif not create:
        return None, None
    from pathlib import Path

    from shared.ledger import open_ledger

    return open_ledger(Path(path)).conn, None


def _emit(text: str) -> None:
    """The line in UTF-8, whatever the stream's encoding: Claude Code reads it as UTF-8,
    and a Windows pipe's cp1252 cannot encode `│` or `·` (print raised)."""
    from shared.commands.render import write_utf8

    write_utf8(text + "\n", "replace")


def run_statusline(record: bool = True, stdin: Any = None) -> int:
    import sqlite3

    now_ms = int(time.time() * 1000)
    # A closed stdin (`<&-`) leaves sys.stdin None: no input, the line still prints.
    source = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    raw = b"" if source is None or source.isatty() else source.read()
    status = parse_status(raw)
    conn = None
    refused: str | None = None  # why the reading must not be recorded
    try:
        conn, refused = open_ledger_fast(create=record)
        if conn is None:
            # --no-record and no ledger yet (or one it would have to upgrade): the line
            # from stdin alone.
            if refused is not None:
                print(f"burnmeter statusline: not read ({refused})", file=sys.stderr)
        elif record and refused is not None:
            print(f"burnmeter statusline: not recorded ({refused})", file=sys.stderr)
        elif record:
            try:
                record_status(conn, status, now_ms)
            except sqlite3.Error as exc:
                # Busy writer, read-only disk, a value SQLite refuses: the line still prints
                # (with today's cost and the block), the reading is skipped.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                why = (
                    "another burnmeter process is writing the ledger"
                    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
                    else str(exc)
                )
                print(f"burnmeter statusline: not recorded ({why})", file=sys.stderr)
    except Exception as exc:  # a broken ledger must not break Claude Code's status bar
        print(f"burnmeter statusline: {exc}", file=sys.stderr)
        conn = None
    try:
        _emit(status_line(conn, status, now_ms, remember=record and refused is None))
    except sqlite3.DatabaseError as exc:
        _emit(status_line(None, status, now_ms))
        print(f"burnmeter statusline: {exc}", file=sys.stderr)
    except OSError as exc:
        # Python's own flush of stdout at exit must not raise the same error again.
        from shared.cli import stdout_to_devnull

        stdout_to_devnull()
        if isinstance(exc, BrokenPipeError):
            return 0  # Claude Code stopped reading (a refresh it gave up on): nothing to say
        print(
            f"burnmeter statusline: cannot write the line: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    finally:
        if conn is not None:
            conn.close()
    return 0
