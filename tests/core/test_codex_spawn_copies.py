"""A Codex rollout that opens with a copy of its parent's history: a subagent spawned with
`thread_spawn` (no `forked_from_id`) and a fork whose copy keeps the parent's times. The
copy is the parent's spend, counted once from the parent's own rollout (format audit,
cases x02, x03, x12, x13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.ledger import open_ledger
from shared.sources.codex import CodexState, parse_codex_lines
from shared.sources.events import ROW_TOTAL
from tests.core.helpers import ingest_env
from tests.core.logwriters import CodexRollout, codex_rollout_path

SPAWN = {"subagent": {"thread_spawn": {"parent_thread_id": "019d-parent", "depth": 1}}}


def _parent() -> CodexRollout:
    parent = CodexRollout("019d-parent", started=0, cwd="/work/parent", model="gpt-5.5")
    parent.turn(1)
    parent.call(10, 20_000, 500, cached=10_000, reasoning=100)
    parent.call(70, 30_000, 400, cached=25_000, reasoning=100)
    parent.function_call(71, "spawn_agent", {"task": "look"}, "call_spawn")
    return parent


def _child(**header: Any) -> CodexRollout:
    """The child's header at 72 s, then its copy of the parent, lines keeping their times."""
    child = CodexRollout("019d-child", started=72, cwd="/work/child", **header)
    child.copy_history_keeping_times(_parent())
    return child


def _own_work(child: CodexRollout, *, restart: bool = False) -> None:
    child.add("event_msg", {"type": "task_started", "turn_id": "own"}, 73)
    child.turn(73.1)
    if restart:
        child.restart_total()  # the child's own total starts from zero instead
    child.call(90, 12_000, 300, cached=8_000, reasoning=50)
    child.function_call(91, "exec_command", {"cmd": "make"}, "call_child")
    child.exec_output(92, "call_child", "boom", 2)
    child.call(100, 9_000, 200, cached=8_500)


def _write_and_ingest(home: Path, tmp_path: Path, *rollouts: CodexRollout):  # type: ignore[no-untyped-def]
    for rollout in rollouts:
        rollout.write(codex_rollout_path(home / ".codex", rollout))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    return ledger


def _calls(ledger) -> dict[str, list[tuple[int, ...]]]:  # type: ignore[no-untyped-def]
    calls: dict[str, list[tuple[int, ...]]] = {}
    for session, *counts in ledger.conn.execute(
        "SELECT session_id, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens "
        "FROM usage_events ORDER BY ts_ms"
    ):
        calls.setdefault(session, []).append(tuple(counts))
    return calls


PARENT_CALLS = [(10_000, 10_000, 500, 100), (5_000, 25_000, 400, 100)]
CHILD_CALLS = [(4_000, 8_000, 300, 50), (500, 8_500, 200, 0)]


def _assert_counted_once(ledger) -> None:  # type: ignore[no-untyped-def]
    assert _calls(ledger) == {"019d-parent": PARENT_CALLS, "019d-child": CHILD_CALLS}
    sessions = dict(
        ledger.conn.execute("SELECT session_id, first_ts_ms - ? FROM sessions", (BASE_MS,))
    )
    # The child's session starts with its own first call, not with the copied ones.
    assert sessions == {"019d-parent": 10_000, "019d-child": 90_000}
    tools = dict(ledger.conn.execute("SELECT tool_id, session_id FROM tool_calls"))
    assert tools == {"cx:call_spawn": "019d-parent", "cx:call_child": "019d-child"}
    limits = ledger.conn.execute(
        "SELECT session_id, (ts_ms - ?) / 1000 FROM rate_limits ORDER BY 1, 2", (BASE_MS,)
    ).fetchall()
    assert limits == [
        ("019d-child", 90),
        ("019d-child", 100),
        ("019d-parent", 10),
        ("019d-parent", 70),
    ]


BASE_MS = 1_773_133_200_000  # tests.core.logwriters.BASE_TIME


