"""Outcomes of work that git moved after it was committed: rebased, amended (real git
repositories; the session's log goes through the real ingest)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.config import Settings
from shared.insights.outcomes import Outcome
from shared.insights.sessions import session_insights
from tests.insights.agent_logs import ingest_home, write_editing_session
from tests.insights.gitrepo import GitRepo

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_790_000_000_000  # 2026-09-21: the session starts here


def _stamp(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _git_dated(repo: GitRepo, *args: str, author_ms: int | None = None, committer_ms: int) -> str:
    """git run as `GitRepo.git` runs it, with the author and committer dates apart (a
    rebase or an amend sets only the committer date; the author date is the commit's)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_COMMITTER_DATE": _stamp(committer_ms),
    }
    if author_ms is not None:
        env["GIT_AUTHOR_DATE"] = _stamp(author_ms)
    done = subprocess.run(
        ["git", "-C", str(repo.root), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0 - DAY, {"app.py": "v0\n", "other.py": "v0\n"}, "initial")
    return repo


def _outcome(home: Path, session_id: str) -> Outcome:
    return session_insights(ingest_home(home), Settings())[session_id].outcome


def _rebased_on_main(repo: GitRepo, rebased_ms: int) -> str:
    """A commit of app.py on a topic branch an hour after the session started, rebased at
    `rebased_ms` onto a commit made on main meanwhile, then fast-forwarded into main and
    the branch deleted: the rebased commit's sha."""
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    repo.git("checkout", "-q", "main")
    repo.commit(T0 + 2 * HOUR, {"other.py": "v1\n"})
    repo.git("checkout", "-q", "topic")
    _git_dated(repo, "rebase", "-q", "main", committer_ms=rebased_ms)
    rebased = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "topic")
    repo.git("branch", "-q", "-D", "topic")
    return rebased


@pytest.mark.parametrize("rebased_after_days", [3, 10])
def test_work_rebased_later_counts_from_when_it_was_committed(
    tmp_path: Path, repo: GitRepo, rebased_after_days: int
) -> None:
    """The window read the committer date, which a rebase sets to the rebase's time: work
    committed an hour into the session and rebased 10 days later read `uncommitted`, and
    rebased 3 days later "the first 70.0 h after the session started"."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-rebased", T0)
    rebased = _rebased_on_main(repo, T0 + rebased_after_days * DAY)
    outcome = _outcome(tmp_path, "sess-rebased")
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [rebased]
    assert outcome.reason.endswith("the first 1.0 h after the session started")


def test_work_amended_later_counts_from_when_it_was_committed(
    tmp_path: Path, repo: GitRepo
) -> None:
    """An amend keeps the author date and sets a new committer date: a commit an hour
    into the session, amended 2 days later, read "the first 47.0 h after the session
    started"."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-amended", T0)
    repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    (repo.root / "app.py").write_text("v2\n")
    repo.git("add", "app.py")
    _git_dated(repo, "commit", "-q", "--amend", "--no-edit", committer_ms=T0 + 2 * DAY)
    amended = repo.git("rev-parse", "HEAD")
    outcome = _outcome(tmp_path, "sess-amended")
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [amended]
    assert outcome.reason.endswith("the first 1.0 h after the session started")


