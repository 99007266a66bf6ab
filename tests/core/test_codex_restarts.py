"""Codex cumulative totals that start again (older Codex resuming a session in the same
rollout, a fork seeded with its parent's total, a total reset to zero after compaction)
and older plan-limit readings that give the reset as a number of seconds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson

from shared.ledger import open_ledger
from tests.core.helpers import events, ingest_env
from tests.core.logwriters import BASE_TIME, CodexRollout, codex_rollout_path


def _ingest(home: Path, tmp_path: Path, *rollouts: CodexRollout):  # type: ignore[no-untyped-def]
    for rollout in rollouts:
        rollout.write(codex_rollout_path(home / ".codex", rollout))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    return ledger


def _sums(ledger, session_id: str) -> tuple[int, int, int, int, int]:  # type: ignore[no-untyped-def]
    """Non-cached input, cache read, output, reasoning, calls."""
    row = ledger.conn.execute(
        "SELECT sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), "
        "sum(reasoning_tokens), count(*) FROM usage_events WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    return tuple(value or 0 for value in row)  # type: ignore[return-value]


def _resumed() -> CodexRollout:
    """The audit's case: 8000/0/50, then a restart at 9000/8000/60, then 19000/17000/160;
    the restarted total is lower in no counter than the one before it."""
    rollout = CodexRollout("019c-resumed", started=0)
    rollout.turn(1, model="gpt-5")
    rollout.call(2, 8000, 50, reasoning=10)
    rollout.restart_total()
    rollout.turn(86400, model="gpt-5")
    rollout.call(86401, 9000, 60, cached=8000, reasoning=20, reemit=2)
    rollout.call(86402, 10000, 100, cached=9000, reasoning=20)
    assert rollout.total == [19000, 17000, 160, 40]
    return rollout


def test_a_restart_not_lower_in_any_counter_counts_each_calls_own_usage(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The change 8000/0/50 → 9000/8000/60 was counted as a call of 1000/8000/10: the
    restart went unseen because no counter went down. Each call is its own usage."""
    ledger = _ingest(isolated_home, tmp_path, _resumed())
    # 8000 + (9000 − 8000) + (10000 − 9000) non-cached input; 8000 + 9000 cache read.
    assert _sums(ledger, "019c-resumed") == (10000, 17000, 210, 50, 3)
    rows = sorted(events(ledger).values(), key=lambda row: row["ts_ms"])
    assert [row["total_tokens"] for row in rows] == [8050, 9060, 10100]


def test_a_restarted_rollout_read_in_pieces_gives_the_same_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The state kept with the offset carries the total across reads: a restart seen at
    the start of a later read counts as in one read."""
    rollout = _resumed()
    path = codex_rollout_path(isolated_home / ".codex", rollout)
    path.parent.mkdir(parents=True)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    for end in range(1, len(rollout.lines) + 1):
        path.write_bytes(b"".join(rollout.lines[:end]))
        ingest_env(ledger)
    assert _sums(ledger, "019c-resumed") == (10000, 17000, 210, 50, 3)


def test_a_total_reset_to_zero_is_no_call(isolated_home: Path, tmp_path: Path) -> None:
    """codex-rs `recompute_token_usage` after a compaction, with no usage in the session
    yet, writes an all-zero total: it was stored as a model call of 0 tokens."""
    rollout = CodexRollout("019c-zero", started=0)
    rollout.turn(1, model="gpt-5")
    rollout.call(2, 8000, 50, reasoning=10)
    rollout.restart_total()
    rollout.turn(86400, model="gpt-5")
    rollout.function_call(86400.5, "exec_command", {"cmd": "ls"}, "call_after_zero")
    rollout.recompute(86401, 5000)
    rollout.call(86402, 6000, 60, cached=4000, reasoning=20)
    ledger = _ingest(isolated_home, tmp_path, rollout)
    assert _sums(ledger, "019c-zero") == (8000 + 2000, 4000, 110, 30, 2)
    # The tool call belongs to the next real call, not to the zero reading.
    (linked,) = ledger.conn.execute("SELECT event_key FROM tool_calls").fetchone()
    assert linked == "cx:019c-zero:6000:4000:60:20"


def test_a_recomputed_unchanged_total_counts_nothing(isolated_home: Path, tmp_path: Path) -> None:
    """After compacting a session with usage, the total stays and `last_token_usage` is
    zeros: nothing is counted, and the next call counts its own usage."""
    rollout = CodexRollout("019c-compact", started=0)
    rollout.turn(1)
    rollout.call(2, 8000, 50)
    rollout.recompute(3, 1200)
    rollout.call(4, 3000, 40, cached=1000)
    ledger = _ingest(isolated_home, tmp_path, rollout)
    assert _sums(ledger, "019c-compact") == (8000 + 2000, 1000, 90, 0, 2)


def test_a_fork_seeded_with_its_parents_total_counts_its_own_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """codex-rs seeds a fork's total with its parent's; a fork that references its history
    (`history_base`) instead of copying it has no copied baseline, so its first total
    holds the parent's calls: only its `last_token_usage` is the fork's own."""
    child = CodexRollout("019c-seeded", started=700, forked_from_id="019c-parent")
    header = orjson.loads(child.lines[0])
    header["payload"]["history_base"] = {"rollout": "rollout-parent.jsonl", "items": 12}
    child.lines[0] = orjson.dumps(header) + b"\n"
    child.total = [22000, 11000, 800, 100]  # the parent's
    child.turn(700.001)
    child.call(700.2, 13000, 250, cached=12000, reasoning=40)
    child.call(705, 14000, 50, cached=13000)
    ledger = _ingest(isolated_home, tmp_path, child)
    assert _sums(ledger, "019c-seeded") == (1000 + 1000, 25000, 300, 40, 2)


def test_a_fork_with_copied_history_and_a_later_restart(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The copied history still only sets the baseline; a restart after it counts the
    fork's own usage."""
    parent = CodexRollout("019c-parent2", started=0)
    parent.turn(1)
    parent.call(10, 10000, 500, cached=2000, reasoning=100)
    parent.call(20, 12000, 300, cached=9000)
    child = CodexRollout("019c-child-r", started=600, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 600.001)
    child.turn(600.05)
    child.call(607, 13000, 250, cached=12000, reasoning=40)
    child.restart_total()
    # Lower in no counter than the total before it (35000/23000/1050/140).
    child.call(700, 40000, 1100, cached=30000, reasoning=200)
    ledger = _ingest(isolated_home, tmp_path, parent, child)
    assert _sums(ledger, "019c-parent2") == (8000 + 3000, 11000, 800, 100, 2)
    assert _sums(ledger, "019c-child-r") == (1000 + 10000, 42000, 1350, 240, 2)