def test_a_spawned_subagents_copy_of_its_parent_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    """x02: the child names its parent only under `source.subagent.thread_spawn`; its
    rollout repeats the parent's `session_meta`, turns and token counts with their original
    times. Counted before as the child's own ($0.272 for $0.1525 in the audit's case)."""
    child = _child(source=SPAWN)
    _own_work(child)
    ledger = _write_and_ingest(isolated_home, tmp_path, _parent(), child)
    _assert_counted_once(ledger)


def test_a_fork_whose_copy_keeps_the_parents_times_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    """x12: a fork (`forked_from_id`) whose copy keeps the parent's times, a minute apart,
    is no burst at the fork instant: the copy ends where the child's own lines start, not
    at the copy's first pause of a second."""
    child = _child(source=SPAWN, forked_from_id="019d-parent")
    _own_work(child)
    ledger = _write_and_ingest(isolated_home, tmp_path, _parent(), child)
    _assert_counted_once(ledger)


def test_a_subagent_whose_own_total_starts_from_zero_counts_its_own_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """x03: after the copy the child's total starts again from zero: its first call is the
    line's own usage, not the change from the copy's last total."""
    child = _child(source=SPAWN)
    _own_work(child, restart=True)
    ledger = _write_and_ingest(isolated_home, tmp_path, _parent(), child)
    _assert_counted_once(ledger)


