"""Two findings of the tray audit: a read-only data folder ended the tray with an
uncaught OSError (EROFS) from the single-instance listener, and an idle tray (no running
session, no open block: a refresh every five minutes) showed yesterday's "Today" for up
to five minutes into the new day."""

from __future__ import annotations

import errno
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tray_app.app import TICK_IDLE_MS, idle_tick_ms
from tray_app.single_instance import SingleInstance


def test_a_read_only_data_folder_does_not_stop_the_tray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def read_only(self: Path, missing_ok: bool = False) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    instance = SingleInstance(tmp_path)
    instance.listen(lambda: None)  # raised OSError: [Errno 30] Read-only file system
    assert "cannot serve a second start's requests" in caplog.text
    instance.release()


BRISBANE = ZoneInfo("Australia/Brisbane")


@pytest.mark.parametrize(
    ("now", "expected_s"),
    [
        (datetime(2026, 12, 7, 23, 58, 0, tzinfo=BRISBANE), 121),  # midnight + 1 s
        (datetime(2026, 12, 7, 23, 59, 59, 500_000, tzinfo=BRISBANE), 1.5),
        (datetime(2026, 12, 7, 12, 0, tzinfo=BRISBANE), TICK_IDLE_MS / 1000),
    ],
)
def test_an_idle_tray_refreshes_just_after_local_midnight(now: datetime, expected_s: float) -> None:
    assert idle_tick_ms(now) == pytest.approx(expected_s * 1000, abs=1)


def test_the_midnight_refresh_counts_real_time_across_a_dst_change() -> None:
    """Santiago's clocks went from 00:00 to 01:00 on 2026-09-06: 23:58 on the 5th is two
    minutes before the new day, whatever the wall clock says after it."""
    santiago = ZoneInfo("America/Santiago")
    now = datetime(2026, 9, 5, 23, 58, tzinfo=santiago)
    tick = idle_tick_ms(now)
    assert tick <= TICK_IDLE_MS
    after = now.timestamp() + tick / 1000
    assert datetime.fromtimestamp(after, santiago).date() == now.date() + timedelta(days=1)
