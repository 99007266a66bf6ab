"""Report tables drawn line by line, in rich's Table look, when nothing in them has to wrap.

rich lays out every cell of a Table as a renderable of its own (measure, wrap, justify,
pad): about 160 µs a cell, so `report sessions` over 3,769 sessions spent ~3.9 s of its 8
drawing the table, and a daily table ~0.1 s. When every line of every cell fits its column
and the table fits the terminal, the layout is plain arithmetic: this draws the same
characters with the same styles (tests/core/test_plain_table.py holds it to rich's own
Table on generated tables) in a few segments a line. Anything else, rich lays out.
"""

from __future__ import annotations

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment


def _plain(line: str) -> bool:
    """A line this module may draw: printable (a tab, which rich expands, an escape or any
    other control character, a separator other than the plain space: all left to rich) and
    without surrounding whitespace (right-justified lines lose the trailing)."""
    return line.isprintable() and line == line.strip()


def plain_widths(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    total: list[str],
    text_widths: list[int | None],
    console_width: int,
) -> list[int] | None:
    """Each column's width as rich's Table would make it, or None if rich would have to
    wrap, fold or squeeze something (then rich draws the table)."""
    from rich.cells import cell_len

    if not rows:
        return None
    widths = [fixed or 0 for fixed in text_widths]
    for row in (columns, *rows, total):
        for index, cell in enumerate(row):
            for line in cell.split("\n"):
                if not _plain(line):
                    return None
                width = cell_len(line) if not line.isascii() else len(line)
                if width > widths[index]:
                    if text_widths[index] is not None:
                        return None  # a text line wider than its column: rich wraps it
                    widths[index] = width
    widths = [width or 1 for width in widths]  # rich's width of an empty column
    span = sum(width + 3 for width in widths) + 1
    if span > console_width or cell_len(title) > span:
        return None
    # rich reads a title and headers as console markup (`[b]`, `:emoji:`): left to rich.
    if any("[" in text or ":" in text or "\n" in text for text in (title, *columns)):
        return None
    return widths


class PlainTable:
    """A titled table with a heavy header, body rows, a section line and a styled total,
    as `rich.table.Table(title=…, header_style=…)` draws it when nothing wraps."""

    def __init__(
        self,
        title: str,
        columns: list[str],
        right_aligned: list[bool],
        widths: list[int],
        rows: list[list[str]],
        total: list[str],
        *,
        header_style: str,
        total_style: str,
    ) -> None:
        self.title = title
        self.columns = columns
        self.right_aligned = right_aligned
        self.widths = widths
        self.rows = rows
        self.total = total
        self.header_style = header_style
        self.total_style = total_style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.box import HEAVY_HEAD
        from rich.cells import cell_len
        from rich.segment import Segment
        from rich.style import Style

        box = HEAVY_HEAD.substitute(options, safe=console.safe_box)
        widths = self.widths
        span = sum(width + 3 for width in widths) + 1
        padded = [width + 2 for width in widths]  # the box's lines span the padding too
        new_line = Segment.line()

        def fit(line: str, index: int) -> str:
            room = widths[index] - (len(line) if line.isascii() else cell_len(line))
            return " " * room + line if self.right_aligned[index] else line + " " * room

        def cell_lines(row: list[str]) -> list[list[str]]:
            """The row's text lines, column by column, each padded to its column."""
            split = [cell.split("\n") for cell in row]
            height = max(len(lines) for lines in split)
            return [
                [
                    " " + fit(lines[n], index) + " " if n < len(lines) else " " * (width + 2)
                    for n in range(height)
                ]
                for index, (lines, width) in enumerate(zip(split, widths, strict=True))
            ]

        def styled(row: list[str], style: Style, edges: tuple[str, str, str]) -> Iterator[Segment]:
            left, vertical, right = (Segment(edge) for edge in edges)
            columns = cell_lines(row)
            for n in range(len(columns[0])):
                yield left
                for index, column in enumerate(columns):
                    if index:
                        yield vertical
                    yield Segment(column[n], style)
                yield right
                yield new_line

        if self.title:  # rich draws no line for an empty title
            room = span - cell_len(self.title)
            title = " " * (room // 2) + self.title + " " * (room - room // 2)
            yield Segment(title, console.get_style("table.title"))
            yield new_line
        yield Segment(box.get_top(padded))
        yield new_line
        head = (box.head_left, box.head_vertical, box.head_right)
        yield from styled(self.columns, console.get_style(self.header_style), head)
        yield Segment(box.get_row(padded, "head"))
        yield new_line
        # The body is unstyled: one segment a line.
        left, vertical, right = box.mid_left, box.mid_vertical, box.mid_right
        for row in self.rows:
            for parts in zip(*cell_lines(row), strict=True):
                yield Segment(left + vertical.join(parts) + right)
                yield new_line
        yield Segment(box.get_row(padded, "row"))
        yield new_line
        foot = (box.foot_left, box.foot_vertical, box.foot_right)
        yield from styled(self.total, console.get_style(self.total_style), foot)
        yield Segment(box.get_bottom(padded))
        yield new_line
