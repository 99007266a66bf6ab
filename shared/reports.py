"""Report queries over the ledger: daily, weekly, monthly, models, sessions, repos, files.

Period reports read the 15-minute `usage_buckets` that triggers keep current, and place
each bucket in the requested time zone, so a warm report never scans every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from operator import add
from zoneinfo import ZoneInfo

from shared.ledger import Ledger
from shared.schema import BUCKET_MS

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "total_tokens",
)
# A session with a model call in the last ten minutes counts as running (issue 3's rule,
# shared by the language server's status and the tray's menu).
RUNNING_WINDOW_MS = 10 * 60 * 1000
# The model Claude Code logs its API errors and usage-limit notices under (free calls).
SYNTHETIC_MODEL = "<synthetic>"


def session_model_sql(model: str, session_id: str) -> str:
    """SQL for the model that names a session in the language server's status and the
    tray (one rule for both): `model`, its latest call's, unless that is "<synthetic>" (an
    API error ended the session), then its latest paid call's; index seeks only."""
    return (
        f"CASE WHEN {model} = '{SYNTHETIC_MODEL}' THEN coalesce((SELECT u.model "
        f"FROM usage_events u WHERE u.session_id = {session_id} AND u.free = 0 "
        f"ORDER BY u.ts_ms DESC LIMIT 1), {model}) ELSE {model} END"
    )


PERIODS = {"daily": "date", "weekly": "week", "monthly": "month"}


class Filters:
    """The calls a report counts: local dates `since`..`until` (both included) in `tz`
    (default UTC), of one agent or (None) all."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(
        self,
        since: date | None = None,
        until: date | None = None,
        agent: str | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.since = since
        self.until = until
        self.agent = agent
        self.tz = ZoneInfo("UTC") if tz is None else tz


class Totals:
    """Token, cost and call sums of some model calls."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self.cache_write_tokens = 0
        self.cache_read_tokens = 0
        self.reasoning_tokens = 0
        self.total_tokens = 0
        self.cost_usd = 0.0
        self.calls = 0
        self.unpriced_calls = 0

    def add_row(self, row: Iterable[Any]) -> None:
        i, o, w5, w1, r, reasoning, total, cost, unpriced, calls = row
        self.input_tokens += i
        self.output_tokens += o
        self.cache_write_tokens += w5 + w1
        self.cache_read_tokens += r
        self.reasoning_tokens += reasoning
        self.total_tokens += total
        self.cost_usd += cost
        self.unpriced_calls += unpriced
        self.calls += calls

    def as_json(self) -> dict[str, Any]:
        return _totals_json(
            self.input_tokens,
            self.output_tokens,
            self.cache_write_tokens,
            self.cache_read_tokens,
            self.reasoning_tokens,
            self.total_tokens,
            self.cost_usd,
            self.unpriced_calls,
        )


def _totals_json(
    input_tokens: int,
    output_tokens: int,
    cache_write_tokens: int,
    cache_read_tokens: int,
    reasoning_tokens: int,
    total_tokens: int,
    cost_usd: float,
    unpriced_calls: int,
) -> dict[str, Any]:
    """The JSON contract's token fields (TOKEN_FIELDS order), cost and unpriced calls."""
    data: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_write_tokens": cache_write_tokens,
        "cache_read_tokens": cache_read_tokens,
        "reasoning_tokens": reasoning_tokens,
        "total_tokens": total_tokens,
        "cost_usd": round(cost_usd, 6),
    }
    if unpriced_calls:
        data["unpriced_calls"] = unpriced_calls
    return data


# A period report sums hundreds of rows into plain lists, in the order of BUCKET_SUMS:
# input, output, cache write 5m, cache write 1h, cache read, reasoning, total, cost,
# unpriced calls, calls. (A `Totals` per row costs it milliseconds.)
def _zero_sums() -> list[Any]:
    return [0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0]


def _add_sums(into: list[Any], sums: Sequence[Any]) -> None:
    into[:] = map(add, into, sums)


def _sums_json(sums: list[Any]) -> dict[str, Any]:
    """What `Totals.as_json` gives for the same rows."""
    return _totals_json(
        sums[0], sums[1], sums[2] + sums[3], sums[4], sums[5], sums[6], sums[7], sums[8]
    )


