""" "Export weekly summary…" and the Monday auto-export, through the app's worker."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from shared.config import LoadedSettings, Settings, SummarySettings
from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now
from tray_app.app import BurnmeterApp


def make_app(roots: list[LogRoot], ledger_file: Path, settings: Settings) -> BurnmeterApp:
    return BurnmeterApp(
        roots=roots,
        ledger_file=ledger_file,
        loaded=LoadedSettings(settings, ledger_file.parent / "config.toml"),
        tray_available=False,
        live=False,
    )


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
