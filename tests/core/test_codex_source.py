"""Codex rollouts: cumulative deltas, models, forks and subagents, rate limits, tools."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ledger import open_ledger
from shared.sources.claude import normalise_path
from shared.sources.codex import _patch_paths
from shared.sources.events import CODEX
from tests.core.helpers import events, ingest_env
from tests.core.logwriters import (
    RATE_LIMITS,
    CodexRollout,
    apply_patch_text,
    codex_rollout_path,
)


def _codex_home(home: Path) -> Path:
    return home / ".codex"


def _ingest(tmp_path: Path):  # type: ignore[no-untyped-def]
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    return ledger


def _sums(ledger, session_id: str | None = None) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    where = "WHERE session_id = ?" if session_id else ""
    row = ledger.conn.execute(
        "SELECT sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), "
        f"sum(reasoning_tokens) FROM usage_events {where}",
        (session_id,) if session_id else (),
    ).fetchone()
    return tuple(value or 0 for value in row)  # type: ignore[return-value]


def test_reemitted_token_counts_count_once(isolated_home: Path, tmp_path: Path) -> None:
    rollout = CodexRollout("019c-reemit", started=0)
    rollout.turn(1)
    rollout.call(2, 17203, 358, cached=3456, reasoning=193, reemit=3)
    rollout.call(5, 20000, 100, cached=17000, reemit=1)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    rows = sorted(events(ledger).values(), key=lambda r: r["ts_ms"])
    assert len(rows) == 2
    assert _sums(ledger) == (17203 - 3456 + 20000 - 17000, 3456 + 17000, 458, 193)
    assert rows[0]["total_tokens"] == 17203 + 358
    assert {r["agent"] for r in rows} == {CODEX}


def test_model_comes_from_turn_context(isolated_home: Path, tmp_path: Path) -> None:
    rollout = CodexRollout("019c-models", started=0)
    rollout.turn(1, model="gpt-5.3-codex")
    rollout.call(2, 1000, 10)
    rollout.turn(3, model="gpt-5.4")
    rollout.call(4, 2000, 20)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    models = [r["model"] for r in sorted(events(ledger).values(), key=lambda r: r["ts_ms"])]
    assert models == ["gpt-5.3-codex", "gpt-5.4"]


def _parent_with_history() -> CodexRollout:
    parent = CodexRollout("019c-parent", started=0)
    parent.turn(1)
    parent.user_message("first task", 1)
    parent.call(10, 10000, 500, cached=2000, reasoning=100)
    parent.function_call(11, "exec_command", {"cmd": "ls"}, "call_parent_1")
    parent.exec_output(12, "call_parent_1", "a b", 0)
    parent.call(20, 12000, 300, cached=9000)
    return parent


def test_forked_rollout_does_not_recount_the_parents_history(
    isolated_home: Path, tmp_path: Path
) -> None:
    parent = _parent_with_history()
    fork_at = 600.0
    child = CodexRollout("019c-child", started=fork_at, forked_from_id=parent.session_id)
    child.copy_history_from(parent, fork_at + 0.001)
    child.turn(fork_at + 0.05)
    child.user_message("continue differently", fork_at + 0.05)
    child.call(fork_at + 7, 13000, 250, cached=12000, reasoning=40)
    child.function_call(fork_at + 8, "exec_command", {"cmd": "make"}, "call_child_1")
    child.exec_output(fork_at + 9, "call_child_1", "boom", 2)
    child.call(fork_at + 15, 14000, 50, cached=13000)
    home = _codex_home(isolated_home)
    parent.write(codex_rollout_path(home, parent))
    child.write(codex_rollout_path(home, child))
    ledger = _ingest(tmp_path)
    assert _sums(ledger, "019c-parent") == (10000 - 2000 + 12000 - 9000, 11000, 800, 100)
    assert _sums(ledger, "019c-child") == (13000 - 12000 + 14000 - 13000, 25000, 300, 40)
    assert ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone() == (4,)
    tools = dict(ledger.conn.execute("SELECT tool_id, session_id FROM tool_calls").fetchall())
    assert tools == {"cx:call_parent_1": "019c-parent", "cx:call_child_1": "019c-child"}
    assert ledger.conn.execute("SELECT tool_id FROM tool_errors").fetchall() == [
        ("cx:call_child_1",)
    ]
    samples = ledger.conn.execute(
        "SELECT session_id, count(*) FROM rate_limits GROUP BY session_id ORDER BY 1"
    ).fetchall()
    assert samples == [("019c-child", 2), ("019c-parent", 2)]


def test_fork_read_in_pieces_gives_the_same_totals(isolated_home: Path, tmp_path: Path) -> None:
    parent = _parent_with_history()
    child = CodexRollout("019c-child2", started=900, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 900.002)
    child.turn(900.01)
    child.call(910, 13000, 250, cached=12000)
    path = codex_rollout_path(_codex_home(isolated_home), child)
    data = b"".join(child.lines)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    path.parent.mkdir(parents=True)
    for cut in (0, 1, 2, 3, 5, 8):
        end = sum(len(x) for x in child.lines[: cut + 1])
        path.write_bytes(data[:end])
        ingest_env(ledger)
    path.write_bytes(data)
    ingest_env(ledger)
    assert _sums(ledger, "019c-child2") == (1000, 12000, 250, 0)


def test_subagent_rollout_without_copied_history_counts_fully(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A spawned subagent (`source.subagent.thread_spawn`, no `forked_from_id`) starts on
    its own work: nothing in it is the parent's."""
    spawn = {"subagent": {"thread_spawn": {"parent_thread_id": "019c-parent", "depth": 1}}}
    sub = CodexRollout("019c-sub", started=100, source=spawn)
    sub.turn(100.001)
    sub.call(100.002, 5000, 60, cached=1000)
    sub.call(100.5, 6000, 70, cached=5000)
    sub.write(codex_rollout_path(_codex_home(isolated_home), sub))
    ledger = _ingest(tmp_path)
    assert _sums(ledger, "019c-sub") == (4000 + 1000, 6000, 130, 0)