def local_day(ts_ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz).date()


def period_label(day: date, period: str) -> str:
    if period == "daily":
        return day.isoformat()
    if period == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _bucket_bounds(filters: Filters) -> tuple[int | None, int | None]:
    """Bucket range covering the local-date filters, widened a day for zone offsets."""
    low = high = None
    if filters.since:
        start = datetime.combine(filters.since - timedelta(days=1), datetime.min.time(), UTC)
        low = int(start.timestamp() * 1000) // BUCKET_MS
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=2), datetime.min.time(), UTC)
        high = int(end.timestamp() * 1000) // BUCKET_MS
    return low, high


BUCKET_SUMS = (
    "sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens), "
    "sum(cache_write_1h_tokens), sum(cache_read_tokens), sum(reasoning_tokens), "
    "sum(total_tokens), sum(cost_usd), sum(unpriced_calls), sum(calls)"
)


def _bucket_rows(ledger: Ledger, filters: Filters) -> list[tuple[Any, ...]]:
    where: list[str] = ["calls != 0"]
    params: list[Any] = []
    low, high = _bucket_bounds(filters)
    if low is not None:
        where.append("bucket >= ?")
        params.append(low)
    if high is not None:
        where.append("bucket < ?")
        params.append(high)
    if filters.agent:
        where.append("agent = ?")
        params.append(filters.agent)
    sql = (
        f"SELECT bucket, model, {BUCKET_SUMS} FROM usage_buckets WHERE {' AND '.join(where)} "
        "GROUP BY bucket, model"
    )
    return ledger.conn.execute(sql, params).fetchall()


def _in_range(day: date, filters: Filters) -> bool:
    return not ((filters.since and day < filters.since) or (filters.until and day > filters.until))


DAY_S = 86_400
BUCKET_S = BUCKET_MS // 1000


