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
    [
        (160, []),
        (110, ["Cache Create"]),
        (83, ["Cache Create", "Cache Read"]),
        # Models would have to go below its 14 columns: Input goes instead.
        (80, ["Cache Create", "Cache Read", "Input"]),
    ],
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


# The shapes of the other report tables: one text column (repos, models, files) and the
# blocks table, whose extra figures sit right of the cost.
REPOS_COLUMNS = ["Repository", "Sessions", *COLUMNS[2:], "Commits", "Cost/commit"]
REPOS_ROWS = [
    [
        "/home/dev/src/payments-api",
        "12",
        "329,416",
        "241,280",
        "1,405,215",
        "7,170,887",
        "9,146,798",
        "$8.28",
        "4",
        "$2.07",
    ],
    ["(unknown)", "3", "1,000", "2,000", "0", "0", "3,000", "$0.01", "0", "-"],
]
REPOS_TOTAL = [
    "Total",
    "",
    "330,416",
    "243,280",
    "1,405,215",
    "7,170,887",
    "9,149,798",
    "$8.29",
    "",
    "",
]
BLOCK_COLUMNS = [
    "Block (Etc/UTC)",
    "Status / models",
    "Total Tokens",
    "Cost (USD)",
    "Tokens/min",
    "Projected",
]
BLOCK_ROWS = [
    [
        "2026-11-25 17:00 – 22:00",
        "ACTIVE\nopus-4-5, <synthetic>",
        "1,143,133",
        "$1.93",
        "12,345",
        "$4.50",
    ],
    ["2026-11-25 22:30 – 2026-11-26 20:23", "gap", "0", "$0.00", "", ""],
]
BLOCK_TOTAL = ["Total", "", "1,143,133", "$1.93", "", ""]
TABLES = {
    "daily": (COLUMNS, ROWS, TOTAL, 2),
    "repos": (REPOS_COLUMNS, REPOS_ROWS, REPOS_TOTAL, 1),
    "blocks": (BLOCK_COLUMNS, BLOCK_ROWS, BLOCK_TOTAL, 2),
}


@pytest.mark.parametrize("shape", sorted(TABLES))
@pytest.mark.parametrize("width", [18, 24, 30, 36, 40, 50, 60, 70, 80, 90, 100, 120, 160])
def test_no_figure_is_ever_cut_off_at_the_terminal_edge(shape: str, width: int) -> None:
    """Every figure the table shows is printed whole, the cost is always shown, and every
    column that is not is named under the table (rich used to crop the right-most columns
    and cut numbers at a narrow terminal's edge: `1,692,` for 1,692,312)."""
    columns, rows, total, text_columns = TABLES[shape]
    out = io.StringIO()
    print_table("Usage", columns, rows, total, Console(file=out, width=width), text_columns)
    lines = out.getvalue().splitlines()
    # Below the width of the names and the cost at their narrowest, the table is drawn as
    # wide as it needs (the terminal wraps it) instead of cutting the cost short.
    narrowest = io.StringIO()
    print_table("Usage", columns, rows, total, Console(file=narrowest, width=1), text_columns)
    floor = max(len(line) for line in narrowest.getvalue().splitlines() if line[:1] == "┏")
    assert max(len(line) for line in lines if line[:1] in "┏┃┡│├└") <= max(width, floor)
    assert floor <= 45
    bottom = max(at for at, line in enumerate(lines) if line.startswith("└"))
    note = " ".join(" ".join(lines[bottom + 1 :]).split())
    hidden_part = note.partition(" hidden")[0] if " hidden" in note else ""
    if hidden_part:
        # The note names the terminal's width, also when even the columns left need more
        # (it used to name the width the table was drawn at: "hidden to fit 38 columns").
        drawn = max(len(line) for line in lines if line[:1] == "┏")
        if drawn > width:
            assert f"hidden, and the rest still needs {drawn} of {width} columns" in note
        else:
            assert f"hidden to fit {width} columns" in note
    for index, column in enumerate(columns):
        if column in hidden_part.replace(" and ", ", ").split(", "):
            assert index >= text_columns and column != "Cost (USD)", column
            continue
        if index < text_columns:
            continue
        for cells in (*rows, total):
            if cells[index]:
                assert any(f" {cells[index]} │" in line for line in lines), (column, cells[index])
    assert bool(hidden_part) == (width < table_width(columns, rows, total, text_columns))


SESSION_COLUMNS = ["Session\n(Etc/UTC)", "Project / models / insights", *COLUMNS[2:], "Tools"]
SESSION_ROWS = [
    [
        f"{sid}…\n{agent}\n2026-11-25 07:06",
        f"/home/demo/src/web-dashboard (main)\n{model}\nstandard · unknown",
        "131,399",
        "29,788",
        "45,001",
        "1,580,343",
        "1,786,531",
        "$0.93",
        "41 · 2 failed · 7 files",
    ]
    for sid, agent, model in (
        ("ff18fe33", "codex", "gpt-5.2-codex"),
        ("7c23aa42", "claude-code", "<synthetic>, sonnet-4-5"),
    )
]
SESSION_TOTAL = ["Total", "", "262,798", "59,576", "90,002", "3,160,686", "3,573,062", "$1.86", ""]


def test_an_80_column_sessions_table_drops_a_figure_before_cutting_words() -> None:
    """At 80 columns the project column was squeezed to 9 (`/home/dem│o/src/web│-dashboar│d
    (main)`, `sonnet-4-│5`), 8 lines a session, while Input and Output stayed."""
    out = io.StringIO()
    print_table("Usage", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, Console(file=out, width=80))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    top = next(line for line in lines if line.startswith("┏"))
    project_width = len(top.split("┳")[1]) - 2
    assert project_width >= 14, top
    text = "\n".join(lines)
    for word in ("gpt-5.2-codex", "sonnet-4-5", "standard", "(main)", "2026-11-25 07:06"):
        assert word in text, word
    note = " ".join(text.rpartition("┘")[2].split())
    assert note.startswith("Tools, Cache Create, Cache Read and Input hidden to fit 80 columns")
