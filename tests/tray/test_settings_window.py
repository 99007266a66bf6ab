"""The settings window: every field round-trips through config.toml; a broken file is
reported, defaults are shown, and the file is replaced only when the user says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from shared.config import load_settings
from shared.desktop import autostart_path
from shared.paths import config_file
from tray_app.settings_window import SettingsDialog


def dialog(qtbot: QtBot) -> SettingsDialog:
    window = SettingsDialog(load_settings(), "~/.claude/projects (missing)")
    qtbot.addWidget(window)
    return window


def test_every_field_round_trips_through_the_toml_file(qtbot: QtBot, isolated_home: Path) -> None:
    path = config_file()
    path.parent.mkdir(parents=True)
    # A price override the window does not show must survive a save.
    path.write_text('[prices."my-model"]\ninput_mtok = 2.0\n', encoding="utf-8")
    window = dialog(qtbot)
    window.daily.setValue(20)
    window.weekly.setValue(100)
    window.monthly.setValue(window.monthly.minimum())  # "not set", a step below $0
    window.plan.setCurrentText("Claude Max 5x")
    window.plan_price.setValue(100)
    window.meter_mode.setCurrentIndex(window.meter_mode.findData("session"))
    window.start_at_login.setChecked(True)
    window.timezone.setText("Europe/Berlin")
    window.claude_roots.setPlainText("/mnt/laptop/.claude\n\n  /srv/other/.claude  \n")
    window.codex_roots.setPlainText("/mnt/laptop/.codex")
    window.add_tier_rule("my-model*", "economy")
    window.summary_dir.setText("  ~/Documents/burnmeter ")
    window.summary_format.setCurrentIndex(window.summary_format.findData("md"))
    window.summary_redact.setChecked(True)
    with qtbot.waitSignal(window.saved) as saved:
        assert window.save()

    loaded = load_settings()
    assert loaded.problems == []
    settings = loaded.settings
    assert saved.args[0] == settings
    assert settings.budgets.daily_usd == 20
    assert settings.budgets.weekly_usd == 100
    assert settings.budgets.monthly_usd is None
    assert settings.subscription.plan == "Claude Max 5x"
    assert settings.subscription.monthly_price_usd == 100
    assert settings.meter_mode == "session"
    assert settings.start_at_login
    # No switch for what nothing served (lsp_tcp did nothing).
    assert not hasattr(window, "lsp_tcp")
    assert settings.timezone == "Europe/Berlin"
    assert settings.roots.claude == ["/mnt/laptop/.claude", "/srv/other/.claude"]
    assert settings.roots.codex == ["/mnt/laptop/.codex"]
    assert settings.tier_policy == {"rules": [{"match": "my-model*", "tier": "economy"}]}
    assert settings.prices["my-model"].input_mtok == 2.0
    assert settings.summary.auto_export_dir == "~/Documents/burnmeter"
    assert settings.summary.auto_export_format == "md"
    assert settings.summary.redact is True

    # Opening the window again shows what was saved.
    again = dialog(qtbot)
    assert again.daily.value() == 20
    assert again.monthly.text() == "not set"
    assert again.meter_mode.currentData() == "session"
    assert again.tier_rules() == [{"match": "my-model*", "tier": "economy"}]
    assert again.claude_roots.toPlainText() == "/mnt/laptop/.claude\n/srv/other/.claude"
    assert again.summary_dir.text() == "~/Documents/burnmeter"
    assert again.summary_format.currentData() == "md"
    assert again.summary_redact.isChecked()


def test_a_save_writes_what_was_changed_and_what_the_file_named_not_every_default(
    qtbot: QtBot, isolated_home: Path
) -> None:
    """The first save from the window wrote every default into config.toml (`lsp_tcp`,
    `[roots]`, `[tier_policy]`, all 14 `[insights]` thresholds…), pinning this user to
    today's defaults for good."""
    import tomllib

    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(
        "[budgets]\ndaily_usd = 5\nweekly_usd = 20\n\n"
        "[insights]\nloop_consecutive_errors = 8  # the default, written on purpose\n",
        encoding="utf-8",
    )
    window = dialog(qtbot)
    window.daily.setValue(7)
    window.meter_mode.setCurrentIndex(window.meter_mode.findData("session"))
    assert window.save()
    written = tomllib.loads(path.read_text(encoding="utf-8"))
    assert written == {
        "meter_mode": "session",
        "budgets": {"daily_usd": 7.0, "weekly_usd": 20.0},
        "insights": {"loop_consecutive_errors": 8},
    }
    # Cleared in the window, a budget leaves the file.
    window = dialog(qtbot)
    window.weekly.setValue(window.weekly.minimum())
    assert window.save()
    written = tomllib.loads(path.read_text(encoding="utf-8"))
    assert written["budgets"] == {"daily_usd": 7.0}