def test_rate_limits_are_stored(isolated_home: Path, tmp_path: Path) -> None:
    rollout = CodexRollout("019c-limits", started=0)
    rollout.turn(1)
    rollout.rate_limits_only(2, RATE_LIMITS)
    rollout.call(3, 100, 1, reemit=0)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    rows = ledger.conn.execute(
        "SELECT agent, session_id, primary_used_percent, primary_window_minutes, "
        "primary_resets_at, secondary_used_percent, secondary_window_minutes, "
        "secondary_resets_at, plan_type FROM rate_limits ORDER BY ts_ms"
    ).fetchall()
    expected = (
        CODEX,
        "019c-limits",
        12.0,
        300,
        1773150000,
        34.0,
        10080,
        1773600000,
        "plus",
    )
    assert rows == [expected, expected]


def test_apply_patch_headers_become_paths(isolated_home: Path, tmp_path: Path) -> None:
    rollout = CodexRollout("019c-patch", started=0, cwd="/work/repo")
    rollout.turn(1)
    rollout.custom_tool_call(
        2,
        "apply_patch",
        apply_patch_text(("Update", "src/app.py"), ("Add", "/work/repo/docs/new.md")),
        "call_patch_1",
    )
    rollout.custom_output(3, "call_patch_1", "Success. Updated the following files")
    # The older function-call form carries the patch inside JSON arguments.
    rollout.function_call(
        4, "apply_patch", {"input": apply_patch_text(("Delete", "old/x.txt"))}, "call_patch_2"
    )
    rollout.call(5, 3000, 200, cached=1000)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    files = sorted(ledger.conn.execute("SELECT tool_id, path FROM tool_files").fetchall())
    assert files == [
        ("cx:call_patch_1", "/work/repo/docs/new.md"),
        ("cx:call_patch_1", "/work/repo/src/app.py"),
        ("cx:call_patch_2", "/work/repo/old/x.txt"),
    ]
    (event_key,) = events(ledger)
    linked = ledger.conn.execute("SELECT DISTINCT event_key FROM tool_calls").fetchall()
    assert linked == [(event_key,)]


