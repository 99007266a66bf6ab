"""`--json` output: the standard library writes it, laid out as orjson's indented form."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from shared.commands.render import print_json

REPORT_LIKE: dict[str, Any] = {
    "daily": [
        {
            "date": "2026-11-23",
            "input_tokens": 1234,
            "cost_usd": 0.1 + 0.2,
            "models": {"claude-opus-4-5": {"cost_usd": 12.5}, "gpt-5-codex": {}},
            "repo": "/home/dév/projet-é",
            "tags": [],
            "note": 'quote " backslash \\ tab \t newline \n control \x01',
        }
    ],
    "totals": {"input_tokens": 2**40, "cost_usd": 1234567.891, "empty": None, "ok": True},
}


def test_report_values_print_exactly_as_orjson_indents_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_json(REPORT_LIKE)
    printed = capsys.readouterr().out
    assert printed == orjson.dumps(REPORT_LIKE, option=orjson.OPT_INDENT_2).decode() + "\n"
    assert json.loads(printed) == REPORT_LIKE


@pytest.mark.parametrize(
    "odd",
    [datetime(2026, 11, 23, 12, 0, tzinfo=UTC), math.nan],
    ids=["datetime", "nan"],
)
def test_values_the_stdlib_cannot_write_strictly_go_through_orjson(
    odd: object, capsys: pytest.CaptureFixture[str]
) -> None:
    print_json({"value": odd})
    printed = capsys.readouterr().out
    assert printed == orjson.dumps({"value": odd}, option=orjson.OPT_INDENT_2).decode() + "\n"
    json.loads(printed)  # strict JSON: no NaN token


def test_tiny_costs_keep_their_value(capsys: pytest.CaptureFixture[str]) -> None:
    costs = {"cost_usd": 3.2e-05, "other": 1.5e-07}
    print_json(costs)
    assert json.loads(capsys.readouterr().out) == costs
