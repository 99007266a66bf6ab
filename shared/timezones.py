"""Which time zone dates are read in: `--tz`, else the configured zone, else the machine's."""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_zone() -> ZoneInfo:
    """The machine's IANA zone (`TZ`, else the `/etc/localtime` link, else tzlocal's answer
    on Windows), else UTC: reports need a named zone, not a fixed offset."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    # Windows has neither: tzlocal maps its zone ("W. Europe Standard Time") to an IANA
    # name (a dependency there only; elsewhere used if installed).
    try:
        import importlib

        name = importlib.import_module("tzlocal").get_localzone_name()
        return ZoneInfo(name if isinstance(name, str) and name else "UTC")
    except Exception:  # not installed, or a zone it cannot name: UTC, as before
        return ZoneInfo("UTC")


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone `name` names, in any case (`utc`, `europe/berlin`: ccusage takes
    those, so the same spelling works here), or None if there is none."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    from zoneinfo import available_timezones  # reads the zone list: only for a miss

    lowered = name.lower()
    for candidate in available_timezones():
        if candidate.lower() == lowered:
            return ZoneInfo(candidate)
    return None


def resolve_zone(configured: str, tz: ZoneInfo | None = None) -> ZoneInfo:
    """`tz` (from `--tz`), else the zone the settings name, else the machine's."""
    return tz or zone_named(configured) or local_zone()
