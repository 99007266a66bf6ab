"""The weekly summary as Markdown: short enough to paste into a note, a PR or a message."""

from __future__ import annotations

from typing import Any

from shared.markdown_escape import cell, escaped
from shared.summary.formatting import logged_parts
from shared.summary.sections import Table, footer, headline, sections

# Lines are sentences of ours with `code` in them, so only what would become HTML is
# escaped in their own words; the logged text in them (formatting.logged) is escaped as
# cells are, which hold logged names (shared.markdown_escape).
LINE_SPECIALS = "<>&"


def _line(text: str) -> str:
    return "".join(
        cell(piece) if is_logged else escaped(piece, LINE_SPECIALS)
        for piece, is_logged in logged_parts(text)
    )


def markdown_table(table: Table) -> list[str]:
    align = ["--:" if table.numeric(index) else ":--" for index in range(len(table.columns))]
    lines = ["| " + " | ".join(table.columns) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in table.rows]
    return lines


def render_markdown(summary: dict[str, Any]) -> str:
    head = headline(summary)
    blocks = [[f"# {_line(head.title)}"], [_line(head.span)]]
    if head.cost is not None:
        blocks.append([f"**{head.cost}** API-equivalent · {head.facts}"])
    blocks += [[_line(line)] for line in head.lines]
    for section in sections(summary):
        block = [f"## {section.title}"]
        if section.lines:
            block += ["", *(f"- {_line(line)}" for line in section.lines)]
        if section.table is not None:
            block += ["", *(markdown_table(section.table) if section.table.rows else ["None."])]
        blocks.append(block)
    blocks.append([f"_{line}_" for line in footer(summary)])
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
