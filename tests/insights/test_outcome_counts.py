"""A committed outcome counts the session's changed files that its commits touched, out
of all the files it changed inside the repository."""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings
from shared.insights.sessions import session_insights
from tests.insights.agent_logs import ingest_home, write_editing_session
from tests.insights.gitrepo import GitRepo

HOUR = 3_600_000
T0 = 1_790_000_000_000  # 2026-09-21: the session starts here


def test_a_partial_commit_counts_only_the_files_it_touched(tmp_path: Path) -> None:
    """The session changed two files and the one commit in its window touched one of
    them: the reason says "1 of 2", not "2 of 2"."""
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0 - 24 * HOUR, {"app.py": "v0\n", "other.py": "v0\n"}, "initial")
    write_editing_session(tmp_path, repo.root, ["app.py", "other.py"], "sess-partial", T0)
    repo.commit(T0 + HOUR, {"app.py": "v1\n"})
    outcome = session_insights(ingest_home(tmp_path), Settings())["sess-partial"].outcome
    assert outcome.status == "committed"
    assert "1 of 2 changed file(s) committed in 1 commit(s)" in outcome.reason
