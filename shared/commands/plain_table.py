"""Report tables drawn line by line, in rich's Table look, with no Table layout.

rich lays out every cell of a Table as a renderable of its own (measure, wrap, justify,
pad): about 160 µs a cell, so `report sessions` over 3,300 sessions spent ~5.5 s of its
9.5 drawing the table. The report's layout is simple enough to draw directly: the text
columns have a fixed width (shared.commands.render.table_layout) and the figure columns
the width of their longest line, so rich never has to shrink a column. A text line wider
than its column is wrapped by rich's own `Text.wrap` (what the Table does to a cell, at a
fraction of the cost); the rest is padding and box characters. This draws the same
characters in the same segments with the same styles, so the same bytes with colour on or
off (tests/core/test_plain_table.py holds it to rich's own Table on generated tables).
What it cannot match (a tab or control character, markup in a title or header, a title
wider than the table) is left to rich.
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
    without surrounding whitespace (right-justified lines lose the trailing, and a wrapped
    line's leading spaces are rich's business)."""
    return line.isprintable() and line == line.strip()


def plain_widths(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    total: list[str],
    text_widths: list[int | None],
    console_width: int | None,
) -> list[int] | None:
    """Each column's width as rich's Table makes it: a text column's fixed width (its
    longer lines wrap), a figure column's longest line. None if rich must draw the table:
    something in it is not plain text, or it is wider than `console_width` (None: any
    width), where rich would squeeze the figure columns."""
    from rich.cells import cell_len

    if not rows or any(fixed is not None and fixed < 1 for fixed in text_widths):
        return None
    widths = [fixed or 0 for fixed in text_widths]
    for row in (columns, *rows, total):
        for index, cell in enumerate(row):
            figure = text_widths[index] is None
            for line in cell.split("\n"):
                if not _plain(line):
                    return None
                if figure:
                    width = len(line) if line.isascii() else cell_len(line)
                    if width > widths[index]:
                        widths[index] = width
    widths = [width or 1 for width in widths]  # rich's width of an empty column
    span = sum(width + 3 for width in widths) + 1
    if console_width is not None and span > console_width:
        return None
    if cell_len(title) > span:
        return None  # rich wraps the title
    # rich reads a title and headers as console markup (`[b]`, `:emoji:`): left to rich.
    if any("[" in text or ":" in text for text in (title, *columns)) or "\n" in title:
        return None
    return widths


class PlainTable:
    """A titled table with a heavy header, body rows, a section line and a styled total,
    as `rich.table.Table(title=…, header_style=…)` draws it with `width=` set on the
    left-aligned text columns and `no_wrap=True` on the right-aligned figure columns."""

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

    @property
    def span(self) -> int:
        """Terminal columns the table takes."""
        return sum(width + 3 for width in self.widths) + 1

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.box import HEAVY_HEAD
        from rich.cells import cell_len
        from rich.segment import Segment
        from rich.style import Style
        from rich.text import Text

        box = HEAVY_HEAD.substitute(options, safe=console.safe_box)
        widths = self.widths
        right_aligned = self.right_aligned
        span = self.span
        padded = [width + 2 for width in widths]  # the box's lines span the padding too
        new_line = Segment.line()

        def cell_lines(cell: str, index: int) -> list[str]:
            """The cell's lines as rich draws them in its column: each padded to the
            column's width, a text line wider than a text column wrapped as rich's Table
            wraps it (word by word, a word longer than the column folded)."""
            width = widths[index]
            lines = []
            for line in cell.split("\n"):
                room = width - (len(line) if line.isascii() else cell_len(line))
                if room >= 0:
                    lines.append(" " * room + line if right_aligned[index] else line + " " * room)
                else:
                    # Only a text column's line can be wider (plain_widths): left-justified
                    # and padded to the width by Text.wrap itself.
                    wrapped = Text(line).wrap(console, width, justify="left", overflow="fold")
                    lines.extend(piece.plain for piece in wrapped)
            return lines

        def styled(
            row: list[str], style: Style, edges: tuple[str, str, str], bottom: bool
        ) -> Iterator[Segment]:
            """A styled row (the header, aligned to its bottom line as rich aligns headers;
            the total, to its top) in rich's segments: a line of text and its padding, or
            one blank segment where a cell has no line, each in the row's style."""
            left, vertical, right = (Segment(edge) for edge in edges)
            columns = [cell_lines(cell, index) for index, cell in enumerate(row)]
            height = max(len(lines) for lines in columns)
            blanks = [Segment(" " * width, style) for width in padded]
            pad = Segment(" ", style)
            for n in range(height):
                yield left
                for index, lines in enumerate(columns):
                    if index:
                        yield vertical
                    at = n - (height - len(lines)) if bottom else n
                    if 0 <= at < len(lines):
                        yield pad
                        yield Segment(lines[at], style)
                        yield pad
                    else:
                        yield blanks[index]
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
        yield from styled(self.columns, console.get_style(self.header_style), head, True)
        yield Segment(box.get_row(padded, "head"))
        yield new_line
        # The body is unstyled: one segment a line.
        left, vertical, right = box.mid_left, box.mid_vertical, box.mid_right
        blank = [" " * width for width in padded]
        for row in self.rows:
            columns = [cell_lines(cell, index) for index, cell in enumerate(row)]
            height = max(len(lines) for lines in columns)
            for n in range(height):
                yield Segment(
                    left
                    + vertical.join(
                        " " + lines[n] + " " if n < len(lines) else blank[index]
                        for index, lines in enumerate(columns)
                    )
                    + right
                )
                yield new_line
        yield Segment(box.get_row(padded, "row"))
        yield new_line
        foot = (box.foot_left, box.foot_vertical, box.foot_right)
        yield from styled(self.total, console.get_style(self.total_style), foot, False)
        yield Segment(box.get_bottom(padded))
        yield new_line
