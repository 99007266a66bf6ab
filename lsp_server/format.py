"""Short human text for money, model names and ages, shared by the features."""

from __future__ import annotations

import re

from shared.commands.render import plural
from shared.markdown_escape import cell

_DATE_SUFFIX = re.compile(r"-\d{8}$")


def money(usd: float) -> str:
    """`$3.21`; from $100 on whole dollars (`$1,234`), under a cent `<$0.01`. Rounded to
    6 decimals first, as every report rounds a cost: a file's 0.03 + 0.255 is the reports'
    0.285 and reads $0.28 in both (a plain `:,.2f` of 0.28500000000000003 said $0.29)."""
    usd = round(usd, 6)
    if usd >= 100:
        return f"${usd:,.0f}"
    if usd >= 0.01 or usd == 0:
        return f"${usd:,.2f}"
    return "<$0.01"


def cost_text(usd: float, unpriced: int = 0, calls: int = 0) -> str:
    """A cost with the calls no price was known for, as the reports write it: `$3.21`,
    `$3.21 (+2 unpriced)`, or `unpriced (2 calls)` when none of the `calls` had a price
    (never a bare `$0.00` for calls without a price)."""
    if not unpriced:
        return money(usd)
    if not usd and unpriced >= calls:
        return f"unpriced ({count(unpriced, 'call')})"
    return f"{money(usd)} (+{unpriced:,} unpriced)"


def count(n: int, noun: str) -> str:
    """`1 session`, `2 sessions`, `1,204 model calls` (nouns that take an s): the CLI's
    words for counts."""
    return plural(n, noun)


def md_text(value: object) -> str:
    """Logged text (a model, a session id, a file name) for a Markdown table cell or a
    sentence: escaped as the weekly summary escapes its cells (`\\|`, `\\<`, `\\*`, `\\~`,
    ...), with a line break shown as a visible `\\n` (`\\r`) instead of ending the row."""
    return cell(value)


def plain_text(value: object) -> str:
    """Logged text for a plain-text line: what cannot be shown (a line break, a tab, a
    control character) as its escape (`\\n`), so it cannot end or shift a line."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in str(value)
    )


def short_model(model: str) -> str:
    """`claude-opus-4-7-20260101` → `opus-4-7`; other names lose only a date suffix."""
    name = _DATE_SUFFIX.sub("", model)
    return name.removeprefix("claude-")


def ago(delta_ms: int) -> str:
    """How long ago, to the nearest minute, hour or day (1 h 59 min is "2h ago": it read
    "1h ago", rounded down); under a minute "just now"."""
    seconds = max(0, delta_ms) / 1000
    if seconds < 60:
        return "just now"
    minutes = _nearest(seconds / 60)
    if minutes < 60:
        return f"{minutes}m ago"
    hours = _nearest(seconds / 3600)
    if hours < 48:
        return f"{hours}h ago"
    return f"{_nearest(seconds / 86400)}d ago"


def _nearest(value: float) -> int:
    """Rounded half up (Python's round() takes 2.5 to 2)."""
    return int(value + 0.5)
