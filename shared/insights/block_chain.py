"""Where the latest 5-hour block starts, found with index seeks instead of a full read.

ccusage's blocks form a chain: after a pause longer than a block the chain restarts at the
next call; otherwise the next block starts at the first call more than 5 hours after the
previous block's start, floored to the hour. So the latest block's start follows from the
last long pause with one seek per block, and a start remembered from an earlier call stays
valid as long as no call was added before it.

Plain functions over an `sqlite3.Connection` with no dataclasses or other costly imports:
`burnmeter statusline` runs this on every refresh of Claude Code's status bar.
"""

from __future__ import annotations

import contextlib
import sqlite3

BLOCK_MS = 5 * 3_600_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def chain_restart(conn: sqlite3.Connection, agent: str, now_ms: int) -> int | None:
    """The newest call up to `now_ms` that follows a pause longer than a block, else the
    first call ever. Looks back a week first, then further."""
    lookback = 7 * DAY_MS
    while lookback <= 512 * DAY_MS:
        row = conn.execute(
            """SELECT ts_ms FROM (
                   SELECT ts_ms, ts_ms - lag(ts_ms) OVER (ORDER BY ts_ms) AS pause
                   FROM usage_events WHERE agent = ? AND ts_ms >= ? AND ts_ms <= ?)
               WHERE pause > ? ORDER BY ts_ms DESC LIMIT 1""",
            (agent, now_ms - lookback, now_ms, BLOCK_MS),
        ).fetchone()
        if row is not None:
            return int(row[0])
        lookback *= 8
    first = conn.execute(
        "SELECT min(ts_ms) FROM usage_events WHERE agent = ? AND ts_ms <= ?", (agent, now_ms)
    ).fetchone()[0]
    return None if first is None else int(first)


def calls_before(conn: sqlite3.Connection, agent: str, ts_ms: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM usage_events WHERE agent = ? AND ts_ms < ?", (agent, ts_ms)
    ).fetchone()
    return int(row[0])


def _meta_key(agent: str) -> str:
    return f"blocks_anchor:{agent}"


def remembered_start(conn: sqlite3.Connection, agent: str, now_ms: int) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_meta_key(agent),)).fetchone()
    start_text, _, count_text = (row[0] if row else "").partition(":")
    if not (start_text.isdigit() and count_text.isdigit()):
        return None
    start = int(start_text)
    if start > now_ms or calls_before(conn, agent, start) != int(count_text):
        return None
    return start


def latest_block_start(
    conn: sqlite3.Connection, agent: str, now_ms: int, remember: bool = False
) -> int | None:
    """Start of the block holding the latest call up to `now_ms` (None: no calls).

    A start another call remembered is used either way (a read); `remember=True` keeps
    this answer in the meta table for the next call: it needs write access and is skipped
    when the ledger is busy or read-only. Without a remembered start, a history with no
    5-hour pause in a week is searched back further, a window scan each (~1.6 s on a
    1M-call ledger)."""
    remembered = remembered_start(conn, agent, now_ms)
    start = remembered
    if start is None:
        restart = chain_restart(conn, agent, now_ms)
        if restart is None:
            return None
        start = restart - restart % HOUR_MS
    while True:
        following = conn.execute(
            "SELECT min(ts_ms) FROM usage_events WHERE agent = ? AND ts_ms > ? AND ts_ms <= ?",
            (agent, start + BLOCK_MS, now_ms),
        ).fetchone()[0]
        if following is None:
            break
        start = int(following) - int(following) % HOUR_MS
    if remember and start != remembered:
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_meta_key(agent), f"{start}:{calls_before(conn, agent, start)}"),
            )
    return start


def active_block_end(
    conn: sqlite3.Connection, agent: str, now_ms: int, remember: bool = False
) -> int | None:
    """End of the active block (its last call under 5 hours ago, its end ahead), or None."""
    start = latest_block_start(conn, agent, now_ms, remember)
    if start is None:
        return None
    last = conn.execute(
        "SELECT max(ts_ms) FROM usage_events WHERE agent = ? AND ts_ms >= ? AND ts_ms <= ?",
        (agent, start, now_ms),
    ).fetchone()[0]
    end = start + BLOCK_MS
    active = last is not None and now_ms - int(last) < BLOCK_MS and now_ms < end
    return end if active else None
