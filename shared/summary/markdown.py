"""The weekly summary as Markdown: short enough to paste into a note, a PR or a message."""

from __future__ import annotations

from typing import Any

from shared.markdown_escape import cell, escaped
from shared.summary.sections import Table, footer, headline, sections

# Lines are sentences of ours with `code` in them, so only what would become HTML is
# escaped there; cells hold logged names (shared.markdown_escape).
LINE_SPECIALS = "<>&"


def _line(text: str) -> str:
    return escaped(text, LINE_SPECIALS)


def markdown_table(table: Table) -> list[str]:
    align = [":--" if index < table.numeric_from else "--:" for index in range(len(table.columns))]
    lines = ["| " + " | ".join(table.columns) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in table.rows]
    return lines


def render_markdown(summary: dict[str, Any]) -> str:
    head = headline(summary)
    blocks = [[f"# {head.title}"], [head.span]]
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
