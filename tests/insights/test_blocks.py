"""5-hour blocks: cross-checked against ccusage on a generated history, plus the rules'
edges on both sides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.ingest import ingest
from shared.insights.blocks import HOUR_MS, Block, blocks_from_rows, compute_blocks, current_block
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.insights.blocks_history import write_history

FIXTURE = Path(__file__).parent / "fixtures" / "ccusage_blocks.json"
MINUTE = 60_000


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_blocks_match_ccusage(tmp_path: Path) -> None:
    recorded = json.loads(FIXTURE.read_text())
    claude_dir = tmp_path / ".claude"
    assert write_history(claude_dir, recorded["anchor_ms"]) == recorded["calls"]
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, claude_dir / "projects")])
    ours = compute_blocks(ledger, now_ms=recorded["ccusage_ran_until_ms"])
    theirs = recorded["ccusage"]["blocks"]
    assert len(ours) == len(theirs)
    for mine, cc in zip(ours, theirs, strict=True):
        row = mine.as_json()
        assert row["start"] == cc["startTime"]
        assert row["end"] == cc["endTime"]
        assert row["is_gap"] == cc["isGap"]
        assert row["is_active"] == cc["isActive"]
        assert row["total_tokens"] == cc["totalTokens"]
        assert sorted(row["models"]) == sorted(cc["models"])
        assert mine.calls == cc["entries"]
        assert mine.cost_usd == pytest.approx(cc["costUSD"], rel=1e-6)
        if cc["burnRate"] is None:
            assert row["burn_rate_tokens_per_min"] is None
        else:
            rate = cc["burnRate"]["tokensPerMinute"]
            assert row["burn_rate_tokens_per_min"] == pytest.approx(rate, rel=1e-4)
        if cc["projection"] is None:
            assert row["projected_cost_usd"] is None
        else:
            projection = cc["projection"]
            assert mine.projected_total_tokens == pytest.approx(
                projection["totalTokens"], rel=0.005
            )
            assert row["projected_cost_usd"] == pytest.approx(projection["totalCost"], rel=0.02)
    assert any(block.is_active for block in ours) and any(block.is_gap for block in ours)


def _rows(*minutes: int) -> list[tuple[int, str, int, int, int, int, float | None]]:
    base = 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS
    return [(base + m * MINUTE, "claude-sonnet-4-5", 1, 1, 0, 0, 0.01) for m in minutes]


def test_new_block_only_after_more_than_five_hours_from_start() -> None:
    at_five = blocks_from_rows(_rows(0, 300), now_ms=0)
    assert len(at_five) == 1 and at_five[0].calls == 2
    past_five = blocks_from_rows(_rows(0, 120, 301), now_ms=0)
    assert [b.calls for b in past_five] == [2, 1]
    assert not any(b.is_gap for b in past_five)  # 181 minutes since the last call


def test_gap_block_only_for_a_pause_longer_than_five_hours() -> None:
    five = blocks_from_rows(_rows(0, 300, 600), now_ms=0)
    assert not any(b.is_gap for b in five)
    longer = blocks_from_rows(_rows(0, 301), now_ms=0)
    assert [b.is_gap for b in longer] == [False, True, False]
    gap = longer[1]
    assert gap.start_ms == longer[0].first_ms + 5 * HOUR_MS and gap.end_ms == longer[2].first_ms


def test_a_gap_that_starts_after_the_next_block_is_listed_after_it() -> None:
    """Calls at 0:30, 5:45 and 6:00: the gap runs from 5:30 (last call + 5 h) to 5:45, the
    next block from 5:00 (its first call's hour). ccusage lists them by start; the gap used
    to come first, so time went backwards in the table."""
    blocks = blocks_from_rows(_rows(30, 345, 360), now_ms=0)
    assert [(b.start_ms - blocks[0].start_ms) // MINUTE for b in blocks] == [0, 300, 330]
    assert [b.is_gap for b in blocks] == [False, False, True]
    assert [b.calls for b in blocks] == [1, 2, 0]


def test_active_block_and_projection() -> None:
    rows = _rows(10, 70)
    start = rows[0][0] - 10 * MINUTE
    active = blocks_from_rows(rows, now_ms=start + 2 * HOUR_MS)[-1]
    assert active.is_active
    # 2 calls x 2 tokens over 60 minutes; 180 minutes left.
    assert active.burn_rate_tokens_per_min == pytest.approx(4 / 60)
    assert active.projected_cost_usd == pytest.approx(0.02 + 0.02 / 60 * 180)
    ended = blocks_from_rows(rows, now_ms=start + 5 * HOUR_MS)[-1]
    assert not ended.is_active and ended.projected_cost_usd is None


def test_current_block_reads_back_past_a_quiet_day(tmp_path: Path) -> None:
    claude_dir = tmp_path / ".claude"
    write_history(claude_dir, anchor_ms=1_800_000_000_000)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, claude_dir / "projects")])
    full = compute_blocks(ledger, now_ms=1_800_000_000_000)
    quick = current_block(ledger, now_ms=1_800_000_000_000)
    assert isinstance(quick, Block)
    assert quick.as_json() == full[-1].as_json()
    assert current_block(ledger, now_ms=1_800_000_000_000 + 6 * HOUR_MS) is None


def test_remembered_block_start_is_used_and_invalidated(tmp_path: Path) -> None:
    claude_dir = tmp_path / ".claude"
    anchor = 1_800_000_000_000
    write_history(claude_dir, anchor_ms=anchor)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, claude_dir / "projects")])
    expected = compute_blocks(ledger, now_ms=anchor)[-1].as_json()
    first = current_block(ledger, now_ms=anchor, remember=True)
    assert first is not None and first.as_json() == expected
    stored = ledger.get_meta("blocks_anchor:claude-code")
    assert stored is not None and stored.startswith(f"{first.start_ms}:")
    # A wrong remembered start is detected by the count of earlier calls and ignored.
    ledger.set_meta("blocks_anchor:claude-code", f"{first.start_ms - HOUR_MS}:3")
    again = current_block(ledger, now_ms=anchor, remember=True)
    assert again is not None and again.as_json() == expected


def test_blocks_match_ccusage_on_the_real_logs(tmp_path: Path, real_corpus: Path) -> None:
    recorded = json.loads(
        (Path(__file__).parent / "fixtures" / "ccusage_blocks_real_corpus.json").read_text()
    )
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, real_corpus / "home" / ".claude" / "projects")])
    ours = compute_blocks(ledger)  # every block there is long over: "now" does not matter
    theirs = recorded["blocks"]
    assert len(ours) == len(theirs) == 13
    for mine, cc in zip(ours, theirs, strict=True):
        row = mine.as_json()
        assert (row["start"], row["end"], row["is_gap"]) == (
            cc["startTime"],
            cc["endTime"],
            cc["isGap"],
        )
        assert row["total_tokens"] == cc["totalTokens"]
        assert sorted(row["models"]) == sorted(cc["models"])
        assert mine.cost_usd == pytest.approx(cc["costUSD"], rel=1e-6, abs=1e-9)


def test_blocks_since_a_day_are_the_full_reads_blocks_from_that_day(tmp_path: Path) -> None:
    """`report blocks --since` read every call of the history and trimmed the output; it
    now starts from the block holding the last call before the day: the same blocks."""
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from shared.insights.reporting import blocks_report
    from shared.reports import Filters

    recorded = json.loads(FIXTURE.read_text())
    claude_dir = tmp_path / ".claude"
    write_history(claude_dir, recorded["anchor_ms"])
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, claude_dir / "projects")])
    now = recorded["ccusage_ran_until_ms"]
    full = blocks_report(ledger, Filters(), now_ms=now)["blocks"]
    first = datetime.fromtimestamp(_ms(full[0]["start"]) / 1000, UTC).date()
    last = datetime.fromtimestamp(_ms(full[-1]["start"]) / 1000, UTC).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert len(days) > 3
    for zone in ("UTC", "Pacific/Auckland"):
        tz = ZoneInfo(zone)
        for day in days:
            since: date = day
            expected = [
                block
                for block in blocks_report(ledger, Filters(tz=tz), now_ms=now)["blocks"]
                if datetime.fromtimestamp(_ms(block["start"]) / 1000, tz).date() >= since
            ]
            assert blocks_report(ledger, Filters(since=since, tz=tz), now_ms=now)["blocks"] == (
                expected
            ), (zone, day)
