"""One rule for the zone dates are read in, shared by reports, budgets, summary, tray and LSP."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from shared.timezones import local_zone, resolve_zone, zone_named


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
    monkeypatch.setattr(timezones.os.path, "realpath", lambda path: "C:\\\\nowhere")
    fake = types.ModuleType("tzlocal")
    fake.get_localzone_name = lambda: "America/New_York"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tzlocal", fake)
    assert local_zone() == ZoneInfo("America/New_York")
    monkeypatch.setitem(sys.modules, "tzlocal", None)  # not installed: UTC, as before
    assert local_zone() == ZoneInfo("UTC")
