"""`report sessions` and `report repos` over many sessions take shorter paths than the
plain reports (fewer reads, other query plans): each must give exactly what the plain
path gives, on real ledgers and real git repositories."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.insights.reporting import add_commit_costs, commit_costs, repo_key
from shared.insights.sessions import session_outcomes_only
from shared.ledger import Ledger
from shared.reports import Filters, repos_report, session_costs, sessions_report
from tests.insights.agent_logs import ClaudeSession, CodexRollout, ingest_home
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_790_000_000_000  # 2026-09-21 14:13:20 UTC
MODELS = ("claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")


def _history(tmp_path: Path) -> Ledger:
    """Sessions over three days in two repositories and a plain folder: several models
    each, edits, failing commands, commits after some of them, two sessions whose last
    calls fall in the same millisecond, a Codex rollout, and a session the ledger lists
    no folder for."""
    shop = GitRepo(tmp_path / "shop")
    api = GitRepo(tmp_path / "api")
    for repo in (shop, api):
        repo.commit(T0 - DAY, {"app.py": "v0\n", "lib.py": "v0\n"}, "initial")
    plain = tmp_path / "notes"
    plain.mkdir()
    claude = tmp_path / ".claude"
    folders: list[Path] = [shop.root, api.root, plain]
    for n in range(12):
        cwd = folders[n % 3]
        start = T0 + n * 6 * HOUR
        session = ClaudeSession(claude, f"sess-{n:02d}", str(cwd))
        for k in range(4 + n % 3):
            at = start + k * MINUTE
            model = MODELS[(n + k) % 3]
            if k % 3 == 1:
                name = ("app.py", "lib.py")[n % 2]
                session.assistant(
                    at, model, cache_write=20_000, tools=[("Edit", {"file_path": str(cwd / name)})]
                )
            elif k % 3 == 2:
                ids = session.assistant(at, model, tools=[("Bash", {"command": "pytest"})])
                session.tool_results(at + 500, ids, is_error=n % 2 == 0)
            else:
                session.assistant(
                    at,
                    model,
                    cache_read=50_000,
                    tools=[("Read", {"file_path": str(cwd / "lib.py")})],
                )
        session.write()
    # The same last millisecond: the rows keep the order of their ids.
    for sid in ("sess-tie-b", "sess-tie-a"):
        tie = ClaudeSession(claude, sid, str(shop.root))
        tie.assistant(T0 + DAY, tools=[("Edit", {"file_path": str(shop.root / "lib.py")})])
        tie.write()
    rollout = CodexRollout(
        tmp_path / ".codex", "019c0000-aaaa-7000-8000-000000000009", str(api.root), T0 + HOUR
    )
    rollout.apply_patch(T0 + HOUR + MINUTE, ["app.py"])
    rollout.token_count(T0 + HOUR + MINUTE, 5000, 1000, 300)
    rollout.write()
    unlisted = ClaudeSession(claude, "sess-unlisted", str(api.root))
    unlisted.assistant(T0 + 2 * HOUR, tools=[("Edit", {"file_path": str(api.root / "lib.py")})])
    unlisted.write()
    for k, repo in enumerate((shop, api, shop, api)):
        repo.commit(T0 + (k * 12 + 1) * HOUR, {"app.py": f"v{k + 1}\n", "lib.py": f"w{k}\n"})
    ledger = ingest_home(tmp_path)
    ledger.conn.execute("DELETE FROM sessions WHERE session_id = 'sess-unlisted'")
    ledger.conn.commit()
    return ledger


RANGES = [
    Filters(),
    Filters(since=date(2026, 9, 22), tz=ZoneInfo("UTC")),
    Filters(until=date(2026, 9, 22), tz=ZoneInfo("Asia/Tokyo")),
    Filters(agent="codex"),
]


@pytest.mark.parametrize("filters", RANGES)
def test_session_costs_are_the_sessions_reports_rows(tmp_path: Path, filters: Filters) -> None:
    ledger = _history(tmp_path)
    rows = sessions_report(ledger, filters)["sessions"]
    assert rows  # every range holds sessions
    expected = [
        {key: row[key] for key in ("session_id", "repo", "project_path", "cost_usd")}
        for row in rows
    ]
    assert session_costs(ledger, filters) == expected


def test_ties_and_unlisted_sessions_are_in_the_sessions_report(tmp_path: Path) -> None:
    """What the test above compares: sessions sharing a last millisecond, and one with no
    folder in the ledger."""
    ledger = _history(tmp_path)
    rows = sessions_report(ledger, Filters())["sessions"]
    order = [row["session_id"] for row in rows]
    assert order.index("sess-tie-a") + 1 == order.index("sess-tie-b")
    unlisted = next(row for row in rows if row["session_id"] == "sess-unlisted")
    assert (unlisted["repo"], unlisted["project_path"]) == (None, "")


@pytest.mark.parametrize("filters", RANGES)
def test_cost_per_commit_is_that_of_the_whole_sessions_report(
    tmp_path: Path, filters: Filters
) -> None:
    """`report repos` splits each repository's cost over its commits from the sessions'
    costs alone: what it gave when it built a whole sessions report for them."""
    ledger = _history(tmp_path)
    report = repos_report(ledger, filters)
    add_commit_costs(report, ledger, Settings(), filters)
    sessions = sessions_report(ledger, filters)["sessions"]
    outcomes = session_outcomes_only(ledger, Settings(), [row["session_id"] for row in sessions])
    per_repo = commit_costs(sessions, outcomes, repo_key)
    for row in report["repos"]:
        expected = per_repo[row["repo"]].as_json()
        assert {key: row[key] for key in expected} == expected
    if filters.agent is None and filters.since is None:
        assert sum(row["commits"] for row in report["repos"]) >= 2


def test_insights_outcomes_are_those_read_on_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`session_insights` takes each batch's outcomes from the activities it loads for the
    insights, not from a second read of their change tools: the same outcomes as
    `session_outcomes_only` gives for the same batch, and none for a session the ledger
    lists no folder for, as before."""
    from shared.insights import sessions as sessions_module

    ledger = _history(tmp_path)
    ids = [row["session_id"] for row in sessions_report(ledger, Filters())["sessions"]]
    monkeypatch.setattr(sessions_module, "INSIGHT_BATCH", 5)
    monkeypatch.setattr(sessions_module, "BATCH_CALLS", 3)
    insights = sessions_module.session_insights(ledger, Settings(), ids)
    assert sorted(insights) == sorted(ids)
    for start in range(0, len(ids), 5):
        batch = ids[start : start + 5]
        alone = session_outcomes_only(ledger, Settings(), batch)
        for session_id in batch:
            if session_id == "sess-unlisted":
                assert session_id not in alone
                assert insights[session_id].outcome.reason == (
                    "outcomes were not computed for this view"
                )
            else:
                assert insights[session_id].outcome == alone[session_id], session_id
    statuses = {insight.outcome.status for insight in insights.values()}
    assert {"committed", "uncommitted", "unknown"} <= statuses
