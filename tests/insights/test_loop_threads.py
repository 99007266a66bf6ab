"""The loop rule counts each thread apart, a pause between failures ends a stretch, and
bookkeeping tools neither end nor extend one: the audit's false alarms (parallel
subagents failing once each, two threads failing in turn, a deploy retried once a day)
and its miss (a failing build with a to-do update after each try), beside the loops it
confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.insights.sessions import SessionInsight, session_insights
from tests.insights.agent_logs import ClaudeSession, CodexRollout, ingest_home

MINUTE = 60_000
DAY = 24 * 60 * MINUTE
T0 = 1_790_000_000_000
CWD = "/home/dev/shop"
SID = "sess-threads"
TODO = ("TodoWrite", {"todos": [{"content": "fix the build", "status": "in_progress"}]})


def _tool(session: ClaudeSession, at: int, tool: tuple[str, dict[str, Any]], fail: bool) -> None:
    ids = session.assistant(at, tools=[tool])
    session.tool_results(at + 1000, ids, is_error=fail)


def _bash(command: str) -> tuple[str, dict[str, Any]]:
    return ("Bash", {"command": command})


def _insight(home: Path, sid: str = SID) -> SessionInsight:
    return session_insights(ingest_home(home), Settings(), with_outcomes=False)[sid]


def _subagent(home: Path, agent_id: str) -> ClaudeSession:
    return ClaudeSession(home / ".claude", SID, CWD, agent_id=agent_id)


def test_parallel_subagents_failing_once_each_are_no_loop(tmp_path: Path) -> None:
    """Five subagents each run the failing test suite once, then fix their own file: it
    read "Bash failed 5 times in a row with the same input ... within a minute"."""
    main = ClaudeSession(tmp_path / ".claude", SID, CWD)
    main.assistant(T0, tools=[("Task", {"description": f"part {k}"}) for k in range(5)])
    for k in range(5):
        sub = _subagent(tmp_path, f"c9c{k}")
        _tool(sub, T0 + 10_000 + k * 1000, _bash("npm test"), fail=True)
        edit = ("Edit", {"file_path": f"{CWD}/part{k}.js", "old_string": "a", "new_string": "b"})
        _tool(sub, T0 + 40_000 + k * 1000, edit, fail=False)
        sub.write()
    main.assistant(T0 + 3 * MINUTE)
    main.write()
    assert _insight(tmp_path).flags == []


def test_two_threads_failing_in_turn_are_no_loop_but_one_subagents_loop_is(
    tmp_path: Path,
) -> None:
    """The main thread and a subagent fail four times each, interleaved: it read "8 tool
    calls failed in a row". A subagent repeating its own failing call five times is a
    loop, said to be a subagent's, costing that subagent's calls only."""
    main = ClaudeSession(tmp_path / ".claude", SID, CWD)
    sub = _subagent(tmp_path, "b8c8")
    for k in range(4):
        _tool(main, T0 + k * 20_000, _bash(f"ls /main{k}"), fail=True)
        _tool(sub, T0 + k * 20_000 + 10_000, _bash(f"ls /sub{k}"), fail=True)
    main.assistant(T0 + 5 * MINUTE)
    main.write()
    sub.write()
    assert _insight(tmp_path).flags == []

    _tool(sub, T0 + 6 * MINUTE, _bash("ls /"), fail=False)
    for k in range(5):
        _tool(sub, T0 + 7 * MINUTE + k * 20_000, _bash("cargo build"), fail=True)
        main.assistant(T0 + 7 * MINUTE + k * 20_000 + 5_000)  # the main thread waits
    sub.write()
    main.write()
    insight = _insight(tmp_path)
    (flag,) = insight.flags
    assert flag.evidence.startswith("Bash failed 5 times in a row with the same input")
    assert flag.evidence.endswith(", in a subagent")
    # Each call costs the same: the subagent's 5, not the main thread's 5 between them.
    per_call = insight.cost_usd / (4 + 4 + 1 + 1 + 5 + 5)
    assert flag.cost_usd == pytest.approx(5 * per_call)


@pytest.mark.parametrize(
    ("gap_minutes", "flagged"), [(24 * 60, False), (16, False), (15, True), (2, True)]
)
def test_failures_far_apart_are_no_stretch(tmp_path: Path, gap_minutes: int, flagged: bool) -> None:
    """The user re-ran `./deploy.sh` once a day: it read a runaway "over 5760 min". A
    build that fails again within 15 minutes, a long one included, still loops."""
    session = ClaudeSession(tmp_path / ".claude", SID, CWD)
    for k in range(5):
        _tool(session, T0 + k * gap_minutes * MINUTE, _bash("./deploy.sh staging"), fail=True)
    session.write()
    assert [flag.kind for flag in _insight(tmp_path).flags] == (["loop"] if flagged else [])


def test_bookkeeping_between_failures_neither_ends_nor_extends_a_stretch(
    tmp_path: Path,
) -> None:
    """`make build` failing six times with a (successful) TodoWrite after each was not
    flagged; a failing TodoWrite does not make a failure of its own either."""
    session = ClaudeSession(tmp_path / ".claude", SID, CWD)
    for k in range(6):
        _tool(session, T0 + 2 * k * MINUTE, _bash("make build"), fail=True)
        _tool(session, T0 + (2 * k + 1) * MINUTE, TODO, fail=k == 3)
    session.write()
    (flag,) = _insight(tmp_path).flags
    assert flag.evidence.startswith("Bash failed 6 times in a row with the same input")
    assert "among" not in flag.evidence


def test_the_user_answering_a_question_ends_a_stretch(tmp_path: Path) -> None:
    session = ClaudeSession(tmp_path / ".claude", SID, CWD)
    for k in range(6):
        _tool(session, T0 + 2 * k * MINUTE, _bash("make build"), fail=True)
        if k == 2:
            question = ("AskUserQuestion", {"questions": [{"question": "Go on?"}]})
            _tool(session, T0 + (2 * k + 1) * MINUTE, question, fail=False)
    session.write()
    assert _insight(tmp_path).flags == []


def test_a_plan_the_user_rejected_ends_a_stretch(tmp_path: Path) -> None:
    """Claude Code logs a plan the user turned down as an error result of ExitPlanMode:
    four rounds of a failing `make` and a rejected plan read "8 tool calls failed in a
    row (Bash, ExitPlanMode)". The user answered, whatever the answer was."""
    session = ClaudeSession(tmp_path / ".claude", SID, CWD)
    plan = ("ExitPlanMode", {"plan": "try again"})
    for k in range(4):
        _tool(session, T0 + 4 * k * MINUTE, _bash(f"make target{k}"), fail=True)
        _tool(session, T0 + (4 * k + 1) * MINUTE, plan, fail=True)
    session.write()
    assert _insight(tmp_path).flags == []


