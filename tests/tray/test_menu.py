"""The tray menu and tooltip, rebuilt from the latest snapshot each time the menu opens."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint
from pytestqt.qtbot import QtBot

from shared.insights.blocks import Block
from shared.insights.budgets import BudgetState, period_bounds
from tray_app.crossings import DashboardTarget
from tray_app.snapshot import PlanLimit, RunningSession, TraySnapshot
from tray_app.texts import money
from tray_app.tray import MeterTray, meter_state

NOW = 1_795_000_000_000
TODAY = date(2026, 11, 17)


def budget(period: str, limit: float, spent: float) -> BudgetState:
    start, end, label = period_bounds(period, TODAY, ZoneInfo("UTC"))
    fraction = spent / limit
    state = "over" if fraction >= 1 else "warning" if fraction >= 0.8 else "under"
    return BudgetState(period, label, start, end, limit, spent, fraction, state)


def snapshot(**changes: object) -> TraySnapshot:
    snap = TraySnapshot(
        taken_ms=NOW,
        today=TODAY,
        today_usd=12.5,
        week_usd=40.0,
        month_usd=130.0,
        has_calls=True,
        running=[
            RunningSession(
                "sess-1",
                "claude-code",
                "claude-opus-4-5",
                "burnmeter",
                NOW - 42 * 60_000,
                NOW - 30_000,
                7.25,
            )
        ],
        budgets=[
            budget("daily", 20.0, 12.5),
            budget("weekly", 45.0, 40.0),
        ],
        block=Block(NOW - 3_600_000, NOW + 4 * 3_600_000, cost_usd=9.5, is_active=True),
        plan_limits=[PlanLimit("codex", 300, 42.0, NOW + 90 * 60_000)],
    )
    for key, value in changes.items():
        setattr(snap, key, value)
    return snap


def texts(tray: MeterTray) -> list[str]:
    return [a.text() for a in tray.menu.actions() if a.text()]


def test_menu_lists_everything_the_issue_names(qtbot: QtBot) -> None:
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    tray.menu.aboutToShow.emit()
    lines = texts(tray)
    assert "claude-code · opus-4-5 · burnmeter · 42 min · $7.25" in lines
    assert "Today: $12.50" in lines
    assert "This week: $40.00" in lines
    assert "This month: $130.00" in lines
    assert "5-hour block: $9.50, resets in 4 h 00 min" in lines
    assert "codex plan: 42% of the 5-hour window, resets in 1 h 30 min" in lines
    assert "Daily budget: $12.50 of $20.00 (62%)" in lines
    assert "Weekly budget: $40.00 of $45.00 (89%) — nearly spent" in lines
    assert lines[-5:] == [
        "Open dashboard",
        "Export weekly summary…",
        "Settings…",
        "Pause watching",
        "Quit",
    ]


def test_menu_is_rebuilt_from_the_newest_snapshot_when_opened(qtbot: QtBot) -> None:
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    tray.menu.aboutToShow.emit()
    assert "Today: $12.50" in texts(tray)
    tray.snapshot = snapshot(today_usd=99.0, running=[], budgets=[], block=None, plan_limits=[])
    tray.menu.aboutToShow.emit()
    lines = texts(tray)
    assert "Today: $99.00" in lines
    assert "No running sessions" in lines
    assert "No budgets set (Settings…)" in lines
    assert not any(line.startswith("5-hour block") for line in lines)


def test_menu_actions_emit_their_signals(qtbot: QtBot) -> None:
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    tray.menu.aboutToShow.emit()
    actions = {a.text(): a for a in tray.menu.actions()}
    with qtbot.waitSignal(tray.open_dashboard) as opened:
        actions["claude-code · opus-4-5 · burnmeter · 42 min · $7.25"].trigger()
    assert opened.args == [DashboardTarget("sessions", "sess-1")]
    with qtbot.waitSignal(tray.open_dashboard) as opened:
        actions["Open dashboard"].trigger()
    assert opened.args == [DashboardTarget("overview")]
    with qtbot.waitSignal(tray.pause_toggled) as paused:
        actions["Pause watching"].trigger()
    assert paused.args == [True]
    for name, signal in (
        ("Settings…", tray.open_settings),
        ("Export weekly summary…", tray.export_summary),
        ("Quit", tray.quit_requested),
    ):
        with qtbot.waitSignal(signal):
            actions[name].trigger()


def test_information_lines_open_the_dashboard(qtbot: QtBot) -> None:
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    tray.menu.aboutToShow.emit()
    actions = {a.text(): a for a in tray.menu.actions()}
    with qtbot.waitSignal(tray.open_dashboard) as opened:
        actions["Today: $12.50"].trigger()
    assert opened.args == [DashboardTarget("overview")]
    assert actions["Open dashboard"].isEnabled()


def test_tooltip_shows_today_week_and_running_sessions(qtbot: QtBot) -> None:
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    tip = tray.toolTip()
    assert "Today $12.50 · week $40.00" in tip
    assert "1 running session:" in tip
    assert "opus-4-5 · burnmeter" in tip
    tray.update_snapshot(snapshot(running=[]))
    assert "No running sessions" in tray.toolTip()


def test_tooltip_counts_the_sessions_it_does_not_list(qtbot: QtBot) -> None:
    """The tooltip said "6 running sessions:", then listed five and said nothing of the sixth."""
    running = [
        RunningSession(f"sess-{i}", "claude-code", "claude-opus-4-5", f"repo-{i}",
                       NOW - 60_000, NOW, 1.0)
        for i in range(6)
    ]  # fmt: skip
    tray = MeterTray()
    tray.update_snapshot(snapshot(running=running))
    tip = tray.toolTip().splitlines()
    assert "6 running sessions:" in tip
    assert sum("opus-4-5 · repo-" in line for line in tip) == 5
    assert tip[-1] == "  and 1 more"
    tray.update_snapshot(snapshot(running=running[:5]))
    assert not any("more" in line for line in tray.toolTip().splitlines())


def test_meter_state_follows_the_tightest_budget_and_the_mode(qtbot: QtBot) -> None:
    snap = snapshot()
    state = meter_state(snap, "today", paused=False)
    assert state.level == "warning"
    assert abs((state.fraction or 0) - 40 / 45) < 1e-9
    assert state.cost_usd == 12.5
    assert state.running
    assert meter_state(snap, "session", paused=False).cost_usd == 7.25
    assert meter_state(snapshot(running=[]), "session", paused=False).cost_usd == 12.5
    assert meter_state(snapshot(budgets=[]), "today", paused=True).level == "none"
    assert meter_state(snapshot(budgets=[]), "today", paused=True).paused


def test_pause_is_shown_checked_after_toggling(qtbot: QtBot) -> None:
    tray = MeterTray()
    tray.paused = True
    tray.update_snapshot(snapshot())
    tray.update_menu()
    pause = next(a for a in tray.menu.actions() if a.text() == "Pause watching")
    assert pause.isCheckable() and pause.isChecked()
    assert tray.toolTip().startswith("burnmeter (paused)")
    assert tray.state.paused


def test_an_ampersand_in_a_project_name_is_shown_as_written(qtbot: QtBot) -> None:
    """Qt reads `&` in a menu text as a shortcut marker: `R&D` would show as `RD`."""
    running = RunningSession(
        "sess-rd", "claude-code", "claude-opus-4-5", "R&D tools", NOW - 60_000, NOW, 1.0
    )
    tray = MeterTray()
    tray.update_snapshot(snapshot(running=[running]))
    tray.menu.aboutToShow.emit()
    shown = [action.iconText() for action in tray.menu.actions()]
    assert "claude-code · opus-4-5 · R&D tools · 1 min · $1.00" in shown


@pytest.mark.parametrize("corner", ["top-right", "bottom-right"])
def test_an_open_menu_that_grows_stays_on_the_screen(qtbot: QtBot, corner: str) -> None:
    """A line that widened the open menu (a long project name, a new session) made it
    run off the screen's right edge: Qt widened it in place."""
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    area = screen.availableGeometry()
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    menu = tray.menu
    # Where a panel in that corner opens it: flush with the edges.
    width, height = menu.sizeHint().width(), menu.sizeHint().height()
    y = area.top() if corner == "top-right" else area.bottom() + 1 - height
    menu.popup(QPoint(area.right() + 1 - width, y))
    qtbot.waitUntil(menu.isVisible)
    assert area.contains(menu.geometry())

    long_name = "a-rather-long-repository-name-for-the-menu-width-test"
    sessions = [
        RunningSession(f"sess-{i}", "claude-code", "claude-opus-4-5", f"{long_name}-{i}",
                       NOW - 60_000, NOW, 1.0)
        for i in range(3)
    ]  # fmt: skip
    tray.update_snapshot(snapshot(running=sessions))
    assert menu.isVisible()
    assert menu.width() > width and menu.height() > height  # it did grow
    assert area.contains(menu.geometry()), (menu.geometry(), area)
    menu.hide()


