"""Report tables drawn line by line must look exactly as rich's Table draws them: the same
character with the same style at every position, on terminals of any width and in ASCII."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style

from shared.commands.render import plain_table, print_table, rich_table, table_layout
from shared.commands.report_cmd import TOKEN_COLUMNS


def _console(width: int, *, ascii_only: bool = False) -> Console:
    return Console(
        width=width,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        # An ASCII terminal: rich swaps the box's lines for ASCII ones.
        **({"file": _AsciiFile()} if ascii_only else {}),
    )


class _AsciiFile:
    encoding = "ascii"

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def _styled_characters(console: Console, renderable: Any) -> list[tuple[str, Style]]:
    """Every character drawn, with the style it is drawn in (rich splits a line into
    segments differently, which changes nothing on screen)."""
    drawn = []
    for segment in console.render(renderable, console.options):
        style = segment.style or Style.null()
        drawn.extend((char, style) for char in segment.text)
    return drawn


def _screen(console: Console, renderable: Any) -> str:
    return "".join(char for char, _ in _styled_characters(console, renderable))


def _both(title: str, columns: list[str], rows: list[list[str]], total: list[str], width: int):
    layout = table_layout(title, columns, rows, total, width)
    return plain_table(layout, width), rich_table(layout)


SESSION_COLUMNS = ["Session", "Project / models / insights", *TOKEN_COLUMNS]
SESSION_ROWS = [
    [
        "8fdeaadc…\nclaude-code",
        "/home/dev/src/infra-terraform\nsonnet-4-5\nstandard · unknown",
        "103",
        "9,661",
        "44,187",
        "164,292",
        "218,243",
        "$0.36",
    ],
    [
        "629829c0…\ncodex",
        "/home/dev/src/日本語-app\ngpt-5-codex, gpt-5\nfrontier · no-changes",
        "1,105",
        "7,047",
        "0",
        "100,348",
        "108,500",
        "$0.42",
    ],
]
SESSION_TOTAL = ["Total", "", "1,208", "16,708", "44,187", "264,640", "326,743", "$0.78"]


def test_a_sessions_table_is_drawn_line_by_line_exactly_as_rich_draws_it() -> None:
    for width in (160, 130, 120):
        console = _console(width)
        plain, rich = _both("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, width)
        assert plain is not None, width
        assert _styled_characters(console, plain) == _styled_characters(console, rich)
    ascii_console = _console(160, ascii_only=True)
    plain, rich = _both("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, 160)
    drawn = _screen(ascii_console, plain)
    assert "━" not in drawn and "│" not in drawn and "+" in drawn
    assert _styled_characters(ascii_console, plain) == _styled_characters(ascii_console, rich)


def test_what_would_wrap_is_left_to_rich() -> None:
    # 60 columns: the project column must wrap, which only rich's Table does.
    plain, _ = _both("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, 60)
    assert plain is None
    for awkward in (
        "tab\there",
        " leading space",
        "trailing space ",
        "bell\x07",
        "next\x85line",
        "no-break\xa0space",
        "zero\u200bwidth",
        "line\u2028separator",
    ):
        rows = [[awkward, "sonnet-4", "1", "2", "3", "4", "10", "$0.01"]]
        plain, _ = _both("Usage", ["Date", "Models", *TOKEN_COLUMNS], rows, SESSION_TOTAL, 160)
        assert plain is None, awkward
    # rich reads a title or header as markup: `[b]` would vanish.
    rows = [["2026-11-01", "sonnet-4", "1", "2", "3", "4", "10", "$0.01"]]
    plain, _ = _both(
        "Usage [b]by[/b] day", ["Date", "Models", *TOKEN_COLUMNS], rows, SESSION_TOTAL, 160
    )
    assert plain is None


def test_print_table_draws_the_plain_table_when_it_fits(capsys: Any) -> None:
    console = Console(width=160, force_terminal=False, color_system=None)
    print_table("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, console)
    printed = capsys.readouterr().out
    layout = table_layout("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, 160)
    expected = _screen(console, rich_table(layout))
    assert printed == expected
    assert "/home/dev/src/日本語-app" in printed and "Usage by session" in printed
    # And on a narrow terminal, rich's wrapped table with the columns it has no room for
    # hidden, and the cost whole (rich used to crop it at the terminal's edge).
    narrow = Console(width=70, force_terminal=False, color_system=None)
    print_table("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, narrow)
    printed = capsys.readouterr().out
    assert "Cache Create, Cache Read and Input hidden to fit 70 columns" in printed
    assert max(len(line) for line in printed.splitlines()) <= 70
    assert "$0.36 │" in printed and "$0.78 │" in printed


TEXT = st.text(
    # Wide, combining and emoji characters among plain ones.
    alphabet=st.sampled_from(list("abcxyz019 -_/.·…,$日本é🙂\u0301")),
    min_size=0,
    max_size=14,
).map(str.strip)
CELL = st.lists(TEXT, min_size=1, max_size=3).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(CELL, CELL, TEXT, TEXT, TEXT).map(list), min_size=1, max_size=6),
    total=st.tuples(TEXT, TEXT, TEXT, TEXT, TEXT).map(list),
    title=TEXT,
    width=st.integers(min_value=20, max_value=120),
)
def test_any_table_that_fits_is_drawn_exactly_as_rich_draws_it(
    rows: list[list[str]], total: list[str], title: str, width: int
) -> None:
    columns = ["Date", "Models", "Input", "Output", "Cost (USD)"]
    console = _console(width)
    plain, rich = _both(title, columns, rows, total, width)
    assume(plain is not None)
    assert _styled_characters(console, plain) == _styled_characters(console, rich)
