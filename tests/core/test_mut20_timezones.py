"""The machine's zone as the C library reads it (`shared.timezones`): the cases the existing
tests left open (found by mutation testing)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo

import pytest

import shared.timezones as timezones
from shared.timezones import local_zone, zone_from_tz
from tests.core.test_timezones import assert_offsets_as_the_c_library_reads, zone_file

JULY = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def machine_in_tokyo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An /etc/localtime (a copy of Tokyo's zone file) and no /etc/timezone."""
    localtime = tmp_path / "localtime"
    localtime.write_bytes(zone_file("Asia/Tokyo"))
    monkeypatch.setattr(timezones, "ETC_LOCALTIME", str(localtime))
    monkeypatch.setattr(timezones, "ETC_TIMEZONE", str(tmp_path / "timezone"))
    monkeypatch.setitem(sys.modules, "tzlocal", None)
    return localtime


@pytest.mark.skipif(sys.platform == "win32", reason="TZ is the C library's on POSIX")
@pytest.mark.parametrize("value", ["", "garbage", "No/SuchZone"])
def test_a_tz_nothing_can_read_is_utc_not_the_machines_zone(
    value: str, machine_in_tokyo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The C library reads a set but empty or unreadable `TZ` as UTC, whatever
    /etc/localtime says; so does the status line, which counts days with it."""
    monkeypatch.delenv("TZ", raising=False)
    assert JULY.astimezone(local_zone()).utcoffset() == timedelta(hours=9)
    monkeypatch.setenv("TZ", value)
    assert local_zone() == ZoneInfo("UTC")


def test_a_tz_path_through_a_link_into_zoneinfo_is_known_by_the_zones_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Report headers name the zone by its key: `Asia/Tokyo`, not the link's path."""
    tokyo = [Path(folder) / "Asia" / "Tokyo" for folder in TZPATH]
    real = next((path for path in tokyo if path.is_file()), None)
    if real is None or "zoneinfo/" not in os.path.realpath(real):
        pytest.skip("no zoneinfo folder holding Asia/Tokyo on this machine")
    link = tmp_path / "my-zone"
    link.symlink_to(real)
    monkeypatch.setenv("TZ", str(link))
    assert local_zone() == ZoneInfo("Asia/Tokyo")
    assert zone_from_tz(":" + str(link)) == ZoneInfo("Asia/Tokyo")


def test_an_unreadable_etc_localtime_is_named_by_etc_timezone(
    machine_in_tokyo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TZ", raising=False)
    machine_in_tokyo.write_bytes(b"not a zone file")
    (tmp_path / "timezone").write_text("America/Santiago\n")
    assert local_zone() == ZoneInfo("America/Santiago")


def test_a_rule_whose_daylight_time_is_24_hours_is_not_a_zone_that_fails_in_summer() -> None:
    """`ABC-23DEF,…`: standard time is 23 h ahead, daylight time 24 h, which no datetime can
    hold. A zone that works in January and raises in July crashed every summer date."""
    zone = zone_from_tz("ABC-23DEF,M3.2.0,M11.1.0")
    if zone is not None:
        for month in range(1, 13):
            assert datetime(2026, month, 15, tzinfo=UTC).astimezone(zone).utcoffset() is not None


@pytest.mark.skipif(not hasattr(__import__("time"), "tzset"), reason="TZ is read on POSIX")
@pytest.mark.parametrize("value", ["AB-3", "<AB>-3"])
def test_a_standard_time_name_of_two_letters_is_utc_as_in_the_c_library(value: str) -> None:
    instants = [int(datetime(2026, month, 15, 12, tzinfo=UTC).timestamp()) for month in (1, 7)]
    assert_offsets_as_the_c_library_reads(value, instants)
