"""The menu's 5-hour block line: its countdown says what `burnmeter budgets` says at the
same moment, and its projection waits for enough of the block to mean something."""

from __future__ import annotations

import re
import types
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import shared.commands.budgets_cmd
from shared.cli import main as cli_main
from shared.config import Settings
from shared.sources.roots import LogRoot
from tests.tray.conftest import ingest_now
from tests.tray.history import append_call
from tray_app.snapshot import read_extras, read_snapshot
from tray_app.texts import block_line, duration

CWD = "/home/dev/src/burnmeter"
# A block from 10:00 to 15:00 UTC: its first call at 10:05.
BLOCK_END = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
FIRST_CALL_MS = int(datetime(2026, 12, 1, 10, 5, tzinfo=UTC).timestamp() * 1000)
END_MS = int(BLOCK_END.timestamp() * 1000)


def tray_line(ledger_file: Path, now_ms: int) -> str:
    settings = Settings()
    snap = read_extras(
        ledger_file, settings, read_snapshot(ledger_file, settings, ZoneInfo("UTC"), now_ms)
    )
    assert snap.block is not None
    return block_line(snap.block, now_ms)


def cli_minutes_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], now_ms: int
) -> int:
    monkeypatch.setattr(
        shared.commands.budgets_cmd, "time", types.SimpleNamespace(time=lambda: now_ms / 1000)
    )
    assert cli_main(["budgets", "--no-ingest"]) == 0
    found = re.search(r"(\d+) min left", capsys.readouterr().out)
    assert found is not None
    return int(found.group(1))


def tray_minutes_left(line: str) -> int:
    found = re.search(r"resets in (?:(\d+) h )?(\d+) min", line)
    assert found is not None, line
    return int(found.group(1) or 0) * 60 + int(found.group(2))


@pytest.mark.parametrize(
    "left_s",
    [
        1 * 3600 + 59 * 60 + 40,  # the audit's moment: '1 h 59 min' beside '120 min left'
        1 * 3600 + 59 * 60 + 10,
        1 * 3600 + 59 * 60 + 28,  # 119.47 min: the CLI's minutes went 119.5 first, then 120
        2 * 3600 + 30 * 60 + 50,
        50,
        10,
    ],
)
def test_the_countdown_reads_as_burnmeter_budgets_at_the_same_moment(
    left_s: int,
    roots: list[LogRoot],
    ledger_file: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now_ms = END_MS - left_s * 1000
    append_call(isolated_home, "s1", CWD, FIRST_CALL_MS, 1, model="claude-sonnet-4-5")
    append_call(isolated_home, "s1", CWD, now_ms - 60_000, 2, model="claude-sonnet-4-5")
    ingest_now(roots, ledger_file)
    line = tray_line(ledger_file, now_ms)
    assert tray_minutes_left(line) == cli_minutes_left(monkeypatch, capsys, now_ms)


def test_durations_round_to_the_nearest_minute() -> None:
    assert duration((60 + 59) * 60_000 + 40_000) == "2 h 00 min"
    assert duration((60 + 59) * 60_000 + 29_000) == "1 h 59 min"
    assert duration(59 * 60_000 + 40_000) == "1 h 00 min"
    assert duration(29_000) == "0 min"
    assert duration(31_000) == "1 min"
    assert duration((47 * 60 + 59) * 60_000 + 40_000) == "2 d 0 h"
    assert duration((3 * 24 + 5) * 3_600_000 + 31 * 60_000) == "3 d 6 h"
    # Rounded once, from the time: 48 h 29 min 40 s is 2 d 0 h (it read 2 d 1 h).
    assert duration((48 * 60 + 29) * 60_000 + 40_000) == "2 d 0 h"


@pytest.mark.parametrize(
    ("span_s", "projected"),
    [(10, False), (5 * 60, False), (14 * 60 + 59, False), (15 * 60, True), (2 * 3600, True)],
)
def test_the_projection_waits_for_a_quarter_hour_of_activity(
    span_s: int,
    projected: bool,
    roots: list[LogRoot],
    ledger_file: Path,
    isolated_home: Path,
) -> None:
    """Two calls 10 s apart projected $37.16 for a block that had cost $0.02."""
    last_ms = FIRST_CALL_MS + span_s * 1000
    append_call(isolated_home, "s1", CWD, FIRST_CALL_MS, 1, model="claude-sonnet-4-5")
    append_call(isolated_home, "s1", CWD, last_ms, 2, model="claude-sonnet-4-5")
    ingest_now(roots, ledger_file)
    line = tray_line(ledger_file, last_ms + 5_000)
    assert ("(projected $" in line) is projected, line
