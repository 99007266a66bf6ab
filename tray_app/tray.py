"""The tray icon and its menu. The menu's lines follow the latest snapshot: they are
updated in place, even while the menu is open, so it never shows stale numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from tray_app.crossings import DashboardTarget
from tray_app.icons import BudgetLevel, MeterState, icon_look, meter_icon
from tray_app.snapshot import TraySnapshot
from tray_app.texts import (
    CANNOT_READ_LEDGER,
    block_line,
    budget_line,
    plan_limit_line,
    session_line,
    tooltip_text,
    totals_lines,
    wrapped,
)

OVERVIEW = DashboardTarget("overview")


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


@dataclass(frozen=True)
class MenuLine:
    """One line above the menu's fixed commands: a section heading, a line that opens the
    dashboard at `target` when clicked, or one that opens Settings."""

    text: str
    kind: Literal["section", "dashboard", "settings"] = "dashboard"
    target: DashboardTarget = OVERVIEW


def menu_lines(snap: TraySnapshot | None, status_line: str = "") -> list[MenuLine]:
    """What the menu says about `snap`, above Open dashboard, Settings… and Quit."""
    # Wrapped: a long one (a ledger error with its path) made the menu wider than the
    # screen. Each of its lines opens the dashboard, whose banner says it whole.
    lines = [MenuLine(part) for part in wrapped(status_line)] if status_line else []
    if snap is None:
        if status_line.startswith(CANNOT_READ_LEDGER):
            return lines  # not "Reading the ledger…": it cannot be read
        return [*lines, MenuLine("Reading the ledger…")]
    if snap.running:
        lines.append(MenuLine("Running sessions", "section"))
        lines.extend(
            MenuLine(
                session_line(s, snap.taken_ms), target=DashboardTarget("sessions", s.session_id)
            )
            for s in snap.running
        )
    else:
        lines.append(MenuLine("No running sessions"))
    lines.append(MenuLine("Spend", "section"))
    lines.extend(MenuLine(line) for line in totals_lines(snap))
    if snap.block is not None:
        lines.append(MenuLine(block_line(snap.block, snap.taken_ms)))
    lines.extend(MenuLine(plan_limit_line(limit, snap.taken_ms)) for limit in snap.plan_limits)
    if snap.budgets:
        lines.append(MenuLine("Budgets", "section"))
        lines.extend(MenuLine(budget_line(budget)) for budget in snap.budgets)
    else:
        lines.append(MenuLine("No budgets set (Settings…)", "settings"))
    return lines


def keep_on_screen(menu: QMenu) -> None:
    """Move an open menu that grew (a longer line, more sessions) back inside its screen's
    available area: Qt widens it in place, to the right of where it opened, and a menu
    opened from a panel in a right-hand corner ran off the screen's edge."""
    if menu.size() != menu.sizeHint():
        menu.resize(menu.sizeHint())
    screen = menu.screen()
    if screen is None:
        return
    area = screen.availableGeometry()
    frame = menu.geometry()
    x = max(area.left(), min(frame.left(), area.right() + 1 - frame.width()))
    y = max(area.top(), min(frame.top(), area.bottom() + 1 - frame.height()))
    if (x, y) != (frame.left(), frame.top()):
        menu.move(x, y)


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
        self._icon_look: tuple[object, ...] | None = None
        self._lines: list[MenuLine] = []
        self._line_actions: list[QAction] = []
        menu = self._menu = QMenu()
        # The fixed commands; the snapshot's lines go above this separator.
        self._commands_start = menu.addSeparator()
        menu.addAction("Open dashboard").triggered.connect(
            lambda: self.open_dashboard.emit(OVERVIEW)
        )
        menu.addAction("Export weekly summary…").triggered.connect(self.export_summary.emit)
        menu.addAction("Settings…").triggered.connect(self.open_settings.emit)
        self._pause = menu.addAction("Pause watching")
        self._pause.setCheckable(True)
        self._pause.toggled.connect(self.pause_toggled.emit)
        menu.addSeparator()
        menu.addAction("Quit").triggered.connect(self.quit_requested.emit)
        menu.aboutToShow.connect(self.update_menu)
        menu.aboutToShow.connect(self.menu_opened.emit)
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)
        self.show_state()

    @property
    def menu(self) -> QMenu:
        return self._menu

    def update_snapshot(self, snap: TraySnapshot | None) -> None:
        self.snapshot = snap
        self.show_state()

    def show_state(self) -> None:
        self.state = meter_state(self.snapshot, self.meter_mode, paused=self.paused)
        ratio = 1.0
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            ratio = screen.devicePixelRatio()
        look = (icon_look(self.state), ratio)
        if look != self._icon_look:
            # Only when the pixels change: on X11 every QSystemTrayIcon.setIcon keeps ~2 KB
            # for good (Qt 6.11's xcb tray), and a tray repaints on every log write.
            self._icon_look = look
            self.setIcon(meter_icon(self.state, ratio))
        tip = tooltip_text(self.snapshot, paused=self.paused)
        if self.snapshot is None and self.status_line.startswith(CANNOT_READ_LEDGER):
            tip = "burnmeter"  # not "reading the ledger…": it cannot be read
        if self.status_line:
            tip += "\n" + "\n".join(wrapped(self.status_line))
        if tip != self.toolTip():
            self.setToolTip(tip)
        self.update_menu()

    def update_menu(self) -> None:
        """Bring the menu's lines up to date by changing its actions in place, adding or
        removing only those beyond the common length: the menu may be open, and a menu
        cleared while open closes at the mouse button's release (right after it opened,
        since opening it asks for a new snapshot)."""
        lines = menu_lines(self.snapshot, self.status_line)
        actions = self._line_actions
        for index, line in enumerate(lines):
            if index == len(actions):
                action = QAction(self._menu)
                action.triggered.connect(lambda _=False, i=index: self._line_clicked(i))
                self._menu.insertAction(self._commands_start, action)
                actions.append(action)
            action = actions[index]
            action.setSeparator(line.kind == "section")
            action.setText(as_menu_text(line.text))
        for action in actions[len(lines) :]:
            self._menu.removeAction(action)
            action.deleteLater()
        del actions[len(lines) :]
        self._lines = lines
        with QSignalBlocker(self._pause):
            self._pause.setChecked(self.paused)
        if self._menu.isVisible():
            keep_on_screen(self._menu)

    def _line_clicked(self, index: int) -> None:
        """A line of information was clicked. They are kept enabled, since greyed-out text
        is hard to read at a glance; most open the dashboard."""
        line = self._lines[index]
        if line.kind == "settings":
            self.open_settings.emit()
        elif line.kind == "dashboard":
            self.open_dashboard.emit(line.target)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_dashboard.emit(OVERVIEW)
