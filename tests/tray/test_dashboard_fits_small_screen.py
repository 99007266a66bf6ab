"""The dashboard fits a 1366×768 screen however many notices its banner holds: the banner
is as tall as its text up to a few lines and scrolls beyond."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pytestqt.qtbot import QtBot

from shared.sources.roots import LogRoot
from tray_app.dashboard import DashboardWindow
from tray_app.worker import Worker

# 768 px less a 48-px panel and a window title bar of up to 30 px.
FITS_768 = 768 - 48 - 30


def problems(count: int) -> list[str]:
    return [
        f"~/.config/burnmeter/config.toml: [budgets] daily_usd must be a number, not 'abc' "
        f"(problem {n}); it is left at its default. Fix the file or save it from Settings."
        for n in range(count)
    ]


def dashboard(qtbot: QtBot) -> DashboardWindow:
    window = DashboardWindow(Worker(), lambda: None, lambda _: None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(window)
    return window


def test_six_config_problems_keep_the_dashboard_within_a_768_px_screen(qtbot: QtBot) -> None:
    """Six problems in config.toml made the window's least height 794 px."""
    window = dashboard(qtbot)
    bare = window.minimumSizeHint().height()
    window.set_notices("config", problems(6))
    window.show()
    qtbot.waitExposed(window)
    assert window.minimumSizeHint().height() <= FITS_768
    assert bare <= FITS_768
    window.set_notices("config", problems(30))
    assert window.minimumSizeHint().height() <= FITS_768


def test_a_long_banner_scrolls_and_keeps_every_notice(qtbot: QtBot) -> None:
    window = dashboard(qtbot)
    window.set_notices("config", problems(6))
    window.resize(1366, 700)
    window.show()
    qtbot.waitExposed(window)
    area = window.banner_area
    qtbot.waitUntil(lambda: area.height() > 0)
    assert area.height() < window.banner.heightForWidth(area.viewport().width())
    assert area.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    assert all(text in window.banner.text() for text in problems(6))
    # The charts keep most of the window.
    assert window.tabs.height() > window.height() // 2


def test_one_short_notice_takes_only_its_own_height(qtbot: QtBot) -> None:
    window = dashboard(qtbot)
    window.add_notice("No system tray was found on this desktop.", "tray")
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    area = window.banner_area
    qtbot.waitUntil(lambda: area.height() > 0)
    assert area.verticalScrollBar().maximum() == 0
    assert area.height() <= window.banner.heightForWidth(area.viewport().width()) + 2


def test_the_window_opens_within_the_screen_s_free_area(qtbot: QtBot) -> None:
    """1100×760 and a title bar ran past the bottom of a 1366×768 screen."""
    from PySide6.QtGui import QGuiApplication

    window = dashboard(qtbot)
    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    area = screen.availableGeometry()
    assert window.width() <= area.width() - 40
    assert window.height() <= area.height() - 50
    assert window.width() >= min(1100, area.width() - 40)


def test_showing_the_empty_state_does_not_grow_the_window(
    qtbot: QtBot, ledger_file: Path, roots: list[LogRoot]
) -> None:
    """The empty state was shown while the tabs were still there: for that moment the
    window's least height was both, Qt grew the window to it and never shrank it (1100×718
    opened, 1100×761 after the first load of a first start, past a 768-px screen with its
    title bar)."""
    from shared.commands.context import where_we_looked
    from shared.config import Settings
    from shared.ledger import open_ledger
    from tray_app.app import TRAY_POINT_ELSEWHERE
    from tray_app.dashboard_data import dashboard_from_ledger

    ledger = open_ledger(ledger_file)
    try:
        empty = dashboard_from_ledger(ledger, Settings(), ZoneInfo("UTC"))
    finally:
        ledger.close()
    assert empty.calls == 0
    window = dashboard(qtbot)
    window.set_empty_text(where_we_looked(roots, TRAY_POINT_ELSEWHERE))
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    window.show_data(empty)
    qtbot.wait(50)
    assert window.empty_state.isVisible() and not window.tabs.isVisible()
    assert window.height() == 700