def test_start_at_login_writes_and_removes_the_xdg_autostart_entry(
    qtbot: QtBot, isolated_home: Path
) -> None:
    window = dialog(qtbot)
    window.start_at_login.setChecked(True)
    assert window.save()
    entry = autostart_path()
    assert entry == isolated_home / ".config" / "autostart" / "burnmeter.desktop"
    text = entry.read_text(encoding="utf-8")
    assert "[Desktop Entry]" in text
    assert "Type=Application" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert "burnmeter-tray" in exec_line or "shared tray" in exec_line

    window = dialog(qtbot)
    assert window.start_at_login.isChecked()
    window.start_at_login.setChecked(False)
    assert window.save()
    assert not entry.exists()


@pytest.mark.parametrize("ticked_in_the_file", [False, True])
def test_start_at_login_is_greyed_out_where_no_desktop_reads_autostart_entries(
    qtbot: QtBot, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, ticked_in_the_file: bool
) -> None:
    """On macOS and Windows every save showed an error box ("desktop entries and start at
    login use the XDG specifications ..."), even with the box unticked: the box was
    enabled and save() always called enable/disable_autostart, which raise there."""
    from PySide6.QtWidgets import QMessageBox

    from shared import desktop

    monkeypatch.setattr(desktop, "is_supported", lambda: False)
    called: list[str] = []
    monkeypatch.setattr(desktop, "enable_autostart", lambda *a: called.append("enable"))
    monkeypatch.setattr(desktop, "disable_autostart", lambda: called.append("disable"))
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append(args[2]))
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(f"start_at_login = {str(ticked_in_the_file).lower()}\n", encoding="utf-8")

    window = dialog(qtbot)
    box = window.start_at_login
    assert not box.isEnabled() and not box.isChecked()
    assert "autostart" not in box.text()  # no Linux path in the label
    assert "Login Items" in box.toolTip() and "shell:startup" in box.toolTip()
    window.daily.setValue(3)
    assert window.save()
    assert shown == [] and called == []
    # The file's value is kept (a config shared with a Linux machine), the rest is saved.
    assert load_settings().settings.start_at_login is ticked_in_the_file
    assert load_settings().settings.budgets.daily_usd == 3


@pytest.mark.parametrize(
    "broken",
    ["[budgets\ndaily_usd = 5\n", "[budgets]\ndaily_usd = -5\n", "meter_mode = 'weekly'\n"],
)
def test_a_broken_file_shows_defaults_and_is_kept_unless_the_user_agrees(
    qtbot: QtBot, isolated_home: Path, broken: str
) -> None:
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(broken, encoding="utf-8")
    window = dialog(qtbot)
    assert window.problem_label.isVisibleTo(window)
    assert str(path) in window.problem_label.text()
    assert "using defaults" in window.problem_label.text() or (
        "ignored, the default is used" in window.problem_label.text()
    )
    assert window.daily.text() == "not set"
    assert window.meter_mode.currentData() == "today"

    window.daily.setValue(7)
    window.confirm_replace_broken_file = lambda: False  # type: ignore[method-assign]
    assert not window.save()
    assert path.read_text(encoding="utf-8") == broken
    assert "left as it is" in window.message

    window.confirm_replace_broken_file = lambda: True  # type: ignore[method-assign]
    assert window.save()
    reloaded = load_settings()
    assert reloaded.problems == []
    assert reloaded.settings.budgets.daily_usd == 7


def test_invalid_input_is_refused_with_a_message(
    qtbot: QtBot, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = dialog(qtbot)
    window.add_tier_rule("gpt-9*", "standard")
    # Settings validation refuses an unknown meter mode; the file is not written.
    window.meter_mode.addItem("broken", "hourly")
    window.meter_mode.setCurrentIndex(window.meter_mode.count() - 1)
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append(args[2]))
    assert not window.save()
    assert shown and "meter_mode" in shown[0]
    assert not config_file().exists()


