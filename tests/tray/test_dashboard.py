"""The dashboard: charts' data, the sessions table (sort, filter, detail), the empty state,
and ledger reads that never block the GUI thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from shared.config import Settings, Subscription
from shared.ingest import FINISHING_LEDGER, WAITING_FOR_INGEST
from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now, tray_app_for
from tray_app.app import IMPORT_PHASE_TEXT, BurnmeterApp
from tray_app.crossings import DashboardTarget
from tray_app.dashboard_data import DashboardData


def make_app(roots: list[LogRoot], ledger_file: Path, settings: Settings) -> BurnmeterApp:
    app = tray_app_for(roots, ledger_file, settings, tray_available=True)
    return app


def loaded(qtbot: QtBot, app: BurnmeterApp) -> DashboardData:
    app.open_dashboard()
    qtbot.waitUntil(lambda: app.dashboard.data is not None, timeout=10_000)
    assert app.dashboard.data is not None
    return app.dashboard.data


def test_dashboard_shows_30_days_repos_tiers_and_leverage(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    ingest_now(roots, ledger_file)
    settings = Settings(subscription=Subscription(plan="Claude Max 5x", monthly_price_usd=100))
    app = make_app(roots, ledger_file, settings)
    data = loaded(qtbot, app)
    assert len(data.daily.days) == 30
    assert set(data.daily.values) <= {"claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"}
    chart_total = sum(sum(v) for v in data.daily.values.values())
    assert abs(chart_total - sum(cost for _, cost in data.repos)) < 1e-6
    assert {name for name, _ in data.repos} <= {"burnmeter", "webshop", "infra-tools", "notebook"}
    assert {tier for tier, _ in data.tiers} <= {"economy", "standard", "frontier"}
    assert abs(sum(c for _, c in data.tiers) - chart_total) < 1e-6
    assert data.leverage.plan_price_usd == 100
    text = app.dashboard.leverage_label.text()
    assert "on Claude Max 5x at $100.00/month" in text
    assert "of API-equivalent Claude Code work in" in text  # the plan's agent, said
    assert f"{data.leverage.days_so_far} of" in text  # this month is "so far (7 of 31 days)"
    assert "×" in text
    assert not app.dashboard.empty_state.isVisible()
    app.shutdown()


def test_at_its_smallest_the_sessions_table_keeps_every_figure_in_view(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    """At the window's minimum size the repo's full path and a stretched models column took
    the width, and Cost, Tokens, Tool calls and Errors were behind the horizontal scroll."""
    from tray_app.dashboard import SESSION_COLUMNS

    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    loaded(qtbot, app)
    window = app.dashboard
    window.tabs.setCurrentIndex(1)
    window.show()
    window.resize(window.minimumSizeHint())
    qtbot.waitUntil(lambda: window.session_table.viewport().width() > 0, timeout=5_000)
    table = window.session_table

    def fits() -> bool:
        return table.horizontalHeader().length() <= table.viewport().width() + 1

    qtbot.waitUntil(fits, timeout=5_000)
    header = table.horizontalHeader()
    for name in ("Tokens", "Cost", "Tool calls", "Errors"):
        column = SESSION_COLUMNS.index(name)
        left = header.sectionViewportPosition(column)
        assert left >= 0 and left + header.sectionSize(column) <= table.viewport().width()
    app.shutdown()


def test_sessions_table_sorts_filters_and_shows_detail(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    data = loaded(qtbot, app)
    window = app.dashboard
    proxy = window.session_proxy
    assert proxy.rowCount() == len(data.sessions) > 10

    window.session_table.sortByColumn(
        6, window.session_table.horizontalHeader().sortIndicatorOrder().DescendingOrder
    )
    costs = [
        proxy.index(r, 6).data(window.session_proxy.sortRole()) for r in range(proxy.rowCount())
    ]
    assert costs == sorted(costs, reverse=True)

    window.filter_edit.setText("webshop")
    assert 0 < proxy.rowCount() < len(data.sessions)
    assert all(proxy.index(r, 2).data() == "webshop" for r in range(proxy.rowCount()))
    window.filter_edit.setText("running-session")  # session ids are searchable too
    assert proxy.rowCount() == 1

    window.show_target(DashboardTarget("sessions", "running-session"))
    assert window.tabs.currentIndex() == 1
    assert window.selected_session_id() == "running-session"
    qtbot.waitUntil(lambda: "Session running-session" in window.detail.toHtml(), timeout=10_000)
    html = window.detail.toHtml()
    # Named as the table and the CLI name them (the detail said `claude-opus-4-5`).
    assert "opus-4-5" in html and "claude-opus-4-5" not in html
    assert "Edit" in html and "Read" in html
    assert "/home/dev/src/burnmeter/src/module_0.py" in html
    assert "cache reads" in html
    app.shutdown()


def test_empty_ledger_says_where_it_looked(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    app = make_app(roots, ledger_file, Settings())
    loaded(qtbot, app)
    window = app.dashboard
    assert window.empty_state.isVisible()
    assert not window.tabs.isVisible()
    text = window.empty_state.text()
    assert "No Claude Code or Codex logs found" in text
    for root in roots:
        assert str(root.path.name) in text
    app.shutdown()


def test_ledger_reads_run_off_the_gui_thread(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    threads: list[threading.Thread] = []
    original = app._read_dashboard

    def spy() -> DashboardData:
        threads.append(threading.current_thread())
        return original()

    app.dashboard._load_data = spy
    loaded(qtbot, app)
    assert threads and all(t is not threading.main_thread() for t in threads)
    app.shutdown()


def test_import_progress_is_shown_and_hidden(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    app = make_app(roots, ledger_file, Settings())
    # A first run with a large history opens the dashboard by itself to show progress.
    assert not app.dashboard.isVisible()
    app.import_progress.emit(250_000_000, 1_000_000_000)
    qtbot.waitUntil(lambda: app.dashboard.progress.isVisible(), timeout=5_000)
    assert app.dashboard.isVisible()
    assert app.dashboard.progress.value() == 250
    assert "250 of 1,000 MB" in app.dashboard.progress.format()
    assert "Importing history: 25%" in app.tray.toolTip()
    # The last step of a big first import has no byte count: a busy bar that says so.
    app.import_progress.emit(1_000_000_000, 1_000_000_000)
    app.import_phase.emit(IMPORT_PHASE_TEXT[FINISHING_LEDGER])
    qtbot.waitUntil(lambda: app.dashboard.progress.maximum() == 0, timeout=5_000)
    assert app.dashboard.progress.isVisible()
    assert "building totals" in app.dashboard.progress.format()
    assert "building totals" in app.tray.toolTip()
    app._first_import_done(True)
    qtbot.waitUntil(lambda: not app.dashboard.progress.isVisible(), timeout=5_000)
    assert "building totals" not in app.tray.toolTip()
    app.shutdown()


def test_first_import_phases_come_from_the_ingest_progress_markers() -> None:
    assert set(IMPORT_PHASE_TEXT) == {FINISHING_LEDGER, WAITING_FOR_INGEST}


def test_the_no_logs_text_keeps_its_columns(qtbot: QtBot) -> None:
    """The text lines up folders with spaces, as the CLI prints it: it needs a fixed-width
    font (it was a proportional one, so the columns wandered)."""
    from PySide6.QtGui import QFontMetrics

    from tray_app.dashboard import DashboardWindow
    from tray_app.worker import Worker

    window = DashboardWindow(Worker(), lambda: None, lambda _: None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(window)
    metrics = QFontMetrics(window.empty_state.font())
    assert metrics.horizontalAdvance("iiii") == metrics.horizontalAdvance("MMMM")


def test_session_cost_split_names_web_searches_and_adds_up(
    isolated_home: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    """A session that searched shows what the searches cost; the parts add up to the
    session's cost. A session that never searched shows no such part."""
    from shared.ledger import open_ledger
    from shared.pricing import PriceBook
    from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block
    from tray_app.dashboard_data import session_detail

    project = claude_project_dir(isolated_home / ".claude", "/home/dev/web")
    searching = ClaudeSession("s-searching", cwd="/home/dev/web")
    searching.reply(
        0, [text_block("a")], claude_usage(5_000, 800, cache_read=9_000, web_searches=3)
    )
    searching.write(project / "s-searching.jsonl")
    quiet = ClaudeSession("s-quiet", cwd="/home/dev/web")
    quiet.reply(10, [text_block("b")], claude_usage(5_000, 800, cache_read=9_000))
    quiet.write(project / "s-quiet.jsonl")
    ingest_now(roots, ledger_file)
    ledger = open_ledger(ledger_file)
    try:
        for session_id, searches in (("s-searching", 3), ("s-quiet", 0)):
            detail = session_detail(ledger, PriceBook(), session_id)
            parts = dict(detail.cost_split)
            (cost,) = ledger.conn.execute(
                "SELECT sum(cost_usd) FROM usage_events WHERE session_id = ?", (session_id,)
            ).fetchone()
            assert sum(parts.values()) == pytest.approx(cost)
            if searches:
                assert parts["web searches"] == pytest.approx(searches / 100)
            else:
                assert "web searches" not in parts
    finally:
        ledger.close()


