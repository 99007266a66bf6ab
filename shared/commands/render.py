"""Terminal tables (rich), CSV and JSON for reports."""

from __future__ import annotations

import io
import sys

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    # title, columns, rows, total, hidden columns, right-aligned, text columns' widths
    TableLayout = tuple[
        str, list[str], list[list[str]], list[str], list[str], list[bool], list[int | None]
    ]


def print_json(data: Any) -> None:
    """Pretty JSON (two-space indent, UTF-8), laid out as `orjson.OPT_INDENT_2` writes it;
    only floats below 1e-4 or from 1e16 are spelled Python's way (`1e-05` for `0.00001`),
    the same value."""
    # The standard library's encoder: for the few hundred KB a report prints it takes less
    # time (6-12 ms) than importing orjson, which brings dataclasses, inspect and uuid
    # (15-25 ms). A value it cannot write as strict JSON (a datetime, a NaN) goes to orjson.
    import json

    # On a stream that is not UTF-8 (a Windows pipe in cp1252) a path's `語` came out as
    # `?`: there the text is pure ASCII, with `\uXXXX` escapes, the same JSON.
    ascii_only = not _utf8(sys.stdout)
    try:
        pieces = _encoded_pieces(data, ascii_only)
    except (TypeError, ValueError):
        import orjson

        text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
        if ascii_only:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=True)
        pieces = [text]
    for piece in pieces:
        sys.stdout.write(piece)
    sys.stdout.write("\n")


PIECE_CHARACTERS = 1 << 16


def _encoded_pieces(data: Any, ascii_only: bool) -> list[str]:
    """`json.dumps(data, indent=2)` in pieces of ~64 K characters. With an indent, dumps
    gathers every token it writes (a key, a comma, an indent) in one list before joining
    them: ~300 MB for the 50 MB of `report sessions --json` on 5,000 sessions. Pieces
    joined as the encoder goes hold the text once. Nothing is written before the whole
    value is encoded, so a value only orjson can write still starts from the beginning."""
    import json

    encoder = json.JSONEncoder(indent=2, ensure_ascii=ascii_only, allow_nan=False)
    pieces: list[str] = []
    tokens: list[str] = []
    characters = 0
    for token in encoder.iterencode(data):
        tokens.append(token)
        characters += len(token)
        if characters >= PIECE_CHARACTERS:
            pieces.append("".join(tokens))
            tokens.clear()
            characters = 0
    pieces.append("".join(tokens))
    return pieces