def test_a_settings_file_that_cannot_be_written_is_said_not_silently_kept(
    qtbot: QtBot, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a folder named config.toml (or a link into a folder that is gone), Save raised
    IsADirectoryError into the tray's exception hook: the window stayed, saying nothing."""
    from PySide6.QtWidgets import QMessageBox

    config_file().mkdir(parents=True)
    window = dialog(qtbot)
    monkeypatch.setattr(window, "confirm_replace_broken_file", lambda: True)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append(args[2]))
    window.daily.setValue(5)
    assert not window.save()
    assert shown == [window.message]
    assert window.message.startswith(f"Could not save to {config_file()}: ")
    assert config_file().is_dir()


def test_a_table_the_file_gave_as_something_else_is_not_written_whole(
    isolated_home: Path,
) -> None:
    """`insights = 5` in the file (reported, the defaults used): a save wrote all 14
    `[insights]` defaults, pinning the user to them."""
    import tomllib

    from shared.config import Settings, save_settings

    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text("insights = 5\nbudgets = 'x'\n", encoding="utf-8")
    save_settings(Settings(meter_mode="session"), path)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"meter_mode": "session"}


def test_a_fixed_file_takes_its_problems_off_the_dashboards_banner(
    qtbot: QtBot, isolated_home: Path
) -> None:
    """The banner kept "budgets.daily_usd … ignored" after the user fixed the value in the
    Settings window: notices were only ever added."""
    from shared.paths import ledger_path
    from shared.sources.roots import claude_roots
    from tray_app.app import BurnmeterApp

    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text("[budgets]\ndaily_usd = -5\n", encoding="utf-8")
    app = BurnmeterApp(
        roots=claude_roots(),
        ledger_file=ledger_path(),
        loaded=load_settings(),
        tray_available=False,
        live=False,
    )
    app.start()
    app.dashboard.quit_on_close = False
    assert "daily_usd" in app.dashboard.banner.text()

    app.open_settings()
    window = app._settings_dialog
    assert isinstance(window, SettingsDialog)
    window.daily.setValue(7)
    window.confirm_replace_broken_file = lambda: True  # type: ignore[method-assign]
    assert window.save()
    text = app.dashboard.banner.text()
    assert "daily_usd" not in text
    assert "No system tray was found" in text  # the other lasting notice stays
    assert app.settings.budgets.daily_usd == 7
    window.close()

    # Broken again by hand: the Settings window reads the file again, and so does the banner.
    path.write_text("meter_mode = 'weekly'\n", encoding="utf-8")
    app.open_settings()
    text = app.dashboard.banner.text()
    assert "meter_mode" in text and "daily_usd" not in text
    assert "No system tray was found" in text
    app._settings_dialog.close()  # type: ignore[union-attr]
    app.dashboard.close()
    app.shutdown()


@pytest.mark.parametrize("entry_before", [False, True])
def test_the_demo_neither_shows_nor_changes_the_autostart_entry(
    qtbot: QtBot, isolated_home: Path, entry_before: bool
) -> None:
    """A `--demo` tray wrote a real autostart entry (its Exec without --demo) when the box
    was ticked and saved, and it stayed after the demo quit."""
    from shared import desktop
    from shared.config import LoadedSettings, Settings
    from tray_app.app import BurnmeterApp

    entry = autostart_path()
    if entry_before:  # the user's own, from `burnmeter install-desktop --autostart`
        desktop.enable_autostart()
    before = entry.read_bytes() if entry_before else None
    demo_dir = isolated_home / "demo"
    demo_dir.mkdir()
    app = BurnmeterApp(
        roots=[],
        ledger_file=demo_dir / "ledger.sqlite",
        loaded=LoadedSettings(Settings(start_at_login=True), demo_dir / "config.toml"),
        tray_available=True,
        live=False,
        demo=True,
    )
    app.open_settings()
    window = app._settings_dialog
    assert isinstance(window, SettingsDialog)
    box = window.start_at_login
    assert not box.isEnabled() and not box.isChecked()
    assert "demo" in box.toolTip() and "install-desktop --autostart" in box.toolTip()
    box.setChecked(True)
    window.daily.setValue(3)
    assert window.save()
    assert (entry.read_bytes() if entry.exists() else None) == before
    assert load_settings(demo_dir / "config.toml").settings.budgets.daily_usd == 3
    assert not config_file().exists()  # the user's settings untouched too
    app.shutdown()


