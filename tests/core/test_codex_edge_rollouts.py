"""Codex rules: a total that went back on a line without `last_token_usage`, a cached count
larger than the input, where a fork's copied history ends, and which `session_meta`
describes a rollout."""

from __future__ import annotations

from datetime import timedelta

from shared.sources.codex import CodexState, add_token_count, parse_codex_lines
from shared.sources.events import ParsedChunk
from tests.core.logwriters import BASE_TIME, CodexRollout

# Row fields of shared.sources.events.CallRows: input, output, cache writes 5m/1h, cache
# read, reasoning, total.
COUNTS = slice(6, 13)


def _calls(readings: list[tuple[list[int], list[int] | None]]) -> list[tuple[int, ...]]:
    """The token counts of the calls a rollout's token_count readings make, in order;
    readings are (cumulative total, last usage) in COUNTERS order (input, cached, output,
    reasoning; the cache writes, when left out, are 0)."""
    state = CodexState(session_id="s1", model="gpt-5")
    chunk = ParsedChunk()

    def padded(counts: list[int]) -> list[int]:
        return [*counts, 0] if len(counts) == 4 else counts

    for at, (cumulative, last) in enumerate(readings):
        own = None if last is None else padded(last)
        add_token_count(state, "s1", 1_000 * at, padded(cumulative), own, chunk, [], "standard")
    return [row[COUNTS] for row in chunk.calls.events.values()]


def test_a_total_that_went_back_without_last_usage_counts_the_new_total() -> None:
    """An older Codex restarting its total, on a line with no `last_token_usage`: the call
    is the new total itself, never a negative difference."""
    calls = _calls([([1_000, 400, 100, 20], None), ([300, 100, 50, 10], None)])
    assert calls == [
        (600, 100, 0, 0, 400, 20, 1_100),
        (200, 50, 0, 0, 100, 10, 350),
    ]
    assert all(value >= 0 for call in calls for value in call)


def test_cached_input_beyond_the_input_is_capped_at_the_input() -> None:
    """A reading whose cached count exceeds its input (an inconsistent line) counts all of
    the input as cached and none as fresh: no negative fresh input, no invented tokens."""
    calls = _calls([([100, 150, 10, 0], None)])
    assert calls == [(0, 10, 0, 0, 100, 0, 110)]


def _parent() -> CodexRollout:
    parent = CodexRollout("019c-parent", started=0)
    parent.turn(1)
    parent.call(5, 10_000, 500, cached=2_000, reasoning=100)
    parent.call(30, 12_000, 300, cached=9_000)
    return parent


def _parsed_calls(rollout: CodexRollout) -> list[tuple[str, tuple[int, ...]]]:
    """(session id, token counts) of each call one read of the whole rollout makes."""
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    return [(row[2], row[COUNTS]) for row in chunk.calls.events.values()]


def test_a_forks_first_call_a_second_after_the_copied_history_is_its_own() -> None:
    """The copied history is one burst; a pause of a second (exactly 1,000 ms) after the
    last copied line ends it, so the child's first call, that long after, is counted."""
    parent = _parent()
    child = CodexRollout("019c-child", started=600, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 600)
    last_copied = BASE_TIME + timedelta(seconds=600, milliseconds=(len(parent.lines) - 1) % 40)
    child.call(last_copied + timedelta(milliseconds=1_000), 13_000, 250, cached=12_000)
    assert _parsed_calls(child) == [("019c-child", (1_000, 250, 0, 0, 12_000, 0, 13_250))]


def test_a_forks_calls_before_its_own_turn_context_keep_the_parents_model() -> None:
    """The copied history's `turn_context` names the model the child goes on with: its
    first call, before a turn_context of its own, is priced as that model, not "gpt-5"."""
    parent = _parent()
    parent.model = "gpt-5.3-codex"
    child = CodexRollout("019c-child2", started=600, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 600)
    child.call(610, 13_000, 250, cached=12_000)
    chunk = parse_codex_lines(b"".join(child.lines), CodexState(), "fallback")
    assert [row[4] for row in chunk.calls.events.values()] == ["gpt-5.3-codex"]


def test_the_record_at_the_history_start_ordinal_is_the_forks_own() -> None:
    """`subagent_history_start_ordinal` names the first record of the child's own: a call
    at exactly that ordinal is counted, not taken as part of the copy."""
    parent = _parent()
    child = CodexRollout("019c-child4", started=400, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 400.001)
    child.call(400.003, 13_000, 250, cached=12_000, reemit=0)
    child.paginate(first_own_ordinal=len(parent.lines) + 1)
    assert _parsed_calls(child) == [("019c-child4", (1_000, 250, 0, 0, 12_000, 0, 13_250))]


def test_only_the_first_session_meta_names_the_rollouts_session() -> None:
    """A later `session_meta` in the same rollout (another session's header) does not
    rename the rollout's session, move its folder or start a fork copy."""
    rollout = CodexRollout("019c-own", started=0, cwd="/home/dev/own")
    rollout.turn(1)
    rollout.call(5, 1_000, 10)
    rollout.add(
        "session_meta",
        {"id": "019c-other", "forked_from_id": "019c-x", "cwd": "/home/dev/other"},
        6,
    )
    rollout.call(7, 2_000, 20)
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    rows = list(chunk.calls.events.values())
    assert [row[2] for row in rows] == ["019c-own", "019c-own"]
    assert [row[COUNTS][0] for row in rows] == [1_000, 2_000]
    assert list(chunk.calls.sessions) == ["019c-own"]
    assert chunk.calls.sessions["019c-own"][1] == "/home/dev/own"


def test_a_turn_contexts_folder_is_where_relative_patch_paths_point() -> None:
    """A `turn_context` with another working folder than the header's moves the session's
    folder: a later patch's relative paths are taken from it."""
    rollout = CodexRollout("019c-cd", started=0, cwd="/home/dev/first")
    rollout.cwd = "/home/dev/second"
    rollout.turn(1)
    rollout.custom_tool_call(
        2, "apply_patch", "*** Begin Patch\n*** Update File: src/app.py\n*** End Patch", "c1"
    )
    rollout.call(3, 1_000, 10)
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert [call.paths for call in chunk.tool_calls] == [["/home/dev/second/src/app.py"]]


def test_a_call_before_any_turn_context_is_priced_as_gpt_5() -> None:
    """A rollout that names no model before its first call: the call is counted as gpt-5."""
    rollout = CodexRollout("019c-nomodel", started=0)
    rollout.call(5, 1_000, 10)
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert [row[4] for row in chunk.calls.events.values()] == ["gpt-5"]


def test_apply_patch_through_a_plain_sh_c_script_is_a_change() -> None:
    """Older Codex ran `apply_patch` through its shell tool as `bash -lc SCRIPT`, and as
    `sh -c SCRIPT` too: either way it is a change of the patch's files."""
    script = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: notes.md\n+hi\n*** End Patch\nEOF"
    rollout = CodexRollout("019c-sh", started=0, cwd="/home/dev/project")
    for index, flag in enumerate(("-lc", "-c")):
        rollout.function_call(
            1 + index, "shell", {"command": ["sh", flag, script], "workdir": "sub"}, f"c{index}"
        )
    rollout.call(5, 1_000, 10)
    chunk = parse_codex_lines(b"".join(rollout.lines), CodexState(), "fallback")
    assert [(call.tool_name, call.paths) for call in chunk.tool_calls] == [
        ("apply_patch", ["/home/dev/project/sub/notes.md"]),
        ("apply_patch", ["/home/dev/project/sub/notes.md"]),
    ]