def test_an_open_menu_is_updated_in_place_and_stays_open(qtbot: QtBot) -> None:
    """Opening the menu asks for a new snapshot, which arrives while it is open: a menu
    cleared and filled again then closed at the mouse button's release, ~0.1 s after it
    opened. Its actions are now changed in place, never cleared."""
    tray = MeterTray()
    tray.update_snapshot(snapshot())
    tray.menu.popup(QPoint(100, 100))
    qtbot.waitUntil(tray.menu.isVisible)
    before = tray.menu.actions()
    tray.update_snapshot(snapshot(today_usd=13.0))
    assert tray.menu.isVisible()
    assert tray.menu.actions() == before
    assert "Today: $13.00" in texts(tray)

    # A session that ends while the menu is open loses its line; the rest stay.
    commands = before[-7:]
    tray.update_snapshot(snapshot(running=[], budgets=[]))
    assert tray.menu.isVisible()
    assert tray.menu.actions()[-7:] == commands
    lines = texts(tray)
    assert "No running sessions" in lines
    assert not any("opus-4-5" in line for line in lines)
    actions = {a.text(): a for a in tray.menu.actions()}
    with qtbot.waitSignal(tray.open_settings):
        actions["No budgets set (Settings…)"].trigger()
    tray.menu.hide()


