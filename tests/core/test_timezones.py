"""One rule for the zone dates are read in, shared by reports, budgets, summary, tray and LSP."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.timezones import local_zone, resolve_zone, zone_from_tz, zone_named


def test_tz_flag_wins_over_setting_and_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    assert resolve_zone("Europe/Berlin", ZoneInfo("Asia/Tokyo")) == ZoneInfo("Asia/Tokyo")
    assert resolve_zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert resolve_zone("") == ZoneInfo("America/New_York")


def test_unknown_setting_falls_back_to_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":Europe/Paris")
    assert zone_named("Mars/Olympus") is None
    assert resolve_zone("Mars/Olympus") == ZoneInfo("Europe/Paris")


def test_unknown_tz_variable_is_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Not/AZone")
    assert isinstance(local_zone(), ZoneInfo)


def test_without_tz_or_etc_localtime_the_machine_zone_comes_from_tzlocal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows has neither `TZ` nor /etc/localtime: every report, the tray, budgets and the
    language server counted days in UTC there."""
    import sys
    import types

    import shared.timezones as timezones

    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(timezones, "ETC_LOCALTIME", "/nowhere/localtime")
    fake = types.ModuleType("tzlocal")
    fake.get_localzone_name = lambda: "America/New_York"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tzlocal", fake)
    assert local_zone() == ZoneInfo("America/New_York")
    monkeypatch.setitem(sys.modules, "tzlocal", None)  # not installed: UTC, as before
    assert local_zone() == ZoneInfo("UTC")


MACHINE_ZONES = [
    "JST-9",
    ":JST-9",
    "EST5EDT,M3.2.0,M11.1.0",
    "<+0530>-5:30",
    "NZST-12NZDT,M9.5.0,M4.1.0/3",
    "/usr/share/zoneinfo/America/Santiago",
    # Read as UTC by the C library: a one-letter name, an offset of 24 hours. zoneinfo took
    # them, and `A-24` then failed every date it was asked for (reports, the LSP crashed).
    "A-23",
    "A-24",
    "ABC-23:59",
    # A daylight-time name of fewer than three letters is none (standard time all year);
    # trailing blanks do not count.
    "CET-1CE",
    "JST-9x",
    "JST-9 ",
    "",
    "No/SuchZone",
    "garbage",
]
# Instants on both sides of northern and southern DST changes.
INSTANTS = [
    int(datetime(2026, month, day, hour, tzinfo=UTC).timestamp())
    for month, day in ((1, 15), (3, 8), (4, 5), (7, 15), (9, 6), (9, 27), (11, 1))
    for hour in (0, 7, 13)
]


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="TZ is read by the C library on POSIX")
@pytest.mark.parametrize("value", MACHINE_ZONES)
def test_the_machine_zone_is_the_one_the_c_library_reads_from_tz(value: str) -> None:
    """A POSIX rule (`TZ=JST-9`) or a zone file's path in `TZ` became UTC: the status line
    (which counts today with the C library) said JST while reports, budgets, the tray and
    the language server counted days and labelled headers in UTC ("Etc/UTC")."""
    if value.startswith("/") and not Path(value).exists():
        pytest.skip(f"{value} is not on this machine")
    assert_offsets_as_the_c_library_reads(value, INSTANTS)


def test_a_zone_file_outside_any_zoneinfo_folder_is_read_as_the_file_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokyo = zone_file("Asia/Tokyo")
    copy = tmp_path / "my-zone"
    copy.write_bytes(tokyo)
    monkeypatch.setenv("TZ", str(copy))
    zone = local_zone()
    assert zone.key == str(copy)
    assert datetime(2026, 7, 1, tzinfo=UTC).astimezone(zone).utcoffset() == timedelta(hours=9)
    # The key a summary keeps reads back as the same zone.
    assert zone_from_tz(zone.key) is not None
    assert zone_from_tz(str(tmp_path / "missing")) is None
    assert zone_from_tz("JST-9") is not None and zone_from_tz("JST-9").key == "JST-9"  # type: ignore[union-attr]


def zone_file(name: str) -> bytes:
    from zoneinfo import TZPATH

    for folder in TZPATH:
        path = Path(folder) / name
        if path.is_file():
            return path.read_bytes()
    pytest.skip(f"no zone file for {name} on this machine")