def test_budgets_the_spin_boxes_could_not_hold_survive_a_save_that_did_not_touch_them(
    qtbot: QtBot, isolated_home: Path
) -> None:
    """The boxes ran from "not set" at $0 to $1,000,000: a $0 budget in the file (over at
    the first cent) was removed, $2,500,000 saved as $1,000,000, $12.345 as $12.35, by a
    save that changed only the meter mode."""
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(
        "[budgets]\ndaily_usd = 0\nweekly_usd = 12.345\nmonthly_usd = 2_500_000\n"
        "[subscription]\nmonthly_price_usd = 1e9\n",
        encoding="utf-8",
    )
    window = dialog(qtbot)
    assert window.daily.text() == "$0.00"
    assert window.monthly.text() == "$2,500,000.00"
    assert window.plan_price.text() == "$1,000,000,000.00 / month"
    window.meter_mode.setCurrentIndex(window.meter_mode.findData("session"))
    assert window.save()
    assert path.read_text(encoding="utf-8") == (
        'meter_mode = "session"\n\n'
        "[budgets]\ndaily_usd = 0\nweekly_usd = 12.345\nmonthly_usd = 2_500_000\n"
        "[subscription]\nmonthly_price_usd = 1e9\n"
    )
    budgets = load_settings().settings.budgets
    assert (budgets.daily_usd, budgets.weekly_usd, budgets.monthly_usd) == (0, 12.345, 2.5e6)


def test_no_budget_is_a_step_below_zero_dollars(qtbot: QtBot, isolated_home: Path) -> None:
    """ "not set" and $0 were the same place in the box: a $0 budget could not be set."""
    from PySide6.QtCore import Qt

    window = dialog(qtbot)
    box = window.daily
    window.show()
    box.setFocus()
    assert box.text() == "not set"
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert box.text() == "$0.00"
    assert window.save()
    assert load_settings().settings.budgets.daily_usd == 0
    assert "daily_usd = 0" in config_file().read_text(encoding="utf-8")

    window = dialog(qtbot)
    box = window.daily
    window.show()
    box.setFocus()
    assert box.text() == "$0.00"
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert box.text() == "not set"
    assert window.save()
    assert load_settings().settings.budgets.daily_usd is None
    assert "daily_usd" not in config_file().read_text(encoding="utf-8")

    # A page up from "not set" stops at $0 as a page down from $9 does, then goes on by
    # pages (PageUp from "not set" jumped to $9).
    qtbot.keyClick(box, Qt.Key.Key_PageUp)
    assert box.text() == "$0.00"
    qtbot.keyClick(box, Qt.Key.Key_PageUp)
    assert box.text() == "$10.00"
    box.setValue(9)
    qtbot.keyClick(box, Qt.Key.Key_PageDown)
    assert box.text() == "$0.00"
    qtbot.keyClick(box, Qt.Key.Key_PageDown)
    assert box.text() == "not set"

    # Down from an amount stops at $0 first; an emptied field is "not set"; a minus sign
    # is not typed in; amounts past $1,000,000 are typed in.
    window = dialog(qtbot)
    box = window.weekly
    window.show()
    box.setFocus()
    box.setValue(0.5)
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert box.text() == "$0.00"
    box.selectAll()
    qtbot.keyClicks(box, "-2500000")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.text() == "$2,500,000.00"
    box.selectAll()
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.text() == "not set"
    box.selectAll()
    qtbot.keyClicks(box, "3000000.25")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.save()
    assert load_settings().settings.budgets.weekly_usd == 3_000_000.25


def test_a_save_from_the_window_keeps_the_comments_and_layout_of_a_hand_written_file(
    qtbot: QtBot, isolated_home: Path
) -> None:
    """The window rewrote config.toml with tomli_w: every comment gone, keys reordered,
    `timezone = 'utc'` as "UTC", the tier rules' `[[tier_policy.rules]]` inline."""
    text = (
        "# burnmeter, by hand\n"
        "timezone = 'utc'  # where I work\n"
        "\n"
        "[budgets]\n"
        "# what I can afford\n"
        "daily_usd   = 5    # a day\n"
        "weekly_usd = 20\n"
        "\n"
        "[[tier_policy.rules]]\n"
        "match = 'my-model*'  # mine\n"
        "tier = 'economy'\n"
        "\n"
        "[insights]\n"
        "churn_min_calls = 4  # fewer false alarms\n"
    )
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    window = dialog(qtbot)
    assert window.daily.text() == "$5.00"
    window.daily.setValue(7.5)
    assert window.save()
    assert path.read_text(encoding="utf-8") == text.replace(
        "daily_usd   = 5    # a day", "daily_usd   = 7.5    # a day"
    )

    # Opened again and saved with no change: not a byte moves.
    before = path.read_bytes()
    assert dialog(qtbot).save()
    assert path.read_bytes() == before
