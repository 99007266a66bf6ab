"""The ledger queries behind the language server's features. Plain functions over an
sqlite3 connection, run on the hub's single database thread, never on the event loop."""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from shared.reports import RUNNING_WINDOW_MS, iso_utc, session_model_sql
from shared.schema import BUCKET_MS


@dataclass(frozen=True)
class FileCost:
    path: str
    cost_usd: float
    calls: int
    sessions: int
    last_model: str
    last_ts_ms: int
    unpriced_calls: int = 0


@dataclass(frozen=True)
class SessionCost:
    """A workspace session. `first_ts_ms` and `last_ts_ms` are its first and last model
    call, as `report sessions` has them (`first_activity`, `last_activity`); the
    `sessions` table's times only for a session without calls in the ledger."""

    session_id: str
    agent: str
    project_path: str
    model: str
    cost_usd: float
    total_tokens: int
    calls: int
    first_ts_ms: int
    last_ts_ms: int
    unpriced_calls: int = 0

    def running(self, now_ms: int, window_ms: int = RUNNING_WINDOW_MS) -> bool:
        return now_ms - self.last_ts_ms <= window_ms

    def as_status(self, now_ms: int, window_ms: int = RUNNING_WINDOW_MS) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "agent": self.agent,
            "model": self.model,
            "cost_usd": round(self.cost_usd, 6),
            "total_tokens": self.total_tokens,
            # The reports' format: `2026-11-23T11:40:12.345Z`.
            "started_at": iso_utc(self.first_ts_ms),
            "last_activity": iso_utc(self.last_ts_ms),
            "running": self.running(now_ms, window_ms),
            # As in the reports' JSON: only when some calls had no price.
            **({"unpriced_calls": self.unpriced_calls} if self.unpriced_calls else {}),
        }


