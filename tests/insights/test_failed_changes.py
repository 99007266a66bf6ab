"""A change call that failed changed nothing: a session whose Edits all failed, or whose
patches Codex all refused, made no changes (it read `uncommitted`, its files never
committed); an edit that worked beside failed ones still counts."""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings
from shared.insights.sessions import session_insights
from tests.insights.agent_logs import ClaudeSession, CodexRollout, ingest_home
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
T0 = 1_790_000_000_000


def _repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0 - 24 * 60 * MINUTE, {"app.js": "v0\n", "other.js": "v0\n"}, "initial")
    return repo


def test_a_session_whose_edits_all_failed_made_no_changes(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    failed = ClaudeSession(tmp_path / ".claude", "sess-failed-edits", str(repo.root))
    edit = {"file_path": str(repo.root / "app.js"), "old_string": "foo()", "new_string": "x"}
    for k in range(5):
        ids = failed.assistant(T0 + k * MINUTE, tools=[("Edit", edit)])
        failed.tool_results(T0 + k * MINUTE + 1000, ids, is_error=True)
    failed.write()
    # One edit of another file worked among failed ones: that file changed, app.js did not.
    mixed = ClaudeSession(tmp_path / ".claude", "sess-one-worked", str(repo.root))
    ids = mixed.assistant(T0, tools=[("Edit", edit)])
    mixed.tool_results(T0 + 1000, ids, is_error=True)
    other = {"file_path": str(repo.root / "other.js"), "old_string": "v0", "new_string": "v1"}
    ids = mixed.assistant(T0 + MINUTE, tools=[("Write", other)])
    mixed.tool_results(T0 + MINUTE + 1000, ids)
    mixed.write()
    repo.commit(T0 + 60 * MINUTE, {"app.js": "v1\n"}, "someone else's change to app.js")

    insights = session_insights(ingest_home(tmp_path), Settings())
    assert insights["sess-failed-edits"].outcome.status == "no-changes"
    # Said as what it was, beside its flag "Edit on app.js failed 5 times in a row": not "the
    # session made no file changes (no Edit, Write or patch)".
    assert insights["sess-failed-edits"].outcome.reason == (
        "its 5 change call(s) all failed (error results or refused patches), so nothing was changed"
    )
    outcome = insights["sess-one-worked"].outcome
    assert outcome.status == "uncommitted"
    assert "1 changed file" in outcome.reason


def test_a_codex_session_whose_patches_were_all_refused_made_no_changes(
    tmp_path: Path,
) -> None:
    """Five identical patches Codex refused ("apply_patch verification failed"): five
    failed calls, a loop, and no change (it read `uncommitted | 1 changed file(s)`)."""
    repo = _repo(tmp_path)
    rollout = CodexRollout(
        tmp_path / ".codex", "019c0000-aaaa-7000-8000-000000000010", str(repo.root), T0
    )
    refusal = (
        f"apply_patch verification failed: Failed to find expected lines in "
        f"{repo.root / 'app.js'}:\nold line"
    )
    for k in range(5):
        rollout.apply_patch(T0 + k * MINUTE, ["app.js"], output=refusal)
        rollout.token_count(T0 + k * MINUTE + 2000, 10_000, 0, 300)
    rollout.write()
    ledger = ingest_home(tmp_path)
    errors = ledger.conn.execute("SELECT count(*) FROM tool_errors").fetchone()[0]
    assert errors == 5
    insight = session_insights(ledger, Settings())[rollout.session_id]
    assert insight.outcome.status == "no-changes"
    assert [flag.kind for flag in insight.flags] == ["loop"]
    assert "apply_patch on app.js failed 5 times in a row" in insight.flags[0].evidence
