"""Timestamp parsing tuned for the ISO-8601 strings agents write."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_to_ms(value: object) -> int | None:
    """Epoch milliseconds for an ISO-8601 timestamp (`2026-04-18T13:19:11.336Z`), else None."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
