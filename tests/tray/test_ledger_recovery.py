"""A ledger that cannot be read: the tray says so in a menu that fits the screen, keeps
trying, and starts its import and live watcher once the ledger is fixed or replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

import tray_app.app
from shared.ledger import LedgerCorrupt
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call
from tests.tray.conftest import tray_app_for
from tests.tray.history import session_file
from tray_app.app import BurnmeterApp
from tray_app.texts import MENU_TEXT_WIDTH

CWD = "/home/dev/src/burnmeter"
GARBAGE = b"this is not an SQLite file\n" * 100
# A menu this wide still fits a 1366-pixel screen beside a panel.
MENU_MAX_PX = 700


def live_app(roots: list[LogRoot], ledger_file: Path) -> BurnmeterApp:
    return tray_app_for(roots, ledger_file, live=True)


def menu_texts(app: BurnmeterApp) -> list[str]:
    app.tray.update_menu()
    return [action.text() for action in app.tray.menu.actions() if not action.isSeparator()]


def corrupt(ledger_file: Path) -> None:
    ledger_file.parent.mkdir(parents=True, exist_ok=True)
    ledger_file.write_bytes(GARBAGE)


def test_a_ledger_corrupt_at_the_start_is_used_once_it_is_moved_aside(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tray started on a damaged ledger stayed without its import and live engine
    until it was restarted, and its menu kept saying it could not read the ledger after
    the user had moved the file aside as the message advised."""
    monkeypatch.setattr(tray_app.app, "LEDGER_RETRY_MS", 200)
    corrupt(ledger_file)
    app = live_app(roots, ledger_file)
    try:
        app.start()
        assert app.engine is None
        texts = menu_texts(app)
        assert texts[0].startswith("Cannot read the ledger: ")
        assert "Reading the ledger" not in " ".join(texts)
        said = " ".join(texts)
        assert "~/burnmeter-data/ledger.sqlite is not a readable SQLite file" in said
        assert "as soon as it can be read" in said
        assert str(ledger_file) in app.dashboard.banner.text()
        qtbot.wait(700)  # a few retries: the file is still damaged, left as it is
        assert app.engine is None
        assert ledger_file.read_bytes() == GARBAGE

        ledger_file.rename(ledger_file.with_name("ledger.sqlite.broken"))
        qtbot.waitUntil(lambda: app.engine is not None, timeout=20_000)
        qtbot.waitUntil(
            lambda: app.snapshot is not None and app.snapshot.month_usd > 0, timeout=10_000
        )
        assert not any("Cannot read" in text for text in menu_texts(app))
        assert "Cannot read" not in app.tray.toolTip()
        assert not any("ledger" in notice for notice in app.dashboard.notices)
    finally:
        app.shutdown()


def test_opening_the_menu_tries_the_ledger_again_at_once(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tray_app.app, "LEDGER_RETRY_MS", 3_600_000)
    corrupt(ledger_file)
    app = live_app(roots, ledger_file)
    try:
        app.start()
        assert app.engine is None
        ledger_file.unlink()  # replaced: here, by a new one made from the logs
        app.tray.menu_opened.emit()
        qtbot.waitUntil(lambda: app.engine is not None, timeout=20_000)
    finally:
        app.shutdown()


def test_a_long_ledger_error_is_wrapped_to_a_menu_that_fits_the_screen(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    """One menu line of 330 characters made the menu ~2,000 px wide, its advice cut off
    at the screen's edge."""
    deep = Path("/srv/shared/team-data/burnmeter/some/long/folder/name/ledger.sqlite")
    message = (
        f"The ledger at {deep} is not a readable SQLite file (database disk image is "
        "malformed). burnmeter left it untouched. Move it aside (or set BURNMETER_DATA_DIR "
        "to another folder) and run `burnmeter ingest` to rebuild the ledger from the "
        "agents' logs."
    )
    app = live_app(roots, ledger_file)
    try:
        app._snapshot_failed(LedgerCorrupt(message))
        texts = menu_texts(app)
        status = [text for text in texts if text not in ("Reading the ledger…",)]
        status = status[: status.index("Open dashboard")]
        assert len(status) > 1
        assert all(len(line) <= MENU_TEXT_WIDTH for line in status)
        assert " ".join(status) == f"Cannot read the ledger: {message}"
        assert app.tray.menu.sizeHint().width() < MENU_MAX_PX
        assert all(len(line) <= MENU_TEXT_WIDTH for line in app.tray.toolTip().splitlines())
    finally:
        app.shutdown()


def test_a_live_engine_stopped_by_a_damaged_ledger_starts_again_once_it_is_replaced(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    now_ms: int,
) -> None:
    """The live engine stops on a damaged ledger (writing to it could only do harm); the
    tray then watched nothing, even once the user had moved the file aside and the tray
    read a new one, until it was restarted."""
    app = live_app(roots, ledger_file)
    try:
        app.start()
        qtbot.waitUntil(lambda: app.engine is not None and app.engine.wait_ready(0), timeout=20_000)
        first = app.engine
        corrupt(ledger_file)  # damaged in place while the tray runs
        append(
            session_file(history, CWD, "running-session"),
            claude_call(message_id="live-a", session_id="running-session", cwd=CWD, ts_ms=now_ms),
        )
        qtbot.waitUntil(lambda: first is not None and first.failure is not None, timeout=10_000)

        ledger_file.rename(ledger_file.with_name("ledger.sqlite.broken"))
        app.refresh()  # the next tick reads a new ledger, made from the logs
        qtbot.waitUntil(lambda: app.engine is not first and app.engine is not None, timeout=10_000)
        qtbot.waitUntil(
            lambda: app.snapshot is not None and app.snapshot.month_usd > 0, timeout=20_000
        )
        before = app.snapshot.today_usd if app.snapshot else 0.0
        append(
            session_file(history, CWD, "running-session"),
            claude_call(
                message_id="live-b",
                session_id="running-session",
                cwd=CWD,
                ts_ms=now_ms,
                model="claude-opus-4-5",
                input_tokens=200_000,
            ),
        )
        qtbot.waitUntil(
            lambda: app.snapshot is not None and app.snapshot.today_usd > before + 0.5,
            timeout=10_000,
        )
    finally:
        app.shutdown()
