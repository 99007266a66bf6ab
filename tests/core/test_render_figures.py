"""The shared formatting of figures: token counts with thousands separators, a model's
name losing only an 8-digit date suffix, and CSV costs with six decimals."""

from __future__ import annotations

import pytest

from shared.commands.render import print_csv, short_model, tokens


def test_token_counts_have_thousands_separators() -> None:
    """Token counts are written with commas, as every table and the summary show them."""
    assert tokens(1_234_567) == "1,234,567"
    assert tokens(999) == "999"


def test_short_model_drops_only_an_eight_digit_date() -> None:
    """`claude-sonnet-4-20250514` is `sonnet-4`; a longer run of digits at the end is part
    of the name, not a date, and stays."""
    assert short_model("claude-sonnet-4-20250514") == "sonnet-4"
    assert short_model("local-model-123456789") == "local-model-123456789"


def test_csv_costs_keep_six_decimals(capsys: pytest.CaptureFixture[str]) -> None:
    """A cost in CSV keeps six decimals (the precision of the JSON), not cents."""
    print_csv([{"model": "m", "cost_usd": 0.1234567}], ["model", "cost_usd"])
    assert capsys.readouterr().out == "model,cost_usd\nm,0.123457\n"
