"""`burnmeter/status` figures that other front ends show too must agree with them: "today"
is the day in the config's `timezone` (else the machine's) with the zone's real rules, as
the status line, the tray and the budgets count it, and a session's first and last
activity are its first and last model call, as `report sessions` has them."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import lsp_server.status
from lsp_server.status import status_params
from shared.commands.statusline_cmd import today_spend as statusline_today
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.reports import Filters, sessions_report
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, iso, session_file
from tests.lsp.conftest import NOW_MS, Workspace, start_client, wait_until

LA = "America/Los_Angeles"
# 2026-03-08, the day Los Angeles moves from PST (-8) to PDT (-7) at 02:00: that day's
# midnight is 08:00 UTC, not 07:00 as the offset in force at noon (-7) would put it.
CALLS_UTC = (
    "2026-03-08T07:30:00+00:00",  # 23:30 PST on the 7th: yesterday
    "2026-03-08T08:30:00+00:00",  # 00:30 PST on the 8th
    "2026-03-08T17:00:00+00:00",  # 10:00 PDT on the 8th
)
NOON_PDT_MS = int(datetime.fromisoformat("2026-03-08T19:00:00+00:00").timestamp() * 1000)
CALL_USD = 1.50  # 60,000 output tokens of claude-opus-4-7 at $25 / Mtok


def ledger_file() -> Path:
    return Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"


def write_config(text: str) -> None:
    folder = Path(os.environ["BURNMETER_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)


def ingest_logs(home: Path) -> None:
    ledger = open_ledger(ledger_file())
    ingest(ledger, [LogRoot(CLAUDE, home / ".claude" / "projects")])
    ledger.close()


@pytest.fixture
def machine_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """TZ as the test sets it, for the C library too (naive local times, `astimezone()`)."""
    yield
    monkeypatch.undo()
    time.tzset()


def set_machine_zone(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("TZ", name)
    time.tzset()


def freeze_clock(monkeypatch: pytest.MonkeyPatch, now_ms: int) -> None:
    """The status's clock at `now_ms`: `time.time()`, and `datetime.now()` in the status
    module, which the server read "now" through before it counted "today" by zoneinfo."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
            return datetime.fromtimestamp(now_ms / 1000, tz)

    monkeypatch.setattr(time, "time", lambda: now_ms / 1000)
    monkeypatch.setattr(lsp_server.status, "datetime", Frozen, raising=False)


@pytest.fixture
def dst_day_ledger(isolated_home: Path) -> sqlite3.Connection:
    log = session_file(isolated_home / ".claude" / "projects", "/work/la", "sess-la")
    for n, moment in enumerate(CALLS_UTC):
        ms = int(datetime.fromisoformat(moment).timestamp() * 1000)
        append(
            log,
            claude_call(
                message_id=f"la{n}", session_id="sess-la", cwd="/work/la", ts_ms=ms,
                input_tokens=0, output_tokens=60_000,
            ),
        )  # fmt: skip
    ingest_logs(isolated_home)
    return sqlite3.connect(ledger_file())


