"""Alerts fire once per crossing: budgets at 50/80/100 %, runaway sessions, plan windows
close to their limit. Through the real app object on a real ledger built from log files."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from shared.config import Budgets, Settings
from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now, tray_app_for
from tests.tray.history import append_failing_loop, session_file, write_session
from tray_app.app import BurnmeterApp, zone_for
from tray_app.crossings import Alert, DashboardTarget, NotifiedKeys
from tray_app.snapshot import TraySnapshot
from tray_app.worker import wait_for_pool

CWD = "/home/dev/src/burnmeter"


def make_app(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path, settings: Settings
) -> BurnmeterApp:
    app = tray_app_for(roots, ledger_file, settings)
    app.dashboard.quit_on_close = False
    return app


def refreshed(qtbot: QtBot, app: BurnmeterApp) -> TraySnapshot:
    # The icon's part comes first; alerts follow once blocks, limits and flags are read.
    with qtbot.waitSignal(
        app.snapshot_applied, timeout=10_000, check_params_cb=lambda snap: snap.complete
    ) as applied:
        app.refresh()
    snap = applied.args[0]
    assert isinstance(snap, TraySnapshot)
    return snap


def titles(alerts: list[Alert]) -> list[str]:
    return [a.title for a in alerts]


def today_at_least(now_ms: int, minutes_ago: int) -> int:
    """`minutes_ago` before now, but never before today's midnight in the tray's zone: in
    the first minutes of a day, calls written further back would be yesterday's spend."""
    zone = zone_for(Settings())
    midnight = datetime.fromtimestamp(now_ms / 1000, zone).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return max(now_ms - minutes_ago * 60_000, int(midnight.timestamp() * 1000))


@pytest.fixture
def today_session(isolated_home: Path, now_ms: int) -> Path:
    """One session today: 10 calls, its cost is the whole of today's spend."""
    projects = isolated_home / ".claude" / "projects"
    return write_session(
        projects,
        session_id="today",
        cwd=CWD,
        start_ms=today_at_least(now_ms, 20),
        calls=10,
        model="claude-opus-4-5",
        step_ms=1000,
    )


