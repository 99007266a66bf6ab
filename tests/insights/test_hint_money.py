"""A tier hint's amounts as the language server shows money: under a cent is "<$0.01",
never "$0.00" (a counterfactual of $0.0027 read "would cost $0.00")."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Settings
from tests.insights.test_flags_and_hints import _insights, _reader_session

# claude-haiku-5-5, the economy reference model, priced at almost nothing: ten of the reader
# session's calls (1,000 in, 2,000 out, 100,000 read, 10,000 written) cost $0.0023 there.
CHEAP_HAIKU = Settings.model_validate(
    {
        "prices": {
            "claude-haiku-5-5": {
                "input_mtok": 0.01,
                "output_mtok": 0.01,
                "cache_read_mtok": 0.001,
                "cache_write_mtok": 0.01,
                "cache_write_1h_mtok": 0.01,
            }
        }
    }
)


def test_a_sub_cent_counterfactual_reads_under_a_cent(tmp_path: Path) -> None:
    _reader_session(tmp_path, "claude-opus-4-5-20251101", calls=10)
    hint = _insights(tmp_path, CHEAP_HAIKU)["sess-hint"].hint
    assert hint is not None
    assert hint.counterfactual_cost_usd == pytest.approx(0.0023)
    assert "on claude-haiku-5-5 would cost <$0.01 instead of $1.67" in hint.reason
    assert "$0.00" not in hint.reason


def test_hint_money_keeps_cents_from_a_cent_on() -> None:
    from shared.insights.sessions import _money

    assert [_money(v) for v in (0.0027, 0.0099999, 0.01, 0.004999, 0.0, 1234.5)] == [
        "<$0.01",
        "<$0.01",
        "$0.01",
        "<$0.01",
        "$0.00",
        "$1,234.50",
    ]
    from lsp_server.format import money

    assert _money(0.0027) == money(0.0027) == "<$0.01"