def test_a_subagents_copy_restamped_at_the_spawn_ends_at_the_first_pause(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A copy written in one burst at the spawn instant (every line re-stamped) ends at the
    first pause of a second, as a fork's does."""
    child = CodexRollout("019d-child", started=72, cwd="/work/child", source=SPAWN)
    child.copy_history_from(_parent(), 72.001)
    _own_work(child)
    ledger = _write_and_ingest(isolated_home, tmp_path, _parent(), child)
    assert _calls(ledger) == {"019d-parent": PARENT_CALLS, "019d-child": CHILD_CALLS}


def test_a_subagents_copy_ends_at_the_history_start_ordinal(
    isolated_home: Path, tmp_path: Path
) -> None:
    """x13, without `forked_from_id`: numbered records, the header naming the first of the
    child's own."""
    child = _child(source=SPAWN)
    first_own = len(child.lines)
    _own_work(child)
    child.paginate(first_own_ordinal=first_own)
    ledger = _write_and_ingest(isolated_home, tmp_path, _parent(), child)
    _assert_counted_once(ledger)


def test_a_spawned_subagent_read_line_by_line_counts_the_same(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The rollout growing a line at a time, an ingest after each: where the copy stands
    is kept between reads."""
    parent, child = _parent(), _child(source=SPAWN)
    _own_work(child)
    home = isolated_home / ".codex"
    parent.write(codex_rollout_path(home, parent))
    path = codex_rollout_path(home, child)
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    for count in range(1, len(child.lines) + 1):
        path.write_bytes(b"".join(child.lines[:count]))
        ingest_env(ledger)
    _assert_counted_once(ledger)


def test_another_threads_header_after_the_rollouts_own_call_opens_no_copy() -> None:
    """Only a header before any call of the rollout's own opens a copy."""
    rollout = CodexRollout("019d-own", started=0)
    rollout.turn(1)
    rollout.call(5, 1_000, 10)
    rollout.add("session_meta", {"id": "019d-other", "timestamp": "2026-01-01T00:00:00Z"}, 6)
    rollout.call(6.2, 2_000, 20)
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert [row[ROW_TOTAL] for row in chunk.calls.events.values()] == [1_010, 2_020]


def test_a_spawned_subagent_without_a_copy_counts_from_its_first_line() -> None:
    """A subagent whose rollout starts with its own work (no second header) counts fully,
    however soon its first call comes."""
    sub = CodexRollout("019d-sub", started=100, source=SPAWN)
    sub.turn(100.001)
    sub.call(100.002, 5_000, 60, cached=1_000)
    chunk = parse_codex_lines(b"".join(sub.lines), CodexState(), "fallback")
    assert len(chunk.calls.events) == 1


def test_a_spawned_subagent_naming_its_parent_in_forked_from_id_counts_its_quick_calls() -> None:
    """Codex 0.144 and later name the parent of every spawned thread in `forked_from_id`
    (CodexBar#2193); one spawned without the parent's history starts on its own work. Its
    first calls, each within a second, were taken for a fork's copy written in one burst
    and dropped (format audit 2, k05/k07: $0.1465 for $0.1795)."""
    sub = CodexRollout("019d-sub", started=100, source=SPAWN, forked_from_id="019d-parent")
    sub.turn(100.005)
    sub.call(100.6, 12_000, 300, cached=8_000)
    sub.call(101.2, 27_000, 500, cached=20_000)
    sub.call(108, 30_000, 600, cached=25_000)
    chunk = parse_codex_lines(b"".join(sub.lines), CodexState(), "fallback")
    assert [row[ROW_TOTAL] for row in chunk.calls.events.values()] == [12_300, 27_500, 30_600]


def test_a_spawned_subagents_copy_restamped_at_the_spawn_counts_once_with_forked_from_id(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The same header over a copy written in one burst at the spawn instant: the copy
    opens with the parent's header, so it is still the parent's spend."""
    child = CodexRollout(
        "019d-child", started=72, cwd="/work/child", source=SPAWN, forked_from_id="019d-parent"
    )
    child.copy_history_from(_parent(), 72.001)
    _own_work(child)
    ledger = _write_and_ingest(isolated_home, tmp_path, _parent(), child)
    assert _calls(ledger) == {"019d-parent": PARENT_CALLS, "019d-child": CHILD_CALLS}


def test_a_forks_copy_is_still_taken_from_its_header_alone() -> None:
    """A fork that is no spawned subagent (`codex fork`, `/fork`) still opens with a copy
    whatever its next line: its quick first readings are the parent's."""
    fork = CodexRollout("019d-fork", started=100, forked_from_id="019d-parent")
    fork.turn(100.005)
    fork.call(100.3, 12_000, 300, cached=8_000)
    fork.call(105, 27_000, 500, cached=20_000)
    chunk = parse_codex_lines(b"".join(fork.lines), CodexState(), "fallback")
    assert [row[ROW_TOTAL] for row in chunk.calls.events.values()] == [27_500]


def test_a_spawned_subagents_inherited_opening_total_is_only_its_baseline() -> None:
    """Codex Desktop's fan-outs (CodexBar#3524): the first total, before the subagent's
    own turn, is its parent's cumulative one (its `last` the parent's last call); the
    subagent's calls are the changes from it."""
    sub = CodexRollout("019d-sub", started=100, source=SPAWN, forked_from_id="019d-parent")
    sub.turn(100.01)
    sub.total = [50_000, 35_000, 900, 200]
    sub.call(100.02, 30_000, 400, cached=25_000, reasoning=100)
    sub.add("event_msg", {"type": "task_started", "turn_id": "own"}, 101)
    sub.call(120, 12_000, 300, cached=8_000, reasoning=50)
    sub.call(140, 15_000, 200, cached=12_000, reasoning=20)
    chunk = parse_codex_lines(b"".join(sub.lines), CodexState(), "fallback")
    assert [row[ROW_TOTAL] for row in chunk.calls.events.values()] == [12_300, 15_200]


def test_a_spawned_subagent_naming_its_parent_read_line_by_line_counts_the_same(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Whether a copy follows is decided a line or more after the header: the undecided
    state is kept between reads."""
    sub = CodexRollout("019d-sub", started=100, source=SPAWN, forked_from_id="019d-parent")
    sub.turn(100.005)
    sub.call(100.6, 12_000, 300, cached=8_000)
    sub.call(101.2, 27_000, 500, cached=20_000)
    path = codex_rollout_path(isolated_home / ".codex", sub)
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    try:
        for count in range(1, len(sub.lines) + 1):
            path.write_bytes(b"".join(sub.lines[:count]))
            ingest_env(ledger)
        assert _calls(ledger) == {"019d-sub": [(4_000, 8_000, 300, 0), (7_000, 20_000, 500, 0)]}
    finally:
        ledger.close()
