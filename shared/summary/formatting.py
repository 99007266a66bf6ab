"""Numbers and dates as the Markdown and HTML renderers show them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from shared.commands.render import plural, short_model

__all__ = [
    "change_text",
    "cost_text",
    "logged",
    "logged_parts",
    "money",
    "percent",
    "plural",
    "short_model",
    "span_text",
    "tokens",
    "when",
]


# Logged text inside a sentence of ours (a model's name, a zone's key, a hint's reason that
# names a model) is set off by these two private-use characters, so that each renderer
# writes it as a name: Markdown escapes it as it escapes a table cell, HTML does not turn
# its backticks into code. (A sentence's own `code` and [brackets] stay as they are.)
LOGGED_START = "\ue000"
LOGGED_END = "\ue001"
_LOGGED_MARKS = re.compile(f"[{LOGGED_START}{LOGGED_END}]")


def logged(text: str) -> str:
    """`text` marked as logged, for a sentence of the summary."""
    return LOGGED_START + _LOGGED_MARKS.sub("", text) + LOGGED_END


def logged_parts(line: str) -> list[tuple[str, bool]]:
    """A sentence's pieces, each with whether it is logged text."""
    pieces = _LOGGED_MARKS.split(line)
    return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]


def money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def cost_text(row: dict[str, Any]) -> str:
    """A row's cost, with the calls no price was known for: `$3.20 (+2 unpriced)`, or
    `unpriced (2 calls)` when none of its calls had a price (never a bare $0.00)."""
    unpriced = int(row.get("unpriced_calls") or 0)
    if not unpriced:
        return money(row["cost_usd"])
    if not row["cost_usd"] and unpriced >= int(row.get("calls") or unpriced):
        return f"unpriced ({plural(unpriced, 'call')})"
    return f"{money(row['cost_usd'])} (+{unpriced:,} unpriced)"


def signed_money(value: float) -> str:
    return ("+" if value >= 0 else "-") + f"${abs(value):,.2f}"


def tokens(value: int) -> str:
    return f"{value:,}"


def percent(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio * 100:.1f}%"


def change_text(summary: dict[str, Any]) -> str:
    """`+$12.30 (+25.0%) cost, -3.1% tokens vs 2026-W06`."""
    change = summary["change"]
    previous = summary["previous_week"]["week"]
    if not summary["previous_week"]["calls"]:
        return f"No agent activity in {previous} to compare with"
    ratio = change["cost_ratio"]
    cost = signed_money(change["cost_usd"])
    if ratio is not None:
        cost += f" ({ratio * 100:+.1f}%)"
    token_ratio = change["total_tokens_ratio"]
    token_text = "" if token_ratio is None else f", tokens {token_ratio * 100:+.1f}%"
    return f"{cost} cost{token_text} vs {previous}"


def span_text(summary: dict[str, Any]) -> str:
    """`Mon 9 Feb – Sun 15 Feb 2026 (Europe/Berlin)`."""
    first = date.fromisoformat(summary["first_day"])
    last = date.fromisoformat(summary["last_day"])
    first_text = f"{first:%a} {first.day} {first:%b}"
    if first.year != last.year:
        first_text += f" {first.year}"
    return f"{first_text} – {last:%a} {last.day} {last:%b %Y} ({logged(summary['timezone'])})"


def when(iso_utc: str | None, zone_key: str) -> str:
    """A UTC ISO time as `Tue 14:05` in the summary's zone."""
    if not iso_utc:
        return ""
    from zoneinfo import ZoneInfo

    from shared.timezones import zone_from_tz

    # The key may be a POSIX rule or a zone file's path (the machine's zone from `TZ`).
    zone = zone_from_tz(zone_key) or ZoneInfo("UTC")
    moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(zone)
    return f"{moment:%a %H:%M}"
