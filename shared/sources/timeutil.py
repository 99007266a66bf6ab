"""Timestamp parsing for the ISO-8601 strings agents write."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_to_ms(value: object) -> int | None:
    """Epoch milliseconds for an ISO-8601 timestamp (`2026-04-18T13:19:11.336Z`), else None;
    a timestamp without an offset is UTC.

    `datetime.fromisoformat` on every string: on Python 3.11 it is faster than the earlier
    cache of minute prefixes with the seconds read by hand (0.16 against 0.25 CPU s for
    300,000 timestamps of the bench history), and one path cannot disagree with itself.
    """
    if not isinstance(value, str) or not value:
        return None
    # Python 3.11 reads a trailing "Z" itself; spelling it out keeps what is accepted the
    # same on every version.
    text = value[:-1] + "+00:00" if value[-1] == "Z" else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