def normalise(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


# A Windows path: a drive letter, a colon and a separator (`C:\Users\me`, `c:/src`).
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")

# Calls with no price: `free` calls cost nothing by rule and are priced at $0.
UNPRICED = "ue.priced = 0 AND ue.free = 0"


def path_forms(path: str) -> list[str]:
    """The spellings a path may be stored under in the ledger: as given and, for a
    Windows path, with its drive letter upper- and lower-cased. pygls lowercases the
    drive letter of a URI (`c:\\Users\\...`); the agents log it as their shell shows it
    (`C:\\Users\\...`). A path through a symbolic link has its real path's forms too: the
    agents log their real working directory, and an editor opened by a link (`ln -s
    ~/src/app app`) showed no lens and no sessions. Any other path has one form."""
    forms = _drive_forms(path)
    # Only a path of this system: a Windows path read on POSIX would be made relative.
    if os.path.isabs(path) and "\0" not in path:
        # (A NUL, `file:///tmp/%00x`, names no file and made realpath raise.)
        real = os.path.realpath(path)
        if real != path:
            forms += _drive_forms(real)
    return list(dict.fromkeys(forms))


def _drive_forms(path: str) -> list[str]:
    if not _WINDOWS_DRIVE.match(path):
        return [path]
    rest = path[1:]
    return [path, path[0].upper() + rest, path[0].lower() + rest]


def _marks(values: list[str]) -> str:
    return ",".join("?" for _ in values)


def file_cost(conn: sqlite3.Connection, path: str) -> FileCost | None:
    """The agent cost of one file, from the trigger-kept `file_stats` (one row read per
    form of the path), and how many of its calls had no price (counted over the file's
    own calls, by the `call_files` path index)."""
    forms = path_forms(path)
    marks = _marks(forms)
    rows = conn.execute(
        f"SELECT calls, cost_usd, last_model, last_ts_ms FROM file_stats WHERE path IN ({marks})",
        forms,
    ).fetchall()
    if not rows:
        return None
    sessions = conn.execute(
        f"SELECT count(DISTINCT session_id) FROM file_sessions WHERE path IN ({marks})", forms
    ).fetchone()[0]
    # Driven by the partial index of unpriced calls (usually empty): a look-up in
    # call_files per such call, not one in usage_events per call that touched the file.
    unpriced = conn.execute(
        f"""SELECT count(*) FROM usage_events ue INDEXED BY usage_events_unpriced
        WHERE {UNPRICED} AND EXISTS (SELECT 1 FROM call_files cf
            WHERE cf.event_key = ue.event_key AND cf.path IN ({marks}))""",
        forms,
    ).fetchone()[0]
    latest = max(rows, key=lambda row: int(row[3]))
    return FileCost(
        path,
        sum(float(row[1]) for row in rows),
        sum(int(row[0]) for row in rows),
        int(sessions),
        str(latest[2]),
        int(latest[3]),
        int(unpriced),
    )


@dataclass(frozen=True)
class BreakdownRow:
    session_id: str
    model: str
    calls: int
    cost_usd: float
    last_ts_ms: int
    unpriced_calls: int = 0


def file_breakdown(conn: sqlite3.Connection, path: str, limit: int = 20) -> list[BreakdownRow]:
    """A file's cost by session and model, each call's cost split over its files."""
    forms = path_forms(path)
    rows = conn.execute(
        f"""
        SELECT cf.session_id, coalesce(ue.model, '?'), count(*),
            sum(coalesce(ue.cost_usd, 0) / (SELECT count(*) FROM call_files k
                                             WHERE k.event_key = cf.event_key)),
            max(cf.ts_ms),
            sum(CASE WHEN {UNPRICED} THEN 1 ELSE 0 END)
        FROM call_files cf LEFT JOIN usage_events ue ON ue.event_key = cf.event_key
        WHERE cf.path IN ({_marks(forms)})
        GROUP BY cf.session_id, ue.model
        ORDER BY max(cf.ts_ms) DESC
        LIMIT ?
        """,
        (*forms, limit),
    ).fetchall()
    return [
        BreakdownRow(str(r[0]), str(r[1]), int(r[2]), float(r[3]), int(r[4]), int(r[5]))
        for r in rows
    ]


def _separator(path: str) -> str:
    """The separator a folder's path is written with: the one after a Windows drive
    letter (`C:\\`, `C:/`), `\\` for backslashes without a slash (`\\\\server\\share`),
    else `/`."""
    if _WINDOWS_DRIVE.match(path):
        return path[2]
    return "\\" if "\\" in path and "/" not in path else "/"


def _inside_clause(folders: list[str]) -> tuple[str, list[str]]:
    """SQL matching `s.project_path` equal to or below any folder (index range scans),
    in the folder's own separator, for each form of its path (see `path_forms`)."""
    parts, params = [], []
    for folder in folders:
        sep = _separator(folder)
        # The character after the separator ('0' after '/', ']' after '\'): the range
        # is exactly "base<sep>...".
        after = chr(ord(sep) + 1)
        for form in path_forms(folder):
            base = form.rstrip(sep)
            # A root (`/`, `C:\`) keeps its separator.
            root = not base or (len(base) == 2 and _WINDOWS_DRIVE.match(base + sep) is not None)
            whole = base + sep if root else base
            parts.append("(s.project_path = ? OR (s.project_path >= ? AND s.project_path < ?))")
            params += [whole, base + sep, base + after]
    return " OR ".join(parts) or "0", params


# Per session: the (calls, cost) its unpriced calls were counted at, and the count. The
# ledger keeps no per-session count of them, so each session's calls are counted once and
# again only when its totals move (a new call, a reprice); used on the hub's database
# thread only.
UnpricedCache = dict[str, tuple[tuple[int, float], int]]


def _unpriced_counts(
    conn: sqlite3.Connection, totals: list[tuple[str, int, float]], cache: UnpricedCache
) -> dict[str, int]:
    """{session_id: calls without a price} for sessions given as (id, calls, cost)."""
    stale = [t for t in totals if t[0] not in cache or cache[t[0]][0] != (t[1], t[2])]
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        ids = [t[0] for t in chunk]
        counted = dict(
            conn.execute(
                f"SELECT ue.session_id, count(*) FROM usage_events ue "
                f"WHERE ue.session_id IN ({_marks(ids)}) AND {UNPRICED} GROUP BY ue.session_id",
                ids,
            ).fetchall()
        )
        for session_id, calls, cost in chunk:
            cache[session_id] = ((calls, cost), int(counted.get(session_id, 0)))
    return {t[0]: cache[t[0]][1] for t in totals}


def workspace_sessions(
    conn: sqlite3.Connection,
    folders: list[str],
    limit: int | None = None,
    unpriced: UnpricedCache | None = None,
) -> list[SessionCost]:
    """Sessions whose cwd lies inside a workspace folder, most recent model call first;
    with an `unpriced` cache, each with its count of calls that had no price.

    A session's first and last activity are its first and last model call, as in `report
    sessions`: one seek each in the calls' (session, time) index, for the rows returned
    only. The `sessions` table's times differ: a call is timed by its first line, but a
    streamed reply logged again seconds later moves the session's last time to that line.
    Sessions are sorted by the trigger-kept `session_totals.last_ts_ms` (the last call)."""
    where, params = _inside_clause(folders)
    chosen = f"""
        SELECT s.session_id, s.agent, s.project_path, coalesce(t.last_model, '') AS model,
            coalesce(t.cost_usd, 0) AS cost, coalesce(t.total_tokens, 0) AS tokens,
            coalesce(t.calls, 0) AS calls, s.first_ts_ms, s.last_ts_ms,
            coalesce(t.last_ts_ms, s.last_ts_ms) AS recent
        FROM sessions s LEFT JOIN session_totals t ON t.session_id = s.session_id
        WHERE {where}
        ORDER BY recent DESC
    """
    if limit is not None:
        chosen += " LIMIT ?"
        params = [*params, str(limit)]
    sql = f"""
        SELECT w.session_id, w.agent, w.project_path,
            {session_model_sql("w.model", "w.session_id")},
            w.cost, w.tokens, w.calls,
            coalesce((SELECT min(u.ts_ms) FROM usage_events u
                      WHERE u.session_id = w.session_id), w.first_ts_ms),
            coalesce((SELECT max(u.ts_ms) FROM usage_events u
                      WHERE u.session_id = w.session_id), w.last_ts_ms)
        FROM ({chosen}) w
        ORDER BY w.recent DESC
    """
    sessions = [
        SessionCost(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            float(r[4]),
            int(r[5]),
            int(r[6]),
            int(r[7]),
            int(r[8]),
        )
        for r in conn.execute(sql, params)
    ]
    if unpriced is None:
        return sessions
    counts = _unpriced_counts(
        conn, [(s.session_id, s.calls, s.cost_usd) for s in sessions], unpriced
    )
    return [replace(s, unpriced_calls=counts[s.session_id]) for s in sessions]


def workspace_cost(
    conn: sqlite3.Connection, folders: list[str], unpriced: UnpricedCache
) -> tuple[float, int]:
    """The all-time cost of the workspace's sessions and how many of their calls had no
    price."""
    where, params = _inside_clause(folders)
    totals = [
        (str(r[0]), int(r[1]), float(r[2]))
        for r in conn.execute(
            f"SELECT s.session_id, t.calls, t.cost_usd FROM sessions s "
            f"JOIN session_totals t ON t.session_id = s.session_id WHERE {where}",
            params,
        )
    ]
    counts = _unpriced_counts(conn, totals, unpriced)
    # Every session of the workspace is counted here, and the cache's other user (the
    # sessions listed) asks for a subset of them: the rest belong to folders no longer open.
    if len(unpriced) > len(counts):
        for session_id in [key for key in unpriced if key not in counts]:
            del unpriced[session_id]
    return sum(t[2] for t in totals), sum(counts.values())


def day_bounds_ms(now_ms: int, zone: tzinfo) -> tuple[int, int]:
    """Today in `zone` (a zoneinfo zone, with its rules: not a fixed UTC offset): its
    midnight and the next one, in ms. Aware arithmetic is wall-clock, so the day is 23 or
    25 hours long on the days the clocks change."""
    now = datetime.fromtimestamp(now_ms / 1000, zone)
    # fold=0: the earlier of two midnights where the clocks go back at midnight.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    tomorrow = midnight + timedelta(days=1)
    return int(midnight.timestamp() * 1000), int(tomorrow.timestamp() * 1000)


def today_cost(conn: sqlite3.Connection, now_ms: int, zone: tzinfo) -> tuple[float, int]:
    """All projects, today in `zone`, from the 15-minute buckets (every real zone's
    midnight falls on a bucket boundary): the cost and the calls that had no price."""
    start, end = day_bounds_ms(now_ms, zone)
    row = conn.execute(
        "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(unpriced_calls), 0) FROM usage_buckets "
        "WHERE bucket >= ? AND bucket < ?",
        (start // BUCKET_MS, end // BUCKET_MS),
    ).fetchone()
    return float(row[0]), int(row[1])


EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit", "apply_patch")


def files_edited(conn: sqlite3.Connection, session_id: str, limit: int = 200) -> list[str]:
    placeholders = ",".join("?" for _ in EDIT_TOOLS)
    rows = conn.execute(
        f"""SELECT DISTINCT tf.path FROM tool_calls tc JOIN tool_files tf ON tf.tool_id = tc.tool_id
        WHERE tc.session_id = ? AND tc.tool_name IN ({placeholders}) LIMIT ?""",
        (session_id, *EDIT_TOOLS, limit),
    ).fetchall()
    return [str(r[0]) for r in rows]
