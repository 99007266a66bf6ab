"""The running sessions' runaway flags are kept between refreshes (`tray_app.flag_cache`):
an unchanged session is not computed again, a small one that changed is computed at once,
and a big one (whose flags cost tenths of a second of CPU) at most every so often, yet a
runaway loop in it is still flagged and alerted within the promised delay. On a real
ledger built from log files; the clocks are injected, nothing sleeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.config import Insights, Settings
from shared.ingest import ingest
from shared.insights import sessions
from shared.ledger import Ledger
from shared.sources.roots import claude_roots
from tests.tray.history import (
    append_call,
    append_failing_loop,
    ingested_ledger,
    write_session,
)
from tray_app import flag_cache
from tray_app.crossings import alerts_for
from tray_app.flag_cache import MAX_WAIT_S, FlagCache
from tray_app.snapshot import TraySnapshot, snapshot_from_ledger, with_extras

CWD = "/home/dev/src/burnmeter"
SESSION = "long-session"
UTC = ZoneInfo("UTC")
# The promise: a runaway loop in a running session is flagged within this long of its lines.
PROMISED_S = 30.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def insight_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The session ids of every `session_insights` call the tray makes."""
    calls: list[list[str]] = []
    real = sessions.session_insights

    def counting(
        ledger: Ledger, settings: Settings, session_ids: list[str] | None = None, **kwargs: Any
    ) -> dict[str, sessions.SessionInsight]:
        calls.append(list(session_ids or []))
        return real(ledger, settings, session_ids, **kwargs)

    monkeypatch.setattr(sessions, "session_insights", counting)
    return calls


def costing(monkeypatch: pytest.MonkeyPatch, cpu: FakeClock, seconds: float) -> None:
    """Each computation of the flags takes `seconds` of CPU on `cpu` (as a session of tens
    of thousands of calls does)."""
    real = sessions.session_insights

    def slow(*args: Any, **kwargs: Any) -> Any:
        cpu.now += seconds
        return real(*args, **kwargs)

    monkeypatch.setattr(sessions, "session_insights", slow)


def running_session(home: Path, now_ms: int, calls: int = 30) -> Path:
    return write_session(
        home / ".claude" / "projects",
        session_id=SESSION,
        cwd=CWD,
        start_ms=now_ms - calls * 20_000 - 120_000,  # the last call 2 min ago
        calls=calls,
        model="claude-opus-4-5",
        step_ms=20_000,
    )


def snapshot(ledger: Ledger, now_ms: int, cache: FlagCache | None = None) -> TraySnapshot:
    """One refresh of the tray: the cheap part, then the extras (block, limits, flags)."""
    settings = Settings()
    snap = snapshot_from_ledger(ledger, settings, UTC, now_ms)
    if cache is None:  # the cache the tray uses: the ledger file's
        return with_extras(ledger, settings, snap)
    return with_extras(ledger, settings, snap, cache)


def read_new_lines(ledger: Ledger) -> None:
    ingest(ledger, claude_roots())


def test_a_second_refresh_of_an_unchanged_session_does_not_compute_its_flags(
    isolated_home: Path, now_ms: int, insight_calls: list[list[str]]
) -> None:
    """The tray refreshes after every ingest and at least every 30 s: a running session
    with no new line keeps its flags (the insight function ran once), and one new line of
    a small session makes the next refresh compute them again."""
    path = running_session(isolated_home, now_ms)
    append_failing_loop(path, session_id=SESSION, cwd=CWD, start_ms=now_ms - 60_000)
    ledger = ingested_ledger()
    try:
        first = snapshot(ledger, now_ms)
        assert [s.session_id for s in first.running] == [SESSION]
        assert [f.kind for f in first.flags[SESSION]] == ["loop"]
        assert insight_calls == [[SESSION]]

        second = snapshot(ledger, now_ms + 1_000)
        assert insight_calls == [[SESSION]]
        assert second.flags == first.flags

        append_call(isolated_home, SESSION, CWD, now_ms + 500, 999)
        read_new_lines(ledger)
        snapshot(ledger, now_ms + 2_000)
        assert insight_calls == [[SESSION], [SESSION]]
    finally:
        ledger.close()


def test_a_small_session_turning_runaway_is_flagged_at_the_next_refresh(
    isolated_home: Path, now_ms: int
) -> None:
    """A session whose flags cost little (real clocks, a few dozen calls) is computed again
    at every change, as before the cache: the loop is flagged by the refresh after its
    lines were read, however soon it comes."""
    path = running_session(isolated_home, now_ms)
    ledger = ingested_ledger()
    try:
        cache = FlagCache()
        assert snapshot(ledger, now_ms, cache).flags == {}
        append_failing_loop(path, session_id=SESSION, cwd=CWD, start_ms=now_ms - 60_000)
        read_new_lines(ledger)
        snap = snapshot(ledger, now_ms, cache)
        assert [f.kind for f in snap.flags[SESSION]] == ["loop"]
    finally:
        ledger.close()


