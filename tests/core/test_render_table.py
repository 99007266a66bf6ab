"""Report tables in a narrow terminal: the cache columns go first (as in ccusage's compact
layout), names never shrink into 3-letter pieces, and no cell is cut off."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from shared.commands.render import fit_columns, print_table, table_width

COLUMNS = [
    "Date",
    "Models",
    "Input",
    "Output",
    "Cache Create",
    "Cache Read",
    "Total Tokens",
    "Cost (USD)",
]
ROWS = [
    [
        "2026-03-01",
        "opus-4-6\ngpt-5.1-codex-mini\nsonnet-4-5",
        "1,661,361",
        "1,405,215",
        "2,897,016",
        "68,149,936",
        "74,113,528",
        "$76.67",
    ]
]
TOTAL = [
    "Total",
    "",
    "7,399,594",
    "7,077,371",
    "15,937,166",
    "320,096,833",
    "350,510,964",
    "$354.91",
]


def _render(width: int) -> list[str]:
    out = io.StringIO()
    print_table("Usage", COLUMNS, ROWS, TOTAL, Console(file=out, width=width))
    return out.getvalue().splitlines()


@pytest.mark.parametrize(
    ("width", "hidden"),
    [(160, []), (110, ["Cache Create"]), (80, ["Cache Create", "Cache Read"])],
)
def test_cache_columns_are_dropped_only_when_they_do_not_fit(width: int, hidden: list[str]) -> None:
    columns, rows, total, dropped = fit_columns(COLUMNS, ROWS, TOTAL, width)
    assert dropped == hidden
    assert columns == [c for c in COLUMNS if c not in hidden]
    assert len(rows[0]) == len(total) == len(columns)
    assert "$354.91" in total and "350,510,964" in total
    if not hidden:
        assert table_width(COLUMNS, ROWS, TOTAL) <= width


@pytest.mark.parametrize("width", [80, 100, 110, 160])
def test_a_narrow_table_keeps_every_cell_whole(width: int) -> None:
    lines = _render(width)
    text = "\n".join(lines)
    assert all(len(line) <= width for line in lines)
    for cell in ("2026-03-01", "$76.67", "$354.91", "350,510,964", "74,113,528"):
        assert cell in text, (width, cell)
    hidden_note = [line for line in lines if "hidden to fit" in line]
    assert bool(hidden_note) == (width < table_width(COLUMNS, ROWS, TOTAL))


def test_model_names_stay_whole_when_the_cache_columns_make_room() -> None:
    text = "\n".join(_render(110))
    for name in ("opus-4-6", "gpt-5.1-codex-mini", "sonnet-4-5"):
        assert name in text
    assert "Cache Create hidden to fit 110 columns" in text.replace("\n", " ")
