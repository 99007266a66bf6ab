"""5-hour block edges: calls of a model with no price are counted as such, and the active
block includes a call logged at the very moment it is asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.ingest import ingest
from shared.insights.blocks import HOUR_MS, blocks_from_rows, current_block
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import ClaudeSession

MINUTE = 60_000
BASE = 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS


def test_unpriced_calls_are_counted_and_kept_out_of_the_cost() -> None:
    """A call with no price (cost None) is one of the block's calls and tokens, counted
    in `unpriced_calls`, and adds nothing to its cost."""
    rows = [
        (BASE, "claude-sonnet-4-5", 10, 10, 0, 0, 0.25),
        (BASE + 10 * MINUTE, "some-new-model", 10, 10, 0, 0, None),
        (BASE + 20 * MINUTE, "some-new-model", 10, 10, 0, 0, None),
    ]
    (block,) = blocks_from_rows(rows, now_ms=BASE + 30 * MINUTE)
    assert block.calls == 3
    assert block.unpriced_calls == 2
    assert block.as_json()["unpriced_calls"] == 2
    assert block.cost_usd == pytest.approx(0.25)
    assert block.total_tokens == 60


def test_the_active_block_includes_a_call_at_the_moment_asked(tmp_path: Path) -> None:
    """`current_block(now_ms=T)` counts a call logged at exactly T."""
    session = ClaudeSession(tmp_path / ".claude", "sess-now", "/home/dev/app")
    session.assistant(BASE, model="claude-sonnet-4-5")
    session.assistant(BASE + 60 * MINUTE, model="claude-sonnet-4-5")
    session.write()
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, tmp_path / ".claude" / "projects")])
    block = current_block(ledger, now_ms=BASE + 60 * MINUTE)
    assert block is not None
    assert block.calls == 2
    assert block.last_ms == BASE + 60 * MINUTE
