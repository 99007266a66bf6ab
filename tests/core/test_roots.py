"""Where logs are found: env roots, defaults, links, compressed and archived rollouts,
subagent layouts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.ledger import open_ledger
from shared.reports import Filters, sessions_report
from shared.sources.events import CLAUDE, CODEX
from shared.sources.roots import claude_roots, codex_roots
from tests.core.helpers import events, ingest_env, totals
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    text_block,
    zstd_compress,
)

CWD = "/home/dev/app"


def _claude_file(config_dir: Path, session_id: str, output: int) -> Path:
    session = ClaudeSession(session_id, cwd=CWD)
    session.reply(1, [text_block("x")], claude_usage(10, output, cache_read=100))
    return session.write(claude_project_dir(config_dir, CWD) / f"{session_id}.jsonl")


def _rollout(session_id: str, output: int, started: float = 0) -> CodexRollout:
    rollout = CodexRollout(session_id, started=started)
    rollout.turn(started + 1)
    rollout.call(started + 2, 1000, output, cached=200)
    return rollout


def _ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_ledger(tmp_path / "ledger.sqlite")


def _outputs(ledger) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {r["session_id"]: r["output_tokens"] for r in events(ledger).values()}


def test_claude_config_dir_is_comma_separated_config_dirs_or_projects(
    isolated_home: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "one", tmp_path / "two"
    _claude_file(first, "s-one", 11)
    _claude_file(second, "s-two", 22)
    _claude_file(isolated_home / ".claude", "s-default", 33)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{first}, {second / 'projects'}")
    assert [r.path for r in claude_roots()] == [first / "projects", second / "projects"]
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _outputs(ledger) == {"s-one": 11, "s-two": 22}


def test_default_claude_roots_are_both_config_and_dot_claude(
    isolated_home: Path, tmp_path: Path
) -> None:
    _claude_file(isolated_home / ".config" / "claude", "s-xdg", 5)
    _claude_file(isolated_home / ".claude", "s-dot", 6)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _outputs(ledger) == {"s-xdg": 5, "s-dot": 6}


def test_same_file_through_two_roots_or_a_link_counts_once(
    isolated_home: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    real = isolated_home / ".claude"
    path = _claude_file(real, "s-linked", 7)
    # ~/.config/claude is a link to ~/.claude, and a second link to the same transcript.
    (isolated_home / ".config").mkdir()
    os.symlink(real, isolated_home / ".config" / "claude")
    os.symlink(path, path.parent / "copy-link.jsonl")
    ledger = _ledger(tmp_path)
    summary = ingest_env(ledger)
    assert summary.files_seen == 1
    assert _outputs(ledger) == {"s-linked": 7}
    # The same directory named twice in CLAUDE_CONFIG_DIR, once through the link.
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{real},{isolated_home / '.config' / 'claude'}")
    again = ingest_env(ledger)
    assert again.files_seen == 1 and again.new_calls == 0
    assert ledger.conn.execute("SELECT count(*) FROM sources").fetchone() == (1,)
    assert totals(ledger)["output_tokens"] == 7


def test_codex_home_is_comma_separated_with_sessions_and_archives(
    isolated_home: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "codex-a", tmp_path / "codex-b"
    live = _rollout("019c-live", 10)
    live.write(codex_rollout_path(first, live))
    archived = _rollout("019c-archived", 20, started=50)
    archived.write(codex_rollout_path(second, archived, folder="archived_sessions"))
    default = _rollout("019c-default", 30)
    default.write(codex_rollout_path(isolated_home / ".codex", default))
    monkeypatch.setenv("CODEX_HOME", f"{first},{second}")
    assert [r.path for r in codex_roots()] == [
        first / "sessions",
        first / "archived_sessions",
        second / "sessions",
        second / "archived_sessions",
    ]
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _outputs(ledger) == {"019c-live": 10, "019c-archived": 20}


def test_default_codex_home(isolated_home: Path, tmp_path: Path) -> None:
    rollout = _rollout("019c-home", 9)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _outputs(ledger) == {"019c-home": 9}
    assert {r.agent for r in claude_roots() + codex_roots()} == {CLAUDE, CODEX}


@pytest.mark.parametrize("value", ["", " ", ",,", " , "])
def test_an_agent_variable_naming_no_folder_means_the_default(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """`CLAUDE_CONFIG_DIR=" "` used to leave Claude Code with no root at all: its logs were
    silently not read, and the "no logs found" message listed only Codex's folders."""
    _claude_file(isolated_home / ".claude", "s-dot", 6)
    rollout = _rollout("019c-home", 9)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", value)
    monkeypatch.setenv("CODEX_HOME", value)
    assert [r.path for r in claude_roots()] == [
        isolated_home / ".config" / "claude" / "projects",
        isolated_home / ".claude" / "projects",
        isolated_home / ".config" / "Claude" / "local-agent-mode-sessions",  # Cowork's
    ]
    assert [r.path for r in codex_roots()] == [
        isolated_home / ".codex" / "sessions",
        isolated_home / ".codex" / "archived_sessions",
    ]
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _outputs(ledger) == {"s-dot": 6, "019c-home": 9}