def _utf8(stream: Any) -> bool:
    return (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    # On a terminal the cells are shown as the tables show them: a cwd or model name from
    # the logs holding ESC ]0;… (an OSC sequence), a carriage return or a bidi override
    # retitled the window or rewrote the row on screen. Piped or redirected, they are written
    # as logged (quoted where CSV needs it), for whatever reads the file.
    on_terminal = _is_terminal(sys.stdout)
    # The csv module quotes a cell holding the line terminator ("\n") but not one holding a
    # lone "\r", which readers take for a line's end: such a row is written all quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        values = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, bool):
                value = "true" if value else "false"  # as in the JSON, not Python's True
            elif isinstance(value, list | tuple):
                value = ";".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = ";".join(str(k) for k in value)
            elif isinstance(value, float):
                value = f"{value:.6f}"
            if value is None:
                value = ""
            elif on_terminal and isinstance(value, str):
                value = visible(value)
            values.append(value)
        if any(isinstance(value, str) and "\r" in value for value in values):
            quoted.writerow(values)
        else:
            writer.writerow(values)
    if _utf8(sys.stdout):
        sys.stdout.write(buffer.getvalue())
    else:
        # CSV has no escapes: on a stream that is not UTF-8 the bytes go out as UTF-8
        # rather than with `?` for what the stream's encoding lacks.
        write_utf8(buffer.getvalue())


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no such method, or a closed stream
        return False


def write_utf8(text: str, errors: str = "strict") -> None:
    """`text` on stdout as UTF-8 bytes, whatever the stream's encoding: through its binary
    buffer, after what was printed before; as text where the stream has no buffer."""
    out = sys.stdout
    binary = getattr(out, "buffer", None)
    if binary is None:
        if out is not None:
            out.write(text)
        return
    out.flush()
    binary.write(text.encode("utf-8", errors))
    binary.flush()


# Bidi overrides and marks: a right-to-left override reverses the rest of a line on screen.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"


def _escaped(text: str, controls: str) -> str:
    """`text` with the `controls` (a character-class range) and bidi characters written as
    escapes (`\\x1b`, `\\u202e`)."""
    import re

    return re.sub(
        f"[{controls}\x7f-\x9f{_BIDI}]",
        lambda found: found.group().encode("unicode_escape").decode("ascii"),
        text,
    )


def visible(text: str) -> str:
    """`text` with control and bidi-override characters written as escapes (`\\n`,
    `\\u202e`): a path or model name holding a newline split a table's row, and a
    right-to-left override reversed the rest of the row on screen, its cost included."""
    if text.isprintable():
        return text  # the usual case, decided in C
    return _escaped(text, "\x00-\x1f")


def terminal_safe(document: str) -> str:
    """A whole document (lines of text) for a terminal: its control and bidi-override
    characters written as escapes as `visible` writes them, but for its line ends and
    tabs. A name from the logs holding ESC ]0;… would otherwise retitle the window."""
    if all(line.isprintable() for line in document.replace("\t", " ").split("\n")):
        return document
    return _escaped(document, "\x00-\x08\x0b-\x1f")


def nearest_minute(ms: int) -> int:
    """`ms` (below zero: none) in whole minutes, to the nearest: how `burnmeter budgets`
    and the tray's countdowns say a time left (rounded down, 1 h 59 min 40 s read
    "1 h 59 min" beside "120 min left")."""
    return (max(0, ms) + 30_000) // 60_000


def plural(count: int, noun: str) -> str:
    """`1 call`, `2 calls`: a count and its noun."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def short_ids(ids: Iterable[str], least: int = 8) -> dict[str, str]:
    """Each id's shortest prefix of at least `least` characters that no other id shares.
    Codex ids are UUIDv7, whose first 8 hex digits are the start time in 65-second steps:
    a session and the subagents it spawned shared them, and read as one in a table."""
    ordered = sorted(set(ids))
    prefixes: dict[str, str] = {}
    for at, session_id in enumerate(ordered):
        # In sorted order the ids sharing the longest prefix with this one are beside it.
        neighbours = [ordered[i] for i in (at - 1, at + 1) if 0 <= i < len(ordered)]
        shared = max((_shared_length(session_id, n) for n in neighbours), default=0)
        prefixes[session_id] = session_id[: max(least, shared + 1)]
    return prefixes


def _shared_length(first: str, second: str) -> int:
    for at, (mine, theirs) in enumerate(zip(first, second, strict=False)):
        if mine != theirs:
            return at
    return min(len(first), len(second))


def tokens(value: int) -> str:
    return f"{value:,}"


def money(value: float, unpriced: int = 0) -> str:
    """Dollars as every report, table, notice and menu shows them: rounded to 6 decimals
    first, as shared.reports rounds every cost, so a sum a float's hair off a half cent
    rounds as the report's value does (0.03 + 0.045 is the report's 0.075: $0.07, where a
    plain `:,.2f` said $0.08). Cents are kept from $1,000 on ($1,234.50); calls of a model
    with no price are said beside the sum (`$3.31 (+2 unpriced)`), never as $0."""
    text = f"${round(value, 6):,.2f}"
    return text + f" (+{unpriced} unpriced)" if unpriced else text


def short_model(model: str) -> str:
    """`claude-sonnet-4-20250514` → `sonnet-4`, as ccusage shows models."""
    name = visible(model).removeprefix("claude-")
    parts = name.split("-")
    if parts and len(parts[-1]) == 8 and parts[-1].isdigit():
        parts = parts[:-1]
    return "-".join(parts)


# Dropped, in this order, when a terminal is too narrow for every column: the cache columns
# first (ccusage's compact layout drops the same two); then, once the names have given up
# what they can, Input and Output (Total Tokens still counts them), then the right-most
# columns, never the first ones nor the cost. --json and --csv always carry every column.
OPTIONAL_COLUMNS = ("Tools", "Cache Create", "Cache Read")
SECOND_COLUMNS = ("Input", "Output")
KEPT_COLUMN = "Cost (USD)"
# The text columns (dates, models, paths) keep at least this width (or their longest line,
# if less): squeezed further, rich wraps a date or a model name into 3-letter pieces.
TEXT_MIN_WIDTH = 14
# A narrow terminal drops figure columns before the text columns give up any of that width:
# a model name, a date, a tier word stays whole, and a path wraps in pieces of a readable
# length (squeezed to 8 while Input stayed, an 80-column sessions table cut
# `/home/dem│o/src/web│-dashboar│d (main)` and took 9 lines a session). Only once no
# column is left to drop does the last text column give way, down to this.
TEXT_FLOOR_WIDTH = 8
HEADER_STYLE = "bold cyan"
TOTAL_STYLE = "bold yellow"


def _text_width(cells: list[str]) -> int:
    """Terminal cells the longest line takes (a CJK character or an emoji takes two)."""
    from rich.cells import cell_len

    return max(
        (
            len(line) if line.isascii() else cell_len(line)
            for cell in cells
            for line in cell.split("\n")
        ),
        default=0,
    )


def _widths(
    columns: list[str], rows: list[list[str]], total: list[str], text_columns: int
) -> list[int]:
    widths = []
    for index, column in enumerate(columns):
        width = _text_width([column, total[index], *(row[index] for row in rows)])
        widths.append(min(width, TEXT_MIN_WIDTH) if index < text_columns else width)
    return widths


def _span(widths: list[int]) -> int:
    # Each column: its text, one space of padding on either side and a border; one more
    # border closes the row.
    return sum(width + 3 for width in widths) + 1


def _squeezed(widths: list[int], text_columns: int, width: int) -> list[int]:
    """The widths with the last text column (models, projects, paths) giving up what the
    table lacks, down to a floor: its names then wrap instead of the table being cut."""
    widths = list(widths)
    excess = _span(widths) - width
    if excess > 0 and text_columns > 0:
        at = text_columns - 1
        widths[at] = max(min(TEXT_FLOOR_WIDTH, widths[at]), widths[at] - excess)
    return widths


def table_width(
    columns: list[str], rows: list[list[str]], total: list[str], text_columns: int = 2
) -> int:
    """Terminal columns the table needs with every name on one line."""
    return _span(_widths(columns, rows, total, text_columns))


def _next_to_drop(columns: list[str], text_columns: int) -> str | None:
    for name in SECOND_COLUMNS:
        if name in columns:
            return name
    for name in reversed(columns[text_columns:]):
        if name != KEPT_COLUMN:
            return name
    return None


def fit_columns(
    columns: list[str],
    rows: list[list[str]],
    total: list[str],
    width: int,
    text_columns: int = 2,
) -> tuple[list[str], list[list[str]], list[str], list[str]]:
    """The columns, rows and total without the columns a `width`-wide terminal has no room
    for, and the names of those dropped (in the order they went)."""
    hidden: list[str] = []

    def drop(name: str) -> None:
        nonlocal columns, rows, total
        at = columns.index(name)
        columns = columns[:at] + columns[at + 1 :]
        rows = [row[:at] + row[at + 1 :] for row in rows]
        total = total[:at] + total[at + 1 :]
        hidden.append(name)

    for name in OPTIONAL_COLUMNS:
        if table_width(columns, rows, total, text_columns) <= width:
            break
        if name in columns:
            drop(name)

    # The text columns are not squeezed while a figure column can go instead.
    while table_width(columns, rows, total, text_columns) > width:
        next_name = _next_to_drop(columns, text_columns)
        if next_name is None:
            break  # only the names and the cost are left: rich wraps the names further
        drop(next_name)
    return columns, rows, total, hidden


def table_layout(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    total: list[str],
    width: int,
    text_columns: int = 2,
) -> TableLayout:
    """What a report table shows on a `width`-wide console; the first `text_columns` are
    left-aligned text that may wrap, the others right-aligned figures that never do."""
    columns, rows, total, hidden = fit_columns(columns, rows, total, width, text_columns)
    # Squeezed only when nothing is left to drop (fit_columns kept the names and the cost).
    widths = _squeezed(_widths(columns, rows, total, text_columns), text_columns, width)
    # The room left goes to the text columns, first to last, up to their longest line; they
    # get exactly that width, so rich never has to squeeze (and then crop) a figure.
    room = width - _span(widths)
    for at in range(text_columns):
        longest = _text_width([columns[at], total[at], *(row[at] for row in rows)])
        grow = max(0, min(room, longest - widths[at]))
        widths[at] += grow
        room -= grow
    right_aligned = [index >= text_columns for index in range(len(columns))]
    text_widths: list[int | None] = [
        None if right else width for right, width in zip(right_aligned, widths, strict=True)
    ]
    return title, columns, rows, total, hidden, right_aligned, text_widths


def plain_table(layout: TableLayout, width: int | None) -> Any:
    """The table drawn line by line (shared.commands.plain_table), or None if only rich's
    Table can draw it (on a `width`-wide console; None: at the width the table takes)."""
    from shared.commands.plain_table import PlainTable, plain_widths

    title, columns, rows, total, _, right_aligned, text_widths = layout
    widths = plain_widths(title, columns, rows, total, text_widths, width)
    if widths is None:
        return None
    return PlainTable(
        title,
        columns,
        right_aligned,
        widths,
        rows,
        total,
        header_style=HEADER_STYLE,
        total_style=TOTAL_STYLE,
    )


def rich_table(layout: TableLayout) -> Any:
    from rich.table import Table
    from rich.text import Text

    title, columns, rows, total, _, right_aligned, text_widths = layout
    table = Table(title=title, show_lines=False, header_style=HEADER_STYLE)
    for column, numeric, text_width in zip(columns, right_aligned, text_widths, strict=True):
        table.add_column(
            column,
            justify="right" if numeric else "left",
            no_wrap=numeric,
            overflow="fold",
            width=text_width,
        )
    # Cells as plain Text: a path like `app/[slug]` is not console markup (rich would drop
    # `[slug]`, or stop at a stray closing tag), and `:name:` is not an emoji code.
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    if rows:
        table.add_section()
        table.add_row(*(Text(cell) for cell in total), style=TOTAL_STYLE)
    return table


def make_console(**options: Any) -> Any:
    """A rich Console whose output stopping (`| head`) raises BrokenPipeError to the command
    line, which ends with 0 like every other output; rich's own handler exits with 1."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(**options)


