"""Outcomes of files changed in a submodule's checkout: their repository is the submodule,
not the superproject the session worked in (real git repositories; the session's log goes
through the real ingest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.config import Settings
from shared.insights.outcomes import Outcome
from shared.insights.sessions import session_insights
from tests.insights.agent_logs import ingest_home, write_editing_session
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_790_000_000_000  # 2026-09-21: the session starts here


@pytest.fixture
def origin(tmp_path: Path) -> GitRepo:
    origin = GitRepo(tmp_path / "lib-origin")
    origin.commit(T0 - 2 * DAY, {"util.py": "v0\n"}, "initial")
    return origin


def _superproject(tmp_path: Path, origin: GitRepo, *clone: str) -> GitRepo:
    """`eps` with `main.py` and the submodule `lib` (a checkout of `origin`)."""
    eps = GitRepo(tmp_path / "eps")
    eps.commit(T0 - 2 * DAY, {"main.py": "v0\n"}, "initial")
    eps.git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        *clone,
        f"file://{origin.root}",
        "lib",
    )
    eps.git("commit", "-q", "-m", "add lib", at_ms=T0 - DAY)
    return eps


def _commit_in_lib(eps: GitRepo, at_ms: int, text: str) -> str:
    """A commit of `lib/util.py` in the submodule, and the superproject's pointer moved to
    it five minutes later: the submodule's commit."""
    (eps.root / "lib" / "util.py").write_text(text)
    eps.git("-C", "lib", "add", "util.py")
    eps.git("-C", "lib", "commit", "-q", "-m", "lib work", at_ms=at_ms)
    sha = eps.git("-C", "lib", "rev-parse", "HEAD")
    eps.git("add", "lib")
    eps.git("commit", "-q", "-m", "bump lib", at_ms=at_ms + 5 * MINUTE)
    return sha


def _outcome(home: Path, session_id: str) -> Outcome:
    return session_insights(ingest_home(home), Settings())[session_id].outcome


def test_a_file_in_a_submodule_counts_by_the_submodules_commits(
    tmp_path: Path, origin: GitRepo
) -> None:
    """A session in the superproject edits `lib/util.py` in the submodule's checkout; the
    commit is made in the submodule and the superproject's pointer bumped. The
    superproject's log names only `lib`, so the session read `uncommitted`."""
    eps = _superproject(tmp_path, origin)
    write_editing_session(tmp_path, eps.root, ["lib/util.py"], "sess-submodule", T0)
    sha = _commit_in_lib(eps, T0 + HOUR, "v1\n")
    outcome = _outcome(tmp_path, "sess-submodule")
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [sha]
    assert outcome.reason == (
        "1 of 1 changed file(s) committed in 1 commit(s), the first 1.0 h after the session started"
    )


def test_a_commit_on_the_submodules_detached_head_counts(tmp_path: Path, origin: GitRepo) -> None:
    """`git submodule update` leaves the checkout on a detached HEAD: a commit made there
    reaches no branch of the submodule's, only the superproject's pointer."""
    eps = _superproject(tmp_path, origin)
    eps.git("-C", "lib", "checkout", "-q", "--detach")
    write_editing_session(tmp_path, eps.root, ["lib/util.py"], "sess-detached", T0)
    sha = _commit_in_lib(eps, T0 + HOUR, "v1\n")
    assert eps.git("-C", "lib", "for-each-ref", "--contains", sha, "refs/heads") == ""
    outcome = _outcome(tmp_path, "sess-detached")
    assert outcome.status == "committed", outcome.reason
    assert outcome.commits == [sha]


def test_a_session_working_in_the_submodule_on_its_detached_head_counts(
    tmp_path: Path, origin: GitRepo
) -> None:
    """A session whose own folder is the submodule's checkout (on the detached HEAD that
    `git submodule update` leaves): its repository's history was read on its branches only,
    so a commit made there read `uncommitted` while a session in the superproject that
    changed the same file read `committed`."""
    eps = _superproject(tmp_path, origin)
    eps.git("-C", "lib", "checkout", "-q", "--detach")
    write_editing_session(tmp_path, eps.root / "lib", ["util.py"], "sess-in-lib", T0)
    write_editing_session(tmp_path, eps.root, ["lib/util.py"], "sess-in-eps", T0)
    sha = _commit_in_lib(eps, T0 + HOUR, "v1\n")
    insights = session_insights(ingest_home(tmp_path), Settings())
    for session in ("sess-in-lib", "sess-in-eps"):
        outcome = insights[session].outcome
        assert outcome.status == "committed", (session, outcome.reason)
        assert outcome.commits == [sha]


def test_files_in_the_superproject_and_its_submodule_count_together(
    tmp_path: Path, origin: GitRepo
) -> None:
    """The commits of both repositories, oldest first; a file of each changed, neither
    committed, reads uncommitted with both counted."""
    eps = _superproject(tmp_path, origin)
    write_editing_session(tmp_path, eps.root, ["main.py", "lib/util.py"], "sess-both", T0)
    write_editing_session(tmp_path, eps.root, ["main.py", "lib/util.py"], "sess-earlier", T0 - DAY)
    in_lib = _commit_in_lib(eps, T0 + 2 * HOUR, "v1\n")
    in_eps = eps.commit(T0 + HOUR, {"main.py": "v1\n"})
    insights = session_insights(ingest_home(tmp_path), Settings())
    both = insights["sess-both"].outcome
    assert both.status == "committed", both.reason
    assert both.commits == [in_eps, in_lib]
    assert both.reason.startswith(
        "2 of 2 changed file(s) committed in 2 commit(s), the first 1.0 h"
    )
    assert both.cost_per_commit_usd == pytest.approx(insights["sess-both"].cost_usd / 2)
    # A day's window: the earlier session's closed before these commits.
    one_day = Settings.model_validate({"insights": {"outcome_window_days": 1}})
    early = session_insights(ingest_home(tmp_path), one_day)["sess-earlier"].outcome
    assert early.status == "uncommitted", early.reason
    assert early.reason.startswith("2 changed file(s), no commit")


def test_a_shallow_submodule_is_unknown_and_named(tmp_path: Path, origin: GitRepo) -> None:
    """A submodule cloned shallow (`--depth 1`) cannot say that nothing was committed: the
    outcome is unknown, and the reason names the submodule's folder."""
    origin.commit(T0 - 2 * DAY + HOUR, {"util.py": "v0.1\n"})
    eps = _superproject(tmp_path, origin, "--depth", "1")
    write_editing_session(tmp_path, eps.root, ["lib/util.py"], "sess-shallow", T0)
    outcome = _outcome(tmp_path, "sess-shallow")
    assert outcome.status == "unknown", outcome.reason
    lib = os.path.realpath(eps.root / "lib")
    assert outcome.reason == f"{lib} is a shallow clone, so its history may be incomplete"
