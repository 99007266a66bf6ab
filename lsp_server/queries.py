"""The ledger queries behind the language server's features. Plain functions over an
sqlite3 connection, run on the hub's single database thread, never on the event loop."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from shared.ledger import BUCKET_MS
from shared.reports import RUNNING_WINDOW_MS


@dataclass(frozen=True)
class FileCost:
    path: str
    cost_usd: float
    calls: int
    sessions: int
    last_model: str
    last_ts_ms: int


@dataclass(frozen=True)
class SessionCost:
    session_id: str
    agent: str
    project_path: str
    model: str
    cost_usd: float
    total_tokens: int
    calls: int
    first_ts_ms: int
    last_ts_ms: int

    def running(self, now_ms: int, window_ms: int = RUNNING_WINDOW_MS) -> bool:
        return now_ms - self.last_ts_ms <= window_ms

    def as_status(self, now_ms: int, window_ms: int = RUNNING_WINDOW_MS) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "agent": self.agent,
            "model": self.model,
            "cost_usd": round(self.cost_usd, 6),
            "total_tokens": self.total_tokens,
            "started_at": iso_utc(self.first_ts_ms),
            "last_activity": iso_utc(self.last_ts_ms),
            "running": self.running(now_ms, window_ms),
        }


def iso_utc(ts_ms: int) -> str:
    return (
        datetime.fromtimestamp(ts_ms / 1000, UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def normalise(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def file_cost(conn: sqlite3.Connection, path: str) -> FileCost | None:
    """The agent cost of one file, from the trigger-kept `file_stats` (one row read)."""
    row = conn.execute(
        "SELECT calls, cost_usd, last_model, last_ts_ms FROM file_stats WHERE path = ?", (path,)
    ).fetchone()
    if row is None:
        return None
    sessions = conn.execute(
        "SELECT count(*) FROM file_sessions WHERE path = ?", (path,)
    ).fetchone()[0]
    return FileCost(path, float(row[1]), int(row[0]), int(sessions), str(row[2]), int(row[3]))


@dataclass(frozen=True)
class BreakdownRow:
    session_id: str
    model: str
    calls: int
    cost_usd: float
    last_ts_ms: int


def file_breakdown(conn: sqlite3.Connection, path: str, limit: int = 20) -> list[BreakdownRow]:
    """A file's cost by session and model, each call's cost split over its files."""
    rows = conn.execute(
        """
        SELECT cf.session_id, coalesce(ue.model, '?'), count(*),
            sum(coalesce(ue.cost_usd, 0) / (SELECT count(*) FROM call_files k
                                             WHERE k.event_key = cf.event_key)),
            max(cf.ts_ms)
        FROM call_files cf LEFT JOIN usage_events ue ON ue.event_key = cf.event_key
        WHERE cf.path = ?
        GROUP BY cf.session_id, ue.model
        ORDER BY max(cf.ts_ms) DESC
        LIMIT ?
        """,
        (path, limit),
    ).fetchall()
    return [BreakdownRow(str(r[0]), str(r[1]), int(r[2]), float(r[3]), int(r[4])) for r in rows]


def _inside_clause(folders: list[str]) -> tuple[str, list[str]]:
    """SQL matching `s.project_path` equal to or below any folder (index range scans)."""
    parts, params = [], []
    for folder in folders:
        base = folder.rstrip("/")
        parts.append("(s.project_path = ? OR (s.project_path >= ? AND s.project_path < ?))")
        # '0' is the character after '/', so the range is exactly "base/..."
        params += [base or "/", base + "/", base + "0"]
    return " OR ".join(parts) or "0", params


def workspace_sessions(
    conn: sqlite3.Connection, folders: list[str], limit: int | None = None
) -> list[SessionCost]:
    """Sessions whose cwd lies inside a workspace folder, most recent first."""
    where, params = _inside_clause(folders)
    sql = f"""
        SELECT s.session_id, s.agent, s.project_path, coalesce(t.last_model, ''),
            coalesce(t.cost_usd, 0), coalesce(t.total_tokens, 0), coalesce(t.calls, 0),
            s.first_ts_ms, s.last_ts_ms
        FROM sessions s LEFT JOIN session_totals t ON t.session_id = s.session_id
        WHERE {where}
        ORDER BY s.last_ts_ms DESC
    """
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, str(limit)]
    return [
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


def workspace_cost(conn: sqlite3.Connection, folders: list[str]) -> float:
    where, params = _inside_clause(folders)
    row = conn.execute(
        f"SELECT coalesce(sum(t.cost_usd), 0) FROM sessions s "
        f"JOIN session_totals t ON t.session_id = s.session_id WHERE {where}",
        params,
    ).fetchone()
    return float(row[0])


def local_midnight_ms(now: datetime, tz: tzinfo) -> int:
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def today_cost(conn: sqlite3.Connection, now: datetime, tz: tzinfo) -> float:
    """All projects, today in local time, from the 15-minute buckets (every real zone's
    midnight falls on a bucket boundary)."""
    start = local_midnight_ms(now, tz)
    end = local_midnight_ms(now + timedelta(days=1), tz)
    row = conn.execute(
        "SELECT coalesce(sum(cost_usd), 0) FROM usage_buckets WHERE bucket >= ? AND bucket < ?",
        (start // BUCKET_MS, max(end // BUCKET_MS, start // BUCKET_MS + 1)),
    ).fetchone()
    return float(row[0])


EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit", "apply_patch")


def files_edited(conn: sqlite3.Connection, session_id: str, limit: int = 200) -> list[str]:
    placeholders = ",".join("?" for _ in EDIT_TOOLS)
    rows = conn.execute(
        f"""SELECT DISTINCT tf.path FROM tool_calls tc JOIN tool_files tf ON tf.tool_id = tc.tool_id
        WHERE tc.session_id = ? AND tc.tool_name IN ({placeholders}) LIMIT ?""",
        (session_id, *EDIT_TOOLS, limit),
    ).fetchall()
    return [str(r[0]) for r in rows]
