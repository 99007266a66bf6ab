"""Runaway-flag rules at their edges: calls that cost nothing by rule do not split a
stretch, a cache rewrite must write more than it reads, and a flag that grows keeps the
identity a front end alerts on once."""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings
from shared.ingest import ingest
from shared.insights.flags import new_flags
from shared.insights.sessions import SessionInsight, session_insights
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import ClaudeSession

MINUTE = 60_000
T0 = 1_790_000_000_000
CWD = "/home/dev/shop"


def _insights(home: Path) -> dict[str, SessionInsight]:
    ledger = open_ledger(home / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, home / ".claude" / "projects")])
    return session_insights(ledger, Settings(), with_outcomes=False)


def test_a_synthetic_reply_does_not_split_a_bloat_stretch(tmp_path: Path) -> None:
    """A `<synthetic>` reply (free, no tokens) between two halves of a bloated stretch is
    not a call of the main thread: the ten big-prompt calls still make one stretch."""
    session = ClaudeSession(tmp_path / ".claude", "sess-bloat", CWD)
    for k in range(10):
        if k == 5:
            session.assistant(
                T0 + k * MINUTE - 30_000,
                model="<synthetic>",
                input_tokens=0,
                output_tokens=0,
            )
        tools = [("Read", {"file_path": f"{CWD}/f{k}.py"})]
        session.assistant(T0 + k * MINUTE, cache_read=150_000 + k * 2_000, tools=tools)
    session.write()
    insight = _insights(tmp_path)["sess-bloat"]
    assert [flag.kind for flag in insight.flags] == ["context-bloat"]
    assert insight.flags[0].evidence.startswith("10 calls in a row sent 150,000+")


def test_a_call_writing_as_much_as_it_reads_is_no_cache_rewrite(tmp_path: Path) -> None:
    """Cache churn counts calls that write more of the cache than they read: calls writing
    exactly as many tokens as they read are not rewrites, however many there are."""
    session = ClaudeSession(tmp_path / ".claude", "sess-even", CWD)
    for k in range(4):
        session.assistant(T0 + k * MINUTE, cache_write=80_000, cache_read=80_000)
    session.write()
    assert _insights(tmp_path)["sess-even"].flags == []

    more = ClaudeSession(tmp_path / ".claude", "sess-more", CWD)
    for k in range(4):
        more.assistant(T0 + k * MINUTE, cache_write=80_001, cache_read=80_000)
    more.write()
    assert [flag.kind for flag in _insights(tmp_path)["sess-more"].flags] == ["cache-churn"]


def test_a_loop_that_keeps_failing_is_not_new_again(tmp_path: Path) -> None:
    """A loop flag is known by its kind and start: when the same failing stretch grows
    (its end moves later), `new_flags` does not report it a second time."""
    session = ClaudeSession(tmp_path / ".claude", "sess-live", CWD)
    ts = T0
    for _ in range(5):
        ids = session.assistant(ts, tools=[("Bash", {"command": "make"})])
        session.tool_results(ts + 1000, ids, is_error=True)
        ts += MINUTE
    session.write()
    first = {sid: insight.flags for sid, insight in _insights(tmp_path).items()}
    (flag,) = first["sess-live"]

    for _ in range(3):
        ids = session.assistant(ts, tools=[("Bash", {"command": "make"})])
        session.tool_results(ts + 1000, ids, is_error=True)
        ts += MINUTE
    session.write()
    later = {sid: insight.flags for sid, insight in _insights(tmp_path).items()}
    (grown,) = later["sess-live"]
    assert grown.started_at == flag.started_at
    assert grown.ended_at > flag.ended_at
    assert new_flags(first, later) == []
