"""Report tables drawn line by line must look exactly as rich's Table draws them: the same
character with the same style at every position, on terminals of any width and in ASCII,
and the same bytes with colour on or off, text that wraps included."""

from __future__ import annotations

import io
from typing import Any

import pytest
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


def test_what_only_rich_can_draw_is_left_to_rich() -> None:
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
    # A title wider than the table: rich wraps it.
    plain, _ = _both("A" * 200, ["Date", "Models", *TOKEN_COLUMNS], rows, SESSION_TOTAL, 160)
    assert plain is None


def test_print_table_draws_the_plain_table_when_it_fits(capsys: Any) -> None:
    console = Console(width=160, force_terminal=False, color_system=None)
    print_table("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, console)
    printed = capsys.readouterr().out
    layout = table_layout("Usage by session", SESSION_COLUMNS, SESSION_ROWS, SESSION_TOTAL, 160)
    expected = _screen(console, rich_table(layout))
    assert printed == expected
    assert "/home/dev/src/日本語-app" in printed and "Usage by session" in printed
    # And on a narrow terminal, the wrapped table with the columns it has no room for
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


# Tables whose text columns wrap: the sessions table's insight line (`frontier · unknown ·
# hint: haiku-5-5 saves $0.65`) on any terminal, its header at 40 columns, a path longer
# than its column (folded), wide and combining characters. rich's Table drew all of them
# (~160 µs a cell: 5.5 s for 3,300 sessions); the line-by-line drawing must give the same
# bytes, with colour and without.
WRAPPING_COLUMNS = ["Session\n(Etc/UTC)", "Project / models / insights", *TOKEN_COLUMNS, "Tools"]
WRAPPING_ROWS = [
    [
        "8fdeaadc…\nclaude-code\n2026-11-26 17:55",
        "/home/dev/src/infra-terraform (feature/very-long-branch-name-for-testing)\n"
        "sonnet-4-5, haiku-4-5, opus-4-6, gpt-5.1-codex-mini\n"
        "frontier · unknown · hint: haiku-5-5 saves $0.65 · loop ×2",
        "103",
        "9,661",
        "44,187",
        "164,292",
        "218,243",
        "$0.36",
        "12 calls\n1 failed\n5 files",
    ],
    [
        "629829c0…\ncodex\n2026-11-27 23:24",
        "/home/dev/src/日本語-アプリケーション-とても長い名前\ngpt-5-codex, gpt-5\n"
        "frontier · no-changes · cache-churn · context-bloat  (two spaces)",
        "1,105",
        "7,047",
        "0",
        "100,348",
        "108,500",
        "$0.42",
        "1 call\n0 failed\n0 files",
    ],
    [
        "a1b2c3d4…\nclaude-code\n2026-11-28 09:00",
        "-\n<synthetic>\n"
        "standard · committed · café\u0301 🙂 résumé-of-a-word-too-long-to-fit-anywhere\n"
        + ("wider than any terminal: " * 12).strip(),
        "1",
        "2",
        "3",
        "4",
        "10",
        "$0.01",
        "0 calls\n0 failed\n0 files",
    ],
]
WRAPPING_TOTAL = ["Total", "", "1,209", "16,710", "44,190", "264,644", "326,753", "$0.79", ""]
WIDTHS = (40, 80, 120, 160, 250)


def _printed(renderable: Any, width: int, colour: str) -> str:
    """What `console.print(renderable, crop=False)` writes, byte for byte: with colour
    (truecolor or 256-colour escapes), with styles only (bold, no colour), or plain text
    (piped: no escape at all)."""
    out = io.StringIO()
    options: dict[str, Any] = {
        "truecolor": {"force_terminal": True, "color_system": "truecolor"},
        "256": {"force_terminal": True, "color_system": "256"},
        "no-color": {"force_terminal": True, "color_system": "standard", "no_color": True},
        "piped": {"force_terminal": False, "color_system": None},
    }[colour]
    console = Console(file=out, width=width, legacy_windows=False, **options)
    console.print(renderable, crop=False)
    return out.getvalue()


def _rich_bytes(layout: Any, width: int, colour: str) -> str:
    """rich's Table as print_table drew it before: on a console as wide as the terminal,
    or as the table when it is wider (rich draws no wider than its console)."""
    table = rich_table(layout)
    needed = Console(width=10_000).measure(table).maximum
    return _printed(table, max(width, needed), colour)


def _assert_same_bytes(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    total: list[str],
    width: int,
    colour: str,
    text_columns: int = 2,
) -> None:
    layout = table_layout(title, columns, rows, total, width, text_columns)
    plain = plain_table(layout, None)
    assert plain is not None, (width, colour)
    expected = _rich_bytes(layout, width, colour)
    assert _printed(plain, max(width, plain.span), colour) == expected, (width, colour)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("colour", ["truecolor", "256", "no-color", "piped"])
def test_a_table_whose_text_wraps_is_drawn_byte_for_byte_as_rich_draws_it(
    width: int, colour: str
) -> None:
    layout = table_layout(
        "Usage by session", WRAPPING_COLUMNS, WRAPPING_ROWS, WRAPPING_TOTAL, width
    )
    # The text does wrap at every width (the insight line, a folded word), and the header
    # wraps at 40: this is the case rich's Table drew, line by line now.
    assert any(len(line) > layout[6][1] for row in WRAPPING_ROWS for line in row[1].split("\n")), (
        width
    )
    _assert_same_bytes(
        "Usage by session", WRAPPING_COLUMNS, WRAPPING_ROWS, WRAPPING_TOTAL, width, colour
    )
    # A wrapped total and a one-line header too.
    total = ["Total of everything shown here", *WRAPPING_TOTAL[1:]]
    columns = ["Session", *WRAPPING_COLUMNS[1:]]
    _assert_same_bytes("Usage by session", columns, WRAPPING_ROWS, total, width, colour)


def test_a_wrapping_table_in_ascii_is_drawn_as_rich_draws_it() -> None:
    for width in WIDTHS:
        layout = table_layout(
            "Usage by session", WRAPPING_COLUMNS, WRAPPING_ROWS, WRAPPING_TOTAL, width
        )
        plain = plain_table(layout, None)
        assert plain is not None
        console = _console(max(width, plain.span), ascii_only=True)
        drawn = _styled_characters(console, plain)
        assert "━" not in _screen(console, plain) and "+" in _screen(console, plain)
        assert drawn == _styled_characters(console, rich_table(layout))


def test_print_table_draws_a_wrapping_table_without_rich_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sessions table on this history wrapped its insight line, so the whole table went
    to rich's Table: ~5.5 s for 3,300 sessions. Now only what rich's Table alone can draw
    goes there."""
    layouts = {
        width: table_layout(
            "Usage by session", WRAPPING_COLUMNS, WRAPPING_ROWS, WRAPPING_TOTAL, width
        )
        for width in (*WIDTHS, 25)
    }
    expected = {width: _rich_bytes(layout, width, "truecolor") for width, layout in layouts.items()}

    def no_table(layout: Any) -> Any:
        raise AssertionError("drawn by rich's Table")

    monkeypatch.setattr("shared.commands.render.rich_table", no_table)
    for width, drawn in expected.items():
        out = io.StringIO()
        console = Console(
            file=out,
            width=width,
            force_terminal=True,
            color_system="truecolor",
            legacy_windows=False,
        )
        print_table("Usage by session", WRAPPING_COLUMNS, WRAPPING_ROWS, WRAPPING_TOTAL, console)
        printed = out.getvalue()
        assert printed.startswith(drawn), width
        hidden = printed[len(drawn) :]
        # The figure columns the terminal has no room for are named.
        assert (" hidden" in hidden) == bool(layouts[width][4]), (width, hidden)
        if width == 25:
            # Wider than the terminal even at its floor: drawn whole, said so.
            assert "hidden, and the" in hidden


WORD = st.text(
    alphabet=st.sampled_from(list("abcxyz019-_/.·…,:$[]日本é🙂\u0301")), min_size=1, max_size=30
)
WRAPPING_LINE = st.lists(WORD, min_size=1, max_size=8).flatmap(
    lambda words: st.lists(
        st.sampled_from([" ", " ", " ", "  "]), min_size=len(words) - 1, max_size=len(words) - 1
    ).map(lambda gaps: "".join(w + g for w, g in zip(words, [*gaps, ""], strict=True)))
)
WRAPPING_CELL = st.lists(st.one_of(TEXT, WRAPPING_LINE), min_size=1, max_size=3).map("\n".join)
HEADER = (
    st.text(alphabet=st.sampled_from(list("abcXYZ /()-·日")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(WRAPPING_CELL, WRAPPING_CELL, TEXT, TEXT, TEXT).map(list), min_size=1, max_size=5
    ),
    total=st.tuples(WRAPPING_CELL, TEXT, TEXT, TEXT, TEXT).map(list),
    headers=st.tuples(
        st.lists(HEADER, min_size=1, max_size=2).map("\n".join),
        st.lists(HEADER, min_size=1, max_size=2).map("\n".join),
    ),
    title=TEXT,
    width=st.sampled_from([*WIDTHS, 20, 33, 61, 97]),
    colour=st.sampled_from(["truecolor", "no-color", "piped"]),
    text_columns=st.sampled_from([1, 2]),
)
def test_any_wrapping_table_is_drawn_byte_for_byte_as_rich_draws_it(
    rows: list[list[str]],
    total: list[str],
    headers: tuple[str, str],
    title: str,
    width: int,
    colour: str,
    text_columns: int,
) -> None:
    columns = [*headers, "Input", "Output", "Cost (USD)"]
    if text_columns == 1:
        # The second column is then a figure column: figures do not wrap.
        rows = [[row[0], row[1].replace(" ", ""), *row[2:]] for row in rows]
        total = [total[0], total[1].replace(" ", ""), *total[2:]]
    layout = table_layout(title, columns, rows, total, width, text_columns)
    plain = plain_table(layout, None)
    assume(plain is not None)
    assert _printed(plain, max(width, plain.span), colour) == _rich_bytes(layout, width, colour)