def test_session_cost_split_adds_up_to_the_stored_cost_before_a_reprice(
    isolated_home: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    """After a price change the split was worked out at the new prices while the session's
    cost stayed at the stored ones until `reprice`: $6.40 beside parts adding up to $2.38."""
    from shared.ledger import open_ledger
    from shared.pricing import PriceBook
    from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block
    from tray_app.dashboard_data import session_detail

    project = claude_project_dir(isolated_home / ".claude", "/home/dev/web")
    session = ClaudeSession("s-split", cwd="/home/dev/web")
    session.reply(0, [text_block("a")], claude_usage(5_000, 800, cache_read=9_000, write_5m=300))
    session.reply(9, [text_block("b")], claude_usage(1_000, 80, cache_read=20_000))
    session.write(project / "s-split.jsonl")
    ingest_now(roots, ledger_file)
    changed = PriceBook({"claude-opus-4-7": {"input_mtok": 1.0, "output_mtok": 100.0}})
    ledger = open_ledger(ledger_file)
    try:
        detail = session_detail(ledger, changed, "s-split")
        (stored,) = ledger.conn.execute(
            "SELECT sum(cost_usd) FROM usage_events WHERE session_id = 's-split'"
        ).fetchone()
        assert sum(cost for _, cost in detail.cost_split) == pytest.approx(stored)
        assert [name for name, _ in detail.cost_split] == [
            "input",
            "output",
            "cache writes",
            "cache reads",
        ]
        assert detail.unpriced_calls == 0
    finally:
        ledger.close()


def test_a_reload_asked_for_during_a_load_waits_after_it(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
) -> None:
    """With the dashboard open while an agent works, every ledger change asked for a
    reload and each started as soon as the last ended: on a big ledger (seconds a load) a
    core stayed busy for good. The next load now waits twice the last one's time."""
    import tray_app.dashboard as dashboard_module

    ingest_now(roots, ledger_file)
    monkeypatch.setattr(dashboard_module, "RELOAD_GAP_S", 0.5)
    # The gap's timer, held: each gap asked for is noted, and ends when the test says.
    gaps_asked: list[tuple[int, Callable[[], None]]] = []

    class HeldTimer:
        @staticmethod
        def singleShot(ms: int, callback: Callable[[], None]) -> None:  # Qt's name
            gaps_asked.append((ms, callback))

    monkeypatch.setattr(dashboard_module, "QTimer", HeldTimer)
    app = make_app(roots, ledger_file, Settings())
    window = app.dashboard
    real_load = window._load_data
    starts: list[float] = []
    ends: list[float] = []

    def slow_load() -> DashboardData:
        starts.append(time.monotonic())
        time.sleep(0.3)
        data = real_load()
        ends.append(time.monotonic())
        return data

    window._load_data = slow_load
    window.show()
    window.refresh()
    for _ in range(5):  # ledger changes while the first load runs
        window.refresh()
    qtbot.waitUntil(lambda: len(gaps_asked) == 1, timeout=10_000)
    # The first load is done and the next one waits for a gap, not at once: twice the
    # last load's time (0.6 s or more here: more than RELOAD_GAP_S).
    assert len(starts) == 1
    gap_ms, end_of_gap = gaps_asked[0]
    assert gap_ms >= int(2 * (ends[0] - starts[0]) * 1000) > 500, (gap_ms, ends[0] - starts[0])
    end_of_gap()
    qtbot.waitUntil(lambda: len(ends) == 2 and not window._loading, timeout=10_000)
    # The five requests made one more load, not five, and nothing more was asked for.
    assert len(starts) == 2 and len(gaps_asked) == 1
    app.shutdown()


def test_a_resumed_session_shows_all_its_calls_in_its_row_detail_and_menu(
    qtbot: QtBot, isolated_home: Path, now_ms: int, roots: list[LogRoot], ledger_file: Path
) -> None:
    """The table lists the sessions active in its 90 days, each with all its calls: a
    session resumed today after months showed today's call alone in its row ($0.03, 0 tool
    calls) beside a detail view, a menu and `report sessions` counting all of them."""
    from shared.ledger import open_ledger
    from shared.pricing import PriceBook
    from shared.reports import Filters, sessions_report
    from tests.logfixtures import claude_call
    from tests.tray.history import DAY_MS, write_session
    from tray_app.dashboard_data import session_detail
    from tray_app.snapshot import running_sessions
    from tray_app.texts import money

    projects = isolated_home / ".claude" / "projects"
    cwd = "/home/dev/src/site"
    old_part = write_session(
        projects, session_id="resumed", cwd=cwd, start_ms=now_ms - 200 * DAY_MS, calls=12,
        model="claude-sonnet-4-5",
    )  # fmt: skip
    with old_part.open("a", encoding="utf-8") as handle:  # resumed a minute ago
        handle.write(
            claude_call(
                session_id="resumed", message_id="msg-today", cwd=cwd, ts_ms=now_ms - 60_000,
                model="claude-opus-4-5", input_tokens=4000, output_tokens=800,
                cache_read=20_000, tools=[("tool-today", "Edit", {"file_path": f"{cwd}/a.py"})],
            )
        )  # fmt: skip
    write_session(
        projects, session_id="long-ago", cwd=cwd, start_ms=now_ms - 120 * DAY_MS, calls=3,
        model="claude-sonnet-4-5",
    )  # fmt: skip
    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    data = loaded(qtbot, app)
    assert [row.session_id for row in data.sessions] == ["resumed"]  # active in 90 days
    (row,) = data.sessions

    ledger = open_ledger(ledger_file)
    try:
        (report,) = [
            r
            for r in sessions_report(ledger, Filters())["sessions"]
            if r["session_id"] == "resumed"
        ]
        detail = session_detail(ledger, PriceBook(), "resumed")
        (menu,) = running_sessions(ledger, now_ms)
    finally:
        ledger.close()
    assert row.total_tokens == report["total_tokens"] == 13 * (4000 + 800 + 20_000)
    assert row.cost_usd == report["cost_usd"]
    assert row.tool_calls == report["tool_calls"] == sum(n for _, n in detail.tools) == 13
    assert row.first_activity == report["first_activity"]
    assert money(row.cost_usd) == money(sum(c for _, c in detail.models)) == money(menu.cost_usd)

    window = app.dashboard
    cells = [window.session_proxy.index(0, c).data() for c in range(9)]
    assert cells[5] == f"{report['total_tokens']:,}"
    assert cells[6] == money(report["cost_usd"])
    assert cells[7] == "13"
    window.show_target(DashboardTarget("sessions", "resumed"))
    qtbot.waitUntil(lambda: "Session resumed" in window.detail.toHtml(), timeout=10_000)
    assert f"\ntotal\n{money(report['cost_usd'])}\n" in window.detail.toPlainText()
    app.shutdown()


def test_the_selection_follows_its_session_when_the_table_is_sorted(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    """Sorting by a header left the highlight on the same row number, another session
    than the one in the detail view."""
    from PySide6.QtCore import Qt

    from tray_app.dashboard import SESSION_ID_ROLE

    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    loaded(qtbot, app)
    window = app.dashboard
    table = window.session_table
    proxy = window.session_proxy

    def highlighted() -> list[str]:
        return [index.data(SESSION_ID_ROLE) for index in table.selectionModel().selectedRows()]

    window.resize(1000, 700)
    window.show()
    window.tabs.setCurrentIndex(1)
    table.selectRow(3)
    chosen = window.selected_session_id()
    assert chosen and highlighted() == [chosen]
    qtbot.waitUntil(lambda: f"Session {chosen}" in window.detail.toHtml(), timeout=10_000)
    for column, order in (
        (6, Qt.SortOrder.DescendingOrder),
        (2, Qt.SortOrder.AscendingOrder),
        (7, Qt.SortOrder.AscendingOrder),
        (0, Qt.SortOrder.DescendingOrder),
    ):
        table.sortByColumn(column, order)
        assert highlighted() == [chosen]
        assert table.currentIndex().data(SESSION_ID_ROLE) == chosen
        row = table.selectionModel().selectedRows()[0].row()
        assert proxy.index(row, 0).data(SESSION_ID_ROLE) == chosen
        # Scrolled to, so the highlighted row is on screen beside the detail view.
        top = table.rowViewportPosition(row)
        assert top >= 0 and top + table.rowHeight(row) <= table.height(), (column, row)
    assert f"Session {chosen}" in window.detail.toHtml()
    app.shutdown()


@pytest.mark.parametrize("days_ago", [120, 45])
def test_a_ledger_with_nothing_recent_says_when_its_last_activity_was(
    qtbot: QtBot,
    isolated_home: Path,
    now_ms: int,
    roots: list[LogRoot],
    ledger_file: Path,
    days_ago: int,
) -> None:
    """Every log older than the windows showed blank boxes: now the dashboard says there
    was nothing in its 90 (or 30) days, when the latest call was, and where to see it."""
    from datetime import datetime

    from tests.tray.history import DAY_MS, write_session
    from tray_app.app import zone_for

    start = now_ms - days_ago * DAY_MS
    write_session(
        isolated_home / ".claude" / "projects",
        session_id="old",
        cwd="/home/dev/src/site",
        start_ms=start,
        calls=3,
        model="claude-sonnet-4-5",
    )
    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    data = loaded(qtbot, app)
    window = app.dashboard
    window.show()
    latest = datetime.fromtimestamp((start + 2 * 60_000) / 1000, zone_for(Settings())).date()
    if days_ago > 90:
        assert window.empty_state.isVisible() and not window.tabs.isVisible()
        text = window.empty_state.text()
        assert "No model calls in the last 90 days" in text
    else:
        assert not window.empty_state.isVisible() and window.tabs.isVisible()
        assert window.overview_note.isVisible()
        text = window.overview_note.text()
        assert "No model calls in the last 30 days" in text
        assert window.session_proxy.rowCount() == 1
    assert f"Last activity: {latest.isoformat()}" in text or f"last activity: {latest}" in text
    assert "burnmeter report daily" in text
    assert data.last_activity == latest
    app.shutdown()
