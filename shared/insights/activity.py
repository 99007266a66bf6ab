"""What a session did, read from the ledger: its model calls in order, each with the tools
it used, and its tool calls with their outcome and the files they touched.

Every insight works from this one read, so a report over many sessions costs a few
queries, not a query per session.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from shared.insights.tiers import CHANGE_TOOLS, WorkKind, tool_kind, work_kind
from shared.ledger import Ledger
from shared.sources.events import ADVISOR_KEY, UsageEvent, advisor_parent


@dataclass(slots=True)
class Call:
    """One model call of a session."""

    event_key: str
    ts_ms: int
    model: str
    speed: str
    input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    free: bool
    is_sidechain: bool
    web_search_requests: int = 0
    inference_geo: str = ""
    # The log file the call was read from: a subagent's own (`agent-<id>.jsonl`) tells one
    # subagent from another.
    source_id: int | None = None
    tools: list[str] = field(default_factory=list)
    # Set from `tools` once they are known (see `load_activity`): asked for many times.
    kind: WorkKind = "chat"

    def classify(self, kinds: dict[tuple[str, ...], WorkKind] | None = None) -> None:
        """`kind` from `tools`; `kinds` keeps each combination of tools classified before
        (a session's thousands of calls use a few)."""
        if kinds is None:
            self.kind = work_kind(self.tools)
            return
        names = tuple(self.tools)
        kind = kinds.get(names)
        if kind is None:
            kind = kinds[names] = work_kind(names)
        self.kind = kind

    @property
    def thread(self) -> str:
        """The thread the call belongs to: "" for the main thread (whatever file holds
        it: a resumed session's copy), else its subagent's file (Claude Code writes each
        subagent to a file of its own; older versions put every sidechain in the session's
        file, and they then count as one thread). A Codex subagent is a session of its own."""
        return f"subagent:{self.source_id}" if self.is_sidechain else MAIN_THREAD

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def prompt_tokens(self) -> int:
        """Everything sent to the model: new input, cache reads and cache writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def cost(self) -> float:
        return self.cost_usd or 0.0

    def as_usage_event(self, model: str) -> UsageEvent:
        """The same tokens as a usage event of `model`, for repricing."""
        return UsageEvent(
            event_key=self.event_key,
            agent="",
            session_id="",
            ts_ms=self.ts_ms,
            model=model,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_write_5m_tokens=self.cache_write_5m_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens,
            cache_read_tokens=self.cache_read_tokens,
            reasoning_tokens=self.reasoning_tokens,
            speed=self.speed,
            web_search_requests=self.web_search_requests,
            inference_geo=self.inference_geo,
        )


MAIN_THREAD = ""


@dataclass(slots=True)
class ToolUse:
    tool_id: str
    event_key: str | None
    ts_ms: int
    name: str
    input_hash: str
    failed: bool
    # The files it touched, in path order: read for change tools and failed calls only (see
    # `load_activity`).
    paths: list[str] = field(default_factory=list)
    # The thread of the call that made it (`Call.thread`); the main thread when that call
    # is not known (a Codex tool call after the rollout's last model call).
    thread: str = ""


@dataclass
class SessionActivity:
    session_id: str
    agent: str
    project_path: str
    repo: str | None
    first_ts_ms: int
    last_ts_ms: int
    calls: list[Call] = field(default_factory=list)
    tools: list[ToolUse] = field(default_factory=list)
    # The session's cost from the ledger's per-session totals, when its calls were not
    # loaded (`load_activity(..., for_outcomes_only=True)`).
    total_cost_usd: float | None = None

    @property
    def cost_usd(self) -> float:
        if self.total_cost_usd is not None:
            return self.total_cost_usd
        return sum(call.cost for call in self.calls)

    def changed_files(self) -> list[str]:
        """Files the session's change tools (Edit, Write, apply_patch…) changed. A change
        call that failed (an Edit whose text was not found, a Write refused, a patch Codex
        refused) changed nothing: five failed Edits read `uncommitted`, not `no-changes`."""
        seen: dict[str, None] = {}
        for tool in self.tools:
            if not tool.failed and tool_kind(tool.name) == "change":
                for path in tool.paths:
                    seen.setdefault(path, None)
        return list(seen)

    def change_calls(self) -> int:
        """How many of the session's tool calls were change tools that did not fail, with
        or without paths."""
        return sum(1 for tool in self.tools if not tool.failed and tool_kind(tool.name) == "change")

    def failed_change_calls(self) -> int:
        """How many of the session's change tool calls failed (changed nothing)."""
        return sum(1 for tool in self.tools if tool.failed and tool_kind(tool.name) == "change")

    def cost_between(self, start_ms: int, end_ms: int) -> float:
        return sum(call.cost for call in self.calls if start_ms <= call.ts_ms <= end_ms)


CHANGE_TOOLS_JSON = json.dumps(sorted(CHANGE_TOOLS))


# SQLite 3.43 and later add up a `sum()` of floats with Kahan-Babuska-Neumaier
# compensation, earlier ones one by one: the costs `RangeSums` gathers are added as the
# running SQLite's `sum()` adds them (shared.reports.EVENT_SUMS), to the last bit.
COMPENSATED_SUM = sqlite3.sqlite_version_info >= (3, 43, 0)
# Where `RangeSums` keeps a cost sum's compensation, and whether a float came yet.
_COST, _ERROR, _FLOAT = 7, 12, 13


def add_cost(sums: list[Any], value: float) -> None:
    """`sums[7] += value` as SQLite 3.43's `sum()` steps: integers (a missing cost's 0)
    exactly until the first float, then the float sum and its error term apart."""
    if not sums[_FLOAT]:
        if isinstance(value, int):
            sums[_COST] += value
            return
        sums[_COST], sums[_ERROR], sums[_FLOAT] = float(sums[_COST]), 0.0, True
    total = sums[_COST]
    moved = total + value
    if abs(total) > abs(value):
        sums[_ERROR] += (total - moved) + value
    else:
        sums[_ERROR] += (value - moved) + total
    sums[_COST] = moved


def range_cost(sums: list[Any]) -> Any:
    """The cost `RangeSums` gathered in `sums`, as the running SQLite's `sum()` ends it."""
    if COMPENSATED_SUM and sums[_FLOAT] and math.isfinite(sums[_ERROR]):
        return sums[_COST] + sums[_ERROR]
    return sums[_COST]


class RangeSums:
    """What a sessions report counts of each session's calls and tool calls in its range,
    gathered while `load_activity` reads them (`report sessions` read them twice more).

    `call_range` and `tool_range` are SQL conditions (with their parameters) on the
    columns of `usage_events` and of `tool_calls t`: the report's range. Per session:
    `models[session][model]` holds the sums of its calls in the range, in the order of
    `shared.reports.BUCKET_SUMS` (cost summed call by call in the order of the (session,
    time) index, as SQLite's `sum()` adds them grouped by session and model: read it with
    `range_cost`), then their first and last time, then the cost's compensation (see
    `add_cost`); `tools[session]` its tool calls and failed tool calls in the range;
    `files[session]` the files those touched."""

    def __init__(
        self, call_range: tuple[str, list[Any]], tool_range: tuple[str, list[Any]]
    ) -> None:
        self.call_range = call_range
        self.tool_range = tool_range
        self.models: dict[str, dict[str, list[Any]]] = {}
        self.tools: dict[str, list[int]] = {}
        self.files: dict[str, set[str]] = {}
        # Every failed tool call's id, read once for all batches (a few per cent of the
        # tool calls): a look-up in a set, not in the ledger's index, for each tool call.
        self.failed: set[str] | None = None


def _id_filter(column: str, session_ids: list[str] | None) -> tuple[str, list[str]]:
    if session_ids is None:
        return "1", []
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(session_ids)]


