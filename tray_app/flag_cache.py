"""The running sessions' runaway flags, kept between the tray's refreshes.

The tray reads a snapshot after every ingest of new log lines (about once a second while
an agent works). A session's flags come from all of its calls and tool calls
(`shared.insights.sessions.session_insights`): about half a second of CPU for a
20,000-call session, and doing that on every refresh kept 30-40 % of a core busy. Two
rules bound it, the flags themselves coming from the same function as before:

- A session whose calls and tool calls did not change since its flags were computed
  keeps them: the ledger's per-session totals and a count of its tool calls tell.
- A session that changed is computed again at once when its last computation was quick
  (under QUICK_S of CPU: small sessions are flagged as fast as ever), else once
  SPEND_FACTOR times that computation's CPU time has passed since it, and never later
  than MAX_WAIT_S: a big session costs about 1/SPEND_FACTOR of a core (a huge one, whose
  flags take over MAX_WAIT_S/SPEND_FACTOR, its cost over MAX_WAIT_S), and a runaway loop
  in it is flagged within MAX_WAIT_S of its lines while they keep coming.
  Until then its previous flags stand. A session whose lines stopped meanwhile is
  computed at the next refresh, which the tray's tick brings within 30 s.

A new running session, or changed `[insights]` thresholds, are computed at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.config import Settings
from shared.insights.flags import Flag
from shared.ledger import Ledger

# A computation quicker than this (CPU seconds) is redone at every change: a session of a
# few thousand calls.
QUICK_S = 0.03
# A slower one waits this many times its own CPU time before it runs again (~2.5 % of a core).
SPEND_FACTOR = 40.0
# ...but never longer than this after the previous one, whatever it cost.
MAX_WAIT_S = 20.0

Row = tuple[Any, ...] | None


@dataclass
class _Entry:
    calls: Row
    tools: Row
    thresholds: dict[str, Any]
    flags: list[Flag]
    computed_at: float  # `clock` when the computation ended
    cost_s: float  # its CPU time


def _calls_row(ledger: Ledger, session_id: str) -> Row:
    """A session's calls, summed up by the per-session totals the ledger's triggers keep
    (count, cost, tokens, newest call): one row."""
    row = ledger.conn.execute(
        "SELECT calls, cost_usd, total_tokens, last_ts_ms, last_model FROM session_totals "
        "WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    return None if row is None else tuple(row)


def _tools_row(ledger: Ledger, session_id: str) -> Row:
    """A session's tool calls, summed up: count, newest, how many are linked to their call,
    how many failed (~10 ms for 20,000 tool calls, so read only when the calls did not
    already tell of a change)."""
    row = ledger.conn.execute(
        "SELECT count(*), max(t.ts_ms), count(t.event_key), count(e.tool_id) "
        "FROM tool_calls t LEFT JOIN tool_errors e ON e.tool_id = t.tool_id "
        "WHERE t.session_id = ?",
        (session_id,),
    ).fetchone()
    return tuple(row)


def _insight_flags(ledger: Ledger, settings: Settings, session_id: str) -> list[Flag]:
    """One session's flags, as every front end computes them (no git outcomes)."""
    # Looked up at each call, so a test can count the calls.
    from shared.insights import sessions

    found = sessions.session_insights(ledger, settings, [session_id], with_outcomes=False)
    insight = found.get(session_id)
    return insight.flags if insight is not None else []


class FlagCache:
    """The flags of the running sessions of one ledger. `clock` (seconds, monotonic) says
    when; `cpu_clock` measures what a computation cost (the worker thread's CPU time)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def flags(
        self, ledger: Ledger, settings: Settings, session_ids: list[str]
    ) -> dict[str, list[Flag]]:
        """{session id: its flags} for those of `session_ids` that have flags."""
        with self._lock:
            thresholds = settings.insights.model_dump()
            # Sessions no longer running are forgotten: the cache holds the running ones.
            self._entries = {
                sid: entry for sid, entry in self._entries.items() if sid in session_ids
            }
            for session_id in session_ids:
                self._refresh(ledger, settings, session_id, thresholds)
            return {
                sid: entry.flags
                for sid in session_ids
                if (entry := self._entries.get(sid)) is not None and entry.flags
            }

    def _refresh(
        self, ledger: Ledger, settings: Settings, session_id: str, thresholds: dict[str, Any]
    ) -> None:
        calls = _calls_row(ledger, session_id)
        tools: Row = None
        entry = self._entries.get(session_id)
        if entry is not None and entry.thresholds == thresholds:
            if calls == entry.calls:
                tools = _tools_row(ledger, session_id)
                if tools == entry.tools:
                    return  # unchanged
            if not self._due(entry):
                return  # changed, but a big session computed too recently: its flags stand
        if tools is None:
            tools = _tools_row(ledger, session_id)
        started = self._cpu_clock()
        flags = _insight_flags(ledger, settings, session_id)
        cost_s = self._cpu_clock() - started
        self._entries[session_id] = _Entry(calls, tools, thresholds, flags, self._clock(), cost_s)

    def _due(self, entry: _Entry) -> bool:
        """Whether a session that changed since `entry` is computed again now."""
        if entry.cost_s < QUICK_S:
            return True
        wait = min(MAX_WAIT_S, SPEND_FACTOR * entry.cost_s)
        return self._clock() - entry.computed_at >= wait


_caches: dict[str, FlagCache] = {}
_caches_lock = threading.Lock()


def flag_cache_for(ledger: Ledger) -> FlagCache:
    """The cache of `ledger`'s file, kept for the process: the tray reads its snapshot with
    a new connection each time (`tray_app.snapshot.read_extras`)."""
    key = str(ledger.path)
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = FlagCache()
        return cache
