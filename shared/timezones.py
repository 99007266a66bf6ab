"""Which time zone dates are read in: `--tz`, else the configured zone, else the machine's."""

from __future__ import annotations

import io
import os
import re
import struct
import sys
from datetime import UTC, datetime
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

# Where the machine's zone is kept on Linux and macOS (a link into a zoneinfo folder, or a
# copy of a zone file, as in many container images), and Debian's name for it.
ETC_LOCALTIME = "/etc/localtime"
ETC_TIMEZONE = "/etc/timezone"


def local_zone() -> ZoneInfo:
    """The machine's zone, as the C library reads it (the status line counts days with
    `time.localtime`): `TZ` (an IANA name, a zone file's path, or a POSIX rule such as
    `JST-9`; one nothing can read is UTC, as in the C library), else `/etc/localtime`, else
    tzlocal's answer on Windows, else UTC. A named zone, not a fixed offset: reports cut
    days across DST changes."""
    if "TZ" in os.environ:
        value = os.environ["TZ"]
        if sys.platform != "win32":
            return zone_from_tz(value) or ZoneInfo("UTC")
        # Windows' C runtime reads `TZ` only in the POSIX form (`EST5EDT`, `CET-1CEST`, on
        # the US dates): followed when it has that form, as the status line's
        # `time.localtime` follows it. Otherwise the system's zone (below).
        crt = _posix_rule(value)
        if crt is not None:
            return crt
    machine = _etc_localtime()
    if machine is not None:
        return machine
    # Windows has neither: tzlocal maps its zone ("W. Europe Standard Time") to an IANA
    # name (a dependency there only; elsewhere used if installed). Imported by name, not
    # through importlib, so that PyInstaller's scan puts it in the Windows bundle.
    try:
        import tzlocal  # type: ignore[import-not-found,unused-ignore]

        name = tzlocal.get_localzone_name()
        return ZoneInfo(name if isinstance(name, str) and name else "UTC")
    except Exception:  # not installed, or a zone it cannot name: UTC, as before
        return ZoneInfo("UTC")


def zone_from_tz(value: str) -> ZoneInfo | None:
    """The zone a `TZ` value names (with or without its leading `:`): an IANA name, the path
    of a zone file, or a POSIX rule (`JST-9`, `EST5EDT,M3.2.0,M11.1.0`); None if none.
    Also reads back the key of a zone made here (a summary keeps its zone by key)."""
    value = value.removeprefix(":")
    if not value:
        return None
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    if os.path.isabs(value):
        return _zone_file(value)
    return _posix_rule(value)


def _zone_file(path: str) -> ZoneInfo | None:
    return _linked_zone(path) or _copied_zone(path)


def _linked_zone(path: str) -> ZoneInfo | None:
    """The zone a path names by leading into a zoneinfo folder (itself or through links)."""
    try:
        real = os.path.realpath(path)
        if "zoneinfo/" in real:
            return ZoneInfo(real.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return None


def _copied_zone(path: str) -> ZoneInfo | None:
    """A zone file read as it is, known by its path."""
    try:
        with open(path, "rb") as file:
            return ZoneInfo.from_file(file, key=path)
    except (OSError, ValueError):
        return None


def _posix_rule(rule: str) -> ZoneInfo | None:
    """A zone following one POSIX TZ rule for all time: a TZif file with no transitions,
    whose footer (the rule for times after the last transition) is the rule."""
    rule = rule.rstrip()  # the C library reads `JST-9 ` and `JST-9\n` as `JST-9`
    start = POSIX_RULE_START.match(rule)
    if "\n" in rule or not rule.isascii() or start is None:
        return None
    if start.end() < len(rule) and POSIX_NAME.match(rule, start.end()) is None:
        # What follows the standard time is no daylight-time name (`CET-1CE`: two letters):
        # the C library keeps the standard time alone, all year.
        rule = rule[: start.end()]
    header = b"TZif2" + bytes(15) + struct.pack(">6l", 0, 0, 0, 0, 1, 4)
    body = struct.pack(">lBB", 0, 0, 0) + b"UTC\0"
    # A rule with daylight time but no dates (`CET-1CEST`): the C library takes them from
    # its `posixrules` zone, New York's (second Sunday of March, first of November), where
    # zoneinfo refuses the rule.
    for footer in (rule, rule + DEFAULT_DST_DATES) if "," not in rule else (rule,):
        data = header + body + header + body + b"\n" + footer.encode() + b"\n"
        try:
            zone = ZoneInfo.from_file(io.BytesIO(data), key=rule)
            # zoneinfo takes an offset of 24 h (`A-24`) that datetime then refuses on every
            # use; the C library reads such a rule as UTC.
            for month in (1, 7):
                datetime(2000, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
            return zone
        except ValueError:
            continue
    return None


DEFAULT_DST_DATES = ",M3.2.0,M11.1.0"
# A rule's standard-time name has at least three letters (or is quoted in <>) and an
# offset follows: the C library reads `A-23` as UTC, where zoneinfo took it.
POSIX_NAME = re.compile(r"[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>")
# The standard-time name and its offset (`JST-9`, `<+0530>-5:30`, `ABC-23:59:59`).
POSIX_RULE_START = re.compile(
    rf"(?:{POSIX_NAME.pattern})[+-]?[0-9]{{1,2}}(?::[0-9]{{1,2}}(?::[0-9]{{1,2}})?)?"
)


def _etc_localtime() -> ZoneInfo | None:
    """The zone of /etc/localtime: by name when it links into a zoneinfo folder; a copy is
    named by /etc/timezone when that agrees with it, else read as the file it is."""
    if not os.path.exists(ETC_LOCALTIME):
        return None
    linked = _linked_zone(ETC_LOCALTIME)
    if linked is not None:
        return linked
    copy = _copied_zone(ETC_LOCALTIME)
    try:
        with open(ETC_TIMEZONE, encoding="utf-8") as file:
            named = ZoneInfo(file.read().strip())
        with open(ETC_LOCALTIME, "rb") as file:
            same = file.read() == _zone_bytes(named.key)
        if same or copy is None:
            return named
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return copy


def _zone_bytes(name: str) -> bytes | None:
    for folder in TZPATH:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            with open(candidate, "rb") as file:
                return file.read()
    return None


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