def test_an_author_date_set_past_the_window_reads_the_committer_date(
    tmp_path: Path, repo: GitRepo
) -> None:
    """The earlier of the two dates: a commit made an hour into the session with an author
    date set by hand 8 days ahead (`git commit --date`, a clock ahead) existed an hour in,
    so it counts from then."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-dated-ahead", T0)
    (repo.root / "app.py").write_text("v1\n")
    repo.git("add", "app.py")
    _git_dated(repo, "commit", "-q", "-m", "ahead", author_ms=T0 + 8 * DAY, committer_ms=T0 + HOUR)
    sha = repo.git("rev-parse", "HEAD")
    outcome = _outcome(tmp_path, "sess-dated-ahead")
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [sha]
    assert outcome.reason.endswith("the first 1.0 h after the session started")


def test_an_older_commit_rebased_during_the_session_is_not_its_work(
    tmp_path: Path, repo: GitRepo
) -> None:
    """A branch committed two days before the session and rebased an hour into it touches
    the session's file: its commit is not the session's (it counted by its committer
    date)."""
    write_editing_session(tmp_path, repo.root, ["app.py"], "sess-old-branch", T0)
    repo.git("checkout", "-q", "-b", "old")
    repo.commit(T0 - 2 * DAY, {"app.py": "old\n"})
    repo.git("checkout", "-q", "main")
    repo.commit(T0 - DAY + HOUR, {"other.py": "v1\n"})
    repo.git("checkout", "-q", "old")
    _git_dated(repo, "rebase", "-q", "main", committer_ms=T0 + HOUR)
    repo.git("checkout", "-q", "main")
    outcome = _outcome(tmp_path, "sess-old-branch")
    assert outcome.status == "uncommitted", outcome.reason


def test_work_of_an_agent_worktree_removed_after_its_merge_counts(
    tmp_path: Path, repo: GitRepo
) -> None:
    """Claude Code's agent worktree `.claude/worktrees/agent-3`: its commit fast-forwarded
    into main, then the worktree removed and its branch deleted (the usual end of one).
    `git worktree list` no longer names it, so the file changed under it matched no commit
    and the session read `uncommitted` (with its worktree still there it read committed);
    a session that worked in the worktree itself read "the folder … no longer exists"."""
    repo.commit(T0 - DAY, {".gitignore": ".claude/\n", "lib/o.py": "v0\n"})
    worktree = repo.root / ".claude" / "worktrees" / "agent-3"
    repo.git("worktree", "add", "-q", "-b", "wt-agent-3", str(worktree))
    write_editing_session(
        tmp_path, repo.root, [".claude/worktrees/agent-3/lib/o.py"], "sess-main", T0
    )
    write_editing_session(tmp_path, worktree, ["lib/o.py"], "sess-in-worktree", T0)
    ledger = ingest_home(tmp_path)  # while the worktree is there: it is the second's repo
    (worktree / "lib" / "o.py").write_text("v1\n")
    repo.git("-C", str(worktree), "add", "lib/o.py")
    repo.git("-C", str(worktree), "commit", "-q", "-m", "agent work", at_ms=T0 + HOUR)
    sha = repo.git("-C", str(worktree), "rev-parse", "HEAD")
    repo.git("merge", "-q", "--ff-only", "wt-agent-3")
    repo.git("worktree", "remove", str(worktree))
    repo.git("branch", "-q", "-d", "wt-agent-3")
    assert not worktree.exists()
    insights = session_insights(ledger, Settings())
    for session_id in ("sess-main", "sess-in-worktree"):
        outcome = insights[session_id].outcome
        assert outcome.status == "committed", (session_id, outcome.reason)
        assert outcome.commits == [sha]
        assert outcome.reason.endswith("the first 1.0 h after the session started")


def test_a_removed_agent_worktree_of_a_removed_repository_is_still_unknown(
    tmp_path: Path,
) -> None:
    """The pattern maps only to a folder that is still there: a session in an agent
    worktree of a repository deleted since reads that its folder no longer exists."""
    repo = GitRepo(tmp_path / "gone")
    repo.commit(T0 - DAY, {"app.py": "v0\n"})
    worktree = repo.root / ".claude" / "worktrees" / "agent-1"
    repo.git("worktree", "add", "-q", "-b", "wt-agent-1", str(worktree))
    write_editing_session(tmp_path, worktree, ["app.py"], "sess-gone", T0)
    ledger = ingest_home(tmp_path)
    shutil.rmtree(repo.root)
    outcome = session_insights(ledger, Settings())["sess-gone"].outcome
    assert outcome.status == "unknown"
    assert outcome.reason == f"the folder {worktree} no longer exists"
