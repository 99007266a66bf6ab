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


def many_sessions(count: int) -> dict[str, Any]:
    return {
        "sessions": [
            {
                "session_id": f"session-{n:06d}",
                "cost_usd": n / 7,
                "files_touched": [f"/src/proj/module_{n}_{k}.py" for k in range(8)],
            }
            for n in range(count)
        ],
        "totals": {"cost_usd": 1.5},
    }


def test_a_long_report_prints_whole_and_holds_its_text_about_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With an indent, `json.dumps` gathered every token (a key, a comma, an indent) in one
    list before joining: `report sessions --json` on 5,000 sessions peaked at 310 MB RSS
    (210 MB now)."""
    import tracemalloc

    data = many_sessions(6_000)
    tracemalloc.start()
    try:
        print_json(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    printed = capsys.readouterr().out
    assert printed == orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    # The text once in pieces, and a little: the token list alone was ~10× the text.
    assert len(printed) > 2_000_000
    assert peak < 2.5 * len(printed), (peak, len(printed))


def test_a_value_only_orjson_writes_far_into_a_long_report_starts_it_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing is written before the whole value is encoded: the standard library meets the
    datetime after pieces of the sessions were already made, and none of them is printed."""
    data = {**many_sessions(2_000), "when": datetime(2026, 11, 23, 12, 0, tzinfo=UTC)}
    print_json(data)
    printed = capsys.readouterr().out
    assert printed == orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