def test_zstd_rollouts_are_read(isolated_home: Path, tmp_path: Path) -> None:
    rollout = _rollout("019c-zst", 44)
    plain = rollout.write(tmp_path / "plain.jsonl")
    target = codex_rollout_path(isolated_home / ".codex", rollout, folder="archived_sessions")
    zstd_compress(plain, target.with_name(target.name + ".zst"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _outputs(ledger) == {"019c-zst": 44}
    rows = list(events(ledger).values())
    assert rows[0]["input_tokens"] == 800 and rows[0]["cache_read_tokens"] == 200


def test_rollout_archived_as_zst_after_being_read_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    codex_home = isolated_home / ".codex"
    rollout = _rollout("019c-archive-me", 12)
    rollout.function_call(3, "exec_command", {"cmd": "ls"}, "call_a")
    rollout.call(4, 1500, 8, cached=1000)
    live_path = rollout.write(codex_rollout_path(codex_home, rollout))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    before = totals(ledger)
    calls_before = ledger.conn.execute("SELECT count(*) FROM tool_calls").fetchone()
    # Codex archives the rollout: compressed into archived_sessions/, the original removed.
    archived = codex_rollout_path(codex_home, rollout, folder="archived_sessions")
    zstd_compress(live_path, archived.with_name(archived.name + ".zst"))
    live_path.unlink()
    ingest_env(ledger)
    assert totals(ledger) == before
    assert ledger.conn.execute("SELECT count(*) FROM tool_calls").fetchone() == calls_before
    # Both copies present at once also count once.
    rollout.write(live_path)
    ingest_env(ledger)
    assert totals(ledger) == before


def test_subagent_files_in_both_layouts_belong_to_the_parent_session(
    isolated_home: Path, tmp_path: Path
) -> None:
    project = claude_project_dir(isolated_home / ".claude", CWD)
    parent = ClaudeSession("s-parent", cwd=CWD)
    parent.reply(1, [text_block("main")], claude_usage(10, 100))
    parent.write(project / "s-parent.jsonl")
    legacy = ClaudeSession("s-parent", cwd=CWD, version="2.0.37", agent_id="ea02459f")
    legacy.reply(2, [text_block("legacy sub")], claude_usage(10, 20), model="claude-haiku-4-5")
    legacy.write(project / "agent-ea02459f.jsonl")
    modern = ClaudeSession("s-parent", cwd=CWD, agent_id="a4ca7529859c158c2")
    modern.reply(3, [text_block("new sub")], claude_usage(10, 30), model="claude-haiku-4-5")
    modern.write(project / "s-parent" / "subagents" / "agent-a4ca7529859c158c2.jsonl")
    (project / "s-parent" / "subagents" / "agent-a4ca7529859c158c2.meta.json").write_text(
        '{"agentType":"general-purpose","description":"Research"}'
    )
    ledger = _ledger(tmp_path)
    summary = ingest_env(ledger)
    assert summary.files_seen == 3
    report = sessions_report(ledger, Filters())
    assert [row["session_id"] for row in report["sessions"]] == ["s-parent"]
    (row,) = report["sessions"]
    assert row["output_tokens"] == 150
    assert row["models"] == ["claude-haiku-4-5", "claude-opus-4-7"]
    sidechain = ledger.conn.execute(
        "SELECT is_sidechain, count(*) FROM usage_events GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert sidechain == [(0, 1), (1, 2)]


def test_session_path_and_branch_come_from_the_main_thread_in_any_file_order(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Seen in the real corpus: a subagent working in its own worktree gave the session its
    worktree path when its file happened to be read first."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    main = ClaudeSession("s-order", cwd=CWD, git_branch="master")
    main.reply(10, [text_block("main")], claude_usage(10, 100))
    main.reply(20, [text_block("main")], claude_usage(10, 100))
    sub = ClaudeSession(
        "s-order",
        cwd=f"{CWD}/.claude/worktrees/agent-a4",
        git_branch="worktree-agent-a4",
        agent_id="a4",
    )
    sub.reply(5, [text_block("sub")], claude_usage(10, 20))
    sub.reply(30, [text_block("sub")], claude_usage(10, 20))
    main_path, sub_path = (
        project / "s-order.jsonl",
        project / "s-order" / "subagents" / "agent-a4.jsonl",
    )
    for first, second in (
        ((main, main_path), (sub, sub_path)),
        ((sub, sub_path), (main, main_path)),
    ):
        for path in (main_path, sub_path):
            path.unlink(missing_ok=True)
        ledger = open_ledger(tmp_path / f"ledger-{first[1].name}.sqlite")
        first[0].write(first[1])
        ingest_env(ledger)
        second[0].write(second[1])
        ingest_env(ledger)
        row = ledger.conn.execute(
            "SELECT project_path, git_branch, first_ts_ms, last_ts_ms FROM sessions"
        ).fetchone()
        assert row[:2] == (CWD, "master"), first[1].name
        assert row[3] - row[2] == 25_000
        ledger.close()


def test_config_roots_are_read_like_the_agents_variables(isolated_home: Path) -> None:
    """`[roots]` entries name config dirs as CLAUDE_CONFIG_DIR and CODEX_HOME do: only
    `projects/` (Claude Code) and `sessions/` + `archived_sessions/` (Codex) are read."""
    import json

    from tests.core.helpers import run_cli

    laptop = isolated_home / "mnt" / "laptop"
    _claude_file(laptop / ".claude", "s-laptop", 17)
    # Claude Code keeps other JSONL beside projects/ (prompt history): not transcripts.
    (laptop / ".claude" / "history.jsonl").write_text('{"display":"a prompt","project":"/x"}\n')
    rollout = _rollout("019c-laptop", 23)
    rollout.write(codex_rollout_path(laptop / ".codex", rollout, folder="archived_sessions"))
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[roots]\nclaude = ["{laptop / ".claude"}"]\ncodex = ["{laptop / ".codex"}"]\n'
    )
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 17 + 23
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    roots = {(r["agent"], r["path"]) for r in doctor["roots"]}
    assert ("claude-code", str(laptop / ".claude" / "projects")) in roots
    assert ("codex", str(laptop / ".codex" / "archived_sessions")) in roots
    assert doctor["agents"]["claude-code"]["files"] == 1
    assert doctor["agents"]["claude-code"]["lines"] == 1

    # One folder may be written without the brackets, in the report's and doctor's reading.
    config.write_text(f'[roots]\nclaude = "{laptop / ".claude"}"\n')
    single = run_cli("report", "daily", "--json")
    assert json.loads(single.stdout)["totals"]["output_tokens"] == 17 + 23
    assert single.stderr == ""
    assert json.loads(run_cli("doctor", "--json").stdout)["config_problems"] == []
    # Anything else is named, and the defaults are read.
    config.write_text("[roots]\nclaude = 5\n")
    wrong = run_cli("report", "daily", "--json")
    assert "[roots] claude must be a folder or a list of folders" in wrong.stderr
    assert json.loads(wrong.stdout)["totals"]["output_tokens"] == 17 + 23  # the ledger keeps them


def test_symlink_loops_under_a_root_end_the_walk(isolated_home: Path, tmp_path: Path) -> None:
    """Links back to a parent (a dotfiles manager, a mistaken `ln -s`) must neither hang the
    walk nor count a file twice."""
    import subprocess
    import sys

    from tests.core.helpers import REPO_ROOT

    project = _claude_file(isolated_home / ".claude", "s-loop", 3).parent
    projects = project.parent
    os.symlink(projects, project / "up")
    os.symlink(projects, project / "again")
    os.symlink(isolated_home / ".claude", projects / "home-link")
    code = (
        "from shared.sources.roots import all_roots, discover_files;"
        "print(len(discover_files(all_roots())))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_an_archive_read_in_small_pieces_gives_the_rows_of_its_plain_file(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Archives are decompressed a few MiB at a time, never whole; here a piece is 700
    bytes, so lines, tool calls and their model calls fall across piece boundaries."""
    import shared.ingest.chunks
    import shared.ingest.parsing
    from tests.core.helpers import snapshot
    from tests.core.logwriters import write_history

    write_history(isolated_home, claude_sessions=0, codex_rollouts=6, turns=30)
    sessions = isolated_home / ".codex" / "sessions"
    plain = _ledger(tmp_path / "plain")
    ingest_env(plain)
    archived = isolated_home / ".codex" / "archived_sessions"
    for rollout in sorted(sessions.rglob("*.jsonl")):
        target = archived / rollout.relative_to(sessions)
        target.parent.mkdir(parents=True, exist_ok=True)
        zstd_compress(rollout, target.with_name(target.name + ".zst"))
        rollout.unlink()
    monkeypatch.setattr(shared.ingest.chunks, "CHUNK_BYTES", 700)
    each_piece = shared.ingest.parsing.each_archive_piece
    piece_sizes: list[int] = []
    piece_lengths: list[int] = []

    def noted(path, offset, take, long_lines=None, piece_bytes=8 << 20):  # type: ignore[no-untyped-def]
        def noted_take(data: bytes) -> None:
            piece_lengths.append(len(data))
            take(data)

        piece_sizes.append(piece_bytes)
        return each_piece(path, offset, noted_take, long_lines, piece_bytes)

    monkeypatch.setattr(shared.ingest.parsing, "each_archive_piece", noted)
    pieces = _ledger(tmp_path / "pieces")
    summary = ingest_env(pieces)
    assert summary.files_read == 6 and not summary.unreadable
    # Read in pieces of the task's read size, not the default of a few MiB.
    assert piece_sizes == [700] * 6
    # (A line begun in one piece is handed on whole with the piece that ends it.)
    assert len(piece_lengths) > sum(piece_lengths) // 1400 > 6
    # The file list differs (archives instead of plain files); everything read is the same.
    assert snapshot(pieces, skip=("sources",)) == snapshot(plain, skip=("sources",))
    assert pieces.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] > 100


class _EntryWithoutFileId:
    """An `os.DirEntry` as Windows gives it: its `stat()` has st_ino and st_dev 0."""

    def __init__(self, entry: os.DirEntry[str]) -> None:
        self._entry = entry

    def __getattr__(self, name: str) -> object:
        return getattr(self._entry, name)

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        real = self._entry.stat(follow_symlinks=follow_symlinks)
        fields = list(real)
        fields[1] = fields[2] = fields[3] = 0  # st_ino, st_dev, st_nlink
        return os.stat_result(fields, {"st_mtime_ns": real.st_mtime_ns})


def test_directory_entries_without_file_ids_still_count_every_file(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows every file looked like the first (same id 0, 0): one file was read and
    the rest of the history dropped."""
    from tests.core.logwriters import write_history

    write_history(isolated_home, claude_sessions=4, codex_rollouts=3, turns=2)
    expected = open_ledger(tmp_path / "expected.sqlite")
    ingest_env(expected)
    real_scandir = os.scandir

    class Listing:
        def __init__(self, path: str) -> None:
            self._listing = real_scandir(path)

        def __enter__(self) -> Listing:
            return self

        def __exit__(self, *exc: object) -> None:
            self._listing.close()

        def __iter__(self):  # type: ignore[no-untyped-def]
            return (_EntryWithoutFileId(entry) for entry in self._listing)

    monkeypatch.setattr(os, "scandir", Listing)
    windows = open_ledger(tmp_path / "windows.sqlite")
    summary = ingest_env(windows)
    assert summary.files_seen == 7
    assert totals(windows) == totals(expected)
    # The stored identity is the file's real one, so the next scan sees nothing new.
    again = ingest_env(windows)
    assert again.files_read == 0 and totals(windows) == totals(expected)
