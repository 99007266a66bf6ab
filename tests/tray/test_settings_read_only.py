"""The settings window over a config.toml the user made read-only: Save says the file is
read-only and leaves it; the save's rename used to replace it without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from shared.config import load_settings
from shared.paths import config_file
from tray_app.settings_window import SettingsDialog


def test_saving_over_a_read_only_file_says_so_and_keeps_it(
    qtbot: QtBot, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text("# mine, hands off\n[budgets]\ndaily_usd = 5\n", encoding="utf-8")
    path.chmod(0o444)
    window = SettingsDialog(load_settings(), "~/.claude/projects (missing)")
    qtbot.addWidget(window)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append(args[2]))
    window.daily.setValue(9)
    assert not window.save()
    assert shown == [f"Could not save to {path}: the file is read-only"]
    assert path.read_text(encoding="utf-8") == "# mine, hands off\n[budgets]\ndaily_usd = 5\n"
