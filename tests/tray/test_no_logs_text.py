"""With no logs, the tray says where it looked (menu and dashboard) and suggests its own
demo, `burnmeter tray --demo`, not the command line's."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from shared.sources.roots import LogRoot
from tests.tray.conftest import tray_app_for


def test_with_no_logs_the_tray_says_where_it_looked_and_suggests_its_own_demo(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    app = tray_app_for(roots, ledger_file)
    app.dashboard.quit_on_close = False
    try:
        app.start()
        app.open_dashboard()
        qtbot.waitUntil(lambda: app.dashboard.data is not None, timeout=10_000)
        qtbot.waitUntil(lambda: app.snapshot is not None, timeout=10_000)
        shown = app.dashboard.empty_state.text()
        assert app.dashboard.empty_state.isVisibleTo(app.dashboard)
        assert "`burnmeter tray --demo`" in shown
        assert "report daily --demo" not in shown
        for path in ("~/.claude/projects", "~/.codex/sessions"):
            assert f"{path} (missing)" in shown
        assert "Extra log folders" in shown

        app.tray.update_menu()
        menu = " ".join(
            action.text() for action in app.tray.menu.actions() if not action.isSeparator()
        )
        assert "No agent logs found yet in " in menu
        assert "~/.claude/projects" in menu and "~/.codex/sessions" in menu
    finally:
        app.shutdown()