def _offset_s(bucket: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(bucket * BUCKET_S, tz).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _offset_segments(low: int, high: int, tz: ZoneInfo) -> list[tuple[int, int, int]]:
    """[(first bucket, end bucket, UTC offset in seconds)] covering low..high-1, each with
    one offset: a zone changes offset only a few times a year, so a period report can sum
    buckets into local days in SQL, a segment at a time."""
    per_day = DAY_S // BUCKET_S
    segments = []
    start = low
    offset = _offset_s(low, tz)
    probe = low
    while probe < high:
        step_end = min(probe + per_day, high)
        if _offset_s(step_end - 1, tz) != offset:
            # The change lies in (first, step_end - 1]; `first` still has the old offset.
            first, last = max(start, probe - 1), step_end - 1
            while last - first > 1:
                middle = (first + last) // 2
                if _offset_s(middle, tz) == offset:
                    first = middle
                else:
                    last = middle
            segments.append((start, last, offset))
            start, offset = last, _offset_s(last, tz)
            probe = last
            continue
        probe = step_end
    segments.append((start, high, offset))
    return segments


def _local_day_rows(ledger: Ledger, filters: Filters) -> list[tuple[Any, ...]]:
    """(local date ordinal since the epoch, model, sums...) for every day with calls."""
    where: list[str] = ["calls != 0"]
    params: list[Any] = []
    low, high = _bucket_bounds(filters)
    if filters.agent:
        where.append("agent = ?")
        params.append(filters.agent)
    # The first and last bucket with calls: each query walks the primary key from one end
    # and stops at the first match (min() and max() with a WHERE would read every row).
    first_last = [
        ledger.conn.execute(
            f"SELECT bucket FROM usage_buckets WHERE {' AND '.join(where)} "
            f"ORDER BY bucket {direction} LIMIT 1",
            params,
        ).fetchone()
        for direction in ("ASC", "DESC")
    ]
    if first_last[0] is None or first_last[1] is None:
        return []
    low = first_last[0][0] if low is None else max(low, first_last[0][0])
    high = first_last[1][0] + 1 if high is None else min(high, first_last[1][0] + 1)
    rows: list[tuple[Any, ...]] = []
    # Grouped by UTC day and model, the order of the index usage_buckets_day: SQLite sums
    # as it scans, with no sort. A UTC day's buckets fall in at most two local days, split
    # at one bucket of the day: a query for each part, the part's local day beside its rows.
    sql = (
        f"SELECT {UTC_DAY} + ?, model, {BUCKET_SUMS} FROM usage_buckets "
        f"WHERE {' AND '.join(where)} AND {UTC_DAY} >= ? AND {UTC_DAY} <= ? "
        f"AND bucket >= ? AND bucket < ? AND bucket % {PER_DAY} >= ? "
        f"AND bucket % {PER_DAY} < ? GROUP BY {UTC_DAY}, model"
    )
    for first, end, offset in _offset_segments(low, high, filters.tz):
        for part_start, part_end, shift in _local_day_parts(offset):
            if part_start < part_end:
                bounds = [first // PER_DAY, (end - 1) // PER_DAY, first, end]
                rows += ledger.conn.execute(
                    sql, [shift, *params, *bounds, part_start, part_end]
                ).fetchall()
    return rows


PER_DAY = DAY_S // BUCKET_S
UTC_DAY = f"bucket / {PER_DAY}"  # the expression usage_buckets_day is ordered by


def _local_day_parts(offset_s: int) -> list[tuple[int, int, int]]:
    """[(first, end, days to add)]: buckets `first` <= bucket % PER_DAY < `end` of a UTC day
    fall in that day plus `days to add`, at UTC offset `offset_s` (|offset| < a day)."""
    if offset_s >= 0:
        split = -(-(DAY_S - offset_s) // BUCKET_S)  # the first bucket past local midnight
        return [(0, split, 0), (split, PER_DAY, 1)]
    split = -(offset_s // BUCKET_S)  # ceil(-offset_s / BUCKET_S): the first of the same day
    return [(0, split, -1), (split, PER_DAY, 0)]


EPOCH = date(1970, 1, 1)


def period_report(ledger: Ledger, period: str, filters: Filters) -> dict[str, Any]:
    """`{"daily"|"weekly"|"monthly": [ROW...], "totals": TOTALS}` as the JSON contract says."""
    label_key = PERIODS[period]
    rows: dict[str, dict[str, list[Any]]] = {}
    totals = _zero_sums()
    labels: dict[int, str] = {}
    for day_number, model, *sums in _local_day_rows(ledger, filters):
        label = labels.get(day_number)
        if label is None:
            day = EPOCH + timedelta(days=day_number)
            label = labels[day_number] = (
                period_label(day, period) if _in_range(day, filters) else ""
            )
        if not label:
            continue
        per_model = rows.setdefault(label, {})
        model_sums = per_model.get(model)
        if model_sums is None:
            model_sums = per_model[model] = _zero_sums()
        _add_sums(model_sums, sums)
        _add_sums(totals, sums)
    out = []
    for label in sorted(rows):
        row_sums = _zero_sums()
        models: dict[str, Any] = {}
        for model in sorted(rows[label]):
            model_sums = rows[label][model]
            models[model] = _sums_json(model_sums)
            _add_sums(row_sums, model_sums)
        out.append({label_key: label, **_sums_json(row_sums), "models": models})
    return {period: out, "totals": _sums_json(totals)}


def _merge(into: Totals, other: Totals) -> None:
    for name in (*TOKEN_FIELDS, "cost_usd", "calls", "unpriced_calls"):
        setattr(into, name, getattr(into, name) + getattr(other, name))


def models_report(ledger: Ledger, filters: Filters) -> dict[str, Any]:
    per_model: dict[str, Totals] = {}
    totals = Totals()
    for bucket, model, *sums in _bucket_rows(ledger, filters):
        if not _in_range(local_day(bucket * BUCKET_MS, filters.tz), filters):
            continue
        per_model.setdefault(model, Totals()).add_row(sums)
        totals.add_row(sums)
    ordered = sorted(per_model.items(), key=lambda item: -item[1].cost_usd)
    return {
        "models": [{"model": m, **t.as_json(), "calls": t.calls} for m, t in ordered],
        "totals": totals.as_json(),
    }


def _event_range(filters: Filters) -> tuple[str, list[Any]]:
    where, params = _time_range(filters, "e.ts_ms")
    if filters.agent:
        where.append("e.agent = ?")
        params.append(filters.agent)
    return (" AND ".join(where) or "1"), params


def range_ms(filters: Filters) -> tuple[int | None, int | None]:
    """`--since` / `--until` (whole local days) as [start, end) in epoch ms; None where the
    range is open."""
    start = end = None
    if filters.since:
        since = datetime.combine(filters.since, datetime.min.time(), filters.tz)
        start = int(since.timestamp() * 1000)
    if filters.until:
        after = filters.until + timedelta(days=1)
        end = int(datetime.combine(after, datetime.min.time(), filters.tz).timestamp() * 1000)
    return start, end


def _time_range(filters: Filters, column: str) -> tuple[list[str], list[Any]]:
    """`--since` / `--until` (whole local days) as conditions on `column` (epoch ms)."""
    where: list[str] = []
    params: list[Any] = []
    start, end = range_ms(filters)
    if start is not None:
        where.append(f"{column} >= ?")
        params.append(start)
    if end is not None:
        where.append(f"{column} < ?")
        params.append(end)
    return where, params


EVENT_SUMS = (
    "sum(e.input_tokens), sum(e.output_tokens), sum(e.cache_write_5m_tokens), "
    "sum(e.cache_write_1h_tokens), sum(e.cache_read_tokens), sum(e.reasoning_tokens), "
    "sum(e.total_tokens), sum(coalesce(e.cost_usd, 0)), sum(1 - e.priced), count(*)"
)


def iso_utc(ts_ms: int | None) -> str | None:
    if ts_ms is None:
        return None
    # Always milliseconds (as the logs and ccusage write them): isoformat() alone wrote
    # `…15.072000Z` for one call and `…23:30:00Z` for the next.
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _session_sums(
    ledger: Ledger, filters: Filters, session_ids: list[str] | None = None
) -> tuple[dict[str, dict[str, Any]], Totals]:
    """Each session's calls in the filters' range (of `session_ids` only, if given): its
    totals, its models' costs and its first and last call, by session id (in id order);
    and the totals of them all. One pass over the calls, whose sums `sessions_report` and
    `session_costs` both give."""
    import json

    where, params = _event_range(filters)
    if session_ids is not None:
        where += " AND e.session_id IN (SELECT value FROM json_each(?))"
        params = [*params, json.dumps(session_ids)]
    sessions: dict[str, dict[str, Any]] = {}
    totals = Totals()
    sql = f"""
        SELECT e.session_id, e.model, min(e.ts_ms), max(e.ts_ms), {EVENT_SUMS}
        FROM usage_events e WHERE {where} GROUP BY e.session_id, e.model"""
    for session_id, model, first, last, *sums in ledger.conn.execute(sql, params):
        entry = sessions.setdefault(
            session_id, {"totals": Totals(), "models": {}, "first": first, "last": last}
        )
        entry["totals"].add_row(sums)
        entry["models"][model] = round(float(sums[7]), 6)
        entry["first"] = min(entry["first"], first)
        entry["last"] = max(entry["last"], last)
        totals.add_row(sums)
    return sessions, totals


def _session_meta(ledger: Ledger, chosen: str) -> dict[str, tuple[Any, ...]]:
    """(agent, project folder, repository, branch) of the sessions in the JSON list
    `chosen` the ledger lists."""
    return {
        row[0]: row[1:]
        for row in ledger.conn.execute(
            "SELECT session_id, agent, project_path, repo, git_branch FROM sessions "
            "WHERE session_id IN (SELECT value FROM json_each(?))",
            (chosen,),
        )
    }


def _by_last_activity(sessions: dict[str, dict[str, Any]]) -> list[str]:
    """The session ids in the order of the report's rows: by last call, ties in id order
    (the order of their ISO times: one string per millisecond)."""
    return sorted(sessions, key=lambda session_id: sessions[session_id]["last"])


def session_costs(ledger: Ledger, filters: Filters) -> list[dict[str, Any]]:
    """`sessions_report`'s rows cut to what cost per commit needs (`report repos`):
    "session_id", "repo", "project_path" and "cost_usd", the same figures in the same
    order, without reading the sessions' tool calls and files."""
    import json

    sessions, _ = _session_sums(ledger, filters)
    meta = _session_meta(ledger, json.dumps(list(sessions)))
    rows = []
    for session_id in _by_last_activity(sessions):
        _, project_path, repo, _ = meta.get(session_id, ("", "", None, ""))
        cost = sessions[session_id]["totals"].as_json()["cost_usd"]
        rows.append(
            {"session_id": session_id, "repo": repo, "project_path": project_path, "cost_usd": cost}
        )
    return rows


# How much of the ledger a report over many sessions maps while it reads (SQLite maps no
# more than the file).
REPORT_MMAP_BYTES = 1 << 30


class LedgerMapped:
    """The ledger memory-mapped inside the block, then as it was (a big ingest maps it too,
    shared.ingest.run). The reports over many sessions look up each call and tool call in
    the ledger's tables by index: through SQLite's small page cache, a page read (a system
    call) each, ~1.3 of the ~10 CPU s of `report sessions` on a year of history. The pages
    mapped are the system's file cache, counted in the process's resident size."""

    def __init__(self, ledger: Ledger) -> None:
        self.conn = ledger.conn
        self.before = 0

    def __enter__(self) -> None:
        row = self.conn.execute("PRAGMA mmap_size").fetchone()  # none where SQLite maps nothing
        self.before = int(row[0]) if row else 0
        if self.before == REPORT_MMAP_BYTES:
            # An earlier report's restore did nothing: SQLite keeps the size while a
            # statement is open, as one a report that failed mid-read left in its
            # traceback. Unmapped once this report is done, or the connection of a
            # long-lived process (the language server's) would stay mapped for good.
            self.before = 0
        self.conn.execute(f"PRAGMA mmap_size = {REPORT_MMAP_BYTES}")

    def __exit__(self, *exc_info: object) -> None:
        self.conn.execute(f"PRAGMA mmap_size = {self.before}")


def sessions_report(
    ledger: Ledger, filters: Filters, session_ids: list[str] | None = None
) -> dict[str, Any]:
    """One row per session with calls in the filters' range (of `session_ids` only, if
    given), its figures those of its calls in the range."""
    with LedgerMapped(ledger):
        return _sessions_report(ledger, filters, session_ids)


def _sessions_report(
    ledger: Ledger, filters: Filters, session_ids: list[str] | None
) -> dict[str, Any]:
    import json

    conn = ledger.conn
    sessions, totals = _session_sums(ledger, filters, session_ids)
    if not sessions:
        return {"sessions": [], "totals": totals.as_json()}
    # The report's sessions only, and their tool calls in the report's time range (they
    # were read for every session of the whole history, and counted in full beside a
    # cost clipped to `--since`/`--until`): by the (session, time) index.
    chosen = json.dumps(list(sessions))
    in_range, range_params = _time_range(filters, "t.ts_ms")
    tool_where = " AND ".join(["t.session_id IN (SELECT value FROM json_each(?))", *in_range])
    tool_params = [chosen, *range_params]
    meta = _session_meta(ledger, chosen)
    tools = {
        row[0]: row[1:]
        for row in conn.execute(
            f"""SELECT t.session_id, count(*), count(err.tool_id)
               FROM tool_calls t LEFT JOIN tool_errors err ON err.tool_id = t.tool_id
               WHERE {tool_where} GROUP BY t.session_id""",
            tool_params,
        )
    }
    files: dict[str, list[str]] = {}
    for session_id, path in conn.execute(
        f"""SELECT DISTINCT t.session_id, f.path FROM tool_calls t
           JOIN tool_files f ON f.tool_id = t.tool_id
           WHERE {tool_where} ORDER BY t.session_id, f.path""",
        tool_params,
    ):
        files.setdefault(session_id, []).append(path)
    rows = []
    for session_id in _by_last_activity(sessions):
        entry = sessions[session_id]
        tool_count, error_count = tools.get(session_id, (0, 0))
        rows.append(
            session_row(
                session_id,
                meta.get(session_id, ("", "", None, "")),
                entry,
                tool_count,
                error_count,
                files.get(session_id, []),
            )
        )
    return {"sessions": rows, "totals": totals.as_json()}


def session_row(
    session_id: str,
    meta: Sequence[Any],
    entry: dict[str, Any],
    tool_count: int,
    error_count: int,
    files: list[str],
) -> dict[str, Any]:
    """A `sessions_report` row: `meta` (agent, project folder, repository, branch), `entry`
    the session's sums as `_session_sums` gives them."""
    agent, project_path, repo, branch = meta
    return {
        "session_id": session_id,
        "agent": agent,
        "project_path": project_path,
        "repo": repo,
        "git_branch": branch,
        "first_activity": iso_utc(entry["first"]),
        "last_activity": iso_utc(entry["last"]),
        "models": sorted(entry["models"]),
        **entry["totals"].as_json(),
        "tool_calls": tool_count,
        "tool_errors": error_count,
        "files_touched": files,
    }


def repos_report(ledger: Ledger, filters: Filters) -> dict[str, Any]:
    with LedgerMapped(ledger):
        return _repos_report(ledger, filters)


def _repos_report(ledger: Ledger, filters: Filters) -> dict[str, Any]:
    import json

    where, params = _event_range(filters)
    sql = f"""
        SELECT coalesce(s.repo, s.project_path, ''), count(DISTINCT e.session_id),
               json_group_array(DISTINCT e.model), {EVENT_SUMS}
        FROM usage_events e LEFT JOIN sessions s ON s.session_id = e.session_id
        WHERE {where} GROUP BY 1"""
    rows = []
    totals = Totals()
    for repo, session_count, models, *sums in ledger.conn.execute(sql, params):
        row_totals = Totals()
        row_totals.add_row(sums)
        totals.add_row(sums)
        rows.append(
            {
                "repo": repo,
                "sessions": session_count,
                # A JSON array, not group_concat's commas: a model name may hold a comma.
                "models": sorted(json.loads(models)),
                **row_totals.as_json(),
            }
        )
    rows.sort(key=lambda row: -row["cost_usd"])
    return {"repos": rows, "totals": totals.as_json()}


def files_report(ledger: Ledger, filters: Filters, limit: int = 200) -> dict[str, Any]:
    """Agent cost per touched file: a call's cost is split evenly over the files its tools
    touched."""
    where, params = _event_range(filters)
    # `call_files` holds each (call, file) pair once: the tool calls with a known call
    # joined to the files they touched, kept by the ledger's triggers.
    sql = f"""
        WITH shares AS (
            SELECT event_key, count(*) AS n FROM call_files GROUP BY event_key
        )
        SELECT cf.path, sum(coalesce(e.cost_usd, 0) / sh.n), count(DISTINCT e.session_id),
               count(*), max(e.ts_ms), sum(1 - e.priced)
        FROM call_files cf JOIN shares sh ON sh.event_key = cf.event_key
        JOIN usage_events e ON e.event_key = cf.event_key
        WHERE {where} GROUP BY cf.path ORDER BY 2 DESC LIMIT ?"""
    import os.path

    rows = [
        {
            "path": path,
            "cost_usd": round(cost, 6),
            # Calls of a model with no price: their share is not in cost_usd.
            "unpriced_calls": unpriced,
            "sessions": sessions,
            "calls": calls,
            "last_activity": iso_utc(last),
            # Search tools (Grep, Glob, LS) name the folder they searched: said as such
            # where that folder exists on this machine, so it does not read as a file.
            "folder": os.path.isdir(path),
        }
        for path, cost, sessions, calls, last, unpriced in ledger.conn.execute(
            sql, [*params, limit]
        )
    ]
    # Each unpriced call once, whichever files it touched (a scan of the calls, which are
    # rarely unpriced, with a key look-up each: not a second pass over call_files).
    (unpriced_calls,) = ledger.conn.execute(
        f"""SELECT count(*) FROM usage_events e WHERE e.priced = 0 AND {where}
            AND EXISTS (SELECT 1 FROM call_files cf WHERE cf.event_key = e.event_key)""",
        params,
    ).fetchone()
    return {"files": rows, "unpriced_calls": unpriced_calls}
