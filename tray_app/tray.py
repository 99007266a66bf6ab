"""The tray icon and its menu. The menu is rebuilt each time it opens, from the latest
snapshot, so it never shows stale numbers."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from tray_app.crossings import DashboardTarget
from tray_app.icons import BudgetLevel, MeterState, meter_icon
from tray_app.snapshot import TraySnapshot
from tray_app.texts import (
    block_line,
    budget_line,
    plan_limit_line,
    session_line,
    tooltip_text,
    totals_lines,
)


def meter_state(snap: TraySnapshot | None, meter_mode: str, *, paused: bool) -> MeterState:
    """The icon for a snapshot: today's cost, or the costliest running session's in
    "session" mode (today's when none runs), coloured by the tightest budget."""
    if snap is None:
        return MeterState(paused=paused)
    cost = snap.today_usd
    if meter_mode == "session" and snap.running:
        cost = max(s.cost_usd for s in snap.running)
    budget = snap.tightest_budget
    if budget is None:
        return MeterState(cost, None, "none", bool(snap.running), paused)
    level: BudgetLevel = "over" if budget.state == "over" else "warning"
    if budget.state == "under":
        level = "under"
    return MeterState(cost, budget.fraction, level, bool(snap.running), paused)


def as_menu_text(text: str) -> str:
    """`text` shown as written in a menu: Qt reads a single `&` as the marker of a keyboard
    shortcut (a project called `R&D` would show as `RD`), so each is doubled."""
    return text.replace("&", "&&")


class MeterTray(QSystemTrayIcon):
    open_dashboard = Signal(object)  # DashboardTarget
    open_settings = Signal()
    menu_opened = Signal()  # the app re-reads the ledger so durations are current
    export_summary = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: TraySnapshot | None = None
        self.paused = False
        self.meter_mode = "today"
        self.status_line = ""  # e.g. import progress, shown atop the menu
        self.state = MeterState()
        self._menu = QMenu()
        self._menu.aboutToShow.connect(self.rebuild_menu)
        self._menu.aboutToShow.connect(self.menu_opened.emit)
        self.setContextMenu(self._menu)
        self.activated.connect(self._on_activated)
        self.rebuild_menu()
        self.show_state()

    @property
    def menu(self) -> QMenu:
        return self._menu

    def update_snapshot(self, snap: TraySnapshot | None) -> None:
        self.snapshot = snap
        self.show_state()
        if self._menu.isVisible():
            self.rebuild_menu()

    def show_state(self) -> None:
        self.state = meter_state(self.snapshot, self.meter_mode, paused=self.paused)
        ratio = 1.0
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            ratio = screen.devicePixelRatio()
        self.setIcon(meter_icon(self.state, ratio))
        tip = tooltip_text(self.snapshot, paused=self.paused)
        if self.status_line:
            tip += "\n" + self.status_line
        self.setToolTip(tip)

    def rebuild_menu(self) -> None:
        menu = self._menu
        menu.clear()
        snap = self.snapshot
        if self.status_line:
            self._info(self.status_line)
        if snap is None:
            self._info("Reading the ledger…")
        else:
            if snap.running:
                menu.addSection("Running sessions")
                for session in snap.running:
                    action = menu.addAction(as_menu_text(session_line(session, snap.taken_ms)))
                    target = DashboardTarget("sessions", session.session_id)
                    action.triggered.connect(lambda _=False, t=target: self.open_dashboard.emit(t))
            else:
                self._info("No running sessions")
            menu.addSection("Spend")
            for line in totals_lines(snap):
                self._info(line)
            if snap.block is not None:
                self._info(block_line(snap.block, snap.taken_ms))
            for limit in snap.plan_limits:
                self._info(plan_limit_line(limit, snap.taken_ms))
            if snap.budgets:
                menu.addSection("Budgets")
                for budget in snap.budgets:
                    self._info(budget_line(budget))
            else:
                self._menu.addAction("No budgets set (Settings…)").triggered.connect(
                    self.open_settings.emit
                )
        menu.addSeparator()
        dashboard = menu.addAction("Open dashboard")
        dashboard.triggered.connect(lambda: self.open_dashboard.emit(DashboardTarget("overview")))
        menu.addAction("Export weekly summary…").triggered.connect(self.export_summary.emit)
        menu.addAction("Settings…").triggered.connect(self.open_settings.emit)
        pause = menu.addAction("Pause watching")
        pause.setCheckable(True)
        pause.setChecked(self.paused)
        pause.toggled.connect(self.pause_toggled.emit)
        menu.addSeparator()
        menu.addAction("Quit").triggered.connect(self.quit_requested.emit)

    def _info(self, text: str) -> QAction:
        """A line of information. Kept enabled, since greyed-out text is hard to read at a
        glance; clicking it opens the dashboard."""
        action = self._menu.addAction(as_menu_text(text))
        action.triggered.connect(lambda: self.open_dashboard.emit(DashboardTarget("overview")))
        return action

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_dashboard.emit(DashboardTarget("overview"))
