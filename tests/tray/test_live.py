"""The app with the real live engine: the first import with progress, then appended log
lines reach the icon without any refresh by hand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

import shared.ingest.pool
import shared.ingest.run
from bench.generate_corpus import generate
from shared.ledger import open_ledger
from shared.sources.roots import LogRoot, claude_roots, codex_roots
from tests.logfixtures import append, claude_call
from tests.tray.conftest import tray_app_for
from tests.tray.history import session_file
from tray_app.app import BurnmeterApp


def live_app(roots: list[LogRoot], ledger_file: Path) -> BurnmeterApp:
    """The tray app as `burnmeter tray` makes it (first import, live engine), without a
    system tray to show in."""
    return tray_app_for(roots, ledger_file, live=True)


def test_first_import_then_live_appends_repaint_the_meter(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path, now_ms: int
) -> None:
    app = live_app(roots, ledger_file)
    progress: list[tuple[int, int]] = []
    app.import_progress.connect(lambda done, total: progress.append((done, total)))
    try:
        app.start()
        qtbot.waitUntil(lambda: app.engine is not None, timeout=20_000)
        assert app.engine is not None and app.engine.is_writer
        assert progress and progress[-1][0] == progress[-1][1] > 0
        qtbot.waitUntil(
            lambda: (
                app.snapshot is not None and app.snapshot.has_calls and app.snapshot.month_usd > 0
            ),
            timeout=10_000,
        )
        assert app.snapshot is not None
        before = app.snapshot.today_usd
        icon_before = app.tray.state

        path = session_file(history, "/home/dev/src/burnmeter", "running-session")
        append(
            path,
            claude_call(
                message_id="live-1",
                session_id="running-session",
                cwd="/home/dev/src/burnmeter",
                ts_ms=now_ms,
                model="claude-opus-4-5",
                input_tokens=200_000,
                output_tokens=20_000,
            ),
        )
        qtbot.waitUntil(
            lambda: app.snapshot is not None and app.snapshot.today_usd > before + 1, timeout=10_000
        )
        assert app.tray.state.cost_usd > icon_before.cost_usd
        assert app.tray.state.running

        app.set_paused(True)
        assert app.engine.is_paused
        assert app.tray.state.paused
        app.set_paused(False)
        assert not app.engine.is_paused
    finally:
        app.shutdown()
    assert app.engine is None


def test_a_corrupt_ledger_is_reported_and_left_alone(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    ledger_file.parent.mkdir(parents=True, exist_ok=True)
    garbage = b"this is not an SQLite file\n" * 100
    ledger_file.write_bytes(garbage)
    app = live_app(roots, ledger_file)
    try:
        app.start()
        assert app.engine is None
        assert str(ledger_file) in app.dashboard.banner.text()
        assert "left it untouched" in app.dashboard.banner.text()
        assert "Cannot read the ledger: " in app.tray.toolTip()
        assert "reading the ledger" not in app.tray.toolTip()
    finally:
        app.shutdown()
    assert ledger_file.read_bytes() == garbage


def test_the_first_import_of_a_big_history_spawns_its_workers_and_misses_nothing(
    qtbot: QtBot, tmp_path: Path, ledger_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over PARALLEL_THRESHOLD_BYTES the first import parses in a process pool. Forking
    the tray's process copied it with Qt's own threads running (threading does not count
    them): its workers must be spawned, and the ledger must still get every call."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the ingest parses in-process, no pool")
    home = tmp_path / "big" / "home"
    expected = generate(
        home, shared.ingest.run.PARALLEL_THRESHOLD_BYTES * 21 // 20, 40, seed=3, days=4
    )
    assert expected["bytes"] > shared.ingest.run.PARALLEL_THRESHOLD_BYTES
    env = {"HOME": str(home)}
    roots = claude_roots(env) + codex_roots(env)
    start_methods: list[str] = []
    pool_context = shared.ingest.pool._pool_context

    def noted_pool_context() -> Any:
        context = pool_context()
        start_methods.append(context.get_start_method())
        return context

    monkeypatch.setattr(shared.ingest.pool, "_pool_context", noted_pool_context)
    app = live_app(roots, ledger_file)
    try:
        app.start()
        qtbot.waitUntil(lambda: app.engine is not None, timeout=120_000)
    finally:
        app.shutdown()
    assert start_methods == ["spawn"]
    assert "failed" not in app.dashboard.banner.text()

    ledger = open_ledger(ledger_file)
    try:
        got = ledger.conn.execute(
            "SELECT sum(input_tokens), sum(output_tokens), "
            "sum(cache_write_5m_tokens + cache_write_1h_tokens), sum(cache_read_tokens), "
            "sum(reasoning_tokens), count(DISTINCT date(ts_ms / 1000, 'unixepoch')) "
            "FROM usage_events"
        ).fetchone()
    finally:
        ledger.close()
    totals = expected["totals"]
    fields = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
    want = (*(totals[f] for f in fields), totals["reasoning_tokens"], len(expected["daily"]))
    assert got == want


def test_quitting_during_the_first_import_stops_it_and_keeps_nothing_of_it(
    qtbot: QtBot, tmp_path: Path, ledger_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quitting during a first import let the import run on until the pool's 5 s wait gave
    up, and the process then ended under it. It now stops between chunks (one transaction:
    rolled back whole) and says so."""
    import threading
    import time

    from shared.pricing import PriceBook
    from tests.core.logwriters import write_history

    home = tmp_path / "home"
    write_history(home, claude_sessions=6, codex_rollouts=2, turns=5)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    env = {"HOME": str(home)}
    app = live_app(claude_roots(env) + codex_roots(env), ledger_file)
    inside = threading.Event()

    def slow_prices() -> PriceBook:
        inside.set()
        time.sleep(1.0)  # inside the import's transaction, before its first write
        return PriceBook()

    app._price_book = slow_prices  # type: ignore[method-assign]
    app.start()
    assert inside.wait(30)
    started = time.monotonic()
    app.shutdown()
    assert time.monotonic() - started < 5
    assert app.import_stopped == "stopped during the first import; nothing of it was kept"
    ledger = open_ledger(ledger_file)
    try:
        assert ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone() == (0,)
    finally:
        ledger.close()
