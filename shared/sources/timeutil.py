"""Timestamp parsing tuned for the ISO-8601 strings agents write."""

from __future__ import annotations

from datetime import UTC, datetime

# Epoch seconds of "YYYY-MM-DDTHH:MM" prefixes already seen: the agents write many lines a
# minute, so most timestamps only need their seconds and milliseconds read.
_MINUTES: dict[str, int | None] = {}
_MINUTES_MAX = 200_000


def iso_to_ms(value: object) -> int | None:
    """Epoch milliseconds for an ISO-8601 timestamp (`2026-04-18T13:19:11.336Z`), else None."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 24 and value[23] == "Z" and value[16] == ":" and value[19] == ".":
        seconds, millis = value[17:19], value[20:23]
        if seconds.isascii() and seconds.isdigit() and millis.isascii() and millis.isdigit():
            minute = value[:16]
            base = _MINUTES.get(minute, -1)
            if base == -1:
                base = _minute_seconds(minute)
            if base is not None and int(seconds) < 60:
                # The same float steps as datetime.timestamp() * 1000, so both paths agree.
                micros = (base + int(seconds)) * 1_000_000 + int(millis) * 1000
                return int(micros / 1_000_000 * 1000)
    return _slow_iso_to_ms(value)


def _minute_seconds(minute: str) -> int | None:
    found = _slow_iso_to_ms(minute + ":00Z")
    base = None if found is None else found // 1000
    if len(_MINUTES) >= _MINUTES_MAX:
        _MINUTES.clear()
    _MINUTES[minute] = base
    return base


def _slow_iso_to_ms(value: str) -> int | None:
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
