"""Logged text (a model, a folder, a session id) made safe for a Markdown table cell: the
weekly summary's tables and the language server's hover both use it. A module of its own,
so the server does not load the summary package for it."""

from __future__ import annotations

# CommonMark lets any ASCII punctuation be escaped with a backslash. A cell holds names
# (`<synthetic>`, a folder `a_b*c`, `[wip]`, `~old~`): each of these would otherwise turn
# into an HTML tag, emphasis, strikethrough or a link when the Markdown is rendered.
CELL_SPECIALS = "\\`*_[]<>&|~"


def escaped(text: str, specials: str) -> str:
    return "".join("\\" + char if char in specials else char for char in text)


def cell(value: object) -> str:
    """`value` as one table cell: specials escaped, a line break shown as a visible `\\n`
    (`\\r`) instead of ending the row."""
    text = str(value).replace("\r", "\\r").replace("\n", "\\n")
    return escaped(text, CELL_SPECIALS)
