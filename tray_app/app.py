"""The tray application object: owns the tray icon, the live engine, the windows and the
ledger file, and moves every ledger read onto the worker pool.

Data flow: the live engine ingests appended log bytes on its own thread and calls
`ledger_changed.emit` (a queued Signal into the GUI thread); a single-shot timer folds
bursts into one refresh; the worker reads a `TraySnapshot`; the GUI thread repaints the
icon, updates the tooltip and raises any new alerts.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QSystemTrayIcon, QWidget

from shared.config import LoadedSettings, Settings, load_settings
from shared.config_fast import file_stamp
from shared.ingest import (
    FINISHING_LEDGER,
    WAITING_FOR_INGEST,
    IngestCancelled,
    ingest,
    ingest_lock,
)
from shared.ledger import LedgerError, LedgerTooNew, open_ledger
from shared.live.engine import LiveEngine
from shared.live.lock import WriterLock
from shared.paths import display_path
from shared.pricing import PriceBook
from shared.sources.roots import LogRoot
from shared.summary.export import (
    Format,
    auto_export_due,
    auto_export_target,
    export_summary,
    run_auto_export,
)
from shared.timezones import resolve_zone, zone_named
from tray_app.crossings import (
    Alert,
    DashboardTarget,
    NotifiedKeys,
    alerts_for,
    most_urgent_first,
)
from tray_app.dashboard import DashboardWindow
from tray_app.dashboard_data import (
    DashboardData,
    SessionDetail,
    read_dashboard,
    read_session_detail,
)
from tray_app.diagnostics import ProblemLog
from tray_app.gc_gui import GuiThreadCollector
from tray_app.snapshot import TraySnapshot, read_extras, read_snapshot
from tray_app.texts import CANNOT_READ_LEDGER
from tray_app.tray import MeterTray
from tray_app.worker import Worker, wait_for_pool

log = logging.getLogger(__name__)

DEBOUNCE_MS = 10
# While agents write, the ledger changes many times a second (three agents at work: ~20
# lines a second) and each change asked for a snapshot, read back to back: 28-42 % of a
# core, 58-83 % with 100 running sessions. A read asked for while one runs now starts at
# least this long after the last one started: at most five reads a second, and a line
# still reaches the icon within the 250 ms budget. After a quiet spell a read starts at once.
MIN_READ_GAP_MS = 200
# Even with no new data the menu's durations, countdowns and "running" state move on:
# re-read every 30 s while a session runs or a block is open, else every 5 minutes (the
# day's rollover and expiring plan windows), which keeps an idle tray near zero CPU.
TICK_ACTIVE_MS = 30_000
TICK_IDLE_MS = 300_000
NO_LOGS_YET = "No agent logs found yet"
TRAY_POINT_ELSEWHERE = (
    "Add the folder that holds them under Extra log folders in Settings… (or [roots] in "
    "config.toml), or start the tray with CLAUDE_CONFIG_DIR=/path/to/.claude or "
    "CODEX_HOME=/path/to/.codex set (comma-separated for several); try "
    "`burnmeter tray --demo` to see the tray with the bundled demo history."
)
PROGRESS_EVERY_S = 0.1
# A first import with this much to read opens the dashboard to show its progress.
SHOW_IMPORT_BYTES = 64 * 1024 * 1024
# What the first import says once it is not reading (see shared.ingest's markers).
IMPORT_PHASE_TEXT = {
    FINISHING_LEDGER: "Importing history: building totals",
    WAITING_FOR_INGEST: "Waiting for another burnmeter process to finish reading the logs",
}
# A Monday export that failed (the folder is a file, the disk is full) is tried again
# after this long, or at the next start; it is announced once per folder and reason.
AUTO_EXPORT_RETRY_S = 3600.0
AUTO_EXPORT_SETTING = "[summary] auto_export_dir"


CONFIG_POLL_MS = 3_000
# A ledger that cannot be opened at the start (damaged, another program's file, written by
# a newer burnmeter) is tried again this often, and whenever the menu opens: once it is
# fixed or replaced, the tray starts its import and live watcher. (It stayed without them
# until it was restarted.)
LEDGER_RETRY_MS = 5_000


def idle_tick_ms(now: datetime) -> int:
    """The idle refresh's interval: TICK_IDLE_MS, or less so that the next tick comes
    just after the local midnight (`now` is aware, in the tray's zone): an idle tray
    showed yesterday's "Today" for up to five minutes into the new day."""
    midnight = datetime.combine(now.date() + timedelta(days=1), clock_time(), now.tzinfo)
    # Timestamps, not `midnight - now`: Python subtracts times of one zone as wall clocks.
    until = int((midnight.timestamp() - now.timestamp()) * 1000) + 1_000
    return max(1_000, min(TICK_IDLE_MS, until))


# Unknown zone names already warned about: zone_for runs at every refresh.
_unknown_zones: set[str] = set()


def zone_for(settings: Settings) -> ZoneInfo:
    name = settings.timezone
    if name and name not in _unknown_zones and zone_named(name) is None:
        _unknown_zones.add(name)
        log.warning("unknown time zone %r in settings; using local time", name)
    return resolve_zone(name)


class BurnmeterApp(QObject):
    ledger_changed = Signal()
    import_progress = Signal(int, int)
    # What the first import is doing once it is not reading, in words (IMPORT_PHASE_TEXT).
    import_phase = Signal(str)
    snapshot_applied = Signal(object)  # TraySnapshot, after the icon was repainted

    def __init__(
        self,
        *,
        roots: list[LogRoot],
        ledger_file: Path,
        loaded: LoadedSettings,
        demo: bool = False,
        tray_available: bool | None = None,
        notified_file: Path | None = None,
        live: bool = True,
    ) -> None:
        super().__init__()
        self.roots = roots
        self.ledger_file = ledger_file
        self.loaded = loaded
        self.demo = demo
        self.live = live
        self.worker = Worker(self)
        self.engine: LiveEngine | None = None
        self.snapshot: TraySnapshot | None = None
        self.shown_alerts: list[Alert] = []
        self._last_target = DashboardTarget("overview")
        self._last_file: Path | None = None
        self.exported: list[Path] = []
        self._auto_exporting = False
        # The Monday export waits for the logs to be read: the file is the week's record.
        self._ingest_caught_up = not live
        self._auto_export_retry_at = 0.0  # time.monotonic()
        self._auto_export_told: str | None = None
        self._reading = False
        self._read_again = False
        self._read_started = 0.0  # time.monotonic() when the last snapshot read began
        # The ledger could not be opened at the start: what was wrong, while it still is.
        self._ledger_problem: str | None = None
        # Failed reads, logged once per distinct problem (not at every tick).
        self._problems = ProblemLog(log)
        self._trying_ledger = False
        # The ledger file the live engine started on (device, inode).
        self._engine_ledger: tuple[int, int] | None = None
        self._extras_busy = False
        self._extras_again = False
        self._importing = False
        self._import_shown = False
        # Quitting during the first import stops it (see shutdown); what became of it.
        self._stop_import = threading.Event()
        self._import_conn: sqlite3.Connection | None = None
        self.import_stopped: str | None = None
        self._prices: PriceBook | None = None
        self._settings_dialog: QObject | None = None
        self._notified = NotifiedKeys(
            notified_file if notified_file is not None else ledger_file.parent / "tray-alerts.json"
        )
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray_available = tray_available

        self.tray = MeterTray()
        self.tray.meter_mode = loaded.settings.meter_mode
        self.tray.open_dashboard.connect(self.open_dashboard)
        self.tray.open_settings.connect(self.open_settings)
        self.tray.export_summary.connect(self.export_summary)
        self.tray.pause_toggled.connect(self.set_paused)
        self.tray.quit_requested.connect(self.quit)
        self.tray.menu_opened.connect(self.refresh)
        self.tray.messageClicked.connect(self._message_clicked)

        self.dashboard = DashboardWindow(
            self.worker,
            self._read_dashboard,
            self._read_detail,
        )
        self.dashboard.set_empty_text(self.empty_text())

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self._read_gap = QTimer(self)
        self._read_gap.setSingleShot(True)
        self._read_gap.timeout.connect(self._refresh_queued)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_ACTIVE_MS)
        self._tick.timeout.connect(self.refresh)
        self._tick.timeout.connect(self._auto_export_if_due)
        # The config file edited by hand reaches the running tray (budgets, zone, plan):
        # one stat every few seconds, the file read again only when it changed.
        self._config_stamp = file_stamp(loaded.path)
        self._config_watch = QTimer(self)
        self._config_watch.setInterval(CONFIG_POLL_MS)
        self._config_watch.timeout.connect(self._reload_config_if_changed)
        if not demo:
            self._config_watch.start()
        self._ledger_retry = QTimer(self)
        self._ledger_retry.setInterval(LEDGER_RETRY_MS)
        self._ledger_retry.timeout.connect(self._retry_ledger)
        self._collector = GuiThreadCollector(self)
        self.ledger_changed.connect(self._debounce.start)
        self.import_progress.connect(self._show_import_progress)
        self.import_phase.connect(self._show_import_phase)

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    def empty_text(self) -> str:
        """The dashboard's text with no logs: where burnmeter looked, and the tray's own
        ways on (it suggested `burnmeter report daily --demo`, a command line's)."""
        from shared.commands.context import where_we_looked

        return where_we_looked(self.roots, TRAY_POINT_ELSEWHERE)

    def no_logs_line(self) -> str:
        """The menu's line with no logs: where burnmeter looked, in short."""
        looked = ", ".join(dict.fromkeys(display_path(root.path) for root in self.roots))
        return f"{NO_LOGS_YET} in {looked} (click for how to point burnmeter elsewhere)"

    def start(self) -> None:
        self._collector.start()
        if self.tray_available:
            self.tray.show()
        else:
            self.dashboard.quit_on_close = True
            self.dashboard.add_notice(
                "No system tray was found on this desktop (no StatusNotifier or XEmbed tray "
                "host is running), so burnmeter shows its dashboard as a normal window. "
                "Closing it quits burnmeter.",
                "tray",
            )
            self.dashboard.show()
        self._show_config_problems(self.loaded.problems)
        # Create or upgrade the ledger once, here, before readers and the importer open it
        # side by side from worker threads.
        problem = ledger_problem(self.ledger_file)
        if problem is not None:
            self._ledger_unusable(problem)
            return
        self._start_reading()

    def _start_reading(self) -> None:
        """What the start does once the ledger can be opened: the first snapshot, the
        ticks, the Monday export, the first import and then the live engine."""
        self.refresh()
        self._tick.start()
        self._auto_export_if_due()  # at once only when there are no logs to read first
        if self.live:
            self._importing = True
            self.worker.submit(self._first_import, self._first_import_done, self._import_failed)

    def _ledger_unusable(self, exc: Exception) -> None:
        """The ledger cannot be opened: said atop the menu and in the dashboard's banner
        (logged once per distinct problem), and tried again every LEDGER_RETRY_MS."""
        text = str(exc)
        if text != self._ledger_problem:
            self._ledger_problem = text
            self._problems.problem(
                "open", f"{text} (tried again every {LEDGER_RETRY_MS / 1000:g} s)"
            )
            self.dashboard.set_notices("ledger", [text])
        self.tray.status_line = (
            f"{CANNOT_READ_LEDGER}{self._short_paths(text)} "
            "The tray starts using it as soon as it can be read."
        )
        self.tray.show_state()
        if not self._ledger_retry.isActive():
            self._ledger_retry.start()

    def _retry_ledger(self) -> None:
        if self._trying_ledger or self._ledger_problem is None:
            return
        self._trying_ledger = True
        self.worker.submit(
            partial(ledger_problem, self.ledger_file), self._ledger_tried, self._ledger_try_failed
        )

    def _ledger_tried(self, problem: LedgerError | None) -> None:
        self._trying_ledger = False
        if self._ledger_problem is None:
            return  # shut down meanwhile
        if problem is not None:
            self._ledger_unusable(problem)
            return
        self._ledger_retry.stop()
        self._ledger_problem = None
        self._problems.over(
            "open", f"the ledger at {self.ledger_file} can be used now: reading the logs"
        )
        self.dashboard.set_notices("ledger", [])
        if self.tray.status_line.startswith(CANNOT_READ_LEDGER):
            self.tray.status_line = ""
        self.tray.show_state()
        self._start_reading()

    def _ledger_try_failed(self, exc: Exception) -> None:
        self._trying_ledger = False
        if self._ledger_problem is not None:
            self._ledger_unusable(exc)

    def _short_paths(self, text: str) -> str:
        """`text` with the ledger's path under the home folder written `~/…`, as the menu
        shows it (the dashboard's banner keeps the whole path, to be copied)."""
        return text.replace(str(self.ledger_file), display_path(self.ledger_file))

    def _show_config_problems(self, problems: list[str]) -> None:
        """The config file's problems in the dashboard's banner, replacing those shown
        before: once the file is fixed, its old problems go."""
        for problem in problems:
            if problem not in self.dashboard.notices:
                log.warning("%s", problem)
        self.dashboard.set_notices("config", problems)

    def _price_book(self) -> PriceBook:
        """One price book per settings: it caches each model's resolved prices, which every
        live ingest would otherwise look up again."""
        if self._prices is None:
            self._prices = PriceBook(self.settings.price_overrides())
        return self._prices

    def _first_import(self) -> bool:
        """Read everything new once, with progress, holding the writer lock so no other
        process ingests at the same time. False if another process is the writer."""
        lock = WriterLock(self.ledger_file.parent)
        if not lock.try_acquire():
            return False
        last = 0.0

        def progress(done: int, total: int, path: str) -> None:
            nonlocal last
            if path in IMPORT_PHASE_TEXT:
                self.import_phase.emit(IMPORT_PHASE_TEXT[path])
                return
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S or done >= total:
                last = now
                self.import_progress.emit(done, total)

        try:
            ledger = open_ledger(self.ledger_file)
            self._import_conn = ledger.conn
            try:
                ingest(
                    ledger,
                    self.roots,
                    prices=self._price_book,
                    progress=progress,
                    cancel=self._stop_import,
                )
            except IngestCancelled as exc:
                self.import_stopped = str(exc)
            except sqlite3.OperationalError as exc:
                if not self._stop_import.is_set():
                    raise
                self.import_stopped = f"stopped while writing ({exc}); it was rolled back"
            finally:
                self._import_conn = None
                ledger.close()
        finally:
            lock.release()
        return True

    def _first_import_done(self, _was_writer: bool) -> None:
        self._importing = False
        self._ingest_caught_up = True
        self._show_import_progress(0, 0)
        self.refresh()
        self._start_engine()
        self._auto_export_if_due()

    def _import_failed(self, exc: Exception) -> None:
        self._importing = False
        self._show_import_progress(0, 0)
        self.dashboard.show_message(f"Reading the agent logs failed: {exc}")
        self._start_engine()

    def _start_engine(self) -> None:
        engine = LiveEngine(
            self.roots,
            self.ledger_file,
            on_change=self.ledger_changed.emit,
            prices=self._price_book,
            # Agents write a reply's lines within a few ms of each other: 20 ms gathers them.
            debounce_s=0.02,
        )
        engine.start()
        if self.tray.paused:
            engine.pause()
        self.engine = engine
        self._engine_ledger = file_id(self.ledger_file)
        log.info("watching %d log roots; writer: %s", len(self.roots), engine.is_writer)

    def _show_import_phase(self, text: str) -> None:
        self.dashboard.show_import_phase(text)
        self.tray.status_line = text
        self.tray.show_state()

    def _show_import_progress(self, done: int, total: int) -> None:
        first_run = self.snapshot is None or not self.snapshot.has_calls
        if not self._import_shown and first_run and total - done >= SHOW_IMPORT_BYTES:
            # A first run over a big history: show where the time goes.
            self._import_shown = True
            self.open_dashboard()
        self.dashboard.show_import_progress(done, total)
        if total > 0 and done < total:
            self.tray.status_line = f"Importing history: {done / total:.0%}"
        else:
            self.tray.status_line = ""
        self.tray.show_state()

    def refresh(self) -> None:
        """Read a new snapshot in the background; at most one read runs at a time, a
        request during a read queues exactly one more, and a read starts no sooner than
        MIN_READ_GAP_MS after the last one began."""
        if self._ledger_problem is not None:
            # Nothing to read yet: the menu opening tries the ledger again at once.
            self._retry_ledger()
            return
        if self._reading:
            self._read_again = True
            return
        since_ms = (time.monotonic() - self._read_started) * 1000
        if since_ms < MIN_READ_GAP_MS:
            self._reading = True  # requests until then join this one
            self._read_gap.start(int(MIN_READ_GAP_MS - since_ms) + 1)
            return
        self._reading = True
        self._read_started = time.monotonic()
        settings, zone = self.settings, zone_for(self.settings)
        self.worker.submit(
            partial(read_snapshot, self.ledger_file, settings, zone),
            self._apply_snapshot,
            self._snapshot_failed,
        )
        if self.dashboard.isVisible():
            self.dashboard.refresh()

    def _snapshot_failed(self, exc: Exception) -> None:
        self._reading = False
        self._problems.problem("read", f"cannot read the ledger: {exc}")
        if isinstance(exc, LedgerTooNew) and self.snapshot is not None:
            # It was read before: a newer burnmeter (the one just installed) upgraded it
            # while the tray ran; "upgrade burnmeter" would be the wrong advice.
            self.tray.status_line = (
                f"{CANNOT_READ_LEDGER}a newer burnmeter upgraded it while the tray ran: "
                "quit the tray and start it again"
            )
        else:
            self.tray.status_line = f"{CANNOT_READ_LEDGER}{self._short_paths(str(exc))}"
        self.tray.show_state()

    def _apply_snapshot(self, snap: TraySnapshot) -> None:
        """The cheap part arrived: repaint now, with the last known block, plan limits and
        flags, and read those again in the background."""
        self._reading = False
        read_had_failed = self._problems.current("read") is not None
        self._problems.over("read", "the ledger can be read again")
        self._restart_stopped_engine(read_had_failed)
        previous = self.snapshot
        if previous is not None and previous.complete:
            snap = replace(
                snap, block=previous.block, plan_limits=previous.plan_limits, flags=previous.flags
            )
        self._show(snap)
        self._read_extras()
        if self._read_again:
            self._read_again = False
            self.refresh()

    def _refresh_queued(self) -> None:
        """The read put off until MIN_READ_GAP_MS after the last one began."""
        self._reading = False
        self._read_again = False  # the read about to start covers them
        self.refresh()

    def _restart_stopped_engine(self, read_had_failed: bool) -> None:
        """A live engine that stopped on a damaged ledger starts again once the ledger can
        be used: read again after reads failed, or replaced by another file (moved aside,
        rebuilt by `burnmeter ingest`). Left stopped, the tray watched nothing until it was
        restarted. Not on the file it failed on while reads of it kept working: it would
        only fail again."""
        engine = self.engine
        if engine is None or engine.failure is None:
            return
        if not read_had_failed and file_id(self.ledger_file) == self._engine_ledger:
            return
        log.info("the ledger can be used again: watching the logs again")
        self._stop_engine()
        self._start_engine()

    def _read_extras(self) -> None:
        if self._extras_busy:
            self._extras_again = True
            return
        base = self.snapshot
        if base is None:
            return
        self._extras_busy = True
        self.worker.submit(
            partial(read_extras, self.ledger_file, self.settings, base),
            self._apply_extras,
            self._extras_failed,
        )

    def _apply_extras(self, full: TraySnapshot) -> None:
        self._extras_busy = False
        self._problems.over("extras", "blocks, plan limits and flags can be read again")
        current = self.snapshot
        if current is not None and current.taken_ms > full.taken_ms:
            # Spend moved on meanwhile: keep the newer numbers, take the extras.
            full = replace(
                current,
                block=full.block,
                plan_limits=full.plan_limits,
                flags=full.flags,
                complete=True,
            )
        self._show(full)
        if not self._importing:
            fresh = self._notified.take_new(alerts_for(full, zone_for(self.settings)))
            if fresh:
                self.notify_all(fresh)
        if self._extras_again:
            self._extras_again = False
            self._read_extras()

    def _extras_failed(self, exc: Exception) -> None:
        self._extras_busy = False
        self._problems.problem(
            "extras", f"cannot read blocks, plan limits or flags: {exc}", logging.WARNING
        )

    def _show(self, snap: TraySnapshot) -> None:
        self.snapshot = snap
        if not snap.has_calls and not self._importing:
            self.tray.status_line = self.no_logs_line()
        elif self.tray.status_line.startswith(NO_LOGS_YET) or self.tray.status_line.startswith(
            CANNOT_READ_LEDGER
        ):
            # Read again: a failure of an earlier read (a ledger fixed meanwhile) is over.
            self.tray.status_line = ""
        self.tray.update_snapshot(snap)
        self.snapshot_applied.emit(snap)
        active = bool(snap.running) or snap.block is not None
        self._tick.setInterval(
            TICK_ACTIVE_MS if active else idle_tick_ms(datetime.now(zone_for(self.settings)))
        )

    def notify(self, alert: Alert) -> None:
        self.notify_all([alert])

    def notify_all(self, alerts: list[Alert]) -> None:
        """One notification for the alerts of one refresh: the system tray shows one
        balloon at a time, so a second one replaced the first within milliseconds. The
        most urgent speaks and names the others; a click opens the most urgent's place."""
        ordered = most_urgent_first(alerts)
        first = ordered[0]
        self.shown_alerts.extend(alerts)
        self._last_target = first.target
        self._last_file = None
        for alert in ordered:
            log.info("alert: %s: %s", alert.title, alert.body)
        body = first.body
        if len(ordered) > 1:
            body += "\nAlso: " + "; ".join(a.title for a in ordered[1:]) + "."
        self._show_message(first.title, body, first.urgent)

    def _show_message(self, title: str, body: str, urgent: bool) -> None:
        if self.tray_available and QSystemTrayIcon.supportsMessages():
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if urgent
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.tray.showMessage(title, body, icon, 15_000)
        else:
            self.dashboard.show_message(f"{title}: {body}")

    def _message_clicked(self) -> None:
        """A click on the last notification. One that lands while the menu is open is a
        right click meant for the icon under the balloon: it is ignored. An open dashboard
        is raised as it is, not switched away from what the user is looking at."""
        if self.tray.menu.isVisible():
            log.debug("notification click ignored: the menu is open")
        elif self._last_file is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._last_file)))
        elif self._last_target.tab == "settings":
            self.open_settings()
        elif self.dashboard.isVisible():
            self.dashboard.raise_()
            self.dashboard.activateWindow()
        else:
            self.open_dashboard(self._last_target)

    def open_dashboard(self, target: DashboardTarget | None = None) -> None:
        self.dashboard.show()
        self.dashboard.raise_()
        self.dashboard.activateWindow()
        self.dashboard.refresh()
        self.dashboard.show_target(target or DashboardTarget("overview"))

    def _read_dashboard(self) -> DashboardData:
        return read_dashboard(self.ledger_file, self.settings, zone_for(self.settings))

    def _read_detail(self, session_id: str) -> SessionDetail:
        return read_session_detail(
            self.ledger_file, self.settings, session_id, zone_for(self.settings)
        )

    def open_settings(self) -> None:
        from shared.paths import display_path
        from tray_app.settings_window import SettingsDialog

        open_dialog = self._settings_dialog
        if isinstance(open_dialog, SettingsDialog) and open_dialog.isVisible():
            open_dialog.raise_()
            open_dialog.activateWindow()
            return

        # Re-read the file: the user may have edited it by hand since the start.
        loaded = self.loaded if self.demo else load_settings()
        self._show_config_problems(loaded.problems)
        watched = "\n".join(
            f"{root.agent}: {display_path(root.path)} ({'found' if root.exists else 'missing'})"
            for root in self.roots
        )
        dialog = SettingsDialog(loaded, watched, demo=self.demo)
        dialog.saved.connect(self.apply_settings)
        self._settings_dialog = dialog
        dialog.show()
        dialog.raise_()

    def _reload_config_if_changed(self) -> None:
        stamp = file_stamp(self.loaded.path)
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp
        log.info("%s changed: its settings apply now", self.loaded.path)
        self._apply_loaded(load_settings(self.loaded.path))

    def apply_settings(self, settings: Settings) -> None:
        # Saved from the Settings window, the file holds exactly these settings: the
        # problems it had are gone.
        self._config_stamp = file_stamp(self.loaded.path)
        self._apply_loaded(LoadedSettings(settings, self.loaded.path))

    def _apply_loaded(self, loaded: LoadedSettings) -> None:
        settings = loaded.settings
        if settings.prices != self.settings.prices:
            self._prices = None
        self.loaded = loaded
        self._show_config_problems(self.loaded.problems)
        self.tray.meter_mode = settings.meter_mode
        if not self.demo:
            roots = roots_for(settings)
            if roots != self.roots:
                self.roots = roots
                self.dashboard.set_empty_text(self.empty_text())
                if self.engine is not None:
                    self._stop_engine()
                    self._start_engine()
        self.tray.show_state()
        self.refresh()

    def set_paused(self, paused: bool) -> None:
        self.tray.paused = paused
        engine = self.engine
        if engine is not None:
            if paused:
                engine.pause()
            else:
                engine.resume()
        self.tray.show_state()

    def export_summary(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            None,
            "Export weekly summary",
            str(Path.home() / "burnmeter-weekly-summary.html"),
            "HTML (*.html);;Markdown (*.md);;JSON (*.json);;CSV (*.csv)",
        )
        if path:
            self.run_summary_export(Path(path), _format_of(path, chosen))

    def run_summary_export(self, path: Path, fmt: Format) -> None:
        """Last week's summary into `path`, built on the worker; a notification says where."""
        settings, zone = self.settings, zone_for(self.settings)

        def export() -> Path:
            ledger = open_ledger(self.ledger_file)
            try:
                # The settings' "for sharing" choice holds for this export too.
                return export_summary(
                    ledger, settings, None, zone, fmt, path, redact=settings.summary.redact
                )
            finally:
                ledger.close()

        self.worker.submit(export, self._summary_written, self._summary_failed)

    def _summary_written(self, path: Path) -> None:
        self.exported.append(path)
        self._last_file = path
        if self.tray_available and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage("Weekly summary saved", f"{path}\nClick to open it.")
        else:
            self.dashboard.show_message(f"Weekly summary saved to {path}")

    def _summary_failed(self, exc: Exception) -> None:
        log.warning("summary export failed: %s", exc)
        self.dashboard.show_message(f"Exporting the weekly summary failed: {exc}")

    def _auto_export_if_due(self) -> None:
        """The Monday export into the folder set in `[summary]`, once per week. Only once
        the logs are read (the first import done, no other process's big read under way):
        the file is the week's record and is not written again, so a week exported before
        its logs were read stayed empty. A failed export waits `AUTO_EXPORT_RETRY_S`."""
        if self._auto_exporting or not self._ingest_is_current():
            return
        if time.monotonic() < self._auto_export_retry_at or not auto_export_due(self.settings):
            return
        self._auto_exporting = True
        settings = self.settings
        target = auto_export_target(settings)

        def export() -> Path | OSError | None:
            try:
                if target is not None:
                    # Before building the summary: a folder that is a file fails here.
                    target.parent.mkdir(parents=True, exist_ok=True)
                ledger = open_ledger(self.ledger_file)
                try:
                    return run_auto_export(ledger, settings)
                finally:
                    ledger.close()
            except OSError as exc:
                return exc  # expected (no such folder, full disk): no traceback

        def done(result: Path | OSError | None) -> None:
            self._auto_exporting = False
            if isinstance(result, OSError):
                self._auto_export_failed(target, result)
            elif result is not None:
                self._auto_export_told = None
                self._summary_written(result)

        def failed(exc: Exception) -> None:
            self._auto_exporting = False
            self._auto_export_failed(target, exc)

        self.worker.submit(export, done, failed)

    def _ingest_is_current(self) -> bool:
        if self._importing:
            return False
        if not self._ingest_caught_up:
            # The first import failed: the live engine's first ingest stands in for it.
            engine = self.engine
            if engine is None or not engine.wait_ready(0):
                return False
            self._ingest_caught_up = True
        try:
            return ingest_lock(self.ledger_file).is_free()
        except OSError:
            return True

    def _auto_export_failed(self, target: Path | None, exc: Exception) -> None:
        self._auto_export_retry_at = time.monotonic() + AUTO_EXPORT_RETRY_S
        folder = target.parent if target is not None else self.settings.summary.auto_export_dir
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason = "it, or a folder above it, is a file"
        elif isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror
        else:
            reason = str(exc)
        log.warning(
            "weekly summary not saved into %s (%s): %s; trying again in %d min",
            folder,
            AUTO_EXPORT_SETTING,
            reason,
            AUTO_EXPORT_RETRY_S // 60,
        )
        told = f"{folder}\0{reason}"
        if told == self._auto_export_told:
            return
        self._auto_export_told = told
        self._last_target = DashboardTarget("settings")
        self._last_file = None
        self._show_message(
            "Weekly summary not saved",
            f"Cannot write into {folder}: {reason}. Choose another folder in Settings "
            f"({AUTO_EXPORT_SETTING}); burnmeter tries again in an hour and at its next start.",
            True,
        )

    def _stop_engine(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()

    def shutdown(self) -> None:
        self._tick.stop()
        self._read_gap.stop()
        self._ledger_retry.stop()
        self._ledger_problem = None
        self._debounce.stop()
        # A first import under way stops between parsed chunks (rolled back whole when it is
        # one transaction); a statement still running after the grace is interrupted. It
        # ran on until the pool's wait gave up, and the process then ended under it.
        self._stop_import.set()
        self._stop_engine()
        self.tray.hide()
        # Windows are hidden while everything in them is alive. A dashboard still shown
        # when Python let it go (garbage-collected, as after a test; the program's own quit
        # exits before that) was hidden from its destructor with its Sessions tab drawn, and
        # the table's geometry update read a header already gone: a segmentation fault.
        self.dashboard.hide()
        if isinstance(self._settings_dialog, QWidget):
            self._settings_dialog.hide()
        if self._importing and not wait_for_pool(int(IMPORT_STOP_GRACE_S * 1000)):
            conn = self._import_conn
            if conn is not None:
                conn.interrupt()
        wait_for_pool(5_000)
        self._collector.stop()

    def quit(self) -> None:
        self.shutdown()
        QApplication.quit()


# How long quitting lets a first import end between chunks before interrupting it.
IMPORT_STOP_GRACE_S = 2.0


def file_id(path: Path) -> tuple[int, int] | None:
    """Which file `path` is (device, inode): another once it was replaced."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def ledger_problem(ledger_file: Path) -> LedgerError | None:
    """Why the ledger cannot be opened (created or upgraded if need be), or None."""
    try:
        open_ledger(ledger_file).close()
    except LedgerError as exc:
        return exc
    return None


def roots_for(settings: Settings) -> list[LogRoot]:
    """The roots a command line would read with these settings (shared.commands.context)."""
    from shared.sources.roots import claude_roots, codex_roots, configured_roots

    return (
        claude_roots()
        + codex_roots()
        + configured_roots(settings.roots.claude, settings.roots.codex)
    )


def _format_of(path: str, chosen_filter: str) -> Format:
    by_name: dict[str, Format] = {"html": "html", "md": "md", "json": "json", "csv": "csv"}
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix in by_name:
        return by_name[suffix]
    return by_name.get(chosen_filter.split()[0].lower().replace("markdown", "md"), "html")