def load_activity(
    ledger: Ledger,
    session_ids: list[str] | None = None,
    *,
    for_outcomes_only: bool = False,
    in_range: RangeSums | None = None,
) -> dict[str, SessionActivity]:
    """Every session in `session_ids` (all sessions when None) that has model calls.

    `for_outcomes_only` reads what git outcomes need and nothing more: no model calls (the
    biggest read), and of the tool calls only the change tools (Edit, Write, apply_patch…);
    each session's cost then comes from the ledger's per-session totals.

    A tool call's `paths` are read for change tools and failed calls only: what the
    insights use (the files a session changed, the file a failing call kept touching); a
    successful Read's or Grep's files are left in the ledger (half of its file rows).

    `in_range` (not with `for_outcomes_only`) also gathers what a sessions report counts
    of the calls and tool calls in its range, in the same reads (see `RangeSums`)."""
    conn = ledger.conn
    where, params = _id_filter("session_id", session_ids)
    sessions: dict[str, SessionActivity] = {}
    for session_id, agent, project_path, repo, first, last in conn.execute(
        f"SELECT session_id, agent, project_path, repo, first_ts_ms, last_ts_ms FROM sessions "
        f"WHERE {where}",
        params,
    ):
        sessions[session_id] = SessionActivity(session_id, agent, project_path, repo, first, last)
    if for_outcomes_only:
        costs = dict(
            conn.execute(
                f"SELECT session_id, cost_usd FROM session_totals WHERE calls > 0 AND {where}",
                params,
            ).fetchall()
        )
        sessions = {sid: s for sid, s in sessions.items() if sid in costs}
        for session_id, activity in sessions.items():
            activity.total_cost_usd = float(costs[session_id])
        _add_tools(conn, where, params, sessions, {}, CHANGE_TOOLS)
        return sessions
    calls_by_key: dict[str, Call] = {}
    # Rows come a session at a time: its activity is looked up once, not once a call.
    current: str | None = None
    calls: list[Call] = []
    unlisted: list[str] = []
    # With `in_range`: each call's total tokens, whether it is priced, and whether it is in
    # the report's range (else constants, which SQLite hands over for next to nothing).
    extra = "0, 1, 0"
    extra_params: list[Any] = []
    if in_range is not None:
        condition, extra_params = in_range.call_range
        extra = f"total_tokens, priced, {condition}"
    per_model: dict[str, list[Any]] = {}
    for (
        session_id,
        key,
        ts_ms,
        model,
        speed,
        input_tokens,
        output_tokens,
        write_5m,
        write_1h,
        read,
        reasoning,
        cost,
        free,
        sidechain,
        searches,
        geo,
        source,
        total,
        priced,
        counted,
    ) in conn.execute(
        f"""SELECT session_id, event_key, ts_ms, model, speed, input_tokens, output_tokens,
                   cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,
                   reasoning_tokens, cost_usd, free, is_sidechain, web_search_requests,
                   inference_geo, source_id, {extra}
            FROM usage_events WHERE {where} ORDER BY session_id, ts_ms, event_key""",
        [*extra_params, *params],
    ):
        if session_id != current:
            current = session_id
            session = sessions.get(session_id)
            if session is None:
                # Calls of a session the ledger lists no folder for: its agent is read below.
                session = sessions[session_id] = SessionActivity(
                    session_id, "", "", None, ts_ms, ts_ms
                )
                unlisted.append(session_id)
            calls = session.calls
            if in_range is not None:
                per_model = in_range.models.setdefault(session_id, {})
        if counted:
            # As `sum()` adds them (shared.reports.EVENT_SUMS): costs one by one from 0,
            # a missing cost as 0; `first` and `last` the range's first and last call.
            sums = per_model.get(model)
            if sums is None:
                sums = per_model[model] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ts_ms, ts_ms, 0.0, False]
            sums[0] += input_tokens
            sums[1] += output_tokens
            sums[2] += write_5m
            sums[3] += write_1h
            sums[4] += read
            sums[5] += reasoning
            sums[6] += total
            if COMPENSATED_SUM:
                add_cost(sums, 0 if cost is None else cost)
            else:
                sums[7] += 0 if cost is None else cost
            sums[8] += 1 - priced
            sums[9] += 1
            sums[11] = ts_ms  # by time within the session
        call = Call(
            key,
            ts_ms,
            model,
            speed,
            input_tokens,
            output_tokens,
            write_5m,
            write_1h,
            read,
            reasoning,
            cost,
            free == 1,
            sidechain == 1,
            searches,
            geo,
            source,
        )
        calls.append(call)
        calls_by_key[key] = call
    if unlisted:
        # The agent of each one's first call, as the order above reads them.
        agents: dict[str, str] = {}
        for session_id, agent in conn.execute(
            "SELECT session_id, agent FROM usage_events "
            "WHERE session_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY session_id, ts_ms, event_key",
            (json.dumps(unlisted),),
        ):
            agents.setdefault(session_id, agent)
        for session_id in unlisted:
            sessions[session_id].agent = agents[session_id]
    _add_tools(conn, where, params, sessions, calls_by_key, in_range=in_range)
    # A call with no tools is "chat", as it was made; the others use a few combinations of
    # tools, each classified once.
    kinds: dict[tuple[str, ...], WorkKind] = {}
    for call in calls_by_key.values():
        if call.tools:
            call.classify(kinds)
    for key, call in calls_by_key.items():
        # An advisor's call (no tools of its own) did the work of the call it was made in:
        # counted as chat, its cost read as a frontier model chatting, and the hint
        # suggested a cheaper model for a session already on one.
        if ADVISOR_KEY not in key:
            continue  # most calls: no need to cut the key
        parent = calls_by_key.get(advisor_parent(key) or "")
        if parent is not None:
            call.kind = parent.kind
    return {sid: s for sid, s in sessions.items() if s.calls}