def test_failing_tool_output_becomes_a_tool_error(isolated_home: Path, tmp_path: Path) -> None:
    rollout = CodexRollout("019c-errors", started=0)
    rollout.turn(1)
    for index, (kind, code) in enumerate(
        [("exec", 0), ("exec", 1), ("shell", 0), ("shell", 127)], start=1
    ):
        call_id = f"call_{kind}_{code}"
        rollout.function_call(index * 2, "exec_command", {"cmd": "make"}, call_id)
        if kind == "exec":
            rollout.exec_output(index * 2 + 1, call_id, "output", code)
        else:
            rollout.shell_output(index * 2 + 1, call_id, "output", code)
    rollout.call(20, 1000, 10)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    errors = sorted(row[0] for row in ledger.conn.execute("SELECT tool_id FROM tool_errors"))
    assert errors == ["cx:call_exec_1", "cx:call_shell_127"]
    assert ledger.conn.execute("SELECT count(*) FROM tool_calls").fetchone() == (4,)


def test_a_call_id_that_is_not_utf8_still_links_its_failing_output(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A byte that is not UTF-8 in a failing output's call id used to crash the parser; it
    becomes U+FFFD there as in the tool call, so the two still match."""
    rollout = CodexRollout("019c-bytes", started=0)
    rollout.turn(1)
    rollout.function_call(2, "exec_command", {"cmd": "make"}, "call_BAD")
    rollout.exec_output(3, "call_BAD", "output", 2)
    rollout.call(4, 1000, 10)
    path = codex_rollout_path(_codex_home(isolated_home), rollout)
    rollout.write(path)
    path.write_bytes(path.read_bytes().replace(b"call_BAD", b"call_B\xffD"))
    ledger = _ingest(tmp_path)
    assert ledger.conn.execute("SELECT tool_id FROM tool_errors").fetchall() == [
        ("cx:call_B\ufffdD",)
    ]
    assert ledger.conn.execute("SELECT tool_id FROM tool_calls").fetchall() == [
        ("cx:call_B\ufffdD",)
    ]


def test_fork_copy_ends_at_its_own_thread_settings_event(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Newer Codex marks the end of the copy with the fork's own `thread_settings_applied`;
    the child's first call may then follow within the second."""
    parent = _parent_with_history()
    child = CodexRollout("019c-child3", started=300, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 300.001)
    child.add(
        "event_msg",
        {"type": "thread_settings_applied", "thread_id": "019c-parent"},
        300.05,
    )
    child.add("event_msg", {"type": "thread_settings_applied", "thread_id": "019c-child3"}, 300.06)
    child.turn(300.07)
    child.call(300.3, 13000, 250, cached=12000)
    child.write(codex_rollout_path(_codex_home(isolated_home), child))
    ledger = _ingest(tmp_path)
    assert _sums(ledger, "019c-child3") == (1000, 12000, 250, 0)


def test_fork_copy_ends_at_the_history_start_ordinal(isolated_home: Path, tmp_path: Path) -> None:
    """Paginated rollouts number their records; the header names the first own ordinal."""
    parent = _parent_with_history()
    child = CodexRollout("019c-child4", started=400, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 400.001)
    child.turn(400.002)
    child.call(400.003, 13000, 250, cached=12000)
    child.paginate(first_own_ordinal=len(parent.lines) + 1)
    child.write(codex_rollout_path(_codex_home(isolated_home), child))
    ledger = _ingest(tmp_path)
    assert _sums(ledger, "019c-child4") == (1000, 12000, 250, 0)


def test_fork_that_references_its_history_copies_nothing(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A fork whose header names `history_base` points at the parent's file instead of
    copying it: its first lines, however quick, are its own."""
    import orjson

    child = CodexRollout("019c-child5", started=700, forked_from_id="019c-parent")
    header = orjson.loads(child.lines[0])
    header["payload"]["history_base"] = {"rollout": "rollout-parent.jsonl", "items": 12}
    child.lines[0] = orjson.dumps(header) + b"\n"
    child.turn(700.001)
    child.call(700.2, 3000, 30, cached=1000)
    child.write(codex_rollout_path(_codex_home(isolated_home), child))
    ledger = _ingest(tmp_path)
    assert _sums(ledger, "019c-child5") == (2000, 1000, 30, 0)


def test_exit_status_is_read_from_the_header_not_the_output_text(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A successful command may print another process's failure (a CI log, a test run)."""
    rollout = CodexRollout("019c-header", started=0)
    rollout.turn(1)
    rollout.function_call(2, "exec_command", {"cmd": "cat ci.log"}, "call_cat")
    rollout.exec_output(
        3, "call_cat", 'step 3\nProcess exited with code 1\nExit code: 2 {"exit_code": 3}', 0
    )
    rollout.function_call(4, "exec_command", {"cmd": "pytest"}, "call_fail")
    rollout.exec_output(5, "call_fail", "Process exited with code 0 (child)", 1)
    rollout.call(6, 1000, 10)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    errors = [row[0] for row in ledger.conn.execute("SELECT tool_id FROM tool_errors")]
    assert errors == ["cx:call_fail"]


def test_shell_exit_code_comes_from_the_metadata_not_the_output_text(
    isolated_home: Path, tmp_path: Path
) -> None:
    rollout = CodexRollout("019c-meta", started=0)
    rollout.turn(1)
    rollout.function_call(2, "shell", {"command": ["cat", "x"]}, "call_ok")
    rollout.shell_output(3, "call_ok", 'Process exited with code 1 "exit_code":4', 0)
    rollout.function_call(4, "shell", {"command": ["make"]}, "call_bad")
    rollout.shell_output(5, "call_bad", "Process exited with code 0", 2)
    rollout.call(6, 1000, 10)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    errors = [row[0] for row in ledger.conn.execute("SELECT tool_id FROM tool_errors")]
    assert errors == ["cx:call_bad"]


# The rule `_patch_paths` implements, written the plain way: a line that starts with
# `*** Add File: `, `*** Update File: ` or `*** Delete File: ` names a file, and so does
# one that starts with `*** Move to: `; the first kind come first.
_HEADER_LINE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.MULTILINE)
_MOVE_LINE = re.compile(r"^\*\*\* Move to: (.+)$", re.MULTILINE)
_PATCH_PREFIXES = ["*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: "]
_PATCH_NOISE = ["", " ", "*", "x", "\r", "*** ", "File: ", "é", "*** Begin Patch", "+ line"]
_PATCH_NAMES = ["src/a.py", "/abs/b.md", " c.txt ", "d\r", "", "é/e.rs"]
# A line: noise, then one of the prefixes (or none), then a name, then noise; so a file line
# now and then does not start the line, or has nothing after its prefix.
_patch_line = st.builds(
    lambda *parts: "".join(parts),
    st.sampled_from(_PATCH_NOISE),
    st.sampled_from(["", *_PATCH_PREFIXES]),
    st.sampled_from(_PATCH_NAMES),
    st.sampled_from(_PATCH_NOISE),
)


def test_apply_patch_run_through_the_shell_tool_is_a_change(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Codex in 2025 ran apply_patch through its `shell` tool (`["apply_patch", PATCH]`, or
    a heredoc under `bash -lc`): those edits named no file and counted as running a
    command, so the session read "no-changes"."""
    rollout = CodexRollout("019c-shell-patch", started=0, cwd="/work/repo")
    rollout.turn(1)
    patch = apply_patch_text(("Update", "src/app.py"))
    rollout.function_call(2, "shell", {"command": ["apply_patch", patch]}, "call_sp_1")
    heredoc = f"apply_patch <<'EOF'\n{apply_patch_text(('Add', 'docs/new.md'))}EOF\n"
    rollout.function_call(
        3, "shell", {"command": ["bash", "-lc", heredoc], "workdir": "/work/other"}, "call_sp_2"
    )
    rollout.function_call(4, "shell", {"command": ["ls", "-la"]}, "call_sp_3")
    # Only mentioning apply_patch is no patch (a grep through docs).
    grep = 'grep -n "*** Begin Patch" docs/apply_patch.md'
    rollout.function_call(5, "shell", {"command": ["bash", "-lc", grep]}, "call_sp_4")
    # A relative working folder is the session's; `cd DIR &&` moves it; local_shell_call's
    # spelling is working_directory.
    moved = f"cd pkg && apply_patch <<'EOF'\n{apply_patch_text(('Update', 'mod.py'))}EOF\n"
    rollout.function_call(
        6, "shell", {"command": ["bash", "-lc", moved], "workdir": "sub"}, "call_sp_5"
    )
    rollout.function_call(
        7, "shell", {"command": ["apply_patch", patch], "working_directory": "/w2"}, "call_sp_6"
    )
    rollout.call(8, 3000, 200, cached=1000)
    rollout.write(codex_rollout_path(_codex_home(isolated_home), rollout))
    ledger = _ingest(tmp_path)
    names = dict(ledger.conn.execute("SELECT tool_id, tool_name FROM tool_calls").fetchall())
    assert names == {
        "cx:call_sp_1": "apply_patch",
        "cx:call_sp_2": "apply_patch",
        "cx:call_sp_3": "shell",
        "cx:call_sp_4": "shell",
        "cx:call_sp_5": "apply_patch",
        "cx:call_sp_6": "apply_patch",
    }
    files = sorted(ledger.conn.execute("SELECT tool_id, path FROM tool_files").fetchall())
    assert files == [
        ("cx:call_sp_1", "/work/repo/src/app.py"),
        ("cx:call_sp_2", "/work/other/docs/new.md"),
        ("cx:call_sp_5", "/work/repo/sub/pkg/mod.py"),
        ("cx:call_sp_6", "/w2/src/app.py"),
    ]


@settings(max_examples=1500, deadline=None)
@given(st.lists(_patch_line, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_patch_paths_are_the_file_lines_of_the_patch(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    found = _HEADER_LINE.findall(text) + _MOVE_LINE.findall(text)
    expected = list(dict.fromkeys(normalise_path(path.strip(), "/cwd") for path in found))
    assert _patch_paths("apply_patch", text, "/cwd") == expected


# What Codex answers a patch it refused (codex-rs: the apply_patch handler's
# `FunctionCallError::RespondToModel`, written as the output's plain string).
REFUSED_PATCH = "apply_patch verification failed: Failed to find expected lines in /w/a.js:\nold()"


def test_a_refused_patch_is_a_failed_tool_call(isolated_home: Path, tmp_path: Path) -> None:
    """A patch Codex refused changed nothing: it is a failed tool call (only the flag is
    kept, never the text), as a custom tool call, as the older function call and when
    the user or the safety check declined it; Codex's words inside a command's output, or
    a patch that applied, are no failure. The lenient line-by-line path (a rollout with
    CRLF line ends) finds the same failures as the fast one."""
    from shared.sources.codex import CodexState, parse_codex_lines

    rollout = CodexRollout("019c-refused", started=0, cwd="/work/repo")
    rollout.turn(1)
    patch = apply_patch_text(("Update", "app.js"))
    outputs = {
        "call_custom": REFUSED_PATCH,
        "call_declined": "patch rejected by user",
        "call_unsafe": "patch rejected: writing outside of the project",
        "call_unreadable": "apply_patch handler received invalid patch input",
        "call_sandbox": "execution error: Io(Os { code: 13 })",
        "call_applied": "Success. Updated the following files:\nM app.js",
    }
    at = 2
    for call_id, output in outputs.items():
        rollout.custom_tool_call(at, "apply_patch", patch, call_id)
        rollout.custom_output(at + 1, call_id, output)
        at += 2
    rollout.function_call(at, "apply_patch", {"input": patch}, "call_function")
    rollout.add(
        "response_item",
        {"type": "function_call_output", "call_id": "call_function", "output": REFUSED_PATCH},
        at + 1,
    )
    # A command that prints Codex's words is no refusal, nor a shell output quoting them.
    rollout.function_call(at + 2, "exec_command", {"cmd": "cat log"}, "call_cat")
    rollout.exec_output(at + 3, "call_cat", REFUSED_PATCH, 0)
    rollout.function_call(at + 4, "shell", {"command": ["cat", "log"]}, "call_shell")
    rollout.shell_output(at + 5, "call_shell", REFUSED_PATCH, 0)
    rollout.call(at + 6, 1000, 10)
    path = codex_rollout_path(_codex_home(isolated_home), rollout)
    rollout.write(path)
    ledger = _ingest(tmp_path)
    errors = sorted(row[0] for row in ledger.conn.execute("SELECT tool_id FROM tool_errors"))
    refused = ["call_custom", "call_declined", "call_function", "call_sandbox"]
    refused += ["call_unreadable", "call_unsafe"]
    assert errors == sorted(f"cx:{call_id}" for call_id in refused)
    assert ledger.conn.execute("SELECT count(*) FROM tool_calls").fetchone() == (9,)
    data = path.read_bytes()
    fast = parse_codex_lines(data, CodexState(), "f").tool_errors
    lenient = parse_codex_lines(data.replace(b"\n", b"\r\n"), CodexState(), "f").tool_errors
    assert sorted(fast) == sorted(lenient) == errors
    ledger.close()
