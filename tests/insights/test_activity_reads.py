"""What `load_activity` reads: every model call, and every tool call in one pass with
whether it failed and, for change tools and failed calls, its files. It read the tool
calls three times over (the calls, their failures, every file of every call) and the
files of every successful Read and Grep, which no insight uses: on a history of 3,300
sessions that was ~0.7 s of the ~1.8 s the sessions report spent loading. The insights
must not change: they are held here to a reading of everything, as it was done before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.demo import prepare_demo_home
from shared.ingest import ingest
from shared.insights import sessions as sessions_module
from shared.insights.activity import (
    MAIN_THREAD,
    Call,
    SessionActivity,
    ToolUse,
    load_activity,
)
from shared.insights.sessions import session_insights, session_outcomes_only
from shared.insights.tiers import CHANGE_TOOLS
from shared.ledger import Ledger, open_ledger
from shared.sources.events import CLAUDE, CODEX, advisor_parent
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import ClaudeSession, CodexRollout, ingest_home
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
T0 = 1_790_000_000_000


def _everything(
    ledger: Ledger, session_ids: list[str] | None = None, *, for_outcomes_only: bool = False
) -> dict[str, SessionActivity]:
    """Every column of every call and every tool call with all its files, read as burnmeter
    read them before (three queries over the tool calls)."""
    conn = ledger.conn
    if session_ids is None:
        where, params = "1", []
    else:
        where = "session_id IN (SELECT value FROM json_each(?))"
        params = [json.dumps(session_ids)]
    sessions = {
        row[0]: SessionActivity(*row)
        for row in conn.execute(
            "SELECT session_id, agent, project_path, repo, first_ts_ms, last_ts_ms FROM sessions "
            f"WHERE {where}",
            params,
        )
    }
    calls_by_key: dict[str, Call] = {}
    names: frozenset[str] | None = None
    if for_outcomes_only:
        costs = dict(
            conn.execute(
                f"SELECT session_id, cost_usd FROM session_totals WHERE calls > 0 AND {where}",
                params,
            ).fetchall()
        )
        sessions = {sid: s for sid, s in sessions.items() if sid in costs}
        for sid, activity in sessions.items():
            activity.total_cost_usd = float(costs[sid])
        names = CHANGE_TOOLS
    else:
        for row in conn.execute(
            f"""SELECT session_id, agent, event_key, ts_ms, model, speed, input_tokens,
                       output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
                       cache_read_tokens, reasoning_tokens, cost_usd, free, is_sidechain,
                       web_search_requests, inference_geo, source_id
                FROM usage_events WHERE {where} ORDER BY session_id, ts_ms, event_key""",
            params,
        ):
            session = sessions.get(row[0])
            if session is None:
                session = sessions[row[0]] = SessionActivity(
                    row[0], row[1], "", None, row[3], row[3]
                )
            call = Call(*row[2:13], row[13] == 1, row[14] == 1, *row[15:])
            session.calls.append(call)
            calls_by_key[call.event_key] = call
    tool_where, tool_params = where, list(params)
    if names is not None:
        tool_where += " AND tool_name IN (SELECT value FROM json_each(?))"
        tool_params.append(json.dumps(sorted(names)))
    joined = tool_where.replace("session_id", "t.session_id").replace("tool_name", "t.tool_name")
    failed = {
        tool_id
        for (tool_id,) in conn.execute(
            "SELECT e.tool_id FROM tool_errors e JOIN tool_calls t ON t.tool_id = e.tool_id "
            f"WHERE {joined}",
            tool_params,
        )
    }
    paths: dict[str, list[str]] = {}
    for tool_id, path in conn.execute(
        "SELECT f.tool_id, f.path FROM tool_files f JOIN tool_calls t ON t.tool_id = f.tool_id "
        f"WHERE {joined}",
        tool_params,
    ):
        paths.setdefault(tool_id, []).append(path)
    for session_id, tool_id, event_key, ts_ms, name, input_hash in conn.execute(
        "SELECT session_id, tool_id, event_key, ts_ms, tool_name, input_hash FROM tool_calls "
        f"WHERE {tool_where} ORDER BY ts_ms, rowid",
        tool_params,
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
                sorted(paths.get(tool_id, [])),
                MAIN_THREAD if owner is None else owner.thread,
            )
        )
        if owner is not None:
            owner.tools.append(name)
    if for_outcomes_only:
        return sessions
    for call in calls_by_key.values():
        call.classify()
    for key, call in calls_by_key.items():
        parent = calls_by_key.get(advisor_parent(key) or "")
        if parent is not None:
            call.kind = parent.kind
    return {sid: s for sid, s in sessions.items() if s.calls}


def _without_unused_files(activities: dict[str, SessionActivity]) -> dict[str, SessionActivity]:
    """The files of successful tools other than change tools: no insight reads them."""
    for activity in activities.values():
        for tool in activity.tools:
            if not tool.failed and tool.name not in CHANGE_TOOLS:
                tool.paths = []
    return activities


def _history(home: Path) -> Ledger:
    """Both agents, with what each insight reads: loops (same call, any calls, in a
    subagent), failed and working edits of files in a git repository, reads of files,
    cache churn, context bloat, a frontier session that only explores (a hint), a Codex
    patch refused and one applied; and a session the ledger lists no folder for."""
    repo = GitRepo(home / "shop")
    repo.commit(T0 - 60 * MINUTE, {"src/app.py": "foo()\n", "README.md": "x\n"}, "start")
    claude = home / ".claude"
    session = ClaudeSession(claude, "sess-claude", str(repo.root))
    at = T0
    for _ in range(6):  # the same Edit failing, rewriting the cache: a loop naming its file
        ids = session.assistant(
            at,
            tools=[
                (
                    "Edit",
                    {
                        "file_path": str(repo.root / "src/app.py"),
                        "old_string": "x",
                        "new_string": "y",
                    },
                )
            ],
            cache_write=60_000,
            cache_read=1_000,
        )
        session.tool_results(at + 1000, ids, is_error=True)
        at += 30_000
    for k in range(12):  # reads, a failing command now and then, a big prompt each
        tools: list[tuple[str, dict[str, Any]]] = [
            ("Read", {"file_path": str(repo.root / "README.md")}),
            ("Bash", {"command": f"make test {k % 2}"}),
        ]
        ids = session.assistant(at, input_tokens=5_000, cache_read=190_000, tools=tools)
        session.tool_results(at + 1000, ids[:1])
        session.tool_results(at + 1500, ids[1:], is_error=k % 3 != 0)
        at += 20_000
    ids = session.assistant(
        at,
        tools=[
            (
                "Edit",
                {"file_path": str(repo.root / "src/app.py"), "old_string": "f", "new_string": "g"},
            )
        ],
    )
    session.tool_results(at + 1000, ids)
    session.write()
    subagent = ClaudeSession(claude, "sess-claude", str(repo.root), agent_id="a1b2c3")
    for k in range(5):
        ids = subagent.assistant(T0 + k * 10_000, tools=[("Bash", {"command": "npm test"})])
        subagent.tool_results(T0 + k * 10_000 + 500, ids, is_error=True)
    subagent.write()
    explorer = ClaudeSession(claude, "sess-explorer", str(repo.root))
    for k in range(12):
        tools = [("Grep", {"pattern": "TODO", "path": str(repo.root)})] if k % 3 else []
        explorer.assistant(
            T0 + k * MINUTE,
            input_tokens=20_000,
            output_tokens=40_000,
            cache_read=80_000,
            tools=tools,
        )
    explorer.write()
    unlisted = ClaudeSession(claude, "sess-unlisted", "/home/dev/elsewhere")
    unlisted.assistant(T0 + 5 * MINUTE, tools=[("Read", {"file_path": "/home/dev/elsewhere/a"})])
    unlisted.assistant(T0 + 6 * MINUTE)
    unlisted.write()
    rollout = CodexRollout(
        home / ".codex", "019a0000-0000-7000-8000-000000000001", str(repo.root), T0
    )
    for k in range(6):
        rollout.shell(T0 + k * 20_000 + 1000, ["cargo", "build"], exit_code=101)
        rollout.token_count(T0 + k * 20_000 + 2000, 30_000, 20_000, 3_000, 1_000)
    rollout.apply_patch(T0 + 200_000, ["src/app.py"], output="apply_patch verification failed")
    rollout.apply_patch(T0 + 210_000, ["README.md"], output="Success. Updated the following files")
    rollout.token_count(T0 + 220_000, 10_000, 5_000, 1_000)
    rollout.write()
    ledger = ingest_home(home)
    ledger.conn.execute("DELETE FROM sessions WHERE session_id = 'sess-unlisted'")
    return ledger


def _demo(home: Path) -> Ledger:
    demo = prepare_demo_home(home / "demo")
    ledger = open_ledger(home / "demo-ledger.sqlite")
    ingest(
        ledger,
        [
            LogRoot(CLAUDE, demo / ".claude" / "projects"),
            LogRoot(CODEX, demo / ".codex" / "sessions"),
        ],
    )
    return ledger


@pytest.mark.parametrize("history", [_history, _demo])
def test_the_activity_and_the_insights_are_those_of_a_reading_of_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, history: Any
) -> None:
    ledger = history(tmp_path)
    ids = [row[0] for row in ledger.conn.execute("SELECT session_id FROM session_totals")]
    assert len(ids) >= 4
    # The activity itself: every call with every field (its kind and tools included),
    # every tool call; only the files no insight reads are left out.
    assert load_activity(ledger, ids) == _without_unused_files(_everything(ledger, ids))
    assert load_activity(ledger) == _without_unused_files(_everything(ledger))
    assert load_activity(ledger, ids, for_outcomes_only=True) == _everything(
        ledger, ids, for_outcomes_only=True
    )
    # And what the reports show of it.
    settings = Settings()
    read = {sid: insight.as_json() for sid, insight in session_insights(ledger, settings).items()}
    outcomes = {sid: o.as_json() for sid, o in session_outcomes_only(ledger, settings).items()}
    monkeypatch.setattr(sessions_module, "load_activity", _everything)
    assert read == {
        sid: insight.as_json() for sid, insight in session_insights(ledger, settings).items()
    }
    assert outcomes == {
        sid: o.as_json() for sid, o in session_outcomes_only(ledger, settings).items()
    }
    if history is _history:
        # The history does raise what it was built to raise.
        kinds = {flag["kind"] for insight in read.values() for flag in insight["flags"]}
        assert kinds == {"loop", "cache-churn", "context-bloat"}
        assert read["sess-explorer"]["hint"] is not None
        assert "sess-unlisted" in read
        evidence = [flag["evidence"] for flag in read["sess-claude"]["flags"]]
        assert any("Edit on src/app.py failed 6 times" in text for text in evidence)
        assert any(text.endswith(", in a subagent") for text in evidence)


def test_the_tool_calls_are_read_in_one_pass_with_only_the_files_the_insights_use(
    tmp_path: Path,
) -> None:
    ledger = _history(tmp_path)
    statements: list[str] = []
    ledger.conn.set_trace_callback(statements.append)
    try:
        activities = load_activity(ledger, ["sess-claude", "sess-explorer"])
    finally:
        ledger.conn.set_trace_callback(None)
    over_tools = [sql for sql in statements if "tool_calls" in sql]
    assert len(over_tools) == 1, over_tools
    tools = activities["sess-claude"].tools
    reads = [tool for tool in tools if tool.name == "Read"]
    edits = [tool for tool in tools if tool.name == "Edit"]
    assert reads and all(not tool.failed and tool.paths == [] for tool in reads)
    app = str(tmp_path / "shop" / "src" / "app.py")
    assert [tool.paths for tool in edits] == [[app]] * 7
    assert [tool.failed for tool in edits] == [True] * 6 + [False]
    assert activities["sess-claude"].changed_files() == [app]
    # Every call still knows its tools, and so its kind.
    kinds = {call.kind for call in activities["sess-claude"].calls}
    assert kinds == {"change", "run"}
    assert {call.kind for call in activities["sess-explorer"].calls} == {"explore", "chat"}