@pytest.mark.parametrize("where", ["machine", "config"])
def test_today_starts_at_the_zones_real_midnight_on_a_dst_day(
    dst_day_ledger: sqlite3.Connection,
    machine_zone: None,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """The server took the UTC offset in force now (-7 at noon PDT) as the zone's, so the
    day began at 07:00 UTC and the 23:30 PST call of the evening before was counted:
    $4.50 where the status line, tray, budgets and `report daily` say $3.00."""
    if where == "machine":
        set_machine_zone(monkeypatch, LA)
    else:
        set_machine_zone(monkeypatch, "UTC")
        write_config(f'timezone = "{LA}"\n')
    conn = dst_day_ledger
    prices = [row[0] for row in conn.execute("SELECT cost_usd FROM usage_events")]
    assert prices == [pytest.approx(CALL_USD)] * 3
    freeze_clock(monkeypatch, NOON_PDT_MS)
    params, _ = status_params(conn, [], 10, 600_000)
    assert params["today_cost_usd"] == pytest.approx(2 * CALL_USD)
    # The status line's figure for the same ledger, moment and zone.
    assert params["today_cost_usd"] == pytest.approx(statusline_today(conn, NOON_PDT_MS, LA)[0])
    conn.close()


# Every whole-hour UTC offset from -12 to +14: at any moment, the fixture history's calls
# (2 to 5 hours old) are all "today" in some of these zones and none of them in others.
ZONES = [f"Etc/GMT{-offset:+d}" if offset else "UTC" for offset in range(-12, 15)]


def today_by_zone() -> dict[str, float]:
    conn = sqlite3.connect(ledger_file())
    try:
        now_ms = int(time.time() * 1000)
        return {zone: statusline_today(conn, now_ms, zone)[0] for zone in ZONES}
    finally:
        conn.close()


async def test_today_is_the_configured_zones_day_and_follows_config_changes(
    workspace: Workspace,
) -> None:
    """The server counted today in the machine's zone whatever the config's `timezone`
    said, while the status line, the tray and the budgets follow it: VS Code's status bar
    and Claude Code's status line showed two different "today" figures."""
    figures = today_by_zone()
    first = max(figures, key=lambda zone: figures[zone])
    second = min(figures, key=lambda zone: figures[zone])
    assert figures[first] != figures[second]
    write_config(f'timezone = "{first}"\n')
    client = await start_client(workspace, "visual-studio-code")
    try:
        assert await wait_until(lambda: len(workspace.statuses) >= 1)
        assert workspace.statuses[-1]["today_cost_usd"] == pytest.approx(
            today_by_zone()[first], abs=1e-6
        )
        # The config changes while the server runs: the next status counts in the new zone.
        write_config(f'# changed\ntimezone = "{second}"\n')
        append(
            workspace.session_log,
            claude_call(
                message_id="m-now", session_id="sess-app-1", cwd=str(workspace.folder),
                ts_ms=int(time.time() * 1000),
            ),
        )  # fmt: skip
        assert await wait_until(
            lambda: (
                workspace.statuses[-1]["today_cost_usd"]
                == pytest.approx(today_by_zone()[second], abs=1e-6)
            )
        ), (workspace.statuses[-1], today_by_zone()[second])
    finally:
        await client.shutdown_session()
        await client.stop()


def test_session_activity_is_its_first_and_last_model_call(isolated_home: Path) -> None:
    """The server's `started_at` and `last_activity` came from the `sessions` table, in
    whole seconds. That table keeps the latest line of a call (a streamed reply is logged
    again, seconds later, with its final counts), where the call and `report sessions`
    keep the first: the server's `last_activity` was seconds later than the report's, and
    the session still "ran" after its last call had left the window."""
    folder = "/work/acts"
    log = session_file(isolated_home / ".claude" / "projects", folder, "sess-acts")
    second = NOW_MS // 1000 * 1000
    first_ms = second - 20 * 60_000 + 123
    last_ms = second - 10 * 60_000 - 2_000 + 456  # just outside a 10-minute window
    for key, ts_ms, output in (
        ("a1", first_ms, 500),
        ("a2", last_ms, 10),
        # The same reply logged again 4 s later (inside the window), with its final counts.
        ("a2", last_ms + 4_000, 900),
    ):
        append(
            log,
            claude_call(
                message_id=key, session_id="sess-acts", cwd=folder, ts_ms=ts_ms,
                output_tokens=output,
            ),
        )  # fmt: skip
    ingest_logs(isolated_home)
    ledger = open_ledger(ledger_file())
    try:
        (reported,) = sessions_report(ledger, Filters(tz=ZoneInfo("UTC")))["sessions"]
        params, latest = status_params(ledger.conn, [folder], 10, 10 * 60_000)
    finally:
        ledger.close()
    (shown,) = params["sessions"]
    assert reported["first_activity"] == iso(first_ms)[:-4] + "Z"  # `…:00.123Z`
    assert reported["last_activity"] == iso(last_ms)[:-4] + "Z"
    assert (shown["started_at"], shown["last_activity"]) == (
        reported["first_activity"],
        reported["last_activity"],
    )
    assert shown["running"] is False
    assert latest is not None and latest.last_ts_ms == last_ms
