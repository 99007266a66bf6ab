"""The weekly summary as Markdown: short enough to paste into a note, a PR or a message."""

from __future__ import annotations

from typing import Any

from shared.summary.sections import Table, footer, headline, sections

# CommonMark lets any ASCII punctuation be escaped with a backslash. A cell holds names
# (`<synthetic>`, a folder `a_b*c`, `[wip]`): each of these would otherwise turn into an
# HTML tag, emphasis or a link when the summary is rendered. Lines are sentences of ours
# with `code` in them, so only what would become HTML is escaped there.
CELL_SPECIALS = "\\`*_[]<>&|"
LINE_SPECIALS = "<>&"


def _escaped(text: str, specials: str) -> str:
    return "".join("\\" + char if char in specials else char for char in text)


def _cell(value: object) -> str:
    return _escaped(str(value), CELL_SPECIALS).replace("\n", " ")


def _line(text: str) -> str:
    return _escaped(text, LINE_SPECIALS)


def markdown_table(table: Table) -> list[str]:
    align = [":--" if index < table.numeric_from else "--:" for index in range(len(table.columns))]
    lines = ["| " + " | ".join(table.columns) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.rows]
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