def test_budget_alerts_fire_once_per_threshold(
    qtbot: QtBot,
    roots: list[LogRoot],
    ledger_file: Path,
    today_session: Path,
    isolated_home: Path,
    now_ms: int,
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(qtbot, roots, ledger_file, Settings())
    spent = refreshed(qtbot, app).today_usd
    assert spent > 0
    # A daily budget that today's spend fills to 60 %.
    app.apply_settings(Settings(budgets=Budgets(daily_usd=round(spent / 0.6, 6))))
    wait_for_pool()
    refreshed(qtbot, app)
    assert titles(app.shown_alerts) == ["Daily budget at 50%"]
    assert app.shown_alerts[0].target == DashboardTarget("overview")
    refreshed(qtbot, app)
    refreshed(qtbot, app)
    assert titles(app.shown_alerts) == ["Daily budget at 50%"]

    # Four more calls like the first ten: 60 % → 84 %.
    write_session(
        isolated_home / ".claude" / "projects",
        session_id="today-2",
        cwd=CWD,
        start_ms=today_at_least(now_ms, 5),
        calls=4,
        model="claude-opus-4-5",
        step_ms=1000,
    )
    ingest_now(roots, ledger_file)
    refreshed(qtbot, app)
    refreshed(qtbot, app)
    assert titles(app.shown_alerts) == ["Daily budget at 50%", "Daily budget at 80%"]
    assert "80% of today's budget reached" in app.shown_alerts[1].body
    app.shutdown()

    # A restarted tray remembers what it already said.
    again = make_app(qtbot, roots, ledger_file, app.settings)
    refreshed(qtbot, again)
    assert again.shown_alerts == []
    again.shutdown()


def test_a_jump_past_several_thresholds_speaks_once(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path, today_session: Path
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(qtbot, roots, ledger_file, Settings(budgets=Budgets(daily_usd=0.01)))
    snap = refreshed(qtbot, app)
    assert snap.budgets[0].state == "over"
    assert titles(app.shown_alerts) == ["Daily budget spent"]
    assert app.shown_alerts[0].urgent
    # Shown in the dashboard banner when there is no tray to carry notifications.
    assert "Daily budget spent" in app.dashboard.banner.text()
    app.shutdown()


def test_runaway_session_alert_opens_the_session(
    qtbot: QtBot,
    roots: list[LogRoot],
    ledger_file: Path,
    today_session: Path,
    isolated_home: Path,
    now_ms: int,
) -> None:
    ingest_now(roots, ledger_file)
    app = make_app(qtbot, roots, ledger_file, Settings())
    refreshed(qtbot, app)
    assert app.shown_alerts == []
    path = session_file(isolated_home / ".claude" / "projects", CWD, "today")
    append_failing_loop(path, session_id="today", cwd=CWD, start_ms=now_ms - 60_000)
    ingest_now(roots, ledger_file)
    snap = refreshed(qtbot, app)
    assert [f.kind for f in snap.flags["today"]] == ["loop"]
    assert titles(app.shown_alerts) == ["Runaway session: loop"]
    alert = app.shown_alerts[0]
    assert "Bash failed 6 times in a row" in alert.body
    flag = snap.flags["today"][0]
    assert alert.target == DashboardTarget("sessions", "today", flag.key)
    refreshed(qtbot, app)
    assert len(app.shown_alerts) == 1

    # Clicking the alert opens the dashboard on that session, the flag that raised it
    # first in its detail view and highlighted (the detail showed models, tools and files,
    # nothing of the loop).
    app.tray.messageClicked.emit()
    qtbot.waitUntil(lambda: app.dashboard.selected_session_id() == "today", timeout=10_000)
    assert app.dashboard.tabs.currentIndex() == 1
    detail = app.dashboard.detail
    qtbot.waitUntil(lambda: "Runaway flags (1)" in detail.toPlainText(), timeout=10_000)
    text = detail.toPlainText()
    assert "loop: Bash failed 6 times in a row" in text
    assert "← the alert you clicked" in text
    assert text.index("Runaway flags") < text.index("Models")
    assert "#ffe08a" in detail.toHtml()

    # Opened again from the menu's running-session line, no alert clicked: the flag is
    # listed, not said to be the alert clicked (it stayed so for the rest of the run).
    app.open_dashboard(DashboardTarget("sessions", "today"))
    qtbot.waitUntil(
        lambda: (
            "Runaway flags (1)" in detail.toPlainText()
            and "← the alert you clicked" not in detail.toPlainText()
        ),
        timeout=10_000,
    )
    app.shutdown()


def test_plan_limit_close_to_full_alerts_once_per_window(
    qtbot: QtBot, tmp_path: Path, roots: list[LogRoot], ledger_file: Path
) -> None:
    from shared.ledger import open_ledger

    ledger = open_ledger(ledger_file)
    resets_s = 4_102_444_800  # 2100-01-01: still ahead
    ledger.conn.execute(
        "INSERT INTO rate_limits (agent, session_id, ts_ms, primary_used_percent, "
        "primary_window_minutes, primary_resets_at) VALUES ('codex', 'c1', 1, 93.0, 300, ?)",
        (resets_s,),
    )
    ledger.close()
    app = make_app(qtbot, roots, ledger_file, Settings())
    refreshed(qtbot, app)
    refreshed(qtbot, app)
    assert titles(app.shown_alerts) == ["codex plan limit close"]
    assert app.shown_alerts[0].body == "93% of the 5-hour window used."
    app.shutdown()


def test_notified_keys_survive_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "tray-alerts.json"
    path.write_text("{not json", encoding="utf-8")
    keys = NotifiedKeys(path)
    alert = Alert("budget:daily:2026-11-23:50%", "Daily budget at 50%", "", DashboardTarget("x"))
    assert keys.take_new([alert]) == [alert]
    assert keys.take_new([alert]) == []
    assert NotifiedKeys(path).take_new([alert]) == []


def test_two_processes_sharing_the_file_keep_each_others_keys(tmp_path: Path) -> None:
    """Each used to write only the keys it had read at its start plus its own."""
    path = tmp_path / "tray-alerts.json"
    first, second = NotifiedKeys(path), NotifiedKeys(path)
    daily = Alert("budget:daily:2026-11-23:50%", "Daily budget at 50%", "", DashboardTarget("x"))
    weekly = Alert("budget:weekly:2026-W48:80%", "Weekly budget at 80%", "", DashboardTarget("x"))
    assert first.take_new([daily]) == [daily]
    assert second.take_new([daily, weekly]) == [weekly]  # the first already showed daily
    assert first.take_new([weekly]) == []
    assert NotifiedKeys(path).take_new([daily, weekly]) == []


def test_alerts_and_exports_leave_the_banners_lasting_notices(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path, tmp_path: Path
) -> None:
    """The banner held one message: an alert replaced 'No system tray was found … Closing
    it quits burnmeter.' and the config file's problems."""
    problem = "config.toml: budgets.daily_usd is not a number; left out"
    app = tray_app_for(roots, ledger_file, problems=(problem,))
    app.start()
    app.dashboard.quit_on_close = False
    target = DashboardTarget("overview")
    app.notify(Alert("a", "Daily budget at 50%", "Half of today's budget.", target))
    app.notify(Alert("b", "Daily budget at 80%", "80% of today's budget.", target))
    text = app.dashboard.banner.text()
    assert "No system tray was found" in text
    assert "Closing it quits burnmeter." in text
    assert problem in text
    assert "Daily budget at 80%: 80% of today's budget." in text
    assert "50%" not in text  # a passing message gives way to the next one
    app._summary_written(tmp_path / "summary.html")
    text = app.dashboard.banner.text()
    assert "No system tray was found" in text and problem in text
    assert f"Weekly summary saved to {tmp_path / 'summary.html'}" in text
    assert "Daily budget at 80%" not in text
    app.dashboard.close()
    app.shutdown()


def test_a_notification_click_leaves_an_open_dashboard_and_the_menu_alone(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path
) -> None:
    """A click on the balloon switched an open dashboard to the alert's tab, and a right
    click on the icon that landed on the balloon raised the dashboard over the menu."""
    from PySide6.QtCore import QPoint

    app = make_app(qtbot, roots, ledger_file, Settings())
    app._last_target = DashboardTarget("sessions", "today")
    app.dashboard.show()
    app.dashboard.tabs.setCurrentIndex(0)
    app.tray.messageClicked.emit()
    assert app.dashboard.tabs.currentIndex() == 0

    app.dashboard.hide()
    app.tray.menu.popup(QPoint(50, 50))
    qtbot.waitUntil(app.tray.menu.isVisible)
    app.tray.messageClicked.emit()
    assert not app.dashboard.isVisible()
    app.tray.menu.hide()
    app.shutdown()


def _limit_snapshot(taken_ms: int, *readings: tuple[float, int]) -> TraySnapshot:
    from tray_app.snapshot import PlanLimit

    return TraySnapshot(
        taken_ms=taken_ms,
        today=datetime.fromtimestamp(taken_ms / 1000).date(),
        plan_limits=[PlanLimit("codex", 300, used, resets_ms) for used, resets_ms in readings],
    )


def test_a_plan_window_whose_reset_time_jitters_alerts_once(tmp_path: Path) -> None:
    """Codex logs a window's resets_at a few seconds apart from line to line (1771939015
    … 1771939023 within one window); the key held the exact time, so a window at 90 %
    alerted again on almost every new reading."""
    from tray_app.crossings import alerts_for

    keys = NotifiedKeys(tmp_path / "tray-alerts.json")
    resets_s = 1771939015
    shown = []
    for n, jitter in enumerate((0, 3, 8, 1, 6, 4, 0, 8)):
        snap = _limit_snapshot(1771925000_000 + n * 60_000, (91.0 + n, (resets_s + jitter) * 1000))
        shown += keys.take_new(alerts_for(snap))
    assert titles(shown) == ["codex plan limit close"]
    # A restarted tray: the same window, one more jittered reading.
    again = NotifiedKeys(tmp_path / "tray-alerts.json")
    snap = _limit_snapshot(1771926000_000, (99.0, (resets_s + 5) * 1000))
    assert again.take_new(alerts_for(snap)) == []
    # The next 5-hour window is another crossing.
    snap = _limit_snapshot(1771941000_000, (92.0, (resets_s + 5 * 3600 + 700) * 1000))
    assert titles(again.take_new(alerts_for(snap))) == ["codex plan limit close"]


def _budget_snapshot(limit: float, spent: float) -> TraySnapshot:
    from datetime import UTC, date

    from shared.insights.budgets import BudgetState

    start = datetime(2026, 3, 2, tzinfo=UTC)
    state = BudgetState("daily", "2026-03-02", start, start, limit, spent, spent / limit, "under")
    return TraySnapshot(taken_ms=1772460000_000, today=date(2026, 3, 2), budgets=[state])


def test_a_changed_budget_is_announced_at_its_own_thresholds(tmp_path: Path) -> None:
    """The key held period, label and threshold only: after the daily budget was raised
    from $10 to $20, reaching 50 % of the $20 said nothing (50 % of the $10 had spoken)."""
    from tray_app.crossings import alerts_for

    path = tmp_path / "tray-alerts.json"
    keys = NotifiedKeys(path)
    assert titles(keys.take_new(alerts_for(_budget_snapshot(10, 6)))) == ["Daily budget at 50%"]
    assert keys.take_new(alerts_for(_budget_snapshot(10, 7))) == []
    assert keys.take_new(alerts_for(_budget_snapshot(20, 7))) == []  # 35 % of the new one
    raised = keys.take_new(alerts_for(_budget_snapshot(20, 11)))
    assert titles(raised) == ["Daily budget at 50%"]
    assert "$11.00 of $20.00" in raised[0].body
    # A restart with the budget unchanged repeats nothing.
    assert NotifiedKeys(path).take_new(alerts_for(_budget_snapshot(20, 12))) == []


def test_budget_alerts_shown_under_the_old_keys_are_not_repeated(tmp_path: Path) -> None:
    """tray-alerts.json from before the key named the limit: its crossings stay said, and
    a budget changed afterwards still speaks."""
    import json

    from tray_app.crossings import alerts_for

    path = tmp_path / "tray-alerts.json"
    path.write_text(json.dumps({"budget:daily:2026-03-02:50%": 1772450000.0}), encoding="utf-8")
    keys = NotifiedKeys(path)
    assert keys.take_new(alerts_for(_budget_snapshot(10, 6))) == []
    assert titles(NotifiedKeys(path).take_new(alerts_for(_budget_snapshot(20, 11)))) == [
        "Daily budget at 50%"
    ]


def _flag_snapshot(now_ms: int, ended_ms: int) -> TraySnapshot:
    from datetime import date

    from shared.insights.flags import Flag
    from shared.reports import iso_utc
    from tray_app.snapshot import RunningSession

    session = RunningSession(
        "s1", "claude", "claude-opus-4-5", "proj", now_ms - 5 * 3600_000, now_ms - 60_000, 12.0
    )
    flag = Flag(
        "loop",
        "Bash failed 6 times in a row",
        0.42,
        iso_utc(ended_ms - 30_000) or "",
        iso_utc(ended_ms) or "",
    )
    return TraySnapshot(
        taken_ms=now_ms, today=date(2026, 3, 2), running=[session], flags={"s1": [flag]}
    )


def test_a_runaway_stretch_that_ended_hours_ago_says_when(tmp_path: Path) -> None:
    """A loop that ended hours ago in a session still running raised an urgent 'Runaway
    session' alert at start that read as happening now."""
    from zoneinfo import ZoneInfo

    from tray_app.crossings import alerts_for

    now_ms = 1772460000_000  # 2026-03-02 14:00 UTC
    recent = alerts_for(_flag_snapshot(now_ms, now_ms - 2 * 60_000))
    assert titles(recent) == ["Runaway session: loop"] and recent[0].urgent
    old = alerts_for(_flag_snapshot(now_ms, now_ms - 3 * 3600_000))
    assert titles(old) == ["Runaway session earlier: loop"]
    assert not old[0].urgent
    old = alerts_for(_flag_snapshot(now_ms, now_ms - 3 * 3600_000), ZoneInfo("Europe/Berlin"))
    assert "from 11:59 to 12:00 today, 3 h 00 min ago" in old[0].body
    assert old[0].target == DashboardTarget("sessions", "s1", "loop@2026-03-02T10:59:30.000Z")


def test_alerts_of_one_refresh_make_one_notification_led_by_the_most_urgent(
    qtbot: QtBot, roots: list[LogRoot], ledger_file: Path, today_session: Path
) -> None:
    """Each alert was its own balloon, and the tray shows one at a time: 'Daily budget
    spent' was replaced 15 ms later by 'Weekly budget at 50%', which the click then
    followed."""
    ingest_now(roots, ledger_file)
    app = make_app(qtbot, roots, ledger_file, Settings())
    spent = refreshed(qtbot, app).week_usd
    app.apply_settings(Settings(budgets=Budgets(daily_usd=0.01, weekly_usd=round(spent / 0.6, 6))))
    wait_for_pool()
    refreshed(qtbot, app)
    assert sorted(titles(app.shown_alerts)) == ["Daily budget spent", "Weekly budget at 50%"]
    text = app.dashboard.banner.text()
    assert "Daily budget spent: " in text
    assert "Also: Weekly budget at 50%." in text
    app.shutdown()

    # The click goes where the most urgent one points, whatever the order.
    other = make_app(qtbot, roots, ledger_file, Settings())
    calm = Alert("a", "Weekly budget at 50%", "Half.", DashboardTarget("overview"))
    loop = Alert("b", "Runaway session: loop", "…", DashboardTarget("sessions", "s1"), True)
    other.notify_all([calm, loop])
    assert other._last_target == DashboardTarget("sessions", "s1")
    assert other.dashboard.banner.text().count("Runaway session: loop: …") == 1
    other.shutdown()


def test_a_budget_alert_rounds_its_amounts_as_the_menu_does() -> None:
    """0.03 + 0.045 is 0.07500000000000001: the notification said "$0.08 of $0.05" (a
    plain `:,.2f`) while the menu and table said $0.07, as `burnmeter report` rounds."""
    from tray_app.crossings import alerts_for
    from tray_app.texts import budget_line, money

    snap = _budget_snapshot(0.05, 0.030000000000000002 + 0.045000000000000005)
    (alert,) = [a for a in alerts_for(snap) if a.title]
    assert money(snap.budgets[0].spent_usd) == "$0.07"
    assert "$0.07 of $0.05" in budget_line(snap.budgets[0])
    assert "reached: $0.07 of $0.05 (" in alert.body


def test_the_trays_files_make_a_private_data_folder(tmp_path: Path) -> None:
    """The tray's lock and its notes of alerts shown, written before any ledger exists,
    made the data folder 0755 (and so the notes of which sessions looped readable)."""
    from tray_app.single_instance import SingleInstance

    old_umask = os.umask(0o022)
    try:
        notes = tmp_path / "notes" / "tray-alerts.json"
        alert = Alert(
            "budget:daily:2026-11-23:50%", "Daily budget at 50%", "", DashboardTarget("x")
        )
        NotifiedKeys(notes).take_new([alert])
        lock = SingleInstance(tmp_path / "locked")
        assert lock.acquire()
        lock.release()
    finally:
        os.umask(old_umask)
    assert (notes.parent.stat().st_mode & 0o777) == 0o700
    assert ((tmp_path / "locked").stat().st_mode & 0o777) == 0o700


def test_a_config_file_edited_by_hand_reaches_the_running_tray(
    qtbot: QtBot,
    roots: list[LogRoot],
    ledger_file: Path,
    today_session: Path,
    isolated_home: Path,
    now_ms: int,
) -> None:
    """The tray read config.toml once, at its start: a budget written into the file
    later was never alerted on (`burnmeter budgets` said 165 % over, the tray's menu the
    old limit), until the user opened Settings and saved."""
    ingest_now(roots, ledger_file)
    app = make_app(qtbot, roots, ledger_file, Settings())
    spent = refreshed(qtbot, app).today_usd
    limit = round(spent / 0.6, 6)
    config = ledger_file.parent / "config.toml"
    config.write_text(f"[budgets]\ndaily_usd = {limit}\n")
    qtbot.waitUntil(lambda: app.settings.budgets.daily_usd == limit, timeout=10_000)
    wait_for_pool()
    refreshed(qtbot, app)
    assert titles(app.shown_alerts) == ["Daily budget at 50%"]
    # A broken file: defaults, as every command uses then, and the banner says why.
    config.write_text("[budgets\n")
    qtbot.waitUntil(lambda: app.settings.budgets.daily_usd is None, timeout=10_000)
    assert any("config.toml" in notice for notice in app.dashboard.notices)


def test_a_failed_read_is_said_until_a_read_works_again(
    qtbot: QtBot,
    roots: list[LogRoot],
    ledger_file: Path,
    today_session: Path,
    isolated_home: Path,
    now_ms: int,
) -> None:
    """A read that failed left "Cannot read the ledger: …" atop the menu for good, even
    once the ledger was fixed and read again; and a ledger upgraded by a newer burnmeter
    while the tray ran advised "Upgrade burnmeter", though that is what had happened."""
    from shared.ledger import LedgerTooNew

    ingest_now(roots, ledger_file)
    app = make_app(qtbot, roots, ledger_file, Settings())
    refreshed(qtbot, app)
    app._snapshot_failed(LedgerTooNew("The ledger at x has schema version 99, newer …"))
    assert app.tray.status_line.startswith("Cannot read the ledger: ")
    assert "upgraded it while the tray ran: quit the tray and start it again" in (
        app.tray.status_line
    )
    refreshed(qtbot, app)
    assert app.tray.status_line == ""
