"""A generated Claude Code history for cross-checking 5-hour blocks with ccusage.

Times are offsets from an anchor (the moment the fixture was made), so the last block is
active at that moment. It covers: a lone block; a gap longer than 5 hours (gap block); a
day of steady use with no long pause (blocks chained every 5 hours from an hour-floored
start); a call exactly 5 hours after its block's start (stays in the block); two calls
exactly 5 hours apart (no gap block); a subagent (sidechain) transcript; and the active
block.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.insights.agent_logs import ClaudeSession

MINUTE = 60_000
HOUR = 60 * MINUTE
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001")


def call_offsets(anchor_ms: int) -> list[int]:
    """Call times (ms), oldest first; the layout the module docstring describes."""
    day = 24 * HOUR
    lone_start = anchor_ms - 4 * day
    lone_start -= lone_start % HOUR - 37 * MINUTE  # hh:37
    times = [lone_start + k * 17 * MINUTE for k in range(10)]
    steady_start = anchor_ms - 3 * day + 13 * MINUTE
    times += [steady_start + k * 20 * MINUTE for k in range(36)]  # 12 hours, no long pause
    edge_start = anchor_ms - 2 * day
    edge_start -= edge_start % HOUR  # exactly on the hour
    times += [edge_start, edge_start + HOUR, edge_start + 5 * HOUR]  # last one: start + 5 h
    times += [edge_start + 10 * HOUR]  # exactly 5 h after the previous call: no gap block
    active_start = anchor_ms - 2 * HOUR - 11 * MINUTE
    times += [active_start + k * 9 * MINUTE for k in range(14)]
    return sorted(times)


def write_history(claude_dir: Path, anchor_ms: int, seed: int = 7) -> int:
    """Write the transcripts under `claude_dir`; returns the number of model calls."""
    rng = random.Random(seed)
    times = call_offsets(anchor_ms)
    main = ClaudeSession(claude_dir, "5b1f0c1e-0000-4000-8000-00000000b10c", "/home/dev/shop")
    side = ClaudeSession(claude_dir, main.session_id, main.cwd)
    for index, ts_ms in enumerate(times):
        target = side if index % 7 == 3 else main
        target.assistant(
            ts_ms,
            MODELS[rng.randrange(len(MODELS))],
            input_tokens=rng.randrange(5, 400),
            output_tokens=rng.randrange(50, 4000),
            cache_write=rng.randrange(0, 30_000),
            cache_read=rng.randrange(0, 150_000),  # below the 200k long-context tier
            sidechain=target is side,
        )
    main.write()
    # The subagent transcript sits beside its parent, as Claude Code >= 2.1.2 writes it.
    side_path = main.path.parent / main.session_id / "subagents" / "agent-a0b1c2d.jsonl"
    side_path.parent.mkdir(parents=True, exist_ok=True)
    side_path.write_text(Path(side.write()).read_text())
    side.path.unlink()
    main.write()
    return len(times)