def test_etc_localtime_copied_rather_than_linked_is_the_machine_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many container images copy the zone file to /etc/localtime instead of linking it:
    that machine's zone was UTC."""
    import shared.timezones as timezones

    monkeypatch.delenv("TZ", raising=False)
    localtime = tmp_path / "localtime"
    localtime.write_bytes(zone_file("America/Santiago"))
    named = tmp_path / "timezone"
    monkeypatch.setattr(timezones, "ETC_LOCALTIME", str(localtime))
    monkeypatch.setattr(timezones, "ETC_TIMEZONE", str(named))
    july = datetime(2026, 7, 1, tzinfo=UTC)
    # No /etc/timezone: the file as it is, known by its path.
    zone = local_zone()
    assert zone.key == str(localtime)
    assert july.astimezone(zone).utcoffset() == timedelta(hours=-4)
    # Debian's /etc/timezone names it: the name, when it is the same zone.
    named.write_text("America/Santiago\n")
    assert local_zone() == ZoneInfo("America/Santiago")
    # A stale name (the copy changed since): the copy is what the C library reads.
    named.write_text("Europe/Paris\n")
    assert local_zone().key == str(localtime)


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="TZ is read by the C library on POSIX")
@pytest.mark.parametrize("value", ["CET-1CEST", "NZST-12NZDT"])
def test_a_rule_with_daylight_time_but_no_dates_takes_the_us_dates(value: str) -> None:
    """`TZ=CET-1CEST` was read as UTC: zoneinfo refuses a rule without switch dates, where
    the C library takes them from its `posixrules` zone (New York's: the second Sunday of
    March, the first of November). glibc also moves the switch by some hours on those two
    days, which is not copied: the days around them are left out here."""
    days = ((1, 15), (3, 20), (5, 1), (7, 15), (9, 30), (11, 5), (12, 24))
    instants = [int(datetime(2026, m, d, 12, tzinfo=UTC).timestamp()) for m, d in days]
    assert_offsets_as_the_c_library_reads(value, instants)


def test_a_rule_of_24_hours_is_read_as_a_zone_dates_can_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`TZ=ABC+24` (the C library's -24 h, which no datetime can hold): a zone every date can
    be put in, not one that fails each of them."""
    monkeypatch.setenv("TZ", "ABC+24")
    zone = local_zone()
    assert datetime(2026, 7, 1, tzinfo=UTC).astimezone(zone).utcoffset() is not None


def assert_offsets_as_the_c_library_reads(value: str, instants: list[int]) -> None:
    """With `TZ=value`, our machine zone's offset at each instant is `time.localtime`'s."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = value
    try:
        time.tzset()
        zone = local_zone()
        for instant in instants:
            libc = time.localtime(instant).tm_gmtoff
            ours = datetime.fromtimestamp(instant, zone).utcoffset()
            assert ours == timedelta(seconds=libc), (value, instant)
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_on_windows_a_tz_in_the_c_runtimes_form_is_followed_and_any_other_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows' C runtime reads `TZ=CET-1CEST` (on the US dates) for the status line's
    `time.localtime`, but reports ignored every `TZ` there and asked the system: the two
    dated days apart. An IANA name, which the runtime cannot read, still gives the system's
    zone (tzlocal's)."""
    import types

    import shared.timezones as timezones

    monkeypatch.setattr(timezones.sys, "platform", "win32")
    monkeypatch.setattr(timezones, "ETC_LOCALTIME", "/nowhere/localtime")
    fake = types.ModuleType("tzlocal")
    fake.get_localzone_name = lambda: "Asia/Tokyo"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tzlocal", fake)
    monkeypatch.setenv("TZ", "CET-1CEST")
    january = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert january.astimezone(local_zone()).utcoffset() == timedelta(hours=1)
    monkeypatch.setenv("TZ", "EST5EDT")
    assert january.astimezone(local_zone()).utcoffset() == timedelta(hours=-5)
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert local_zone() == ZoneInfo("Asia/Tokyo")
    monkeypatch.delenv("TZ")
    assert local_zone() == ZoneInfo("Asia/Tokyo")
