"""The settings window: budgets, plan and price, meter mode, tier rules, watched roots,
the weekly summary's Monday export, start at login and the language server's TCP mode,
saved as TOML through `shared.config`.

A settings file that could not be read is never replaced without asking: the window
says what was wrong, shows the defaults, and asks before saving over the file.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shared import desktop
from shared.config import MONEY_MAX, LoadedSettings, Settings, save_settings
from shared.paths import display_path
from shared.plans import PRESETS

PLANS: tuple[tuple[str, float | None], ...] = (
    ("", None),
    *((plan.name, plan.monthly_price_usd) for plan in PRESETS),
)
TIERS = ("economy", "standard", "frontier", "unknown")
METER_MODES = (("today", "Today's cost"), ("session", "Running session's cost"))
SUMMARY_FORMATS = (
    ("html", "HTML with charts"),
    ("md", "Markdown"),
    ("json", "JSON"),
    ("csv", "CSV"),
)
# The tooltip of the greyed-out "Start at login" box on macOS and Windows.
NO_AUTOSTART_HERE = (
    "Start at login writes an XDG autostart entry, which only Linux and BSD desktops "
    "read. On macOS, add burnmeter.app in System Settings > General > Login Items; on "
    "Windows, put a shortcut to burnmeter-tray.exe in the Startup folder (Win+R, "
    "shell:startup)."
)
# The tooltip of the greyed-out "Start at login" box in the demo.
NO_AUTOSTART_IN_DEMO = (
    "The demo (burnmeter tray --demo) never starts at login: it leaves nothing behind "
    'when it quits. To start burnmeter at login, tick this box in "burnmeter tray" '
    '(without --demo), or run "burnmeter install-desktop --autostart".'
)


class MoneyBox(QDoubleSpinBox):
    """A dollar amount from $0 to what config.toml accepts (MONEY_MAX), or "not set", one
    step below $0 (the arrow down from $0, or the field emptied): $0 is an amount of its
    own (a budget of $0 is over at the first cent). The box had a floor of "not set" at
    $0 and a ceiling of $1,000,000, so a $0 budget in the file was removed and a larger
    one cut down by a save that did not touch it.

    The amount shown is rounded to the cent; one left as it was keeps the exact amount it
    was given (`daily_usd = 12.345` stays 12.345)."""

    NOT_SET = -1.0

    def __init__(self) -> None:
        super().__init__()
        self.setRange(self.NOT_SET, MONEY_MAX)
        self.setDecimals(2)
        self.setPrefix("$")
        self.setSpecialValueText("not set")
        self.setGroupSeparatorShown(True)
        self.setToolTip('$0 is an amount; "not set" is one step below it (arrow down from $0).')
        self._given: float | None = None
        self._shown = self.NOT_SET
        self.setValue(self.NOT_SET)

    def set_amount(self, amount: float | None) -> None:
        self.setValue(self.NOT_SET if amount is None else amount)
        self._given = amount
        self._shown = self.value()

    def amount(self) -> float | None:
        if self.value() == self._shown:
            return self._given
        return None if self.value() < 0 else self.value()

    def stepBy(self, steps: int) -> None:
        """Down from any amount to $0 first, then to "not set"; up from "not set" to $0,
        a page (PageUp) too: the boundary between an amount and none is a step of its own
        either way (PageUp from "not set" jumped to $9)."""
        value = self.value()
        if value < 0:
            target = self.NOT_SET if steps < 0 else 0.0
        else:
            target = value + steps * self.singleStep()
            if target < 0:
                target = 0.0 if value > 0 else self.NOT_SET
        self.setValue(min(target, self.maximum()))
        self.selectAll()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if "-" in text:  # "not set" is a step below $0, not a negative amount
            return QValidator.State.Invalid, text, pos
        if text == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        return super().validate(text, pos)

    def fixup(self, text: str) -> str:
        """An emptied field is "not set"."""
        bare = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        return self.specialValueText() if not bare else super().fixup(text)

    def valueFromText(self, text: str) -> float:
        if text == self.specialValueText():
            return self.NOT_SET
        return super().valueFromText(text)


class SettingsDialog(QDialog):
    saved = Signal(object)  # Settings

    def __init__(
        self,
        loaded: LoadedSettings,
        default_roots: str,
        parent: QWidget | None = None,
        *,
        demo: bool = False,
    ):
        super().__init__(parent)
        self.setWindowTitle("burnmeter settings (demo)" if demo else "burnmeter settings")
        self.loaded = loaded
        # Start at login is the user's own: the demo (throwaway settings, nothing left
        # behind) neither shows nor changes their autostart entry.
        self.autostart_here = desktop.is_supported() and not demo
        self.demo = demo
        self.message = ""
        layout = QVBoxLayout(self)

        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(
            "QLabel { background: #fde2e1; color: #5c0b07; padding: 6px; border-radius: 4px; }"
        )
        if loaded.problems:
            self.problem_label.setText(
                "\n".join(loaded.problems)
                + "\nDefaults are shown for what could not be used. Saving will ask before "
                "replacing the file."
            )
        self.problem_label.setVisible(bool(loaded.problems))
        layout.addWidget(self.problem_label)

        budgets = QGroupBox("Budgets (API-equivalent $)")
        form = QFormLayout(budgets)
        self.daily = MoneyBox()
        self.weekly = MoneyBox()
        self.monthly = MoneyBox()
        form.addRow("Daily", self.daily)
        form.addRow("Weekly", self.weekly)
        form.addRow("Monthly", self.monthly)
        columns = QHBoxLayout()
        left = QVBoxLayout()
        right = QVBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout.addLayout(columns)
        left.addWidget(budgets)

        plan_box = QGroupBox("Subscription")
        form = QFormLayout(plan_box)
        self.plan = QComboBox()
        self.plan.setEditable(True)
        for name, _price in PLANS:
            self.plan.addItem(name)
        self.plan.currentIndexChanged.connect(self._plan_picked)
        self.plan_price = MoneyBox()
        self.plan_price.setSuffix(" / month")
        form.addRow("Plan", self.plan)
        form.addRow("Price", self.plan_price)
        left.addWidget(plan_box)

        meter_box = QGroupBox("Tray")
        form = QFormLayout(meter_box)
        self.meter_mode = QComboBox()
        for value, label in METER_MODES:
            self.meter_mode.addItem(label, value)
        form.addRow("The icon shows", self.meter_mode)
        self.start_at_login = self._start_at_login_box()
        form.addRow(self.start_at_login)
        self.timezone = QLineEdit()
        self.timezone.setPlaceholderText("local, or a zone such as Europe/Berlin")
        form.addRow("Time zone", self.timezone)
        left.addWidget(meter_box)
        left.addStretch(1)

        tiers_box = QGroupBox("Tier rules (tried before the defaults; * matches anything)")
        tiers_layout = QVBoxLayout(tiers_box)
        self.tier_table = QTableWidget(0, 2)
        self.tier_table.setHorizontalHeaderLabels(["Model pattern", "Tier"])
        self.tier_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tier_table.setMinimumHeight(110)
        tiers_layout.addWidget(self.tier_table)
        buttons = QHBoxLayout()
        add = QPushButton("Add rule")
        add.clicked.connect(lambda: self.add_tier_rule("", "standard"))
        remove = QPushButton("Remove rule")
        remove.clicked.connect(self._remove_tier_rule)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        tiers_layout.addLayout(buttons)
        right.addWidget(tiers_box)

        roots_box = QGroupBox("Extra log folders to watch (one per line)")
        form = QFormLayout(roots_box)
        self.claude_roots = QPlainTextEdit()
        self.codex_roots = QPlainTextEdit()
        for edit in (self.claude_roots, self.codex_roots):
            edit.setMaximumHeight(56)
        form.addRow("Claude Code", self.claude_roots)
        form.addRow("Codex", self.codex_roots)
        always = QLabel(f"Always watched:\n{default_roots}")
        always.setWordWrap(True)
        form.addRow(always)
        right.addWidget(roots_box)
        left.insertWidget(left.count() - 1, self._summary_box())  # above the stretch

        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.save)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.show_settings(loaded.settings)

    def _start_at_login_box(self) -> QCheckBox:
        """Ticked, it writes an XDG autostart entry: where no desktop reads one (macOS,
        Windows) and in the demo the box is greyed out and says what to do instead."""
        if self.autostart_here:
            return QCheckBox(f"Start at login ({display_path(desktop.autostart_path())})")
        box = QCheckBox("Start at login")
        box.setEnabled(False)
        box.setToolTip(NO_AUTOSTART_IN_DEMO if self.demo else NO_AUTOSTART_HERE)
        return box

    def _summary_box(self) -> QGroupBox:
        summary_box = QGroupBox("Weekly summary (written every Monday while the tray runs)")
        form = QFormLayout(summary_box)
        self.summary_dir = QLineEdit()
        self.summary_dir.setPlaceholderText("off (choose a folder to turn it on)")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_summary_dir)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.summary_dir, 1)
        folder_row.addWidget(choose)
        form.addRow("Folder", folder_row)
        self.summary_format = QComboBox()
        for value, label in SUMMARY_FORMATS:
            self.summary_format.addItem(label, value)
        form.addRow("Format", self.summary_format)
        self.summary_redact = QCheckBox("Repository paths as short hashes (for sharing)")
        form.addRow(self.summary_redact)
        return summary_box

    def _choose_summary_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for the weekly summary", self.summary_dir.text()
        )
        if folder:
            self.summary_dir.setText(folder)

    def show_settings(self, settings: Settings) -> None:
        self.daily.set_amount(settings.budgets.daily_usd)
        self.weekly.set_amount(settings.budgets.weekly_usd)
        self.monthly.set_amount(settings.budgets.monthly_usd)
        self.plan.setCurrentText(settings.subscription.plan)
        self.plan_price.set_amount(settings.subscription.monthly_price_usd)
        self.meter_mode.setCurrentIndex(max(0, self.meter_mode.findData(settings.meter_mode)))
        # The desktop's own settings panel may have switched the entry off: show what is.
        at_login = desktop.autostart_enabled() if self.autostart_here else False
        self.start_at_login.setChecked(settings.start_at_login and at_login)
        self.timezone.setText(settings.timezone)
        self.claude_roots.setPlainText("\n".join(settings.roots.claude))
        self.codex_roots.setPlainText("\n".join(settings.roots.codex))
        self.summary_dir.setText(settings.summary.auto_export_dir)
        self.summary_format.setCurrentIndex(
            max(0, self.summary_format.findData(settings.summary.auto_export_format))
        )
        self.summary_redact.setChecked(settings.summary.redact)
        self.tier_table.setRowCount(0)
        for rule in settings.tier_policy.get("rules", []):
            if isinstance(rule, dict):
                self.add_tier_rule(str(rule.get("match", "")), str(rule.get("tier", "")))

    def add_tier_rule(self, pattern: str, tier: str) -> None:
        row = self.tier_table.rowCount()
        self.tier_table.insertRow(row)
        self.tier_table.setItem(row, 0, QTableWidgetItem(pattern))
        combo = QComboBox()
        combo.addItems(TIERS)
        combo.setCurrentText(tier if tier in TIERS else "standard")
        self.tier_table.setCellWidget(row, 1, combo)

    def _remove_tier_rule(self) -> None:
        row = self.tier_table.currentRow()
        if row >= 0:
            self.tier_table.removeRow(row)

    def _plan_picked(self, index: int) -> None:
        price = PLANS[index][1] if 0 <= index < len(PLANS) else None
        if price is not None:
            self.plan_price.setValue(price)

    def tier_rules(self) -> list[dict[str, str]]:
        rules = []
        for row in range(self.tier_table.rowCount()):
            item = self.tier_table.item(row, 0)
            combo = self.tier_table.cellWidget(row, 1)
            pattern = item.text().strip() if item else ""
            if pattern and isinstance(combo, QComboBox):
                rules.append({"match": pattern, "tier": combo.currentText()})
        return rules

    def edited_settings(self) -> Settings:
        """The form's values on top of the loaded settings (fields the form does not show,
        such as price overrides, are kept). Raises ValidationError."""
        data: dict[str, Any] = self.loaded.settings.model_dump(mode="json")
        data["budgets"] = {
            "daily_usd": self.daily.amount(),
            "weekly_usd": self.weekly.amount(),
            "monthly_usd": self.monthly.amount(),
        }
        data["subscription"] = {
            "plan": self.plan.currentText().strip(),
            "monthly_price_usd": self.plan_price.amount(),
        }
        data["meter_mode"] = self.meter_mode.currentData()
        if self.autostart_here:
            # Elsewhere (and in the demo) the box is greyed out: the file's value is kept,
            # like a field the window does not show (a config.toml shared with a Linux
            # machine keeps it).
            data["start_at_login"] = self.start_at_login.isChecked()
        data["timezone"] = self.timezone.text().strip()
        data["roots"] = {
            "claude": _lines(self.claude_roots.toPlainText()),
            "codex": _lines(self.codex_roots.toPlainText()),
        }
        data["summary"] = {
            "auto_export_dir": self.summary_dir.text().strip(),
            "auto_export_format": self.summary_format.currentData(),
            "redact": self.summary_redact.isChecked(),
        }
        policy = dict(data.get("tier_policy") or {})
        rules = self.tier_rules()
        if rules:
            policy["rules"] = rules
        else:
            policy.pop("rules", None)
        data["tier_policy"] = policy
        return Settings.model_validate(data)

    def confirm_replace_broken_file(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Replace the settings file?",
            f"Not all of {self.loaded.path} could be used:\n\n"
            + "\n".join(self.loaded.problems)
            + "\n\nReplace it with these settings?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def save(self) -> bool:
        try:
            settings = self.edited_settings()
        except ValidationError as exc:
            self.message = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            QMessageBox.warning(self, "Settings not saved", self.message)
            return False
        if self.loaded.problems and not self.confirm_replace_broken_file():
            self.message = f"{self.loaded.path} was left as it is."
            return False
        try:
            save_settings(settings, self.loaded.path)
        except OSError as exc:
            # A folder named config.toml, a link into a folder that is gone, a full disk.
            self.message = f"Could not save to {self.loaded.path}: {exc.strerror or exc}"
            QMessageBox.warning(self, "Settings not saved", self.message)
            return False
        if self.autostart_here:
            self._apply_start_at_login(settings.start_at_login)
        self.loaded = LoadedSettings(settings, self.loaded.path)
        self.message = f"Saved to {self.loaded.path}"
        self.saved.emit(settings)
        self.accept()
        return True

    def _apply_start_at_login(self, wanted: bool) -> None:
        try:
            if wanted:
                desktop.enable_autostart()
            else:
                desktop.disable_autostart()
        except desktop.DesktopIntegrationError as exc:
            QMessageBox.warning(self, "Start at login", str(exc))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]
