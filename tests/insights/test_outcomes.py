"""Outcomes from real git repositories: committed, uncommitted, no-changes, unknown."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.config import Settings
from shared.insights.sessions import session_insights, session_outcomes_only
from tests.insights.agent_logs import (
    ClaudeSession,
    CodexRollout,
    ingest_home,
    write_editing_session,
)
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_790_000_000_000  # 2026-09-21: the session starts here


def _editing_session(home: Path, cwd: Path, files: list[str], sid: str) -> None:
    write_editing_session(home, cwd, files, sid, T0)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0 - DAY, {"app.py": "v0\n", "other.py": "v0\n"}, "initial")
    return repo


def test_committed_on_any_local_branch_within_the_window(tmp_path: Path, repo: GitRepo) -> None:
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-committed")
    first = repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    repo.commit(T0 + 2 * HOUR, {"other.py": "v1\n"})  # does not touch the session's file
    repo.git("checkout", "-q", "-b", "feature")
    second = repo.commit(T0 + 6 * DAY, {"app.py": "v2\n"})
    repo.commit(T0 + 7 * DAY + HOUR, {"app.py": "v3\n"})  # past the 7-day window
    repo.git("checkout", "-q", "main")
    insight = session_insights(ingest_home(tmp_path), Settings())["sess-committed"]
    assert insight.outcome.status == "committed"
    assert insight.outcome.commits == [first, second]
    assert "1 of 1 changed file(s) committed in 2 commit(s)" in insight.outcome.reason
    assert insight.outcome.cost_per_commit_usd == pytest.approx(insight.cost_usd / 2)


def test_a_commit_in_the_sessions_first_second_reads_zero_hours(
    tmp_path: Path, repo: GitRepo
) -> None:
    """Git dates have whole seconds, so a commit in the session's first second counts; its
    reason said "the first -0.0 h after the session started"."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-same", T0 + 600)
    repo.commit(T0, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-same"].outcome
    assert outcome.status == "committed"
    assert outcome.reason.endswith("the first 0.0 h after the session started")


@pytest.mark.parametrize(
    "name",
    ["Übersicht.md", "設計.md", "résumé.py", 'q"uote.py', "tab\tname.py", "back\\slash.py"],
    ids=["umlaut", "cjk", "accents", "double-quote", "tab", "backslash"],
)
def test_a_commit_of_a_file_whose_name_git_would_quote_counts(
    tmp_path: Path, repo: GitRepo, name: str
) -> None:
    """git quotes a name with a byte beyond ASCII (`"\\303\\234bersicht.md"`), a quote,
    a backslash or a control character: such a commit matched no changed file, and the
    session read `uncommitted`."""
    if os.name == "nt" and any(c in name for c in '"\t\\'):
        pytest.skip("not a file name on Windows")
    _editing_session(tmp_path, repo.root, [name], "sess-named")
    commit = repo.commit(T0 + HOUR, {name: "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-named"].outcome
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [commit]


def test_a_repository_whose_folder_name_ends_in_a_space_has_its_commits(
    tmp_path: Path,
) -> None:
    """git's `--show-toplevel` line was stripped of the space too: every changed file was
    "outside the repository" and the session read no-changes."""
    repo = GitRepo(tmp_path / "shop ")
    repo.commit(T0 - DAY, {"app.py": "v0\n"}, "initial")
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-space")
    commit = repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-space"].outcome
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [commit]


def test_commit_before_the_session_does_not_count(tmp_path: Path, repo: GitRepo) -> None:
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-early")
    repo.commit(T0 - HOUR, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-early"].outcome
    assert outcome.status == "uncommitted"
    assert outcome.commits == []
    assert "no commit on a local branch" in outcome.reason


def test_a_commit_under_a_child_with_an_older_date_is_still_found(
    tmp_path: Path, repo: GitRepo
) -> None:
    """`git log --since` stops at a branch's first commit older than the date: a commit in
    the window whose child carries an older committer date (a rebase that keeps author
    dates, clock skew) was missed, and the session read "uncommitted"."""
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-skew")
    inside = repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    repo.commit(T0 - 5 * DAY, {"other.py": "v1\n"})  # the branch tip, dated before T0
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-skew"].outcome
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [inside]


def test_a_file_changed_and_committed_in_a_worktree_counts(tmp_path: Path, repo: GitRepo) -> None:
    """Claude Code's agents edit in `<repo>/.claude/worktrees/agent-…` and commit on the
    worktree's branch: git names the commit's file relative to the repository's top, so
    the session's change (under the worktree) never matched and it read "uncommitted"."""
    worktree = repo.root / ".claude" / "worktrees" / "agent-1"
    repo.git("worktree", "add", "-q", "-b", "agent-branch", str(worktree))
    _editing_session(tmp_path, repo.root, [".claude/worktrees/agent-1/new.py"], "sess-main")
    _editing_session(tmp_path, worktree, ["new.py"], "sess-in-worktree")
    (worktree / "new.py").write_text("v1\n")
    repo.git("-C", str(worktree), "add", "new.py")
    repo.git("-C", str(worktree), "commit", "-q", "-m", "agent work", at_ms=T0 + HOUR)
    head = repo.git("-C", str(worktree), "rev-parse", "HEAD")
    insights = session_insights(ingest_home(tmp_path), Settings())
    for session_id in ("sess-main", "sess-in-worktree"):
        outcome = insights[session_id].outcome
        assert outcome.status == "committed", (session_id, outcome.reason)
        assert outcome.commits == [head]


def test_window_is_a_setting(tmp_path: Path, repo: GitRepo) -> None:
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-window")
    repo.commit(T0 + 2 * DAY, {"app.py": "v1\n"})
    ledger = ingest_home(tmp_path)
    one_day = Settings.model_validate({"insights": {"outcome_window_days": 1}})
    assert session_insights(ledger, one_day)["sess-window"].outcome.status == "uncommitted"
    assert session_insights(ledger, Settings())["sess-window"].outcome.status == "committed"


def test_no_changes_when_the_session_only_read(tmp_path: Path, repo: GitRepo) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-reader", str(repo.root))
    session.assistant(T0, tools=[("Read", {"file_path": str(repo.root / "app.py")})])
    session.write()
    repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-reader"].outcome
    assert (outcome.status, outcome.commits) == ("no-changes", [])


def test_change_calls_that_name_no_file_are_unknown_not_no_changes(
    tmp_path: Path, repo: GitRepo
) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-pathless", str(repo.root))
    session.assistant(T0, tools=[("Write", {"content": "x"})])  # no file_path logged
    session.write()
    repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-pathless"].outcome
    assert (outcome.status, outcome.commits) == ("unknown", [])
    assert "1 change call(s) named no file" in outcome.reason


def test_codex_patch_with_relative_path(tmp_path: Path, repo: GitRepo) -> None:
    rollout = CodexRollout(
        tmp_path / ".codex", "019c0000-aaaa-7000-8000-000000000001", str(repo.root), T0
    )
    rollout.apply_patch(T0 + MINUTE, ["app.py"])
    rollout.token_count(T0 + MINUTE, 5000, 1000, 300)
    rollout.write()
    sha = repo.commit(T0 + 3 * HOUR, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())[rollout.session_id].outcome
    assert (outcome.status, outcome.commits) == ("committed", [sha])


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "notes"
    plain.mkdir()
    _editing_session(tmp_path, plain, ["todo.md"], "sess-plain")
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-plain"].outcome
    assert outcome.status == "unknown"
    assert "not inside a readable git repository" in outcome.reason


def test_deleted_repository(tmp_path: Path, repo: GitRepo) -> None:
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-gone")
    ledger = ingest_home(tmp_path)
    shutil.rmtree(repo.root)
    outcome = session_insights(ledger, Settings())["sess-gone"].outcome
    assert outcome.status == "unknown" and "no longer exists" in outcome.reason


def test_shallow_clone(tmp_path: Path, repo: GitRepo) -> None:
    repo.commit(T0 - HOUR, {"app.py": "v1\n"})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True
    )
    _editing_session(tmp_path, clone, ["app.py"], "sess-shallow")
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-shallow"].outcome
    assert outcome.status == "unknown" and "shallow" in outcome.reason


def test_git_missing_is_unknown_not_an_error(
    tmp_path: Path, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-nogit")
    ledger = ingest_home(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    outcome = session_insights(ledger, Settings())["sess-nogit"].outcome
    assert outcome.status == "unknown" and "git is not installed" in outcome.reason
    # The folder is a repository; git is what is missing (it read "not inside a readable
    # git repository").
    assert outcome.reason.startswith("git could not be asked about ")
    assert "not inside a readable git repository" not in outcome.reason


def test_slow_git_is_unknown_after_the_timeout(
    tmp_path: Path, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _editing_session(tmp_path, repo.root, ["app.py"], "sess-slow")
    ledger = ingest_home(tmp_path)
    slow_bin = tmp_path / "slow-bin"
    slow_bin.mkdir()
    fake = slow_bin / "git"
    fake.write_text("#!/bin/sh\nsleep 5\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{slow_bin}:{os.environ['PATH']}")
    quick = Settings.model_validate({"insights": {"git_timeout_seconds": 0.5}})
    outcome = session_insights(ledger, quick)["sess-slow"].outcome
    assert outcome.status == "unknown"
    assert "did not answer within 0.5 s" in outcome.reason
    assert "not inside a readable git repository" not in outcome.reason


def test_outcomes_without_the_model_calls_are_the_insights_outcomes(
    tmp_path: Path, repo: GitRepo
) -> None:
    """`report repos` reads only the tool calls for its cost per commit: every kind of
    outcome must come out as `session_insights` gives it."""
    _editing_session(tmp_path, repo.root, ["app.py", "other.py"], "sess-committed")
    _editing_session(tmp_path, repo.root, ["other.py"], "sess-early")
    reader = ClaudeSession(tmp_path / ".claude", "sess-reader", str(repo.root))
    reader.assistant(T0, tools=[("Read", {"file_path": str(repo.root / "app.py")})])
    reader.write()
    pathless = ClaudeSession(tmp_path / ".claude", "sess-pathless", str(repo.root))
    pathless.assistant(T0, tools=[("Write", {"content": "x"})])
    pathless.write()
    rollout = CodexRollout(
        tmp_path / ".codex", "019c0000-aaaa-7000-8000-000000000002", str(repo.root), T0
    )
    rollout.apply_patch(T0 + MINUTE, ["app.py"])
    rollout.token_count(T0 + MINUTE, 5000, 1000, 300)
    rollout.write()
    plain = tmp_path / "notes"
    plain.mkdir()
    _editing_session(tmp_path, plain, ["todo.md"], "sess-plain")
    repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    repo.commit(T0 + 2 * HOUR, {"app.py": "v2\n"})
    ledger = ingest_home(tmp_path)

    full = {sid: insight.outcome for sid, insight in session_insights(ledger, Settings()).items()}
    only = session_outcomes_only(ledger, Settings())
    assert sorted(only) == sorted(full)
    statuses = {sid: outcome.status for sid, outcome in only.items()}
    assert statuses == {
        "sess-committed": "committed",
        "sess-early": "uncommitted",
        "sess-reader": "no-changes",
        "sess-pathless": "unknown",
        rollout.session_id: "committed",
        "sess-plain": "unknown",
    }
    for sid, outcome in only.items():
        assert (outcome.status, outcome.commits, outcome.reason) == (
            full[sid].status,
            full[sid].commits,
            full[sid].reason,
        ), sid
        if outcome.cost_per_commit_usd is None:
            assert full[sid].cost_per_commit_usd is None, sid
        else:
            assert outcome.cost_per_commit_usd > 0, sid
            assert outcome.cost_per_commit_usd == pytest.approx(full[sid].cost_per_commit_usd), sid
    # Only the sessions asked for.
    assert list(session_outcomes_only(ledger, Settings(), ["sess-reader"])) == ["sess-reader"]


def test_a_commit_of_a_file_in_a_subfolder_counts_with_windows_paths(
    tmp_path: Path, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git names committed files with "/" on every system; joined to a Windows repository
    path they never equalled the agent's `C:\\proj\\src\\app.py`: "uncommitted"."""
    import ntpath
    import types

    import shared.insights.outcomes as outcomes
    from shared.insights.activity import SessionActivity, ToolUse

    repo.commit(T0 + HOUR, {"src/app.py": "v1\n"}, "a file in a subfolder")
    edited = str(repo.root / "src" / "app.py")
    activity = SessionActivity(
        "sess-win",
        "claude-code",
        str(repo.root),
        str(repo.root),
        T0,
        T0 + MINUTE,
        tools=[ToolUse("t1", None, T0, "Edit", "h", False, [edited])],
    )
    assert outcomes.session_outcomes([activity])["sess-win"].status == "committed"
    windows_os = types.SimpleNamespace(**{name: getattr(os, name) for name in dir(os)})
    windows_os.path, windows_os.sep = ntpath, "\\"
    monkeypatch.setattr(outcomes, "os", windows_os)
    assert outcomes.session_outcomes([activity])["sess-win"].status == "committed"
