"""What a session did, read from the ledger: its model calls in order, each with the tools
it used, and its tool calls with their outcome and the files they touched.

Every insight works from this one read, so a report over many sessions costs a few
queries, not a query per session.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from shared.insights.tiers import CHANGE_TOOLS, WorkKind, tool_kind, work_kind
from shared.ledger import Ledger
from shared.sources.events import UsageEvent, advisor_parent


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

    def classify(self) -> None:
        self.kind = work_kind(self.tools)

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


def _id_filter(column: str, session_ids: list[str] | None) -> tuple[str, list[str]]:
    if session_ids is None:
        return "1", []
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(session_ids)]


def load_activity(
    ledger: Ledger, session_ids: list[str] | None = None, *, for_outcomes_only: bool = False
) -> dict[str, SessionActivity]:
    """Every session in `session_ids` (all sessions when None) that has model calls.

    `for_outcomes_only` reads what git outcomes need and nothing more: no model calls (the
    biggest read), and of the tool calls only the change tools (Edit, Write, apply_patch…);
    each session's cost then comes from the ledger's per-session totals."""
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
    for row in conn.execute(
        f"""SELECT session_id, agent, event_key, ts_ms, model, speed, input_tokens,
                   output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
                   cache_read_tokens, reasoning_tokens, cost_usd, free, is_sidechain,
                   web_search_requests, inference_geo, source_id
            FROM usage_events WHERE {where} ORDER BY session_id, ts_ms, event_key""",
        params,
    ):
        (session_id, agent, key, ts_ms, model, speed, i, o, w5, w1, r, reasoning, cost) = row[:13]
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = SessionActivity(
                session_id, agent, "", None, ts_ms, ts_ms
            )
        call = Call(
            key,
            ts_ms,
            model,
            speed,
            i,
            o,
            w5,
            w1,
            r,
            reasoning,
            cost,
            row[13] == 1,
            row[14] == 1,
            row[15],
            row[16],
            row[17],
        )
        session.calls.append(call)
        calls_by_key[key] = call
    _add_tools(conn, where, params, sessions, calls_by_key)
    for call in calls_by_key.values():
        call.classify()
    for key, call in calls_by_key.items():
        # An advisor's call (no tools of its own) did the work of the call it was made in:
        # counted as chat, its cost read as a frontier model chatting, and the hint
        # suggested a cheaper model for a session already on one.
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
) -> None:
    """Each session's tool calls (of `names` only, if given), in order, with their outcome
    and files; each call's tool names, for the calls in `calls_by_key`."""
    if names is not None:
        where = f"{where} AND tool_name IN (SELECT value FROM json_each(?))"
        params = [*params, json.dumps(sorted(names))]
    joined = where.replace("session_id", "t.session_id").replace("tool_name", "t.tool_name")
    failed = {
        tool_id
        for (tool_id,) in conn.execute(
            f"SELECT e.tool_id FROM tool_errors e JOIN tool_calls t ON t.tool_id = e.tool_id "
            f"WHERE {joined}",
            params,
        )
    }
    paths: dict[str, list[str]] = {}
    for tool_id, path in conn.execute(
        f"SELECT f.tool_id, f.path FROM tool_files f JOIN tool_calls t ON t.tool_id = f.tool_id "
        f"WHERE {joined}",
        params,
    ):
        paths.setdefault(tool_id, []).append(path)
    for session_id, tool_id, event_key, ts_ms, name, input_hash in conn.execute(
        f"SELECT session_id, tool_id, event_key, ts_ms, tool_name, input_hash FROM tool_calls "
        f"WHERE {where} ORDER BY ts_ms, rowid",
        params,
    ):
        session = sessions.get(session_id)
        if session is None:
            continue
        owner = calls_by_key.get(event_key) if event_key else None
        session.tools.append(
            ToolUse(
                tool_id,
                event_key,
                ts_ms,
                name,
                input_hash,
                tool_id in failed,
                paths.get(tool_id, []),
                MAIN_THREAD if owner is None else owner.thread,
            )
        )
        if owner is not None:
            owner.tools.append(name)