def print_table(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    total: list[str],
    console: Any = None,
    text_columns: int = 2,
) -> None:
    if console is None:
        # Wide enough for the token columns when piped; a terminal keeps its own width
        # (COLUMNS=0 or a nonsense width reads as 80).
        console = make_console()
        if not console.is_terminal:
            console = make_console(width=160)
        elif console.width < 1:
            console = make_console(width=80)
    terminal_width = console.width
    layout = table_layout(title, columns, rows, total, console.width, text_columns)
    # Drawn line by line as rich's Table draws it (a text line wider than its column
    # wrapped by rich's own Text.wrap), in a fraction of the time: 3,300 sessions took
    # 5.5 s in the Table, 0.3 s so.
    table = plain_table(layout, None)
    if table is not None:
        if table.span > console.width:
            # Narrower than even the first column and the cost at their floor (a terminal
            # of 25 columns): drawn at the width they need and left to the terminal to
            # wrap, as rich's table below.
            console = _widened(console, table.span)
        console.print(table, crop=False)
    else:
        # What only rich's Table draws (a tab or control character, markup in a header).
        # Wider than the terminal, it too is drawn whole, rather than rich cutting the
        # cost short (`$31.5` for $31.57).
        _, shown, shown_rows, shown_total, _, _, _ = layout
        needed = _span(
            _squeezed(_widths(shown, shown_rows, shown_total, text_columns), text_columns, 0)
        )
        if needed > console.width:
            console = _widened(console, needed)
        console.print(rich_table(layout), crop=False)
    _say_hidden(console, layout[4], terminal_width)


def _widened(console: Any, width: int) -> Any:
    """rich never draws wider than its console: one as wide as the table, same file."""
    return make_console(
        file=console.file,
        width=width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,
        no_color=console.no_color,
    )


def _say_hidden(console: Any, hidden: list[str], terminal_width: int) -> None:
    """Names the columns left out; when even the rest is wider than the terminal (the
    console was widened to draw it whole), says that rather than a width it does not have."""
    if hidden:
        names = ", ".join(hidden[:-1]) + " and " + hidden[-1] if len(hidden) > 1 else hidden[0]
        fit = (
            f"hidden to fit {terminal_width} columns"
            if console.width <= terminal_width
            else f"hidden, and the rest still needs {console.width} of {terminal_width} columns"
        )
        console.print(
            f"{names} {fit}: widen the terminal, or use --json or --csv for every column.",
            style="dim",
            highlight=False,
        )