def _add_tools(
    conn: sqlite3.Connection,
    where: str,
    params: list[str],
    sessions: dict[str, SessionActivity],
    calls_by_key: dict[str, Call],
    names: frozenset[str] | None = None,
    *,
    in_range: RangeSums | None = None,
) -> None:
    """Each session's tool calls (of `names` only, if given), in order, with their outcome
    and, for change tools and failed calls, their files; each call's tool names, for the
    calls in `calls_by_key`. One pass over the tool calls: whether each failed and its
    files are looked up as it is read, in the order of the (session, time) index: each
    session's tool calls by time (then as written), with no sort of the batch's.

    With `in_range`, every tool call's files are read, and each session's tool calls in
    the range counted (see `RangeSums`)."""
    if names is not None:
        where = f"{where} AND tool_name IN (SELECT value FROM json_each(?))"
        params = [*params, json.dumps(sorted(names))]
    joined = where.replace("session_id", "t.session_id").replace("tool_name", "t.tool_name")
    files = """(SELECT group_concat(f.path, char(0)) FROM tool_files f
                WHERE f.tool_id = t.tool_id)"""
    paths_sql = f"""CASE WHEN e.tool_id IS NOT NULL
                          OR t.tool_name IN (SELECT value FROM json_each(?)) THEN {files} END"""
    paths_params: list[Any] = [CHANGE_TOOLS_JSON]
    counted_sql = "0"
    failed_sql = "e.tool_id IS NOT NULL"
    errors = "LEFT JOIN tool_errors e ON e.tool_id = t.tool_id"
    failed_ids: set[str] = set()
    if in_range is not None:
        paths_sql, paths_params = files, []
        counted_sql, counted_params = in_range.tool_range
        paths_params += counted_params
        if in_range.failed is None:
            in_range.failed = {row[0] for row in conn.execute("SELECT tool_id FROM tool_errors")}
        failed_ids = in_range.failed
        failed_sql, errors = "0", ""
    tool_counts: list[int] = []
    touched: set[str] = set()
    # Rows come a session at a time: its activity is looked up once, not once a tool call.
    current: str | None = None
    session: SessionActivity | None = None
    tools: list[ToolUse] = []
    for (
        session_id,
        tool_id,
        event_key,
        ts_ms,
        name,
        input_hash,
        failed,
        paths,
        counted,
    ) in conn.execute(
        f"""SELECT t.session_id, t.tool_id, t.event_key, t.ts_ms, t.tool_name, t.input_hash,
                       {failed_sql}, {paths_sql}, {counted_sql}
                FROM tool_calls t {errors}
                WHERE {joined} ORDER BY t.session_id, t.ts_ms, t.rowid""",
        [*paths_params, *params],
    ):
        if session_id != current:
            current = session_id
            session = sessions.get(session_id)
            if session is not None:
                tools = session.tools
                if in_range is not None:
                    tool_counts = in_range.tools.setdefault(session_id, [0, 0])
                    touched = in_range.files.setdefault(session_id, set())
        if session is None:
            continue
        owner = calls_by_key.get(event_key) if event_key else None
        if in_range is not None:
            failed = tool_id in failed_ids
            if counted:
                tool_counts[0] += 1
                tool_counts[1] += failed
                if paths:
                    touched.update(paths.split("\0"))
            if not (failed or name in CHANGE_TOOLS):
                paths = None  # as without `in_range`: read for the report's files only
        tools.append(
            ToolUse(
                tool_id,
                event_key,
                ts_ms,
                name,
                input_hash,
                failed == 1,
                # In the ledger's order (its key's); a path holds no NUL character.
                sorted(paths.split("\0")) if paths else [],
                MAIN_THREAD if owner is None else owner.thread,
            )
        )
        if owner is not None:
            owner.tools.append(name)