def refreshes_until_flagged(
    ledger: Ledger, now_ms: int, cache: FlagCache, clock: FakeClock, step_s: float
) -> float:
    """Refresh every `step_s` (a new line a second, or the tray's 30 s tick) until the
    session is flagged; the seconds that took."""
    start = clock.now
    while clock.now - start <= 120:
        if snapshot(ledger, now_ms, cache).flags.get(SESSION):
            return clock.now - start
        clock.now += step_s
    raise AssertionError("never flagged")


@pytest.mark.parametrize("cost_s", [0.6, 5.0])
def test_a_big_session_is_computed_within_its_budget_and_flagged_within_the_promise(
    isolated_home: Path, now_ms: int, monkeypatch: pytest.MonkeyPatch, cost_s: float
) -> None:
    """A session whose flags cost 0.6 s of CPU (20,000 calls) gets a new line every second:
    its flags are not computed at each of them (at most ~2.5 % of a core), and once it turns
    into a runaway loop it is flagged, and alerted, within 30 s. One whose flags cost 5 s
    waits no longer than MAX_WAIT_S either."""
    path = running_session(isolated_home, now_ms)
    ledger = ingested_ledger()
    clock, cpu = FakeClock(), FakeClock()
    cache = FlagCache(clock=clock, cpu_clock=cpu)
    costing(monkeypatch, cpu, cost_s)
    try:
        assert snapshot(ledger, now_ms, cache).flags == {}
        spent_before = cpu.now
        # Twenty refreshes, each after a new line: the flags were computed at most once.
        for n in range(20):
            clock.now += 1
            append_call(isolated_home, SESSION, CWD, now_ms - 50_000 + n, 1000 + n)
            read_new_lines(ledger)
            snapshot(ledger, now_ms, cache)
        assert round((cpu.now - spent_before) / cost_s) <= 1

        append_failing_loop(path, session_id=SESSION, cwd=CWD, start_ms=now_ms - 40_000)
        read_new_lines(ledger)
        waited = refreshes_until_flagged(ledger, now_ms, cache, clock, step_s=1)
        assert waited <= MAX_WAIT_S <= PROMISED_S
    finally:
        ledger.close()


def test_a_loop_whose_lines_stopped_is_flagged_by_the_next_tick(
    isolated_home: Path, now_ms: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's last lines arrive just after a computation of a big session, and no line
    follows: the tray's next refresh is its 30 s tick, and that one flags it and alerts."""
    path = running_session(isolated_home, now_ms)
    ledger = ingested_ledger()
    clock, cpu = FakeClock(), FakeClock()
    cache = FlagCache(clock=clock, cpu_clock=cpu)
    costing(monkeypatch, cpu, 0.6)
    try:
        assert snapshot(ledger, now_ms, cache).flags == {}
        append_failing_loop(path, session_id=SESSION, cwd=CWD, start_ms=now_ms - 40_000)
        read_new_lines(ledger)
        clock.now += 0.05
        assert snapshot(ledger, now_ms, cache).flags == {}  # too soon: min(0.6 s × 40, 20 s)
        clock.now += 30
        snap = snapshot(ledger, now_ms, cache)
        assert [f.kind for f in snap.flags[SESSION]] == ["loop"]
        alerts = alerts_for(snap, UTC)
        assert [a.title for a in alerts if a.key.startswith("flag:")] == ["Runaway session: loop"]
    finally:
        ledger.close()


def test_changed_thresholds_are_applied_at_once(
    isolated_home: Path, now_ms: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[insights] edited while the tray runs: the flags follow at the next refresh, even for
    a big session computed a moment ago."""
    path = running_session(isolated_home, now_ms)
    append_failing_loop(path, session_id=SESSION, cwd=CWD, start_ms=now_ms - 60_000, repeats=3)
    ledger = ingested_ledger()
    clock, cpu = FakeClock(), FakeClock()
    cache = FlagCache(clock=clock, cpu_clock=cpu)
    costing(monkeypatch, cpu, 5.0)
    try:
        assert cache.flags(ledger, Settings(), [SESSION]) == {}
        clock.now += 0.1
        strict = Settings(insights=Insights(loop_same_call_repeats=3))
        assert [f.kind for f in cache.flags(ledger, strict, [SESSION])[SESSION]] == ["loop"]
    finally:
        ledger.close()


def test_sessions_that_stopped_running_are_forgotten(isolated_home: Path, now_ms: int) -> None:
    path = running_session(isolated_home, now_ms)
    append_failing_loop(path, session_id=SESSION, cwd=CWD, start_ms=now_ms - 60_000)
    ledger = ingested_ledger()
    try:
        cache = FlagCache()
        assert SESSION in cache.flags(ledger, Settings(), [SESSION])
        assert cache.flags(ledger, Settings(), []) == {}
        assert cache._entries == {}
    finally:
        ledger.close()


def test_the_tray_keeps_one_cache_per_ledger_file(isolated_home: Path) -> None:
    ledger = ingested_ledger()
    again = ingested_ledger()
    try:
        assert flag_cache.flag_cache_for(ledger) is flag_cache.flag_cache_for(again)
    finally:
        ledger.close()
        again.close()
