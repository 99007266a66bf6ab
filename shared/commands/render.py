"""Terminal tables (rich), CSV and JSON for reports."""

from __future__ import annotations

import io
import sys

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def print_json(data: Any) -> None:
    """Pretty JSON (two-space indent, UTF-8), laid out as `orjson.OPT_INDENT_2` writes it;
    only floats below 1e-4 or from 1e16 are spelled Python's way (`1e-05` for `0.00001`),
    the same value."""
    # The standard library's encoder: for the few hundred KB a report prints it takes less
    # time (6-12 ms) than importing orjson, which brings dataclasses, inspect and uuid
    # (15-25 ms). A value it cannot write as strict JSON (a datetime, a NaN) goes to orjson.
    import json

    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        import orjson

        text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    sys.stdout.write(text + "\n")


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, list | tuple):
                value = ";".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = ";".join(str(k) for k in value)
            elif isinstance(value, float):
                value = f"{value:.6f}"
            values.append("" if value is None else value)
        writer.writerow(values)
    sys.stdout.write(buffer.getvalue())


def tokens(value: int) -> str:
    return f"{value:,}"


def money(value: float, unpriced: int = 0) -> str:
    text = f"${value:,.2f}"
    return text + f" (+{unpriced} unpriced)" if unpriced else text


def short_model(model: str) -> str:
    """`claude-sonnet-4-20250514` → `sonnet-4`, as ccusage shows models."""
    name = model.removeprefix("claude-")
    parts = name.split("-")
    if parts and len(parts[-1]) == 8 and parts[-1].isdigit():
        parts = parts[:-1]
    return "-".join(parts)


def print_table(title: str, columns: list[str], rows: list[list[str]], total: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold cyan")
    for index, column in enumerate(columns):
        numeric = index >= 2
        table.add_column(
            column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold"
        )
    for row in rows:
        table.add_row(*row)
    if rows:
        table.add_section()
        table.add_row(*total, style="bold yellow")
    # Wide enough for the token columns when piped; a terminal keeps its own width.
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(table)