def test_a_last_usage_larger_than_the_total_counts_the_change(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A call's usage is part of the total that includes it; a line where it is not is
    inconsistent, and the change of the total counts (as without `last_token_usage`)."""
    rollout = CodexRollout("019c-odd", started=0)
    rollout.turn(1)
    rollout.call(2, 1000, 10)
    rollout.call(3, 500, 5)
    record = orjson.loads(rollout.lines[-2])
    record["payload"]["info"]["last_token_usage"]["input_tokens"] = 5000
    rollout.lines[-2] = orjson.dumps(record) + b"\n"
    ledger = _ingest(isolated_home, tmp_path, rollout)
    assert _sums(ledger, "019c-odd") == (1500, 0, 15, 0, 2)


LEGACY_LIMITS = {
    "primary": {"used_percent": 42.0, "window_minutes": 299, "resets_in_seconds": 7200},
    "secondary": {"used_percent": 61.0, "window_minutes": 10079, "resets_in_seconds": 300000},
}


def test_legacy_relative_reset_is_the_lines_time_plus_the_seconds(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Older Codex gave `resets_in_seconds` instead of `resets_at`: the reset was stored as
    unknown (`burnmeter budgets` showed "resets ?")."""
    rollout = CodexRollout("019c-legacy", started=0)
    rollout.turn(1)
    rollout.call(20.5, 8000, 50, reemit=0, rate_limits=LEGACY_LIMITS)
    both = {"primary": {"resets_at": 1773150000, "resets_in_seconds": 60}, "secondary": None}
    rollout.rate_limits_only(30, both)
    ledger = _ingest(isolated_home, tmp_path, rollout)
    at = int((BASE_TIME + timedelta(seconds=20)).timestamp())
    rows = ledger.conn.execute(
        "SELECT primary_used_percent, primary_resets_at, secondary_used_percent, "
        "secondary_resets_at FROM rate_limits ORDER BY ts_ms"
    ).fetchall()
    # resets_at wins when a window gives both.
    assert rows == [(42.0, at + 7200, 61.0, at + 300000), (None, 1773150000, None, None)]


def test_readings_after_a_restart_that_repeat_earlier_totals_count_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A call is known by its session and the total after it. After a restart, a reading
    that repeats one the rollout already had (the same total and the same own usage, the
    lines' words but for the time) is that earlier call again, as when a rollout is read a
    second time as its `.jsonl.zst` archive: counted once. Only the new call after them
    adds. (The README says what this costs: a new call that happens to bring a restarted
    total back to exactly an earlier total in all four counters counts as the earlier.)"""
    rollout = CodexRollout("019c-repeated", started=0)
    rollout.turn(1, model="gpt-5")
    rollout.call(2, 8000, 50)
    rollout.call(3, 9000, 60, cached=8000)
    rollout.restart_total()
    rollout.turn(86400, model="gpt-5")
    rollout.call(86401, 8000, 50)
    rollout.call(86402, 9000, 60, cached=8000)
    rollout.call(86403, 10000, 100, cached=9000)
    ledger = _ingest(isolated_home, tmp_path, rollout)
    assert _sums(ledger, "019c-repeated") == (10000, 17000, 210, 0, 3)