def test_the_loops_the_audit_confirmed_are_still_flagged(tmp_path: Path) -> None:
    """The same failing Bash 6 times, the same failing Edit 5 times, 8 different failures
    and Codex's exec_command failing 5 times are loops; 30 rounds of an edit and a failing
    test run are not (each edit works)."""
    home = tmp_path
    bash = ClaudeSession(home / ".claude", "sess-bash", CWD)
    for k in range(6):
        _tool(bash, T0 + k * MINUTE, _bash("pytest -x"), fail=True)
    bash.write()
    edit = ClaudeSession(home / ".claude", "sess-edit", CWD)
    for k in range(5):
        change = {"file_path": f"{CWD}/app.js", "old_string": "foo()", "new_string": "bar()"}
        _tool(edit, T0 + k * 20_000, ("Edit", change), fail=True)
    edit.write()
    distinct = ClaudeSession(home / ".claude", "sess-distinct", CWD)
    for k in range(8):
        _tool(distinct, T0 + k * 30_000, ("Read", {"file_path": f"{CWD}/nope{k}.js"}), True)
    distinct.write()
    rollout = CodexRollout(home / ".codex", "019a0000-0000-7000-8000-0000000000l7", CWD, T0)
    for k in range(5):
        rollout.shell(T0 + k * 30_000, ["cargo", "build"], exit_code=101)
        rollout.token_count(T0 + k * 30_000 + 500, 10_000, 0, 300)
    rollout.write()
    rounds = ClaudeSession(home / ".claude", "sess-rounds", CWD)
    for k in range(30):
        change = {"file_path": f"{CWD}/app.js", "old_string": f"v{k}", "new_string": f"v{k + 1}"}
        _tool(rounds, T0 + 2 * k * MINUTE, ("Edit", change), fail=False)
        _tool(rounds, T0 + (2 * k + 1) * MINUTE, _bash("pytest -x"), fail=True)
    rounds.write()
    insights = session_insights(ingest_home(home), Settings(), with_outcomes=False)
    evidence = {sid: [flag.evidence for flag in insight.flags] for sid, insight in insights.items()}
    assert evidence["sess-bash"][0].startswith("Bash failed 6 times in a row")
    assert evidence["sess-edit"][0].startswith("Edit on app.js failed 5 times in a row")
    assert evidence["sess-distinct"][0].startswith("8 tool calls failed in a row (Read)")
    assert evidence[rollout.session_id][0].startswith("exec_command failed 5 times in a row")
    assert evidence["sess-rounds"] == []
