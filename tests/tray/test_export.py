""" "Export weekly summary…" and the Monday auto-export, through the app's worker."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from shared.config import Settings, SummarySettings
from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now, tray_app_for
from tray_app.app import BurnmeterApp
from tray_app.worker import wait_for_pool


def make_app(roots: list[LogRoot], ledger_file: Path, settings: Settings) -> BurnmeterApp:
    return tray_app_for(roots, ledger_file, settings)


def test_export_writes_last_weeks_summary(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path, tmp_path: Path
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(roots, ledger_file, Settings())
    target = tmp_path / "week.md"
    app.run_summary_export(target, "md")
    qtbot.waitUntil(lambda: app.exported == [target], timeout=20_000)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "$" in text
    assert f"Weekly summary saved to {target}" in app.dashboard.banner.text()
    app.shutdown()


def test_the_menus_export_follows_the_redact_setting(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path, tmp_path: Path
) -> None:
    """The settings' "for sharing" choice held for the Monday export only: the menu's
    export wrote full repository paths."""
    ingest_now(roots, ledger_file)
    plain_app = make_app(roots, ledger_file, Settings())
    plain = tmp_path / "plain.md"
    plain_app.run_summary_export(plain, "md")
    qtbot.waitUntil(lambda: plain_app.exported == [plain], timeout=20_000)
    plain_app.shutdown()
    app = make_app(roots, ledger_file, Settings(summary=SummarySettings(redact=True)))
    target = tmp_path / "shared.md"
    app.run_summary_export(target, "md")
    qtbot.waitUntil(lambda: app.exported == [target], timeout=20_000)
    app.shutdown()
    assert "/home/dev/" in plain.read_text(encoding="utf-8")
    text = target.read_text(encoding="utf-8")
    assert "/home/dev/" not in text and "repo-" in text


def test_monday_export_runs_once_into_the_chosen_folder(
    qtbot: QtBot, history: Path, roots: list[LogRoot], ledger_file: Path, tmp_path: Path
) -> None:
    ingest_now(roots, ledger_file)
    folder = tmp_path / "summaries"
    settings = Settings(summary=SummarySettings(auto_export_dir=str(folder)))
    app = make_app(roots, ledger_file, settings)
    app._auto_export_if_due()
    qtbot.waitUntil(lambda: len(app.exported) == 1, timeout=20_000)
    written = app.exported[0]
    assert written.parent == folder and written.suffix == ".html"
    app._auto_export_if_due()  # the file is there: nothing more to do
    qtbot.wait(300)
    assert len(app.exported) == 1
    app.shutdown()


def test_the_monday_export_waits_for_the_first_import(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """start() ran the export beside the first import on the worker pool: last week was
    exported from a ledger not read yet ("No agent activity was recorded in this week"),
    and the file, the week's record, was never written again."""
    import tray_app.app as app_module

    real_ingest = app_module.ingest

    def slow_ingest(*args: object, **kwargs: object) -> object:
        time.sleep(1.0)  # a long first import
        return real_ingest(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "ingest", slow_ingest)
    folder = tmp_path / "summaries"
    settings = Settings(
        summary=SummarySettings(auto_export_dir=str(folder), auto_export_format="md")
    )
    app = tray_app_for(roots, ledger_file, settings, live=True)
    app.dashboard.quit_on_close = False
    app.start()
    assert app._importing
    app._auto_export_if_due()  # a tick during the import
    wait_for_pool(1500)
    qtbot.wait(100)
    if app._importing:
        assert app.exported == []
    qtbot.waitUntil(lambda: not app._importing and len(app.exported) == 1, timeout=30_000)
    text = app.exported[0].read_text(encoding="utf-8")
    assert "No agent activity was recorded" not in text
    assert "$" in text
    app.dashboard.close()
    app.shutdown()


def test_a_failed_monday_export_says_where_once_and_waits_an_hour(
    qtbot: QtBot,
    history: Path,
    roots: list[LogRoot],
    ledger_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A folder that is a file: the banner named neither the folder nor the setting, and
    every 30 s tick built the whole summary again and logged a traceback."""
    import tray_app.app as app_module

    ingest_now(roots, ledger_file)
    afile = tmp_path / "afile"
    afile.write_text("not a folder", encoding="utf-8")
    built: list[int] = []
    real_run = app_module.run_auto_export

    def counting_run(*args: object, **kwargs: object) -> object:
        built.append(1)
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "run_auto_export", counting_run)
    app = make_app(
        roots, ledger_file, Settings(summary=SummarySettings(auto_export_dir=str(afile)))
    )
    with caplog.at_level(logging.INFO):
        app._auto_export_if_due()
        qtbot.waitUntil(lambda: "Weekly summary not saved" in app.dashboard.banner.text())
        text = app.dashboard.banner.text()
        assert str(afile) in text and "[summary] auto_export_dir" in text
        app.dashboard.show_message("something else")
        for _ in range(3):  # ticks
            app._auto_export_if_due()
            wait_for_pool()
            qtbot.wait(50)
        assert "Weekly summary not saved" not in app.dashboard.banner.text()
        assert not any(r.exc_info for r in caplog.records)
        assert sum("not saved into" in r.getMessage() for r in caplog.records) == 1
        assert built == []  # the folder was checked before building the summary

        # An hour later it is tried again, logged in one line, and not announced again.
        app._auto_export_retry_at = 0.0
        app._auto_export_if_due()
        wait_for_pool()
        qtbot.waitUntil(
            lambda: sum("not saved into" in r.getMessage() for r in caplog.records) == 2
        )
        assert "Weekly summary not saved" not in app.dashboard.banner.text()
        assert not any(r.exc_info for r in caplog.records)
    app.shutdown()
