"""The running sessions of a tray snapshot are read without a pass over their calls: the
cost and unpriced count of a 20,000-call session were summed from all its calls at every
refresh (70 ms, several % of a core while it ran). Same figures as a full sum; the work
(SQLite's VM steps, no clock) does not grow with the session's length."""

from __future__ import annotations

from pathlib import Path

from shared.ingest import ingest
from shared.ledger import Ledger
from shared.sources.roots import claude_roots
from tests.tray.history import append_call, ingested_ledger
from tray_app.snapshot import running_sessions

CWD = "/home/dev/src/burnmeter"
UNPRICED_MODEL = "odd-model-x"  # no price anywhere: its calls are unpriced


def calls(
    home: Path, session_id: str, now_ms: int, count: int, *, model: str, first: int = 0
) -> None:
    for n in range(first, first + count):
        append_call(
            home,
            session_id,
            CWD,
            now_ms - 300_000 + n,
            n,
            model=model,
            input_tokens=1000 + n,
            cache_read=3 * n,
        )


def full_sum(ledger: Ledger, session_id: str) -> tuple[float, int]:
    cost, unpriced = ledger.conn.execute(
        "SELECT sum(coalesce(cost_usd, 0)), sum(1 - priced) FROM usage_events WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    return float(cost), int(unpriced)


def test_cost_and_unpriced_calls_are_those_of_all_the_sessions_calls(
    isolated_home: Path, now_ms: int
) -> None:
    """A running session with priced and unpriced calls: its cost and unpriced count are
    the sums over all its calls, whether the ledger holds fewer unpriced calls than the
    session has calls or more (another, older session of unpriced calls)."""
    calls(isolated_home, "mixed", now_ms, 120, model="claude-sonnet-4-5")
    calls(isolated_home, "mixed", now_ms, 7, model=UNPRICED_MODEL, first=120)
    ledger = ingested_ledger()
    try:
        (running,) = running_sessions(ledger, now_ms)
        cost, unpriced = full_sum(ledger, "mixed")
        assert unpriced == 7
        assert abs(running.cost_usd - cost) < 1e-9
        assert running.unpriced_calls == 7

        for n in range(300):
            append_call(
                isolated_home,
                "old-odd",
                "/home/dev/old",
                now_ms - 86_400_000 + n,
                n,
                model=UNPRICED_MODEL,
            )
        ingest(ledger, claude_roots())
        (running,) = running_sessions(ledger, now_ms)
        assert running.unpriced_calls == 7
        assert abs(running.cost_usd - cost) < 1e-9
    finally:
        ledger.close()


def vm_steps(ledger: Ledger, now_ms: int) -> int:
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    ledger.conn.set_progress_handler(count, 100)
    try:
        running_sessions(ledger, now_ms)
    finally:
        ledger.conn.set_progress_handler(None, 0)
    return steps


def test_reading_a_running_session_does_not_grow_with_its_length(
    isolated_home: Path, now_ms: int
) -> None:
    """The same running session with 40 calls and then with 2,040 (the older ones a day
    back, outside the running window): reading it costs about the same (before: 13 and
    455 hundreds of VM steps, every call of the session and of the ledger read)."""
    calls(isolated_home, "long", now_ms, 40, model="claude-sonnet-4-5")
    calls(isolated_home, "odd", now_ms, 2, model=UNPRICED_MODEL)
    ledger = ingested_ledger()
    try:
        short = vm_steps(ledger, now_ms)
        for n in range(40, 2040):
            append_call(
                isolated_home, "long", CWD, now_ms - 86_400_000 + n, n, model="claude-sonnet-4-5"
            )
        ingest(ledger, claude_roots())
        long = vm_steps(ledger, now_ms)
        assert long < 2 * short + 20, (short, long)
        figures = {s.session_id: s for s in running_sessions(ledger, now_ms)}
        assert abs(figures["long"].cost_usd - full_sum(ledger, "long")[0]) < 1e-9
        assert figures["odd"].unpriced_calls == 2
    finally:
        ledger.close()
