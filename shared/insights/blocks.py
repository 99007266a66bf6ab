"""5-hour blocks of Claude Code usage, computed the way ccusage computes them, so users can
compare `burnmeter report blocks` with `ccusage blocks`.

Public API:

- `compute_blocks(ledger, now_ms=None, agent="claude-code", since_ms=None) -> list[Block]`
- `current_block(ledger, now_ms=None, agent="claude-code", remember=False) -> Block | None`:
  the active block, reading only the calls of the latest block (`remember=True` keeps its
  start in the ledger for the next call; see `shared.insights.block_chain`, which
  `burnmeter statusline` uses directly).
- `Block`: `start_ms`, `end_ms`, `is_gap`, `is_active`, `first_ms`, `last_ms`, `calls`,
  token counts, `total_tokens`, `cost_usd`, `unpriced_calls`, `models`, burn rate (tokens
  per minute, cost per hour), projection (tokens, cost), `minutes_left(now_ms)`.
- `Block.as_json()`: `{"start", "end", "is_gap", "is_active", "total_tokens", "cost_usd",
  "models", "burn_rate_tokens_per_min", "projected_cost_usd"}`.

The rules (ccusage's): calls sorted by time; a block starts at its first call's time
floored to the UTC hour and lasts 5 hours; a call more than 5 hours after the block start,
or more than 5 hours after the previous call, starts a new block. When calls are more than
5 hours apart, a gap block runs from the last call + 5 hours to the next call. A block is
active when its last call is less than 5 hours ago and its end is still ahead. Only the
active block has a burn rate (all tokens, cache included, per minute between its first and
last call) and a projection (cost so far + cost per minute × minutes left). Totals count
input, output, cache writes and cache reads. Unpriced calls count in tokens, not in cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.insights.block_chain import BLOCK_MS, HOUR_MS, latest_block_start

if TYPE_CHECKING:
    from shared.ledger import Ledger

__all__ = ["BLOCK_MS", "HOUR_MS", "Block", "blocks_from_rows", "compute_blocks", "current_block"]


# Where a glance shows a block's projection (the tray's menu, `burnmeter budgets`), it
# waits until the block's calls span this long. The projection is the cost so far plus the
# average cost per minute between the first and last call times the minutes left: over a
# short span that average is one burst of calls (an agent's reply makes several within a
# minute), and the minutes left multiply it by up to 300 / span: two calls 10 s apart
# projected 1,800 times their cost. From a quarter of an hour the average covers several
# exchanges and the projection is at most 20 times the cost so far. `report blocks` and
# every JSON keep ccusage's projection, which has no such rule: they are for comparing.
PROJECTION_MIN_SPAN_MS = 15 * 60_000


def _iso(ts_ms: int) -> str:
    stamp = datetime.fromtimestamp(ts_ms / 1000, UTC)
    # isoformat, not strftime("%Y"): glibc writes year 1 as "1", not "0001".
    return stamp.replace(microsecond=0, tzinfo=None).isoformat() + f".{ts_ms % 1000:03d}Z"


@dataclass
class Block:
    start_ms: int
    end_ms: int
    is_gap: bool = False
    is_active: bool = False
    first_ms: int | None = None
    last_ms: int | None = None
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    models: list[str] = field(default_factory=list)
    burn_rate_tokens_per_min: float | None = None
    projected_total_tokens: int | None = None
    projected_cost_usd: float | None = None
    remaining_minutes: float | None = None

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )

    @property
    def projection_settled(self) -> bool:
        """Whether the projection means something yet: its calls span PROJECTION_MIN_SPAN_MS."""
        if self.first_ms is None or self.last_ms is None:
            return False
        return self.last_ms - self.first_ms >= PROJECTION_MIN_SPAN_MS

    def minutes_left(self, now_ms: int) -> float:
        return max(0.0, (self.end_ms - now_ms) / 60_000)

    def as_json(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start_ms),
            "end": _iso(self.end_ms),
            "is_gap": self.is_gap,
            "is_active": self.is_active,
            "total_tokens": self.total_tokens,
            "cost_usd": round(self.cost_usd, 6),
            # Calls of a model with no price: in the tokens, not in cost_usd.
            "unpriced_calls": self.unpriced_calls,
            "models": list(self.models),
            "burn_rate_tokens_per_min": None
            if self.burn_rate_tokens_per_min is None
            else round(self.burn_rate_tokens_per_min, 3),
            "projected_cost_usd": None
            if self.projected_cost_usd is None
            else round(self.projected_cost_usd, 6),
        }


Row = tuple[int, str, int, int, int, int, float | None]


def _rows(ledger: Ledger, agent: str, since_ms: int | None) -> list[Row]:
    sql = (
        "SELECT ts_ms, model, input_tokens, output_tokens, "
        "cache_write_5m_tokens + cache_write_1h_tokens, cache_read_tokens, cost_usd "
        "FROM usage_events WHERE agent = ?"
    )
    params: list[Any] = [agent]
    if since_ms is not None:
        sql += " AND ts_ms >= ?"
        params.append(since_ms)
    return ledger.conn.execute(sql + " ORDER BY ts_ms", params).fetchall()


def _finish(block: Block, now_ms: int) -> Block:
    assert block.last_ms is not None and block.first_ms is not None
    block.is_active = now_ms - block.last_ms < BLOCK_MS and now_ms < block.end_ms
    if not block.is_active:
        return block
    minutes = (block.last_ms - block.first_ms) / 60_000
    if minutes <= 0:
        return block
    block.burn_rate_tokens_per_min = block.total_tokens / minutes
    remaining = block.minutes_left(now_ms)
    block.remaining_minutes = remaining
    block.projected_total_tokens = round(
        block.total_tokens + block.burn_rate_tokens_per_min * remaining
    )
    block.projected_cost_usd = block.cost_usd + block.cost_usd / minutes * remaining
    return block


def blocks_from_rows(rows: list[Row], now_ms: int) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    for ts_ms, model, input_tokens, output_tokens, writes, reads, cost in rows:
        if current is not None:
            assert current.last_ms is not None
            since_last = ts_ms - current.last_ms
            if ts_ms - current.start_ms > BLOCK_MS or since_last > BLOCK_MS:
                blocks.append(_finish(current, now_ms))
                if since_last > BLOCK_MS:
                    blocks.append(Block(current.last_ms + BLOCK_MS, ts_ms, is_gap=True))
                current = None
        if current is None:
            start = ts_ms - ts_ms % HOUR_MS
            current = Block(start, start + BLOCK_MS, first_ms=ts_ms)
        current.last_ms = ts_ms
        current.calls += 1
        current.input_tokens += input_tokens
        current.output_tokens += output_tokens
        current.cache_write_tokens += writes
        current.cache_read_tokens += reads
        if cost is None:
            current.unpriced_calls += 1
        else:
            current.cost_usd += cost
        if model not in current.models:
            current.models.append(model)
    if current is not None:
        blocks.append(_finish(current, now_ms))
    # A pause just over 5 hours puts the gap's start (last call + 5 h) after the next
    # block's (its first call's hour): oldest first, as ccusage lists them.
    blocks.sort(key=lambda block: block.start_ms)
    return blocks


def _now_ms(now_ms: int | None) -> int:
    return int(time.time() * 1000) if now_ms is None else now_ms


def compute_blocks(
    ledger: Ledger,
    now_ms: int | None = None,
    agent: str = "claude-code",
    since_ms: int | None = None,
) -> list[Block]:
    """Every block of `agent`'s calls (from `since_ms`, if given), oldest first."""
    return blocks_from_rows(_rows(ledger, agent, since_ms), _now_ms(now_ms))


def current_block(
    ledger: Ledger, now_ms: int | None = None, agent: str = "claude-code", remember: bool = False
) -> Block | None:
    """The active block, or None, reading only the calls of the latest block (see
    `shared.insights.block_chain`). `remember=True` keeps the block start in the ledger's
    meta table so the next call seeks from there (needs write access; skipped when busy)."""
    now = _now_ms(now_ms)
    start = latest_block_start(ledger.conn, agent, now, remember)
    if start is None:
        return None
    rows = [row for row in _rows(ledger, agent, start) if row[0] <= now]
    blocks = blocks_from_rows(rows, now)
    last = next((block for block in reversed(blocks) if not block.is_gap), None)
    return last if last is not None and last.is_active else None
