"""Counts, short session ids and narrow tables (`shared.commands.render`): the cases the
existing tests left open (found by mutation testing)."""

from __future__ import annotations

import io

from rich.console import Console

from shared.commands.render import plural, print_table, short_ids
from tests.core.test_render_table import COLUMNS, ROWS, TOTAL


def test_a_count_of_none_is_plural() -> None:
    assert plural(0, "call") == "0 calls"
    assert plural(1, "call") == "1 call"
    assert plural(1_500, "file") == "1,500 files"


def test_an_id_that_is_the_start_of_another_is_shown_whole() -> None:
    """`0123456789` and `0123456789ab`: eight characters would read as one session."""
    assert short_ids(["0123456789ab", "0123456789"]) == {
        "0123456789": "0123456789",
        "0123456789ab": "0123456789a",
    }


def test_ids_are_told_apart_in_any_order_given() -> None:
    """The ids sharing a prefix are found beside each other once sorted, not as given."""
    prefixes = short_ids(["019c8a4c-e1", "7c23aa42-bb", "019c8a4c-f2"])
    assert prefixes == {
        "019c8a4c-e1": "019c8a4c-e",
        "019c8a4c-f2": "019c8a4c-f",
        "7c23aa42-bb": "7c23aa42",
    }


def test_with_only_the_names_and_the_cost_left_the_models_give_way_below_14() -> None:
    """At 40 columns the daily table keeps Date, Models and Cost: Models narrows to 10 so
    the table fits the terminal, instead of being drawn 44 wide."""
    out = io.StringIO()
    print_table("Usage", COLUMNS, ROWS, TOTAL, Console(file=out, width=40))
    lines = out.getvalue().splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert max(len(line) for line in table) == 40
    text = "\n".join(lines)
    for cell in ("2026-03-01", "$76.67", "$354.91"):
        assert cell in text, cell
