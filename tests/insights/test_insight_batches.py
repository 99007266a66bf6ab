"""Insights load their sessions' calls a batch at a time, bounded by model calls as well
as by sessions, so a week of heavy use does not become one big heap of objects; the
batches change nothing in the result."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from shared.config import Settings
from shared.insights import sessions as sessions_module
from shared.insights.activity import SessionActivity
from shared.insights.sessions import Outcome, session_insights
from shared.ledger import Ledger
from tests.insights.agent_logs import ClaudeSession, ingest_home
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
HOUR = 60 * MINUTE
T0 = 1_790_000_000_000
CALLS = {"sess-a": 3, "sess-b": 4, "sess-c": 9, "sess-d": 1, "sess-e": 2}


def _home(home: Path) -> Ledger:
    """Five sessions in one git repository, each exploring on a frontier model and then
    editing a file of its own; the first three sessions' files are committed."""
    repo = GitRepo(home / "shop")
    for n, (session_id, calls) in enumerate(CALLS.items()):
        session = ClaudeSession(home / ".claude", session_id, str(repo.root))
        for k in range(calls):
            tool = (
                ("Edit", {"file_path": str(repo.root / f"{session_id}.py")})
                if k == calls - 1
                else ("Grep", {"pattern": "TODO"})
            )
            session.assistant(
                T0 + n * HOUR + k * MINUTE,
                "claude-opus-4-5-20251101",
                input_tokens=1_000,
                output_tokens=60_000,
                cache_read=100_000,
                tools=[tool],
            )
        session.write()
    repo.commit(T0 + 6 * HOUR, {f"{sid}.py": "done" for sid in ("sess-a", "sess-b", "sess-c")})
    return ingest_home(home)


def test_batches_are_bounded_by_calls_and_give_the_same_insights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _home(tmp_path)
    whole = session_insights(ledger, Settings(), list(CALLS), with_outcomes=False)
    assert sorted(whole) == sorted(CALLS)
    assert whole["sess-c"].hint is not None  # the batches carry hints

    batches: list[list[str]] = []
    load = sessions_module.load_activity

    def recording(ledger: Ledger, batch: list[str]) -> dict[str, SessionActivity]:
        batches.append(list(batch))
        return load(ledger, batch)

    monkeypatch.setattr(sessions_module, "load_activity", recording)
    monkeypatch.setattr(sessions_module, "BATCH_CALLS", 7)
    batched = session_insights(ledger, Settings(), list(CALLS), with_outcomes=False)

    # In order; a batch stops before the session that would take it past 7 calls, and a
    # session with more calls than that (sess-c, 9) is a batch of its own.
    assert batches == [["sess-a", "sess-b"], ["sess-c"], ["sess-d", "sess-e"]]
    assert batched == whole


def test_outcomes_are_read_per_batch_of_sessions_not_per_batch_of_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch of outcomes asks git once per repository: cutting the calls finer must
    not ask git more often."""
    ledger = _home(tmp_path)
    whole = session_insights(ledger, Settings(), list(CALLS))
    asked: list[list[str]] = []
    outcomes_of = sessions_module.session_outcomes

    def recording(
        activities: Iterable[SessionActivity], window_days: int, timeout: float
    ) -> dict[str, Outcome]:
        activities = list(activities)
        asked.append([activity.session_id for activity in activities])
        return outcomes_of(activities, window_days, timeout)

    monkeypatch.setattr(sessions_module, "session_outcomes", recording)
    monkeypatch.setattr(sessions_module, "BATCH_CALLS", 1)
    monkeypatch.setattr(sessions_module, "INSIGHT_BATCH", 3)
    batched = session_insights(ledger, Settings(), list(CALLS))
    assert asked == [["sess-a", "sess-b", "sess-c"], ["sess-d", "sess-e"]]
    assert batched == whole
    statuses = {sid: insight.outcome.status for sid, insight in batched.items()}
    assert statuses == {
        "sess-a": "committed",
        "sess-b": "committed",
        "sess-c": "committed",
        "sess-d": "uncommitted",
        "sess-e": "uncommitted",
    }