@pytest.mark.parametrize(
    ("usd", "shown"),
    [
        (3.3150000000000013, "$3.31"),
        (0.045000000000000005, "$0.04"),
        (12.5, "$12.50"),
        # From $1,000 on the cents went missing ("$1,234"); the report keeps them.
        (1234.5, "$1,234.50"),
        (1_000_000.004, "$1,000,000.00"),
    ],
)
def test_money_rounds_half_cents_as_burnmeter_report_does(usd: float, shown: str) -> None:
    from shared.commands import render

    assert money(usd) == shown
    # shared.reports rounds each cost to 6 decimals; render shows it.
    assert money(usd) == render.money(round(usd, 6))


def test_menu_and_tooltip_round_the_same_sum_alike(qtbot: QtBot) -> None:
    """The same 3.3150000000000013 showed as $3.31 today and $3.32 in the block."""
    half = 3.3150000000000013
    running = RunningSession(
        "sess-2",
        "claude-code",
        "claude-opus-4-5",
        "burnmeter",
        NOW - 60_000,
        NOW,
        0.045000000000000005,
    )
    tray = MeterTray()
    tray.update_snapshot(
        snapshot(
            today_usd=half,
            running=[running],
            block=Block(NOW - 3_600_000, NOW + 4 * 3_600_000, cost_usd=half, is_active=True),
        )
    )
    lines = texts(tray)
    assert "Today: $3.31" in lines
    assert "5-hour block: $3.31, resets in 4 h 00 min" in lines
    assert "claude-code · opus-4-5 · burnmeter · 1 min · $0.04" in lines
    assert "Today $3.31" in tray.toolTip()


def test_calls_without_a_price_are_said_in_the_menu_and_tooltip(
    isolated_home: object, tmp_path: object
) -> None:
    """Today, the week, the month, a running session, the 5-hour block and a budget in the
    tray counted calls of a model with no price as $0 silently."""
    import time
    from pathlib import Path

    from shared.config import Budgets, Settings
    from shared.ingest import ingest
    from shared.ledger import open_ledger
    from shared.sources.roots import claude_roots
    from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block
    from tray_app.snapshot import snapshot_from_ledger, with_extras
    from tray_app.texts import block_line, budget_line, session_line, tooltip_text, totals_lines

    home = Path(str(isolated_home))
    now_ms = int(time.time() * 1000)
    session = ClaudeSession("s-odd-tray", cwd="/home/dev/odd")
    from datetime import UTC, datetime

    # A minute ago, but today in UTC even just after midnight.
    at = datetime.fromtimestamp(max(now_ms - 60_000, now_ms - now_ms % 86_400_000 + 1) / 1000, UTC)
    session.reply(at, [text_block("x")], claude_usage(1_000, 10), model="odd-model-x")
    session.reply(at, [text_block("y")], claude_usage(1_000, 10))
    session.write(claude_project_dir(home / ".claude", "/home/dev/odd") / "s.jsonl")
    ledger = open_ledger(Path(str(tmp_path)) / "ledger.sqlite")
    try:
        ingest(ledger, claude_roots())
        settings = Settings(budgets=Budgets(monthly_usd=100))
        snap = with_extras(
            ledger, settings, snapshot_from_ledger(ledger, settings, ZoneInfo("UTC"), now_ms)
        )
    finally:
        ledger.close()
    assert all("(+1 unpriced)" in line for line in totals_lines(snap))
    assert "(+1 unpriced)" in session_line(snap.running[0], now_ms)
    assert snap.block is not None and "(+1 unpriced)" in block_line(snap.block, now_ms)
    assert "(+1 unpriced)" in budget_line(snap.budgets[0])
    assert "Today $" in tooltip_text(snap) and "(+1 unpriced)" in tooltip_text(snap)
