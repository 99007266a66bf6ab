"""Insights load their sessions' calls a batch at a time, bounded by model calls as well
as by sessions, so a week of heavy use does not become one big heap of objects; the
batches change nothing in the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Settings
from shared.insights import sessions as sessions_module
from shared.insights.activity import SessionActivity
from shared.insights.sessions import session_insights
from shared.ledger import Ledger
from tests.insights.agent_logs import ClaudeSession, ingest_home

MINUTE = 60_000
T0 = 1_790_000_000_000
CALLS = {"sess-a": 3, "sess-b": 4, "sess-c": 9, "sess-d": 1, "sess-e": 2}


def _home(home: Path) -> Ledger:
    for n, (session_id, calls) in enumerate(CALLS.items()):
        session = ClaudeSession(home / ".claude", session_id, f"/home/dev/repo{n}")
        for k in range(calls):
            # Grep on a frontier model: the sessions get hints, so the batches carry them.
            session.assistant(
                T0 + k * MINUTE,
                "claude-opus-4-5-20251101",
                input_tokens=1_000,
                output_tokens=60_000,
                cache_read=100_000,
                tools=[("Grep", {"pattern": "TODO"})],
            )
        session.write()
    return ingest_home(home)


def test_batches_are_bounded_by_calls_and_give_the_same_insights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _home(tmp_path)
    whole = session_insights(ledger, Settings(), list(CALLS), with_outcomes=False)
    assert sorted(whole) == sorted(CALLS)
    assert all(insight.hint is not None for insight in whole.values())

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


def test_batches_are_bounded_by_sessions_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _home(tmp_path)
    monkeypatch.setattr(sessions_module, "INSIGHT_BATCH", 2)
    batches = [list(batch) for batch in sessions_module._batches(ledger, list(CALLS))]
    assert batches == [["sess-a", "sess-b"], ["sess-c", "sess-d"], ["sess-e"]]
