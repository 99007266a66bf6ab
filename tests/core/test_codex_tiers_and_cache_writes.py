"""Codex's service tier and cache writes: a call run on the priority ("Fast mode") or flex
tier is stored with the speed it is priced by, and the part of its input Codex 0.145 and
later report as written to the prompt cache (`cache_write_input_tokens`, a part of
`input_tokens` apart from the cached input) is stored as cache writes; both readers, the
typed and the lenient one, give the same rows."""

from __future__ import annotations

from typing import Any

import pytest

from shared.sources import codex
from shared.sources.codex import CodexState, parse_codex_lines
from shared.sources.codex_typed import read_token_count_line
from shared.sources.events import ParsedChunk
from tests.core.helpers import CountingReader
from tests.core.logwriters import CodexRollout

SPEED, COUNTS = 5, slice(6, 12)


def _usage(input_tokens: int, cached: int, output: int, written: int | None) -> dict[str, int]:
    usage = {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "reasoning_output_tokens": 0,
        "total_tokens": input_tokens + output,
    }
    if written is not None:
        usage["cache_write_input_tokens"] = written
    return usage


class Rollout(CodexRollout):
    """A rollout whose token counts may name cache writes and a tier of their own."""

    def count(
        self,
        at: float,
        input_tokens: int,
        output: int,
        *,
        cached: int = 0,
        written: int | None = None,
        **extra: Any,
    ) -> None:
        self.total = [*self.total, 0][:5] if len(self.total) == 4 else self.total
        for index, value in enumerate((input_tokens, cached, output, 0, written or 0)):
            self.total[index] += value
        total = _usage(self.total[0], self.total[1], self.total[2], self.total[4])
        if written is None:
            total.pop("cache_write_input_tokens")
        info = {
            "total_token_usage": total,
            "last_token_usage": _usage(input_tokens, cached, output, written),
        }
        self.add("event_msg", {"type": "token_count", "info": info, **extra}, at)

    def settings(self, at: float, tier: object) -> None:
        settings = {"model": self.model, "service_tier": tier}
        self.add(
            "event_msg",
            {
                "type": "thread_settings_applied",
                "thread_id": self.session_id,
                "thread_settings": settings,
            },
            at,
        )


def _read_both_ways(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[ParsedChunk, CountingReader]:
    counter = CountingReader(read_token_count_line)
    with monkeypatch.context() as patch:
        patch.setattr(codex, "_typed", counter)
        fast = parse_codex_lines(data, CodexState(), "fallback")
    with monkeypatch.context() as patch:
        patch.setattr(codex, "_typed", None)
        lenient = parse_codex_lines(data, CodexState(), "fallback")
    assert fast.calls.events == lenient.calls.events
    assert fast.rejected_lines == lenient.rejected_lines == 0
    return fast, counter


def test_a_calls_tier_is_the_one_set_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    rollout = Rollout("019d-tiers", model="gpt-5.5")
    rollout.turn(1)
    rollout.count(2, 1_000, 10)  # no tier named yet: the default tier
    rollout.settings(3, "priority")
    rollout.count(4, 2_000, 20)
    rollout.turn(5)  # a turn context that says nothing of the tier keeps it
    rollout.count(6, 3_000, 30)
    rollout.settings(7, None)  # cleared: the default tier again
    rollout.count(8, 4_000, 40)
    rollout.settings(9, "flex")
    rollout.count(10, 5_000, 50)
    rollout.count(11, 6_000, 60, service_tier="fast")  # named on the count itself
    rollout.count(12, 7_000, 70, service_tier=None)
    rollout.add("turn_context", {"model": "gpt-5.5", "service_tier": "priority"}, 13)
    rollout.count(14, 8_000, 80)
    rollout.settings(15, "default")
    rollout.count(16, 9_000, 90)
    chunk, counter = _read_both_ways(b"".join(rollout.lines), monkeypatch)
    speeds = [row[SPEED] for row in chunk.calls.events.values()]
    assert speeds == [
        "standard",
        "fast",
        "fast",
        "standard",
        "flex",
        "fast",
        "standard",
        "fast",
        "standard",
    ]
    assert counter.taken == 9 and counter.handed_on == 0


def test_cache_writes_are_stored_apart_from_the_rest_of_the_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rollout = Rollout("019d-writes", model="gpt-5.6-terra")
    rollout.turn(1)
    rollout.count(2, 200_000, 20_000, cached=100_000, written=50_000)
    rollout.count(3, 1_000, 10, cached=1_000, written=0)
    # More written than the input left after the cached part: no more than that is.
    rollout.count(4, 1_000, 10, cached=600, written=900)
    chunk, counter = _read_both_ways(b"".join(rollout.lines), monkeypatch)
    counts = [row[COUNTS] for row in chunk.calls.events.values()]
    assert counts == [
        # input less cached and written, output, 5m writes, 1h writes, cached, reasoning
        (50_000, 20_000, 50_000, 0, 100_000, 0),
        (0, 10, 0, 0, 1_000, 0),
        (0, 10, 400, 0, 600, 0),
    ]
    assert counter.taken == 3
    # The keys are those of a reader that did not count cache writes: a rollout read
    # before keeps its calls.
    assert next(iter(chunk.calls.events)) == "cx:019d-writes:200000:100000:20000:0"


def test_a_state_saved_before_cache_writes_were_counted_reads_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ingest saves each rollout's cumulative total with its offset: one saved by the
    earlier reader has four counters, and the next count must still be a difference."""
    rollout = Rollout("019d-resume", model="gpt-5.6-terra")
    rollout.turn(1)
    rollout.count(2, 1_000, 10)
    first = len(b"".join(rollout.lines))
    rollout.count(3, 500, 5, written=200)
    data = b"".join(rollout.lines)
    state = CodexState()
    parse_codex_lines(data[:first], state, "f")
    state = CodexState.from_json(state.to_json())
    assert state.cumulative is not None
    state.cumulative = state.cumulative[:4]  # as saved before
    chunk = parse_codex_lines(data[first:], state, "f")
    assert [row[COUNTS] for row in chunk.calls.events.values()] == [(300, 5, 200, 0, 0, 0)]
