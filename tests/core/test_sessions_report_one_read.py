"""`report sessions` with insights reads each session's calls and tool calls once: the
report's sums, tool counts and files are gathered while the insights read them
(`sessions_report_with_insights`), where it read the calls twice and the tool calls three
times. Held here to what it printed before, `sessions_report` with `add_session_insights`
on it, to the byte: sessions cut by `--since` / `--until` (in a zone other than UTC too),
one agent, subagent files, Codex, a session the ledger lists no folder for, sessions in a
git repository with commits and outside any."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.ingest import ingest
from shared.insights.reporting import (
    add_commit_costs,
    add_session_insights,
    sessions_report_with_insights,
)
from shared.ledger import Ledger, open_ledger
from shared.reports import (
    REPORT_MMAP_BYTES,
    Filters,
    LedgerMapped,
    iso_utc,
    repos_report,
    sessions_report,
)
from shared.sources.events import CLAUDE, CODEX
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import ClaudeSession, CodexRollout
from tests.insights.test_activity_reads import _demo, _history

MINUTE = 60_000
# Midnight (UTC) between two days, with calls and tool calls on both sides of it.
MIDNIGHT = int(datetime(2026, 9, 22, tzinfo=UTC).timestamp() * 1000)


def _across_midnight(home: Path) -> None:
    """A Claude Code session (with a subagent) and a Codex rollout that run from before
    midnight to after it, each with tool calls, failed ones and files on both sides."""
    claude = home / ".claude"
    session = ClaudeSession(claude, "sess-midnight", "/home/dev/late")
    for k in range(-4, 4):
        at = MIDNIGHT + k * MINUTE + 7
        ids = session.assistant(
            at,
            model="claude-opus-4-5-20251101" if k % 2 else "claude-haiku-4-5-20251001",
            input_tokens=1_000 + k,
            cache_read=3_000,
            tools=[
                ("Read", {"file_path": f"/home/dev/late/f{k % 3}.py"}),
                ("Bash", {"command": "t"}),
            ],
        )
        session.tool_results(at + 1000, ids[:1])
        session.tool_results(at + 2000, ids[1:], is_error=k % 2 == 0)
    session.write()
    subagent = ClaudeSession(claude, "sess-midnight", "/home/dev/late", agent_id="d4e5f6")
    for k in range(-2, 2):
        ids = subagent.assistant(
            MIDNIGHT + k * MINUTE + 30_000,
            model="claude-sonnet-4-5-20250929",
            tools=[("Grep", {"pattern": "x", "path": "/home/dev/late/sub"})],
        )
        subagent.tool_results(MIDNIGHT + k * MINUTE + 31_000, ids, is_error=k == 0)
    subagent.write()
    rollout = CodexRollout(
        home / ".codex",
        "019a0000-0000-7000-8000-0000000000aa",
        "/home/dev/late",
        MIDNIGHT - 5 * MINUTE,
    )
    for k in range(-3, 3):
        rollout.shell(MIDNIGHT + k * MINUTE, ["make"], exit_code=k % 2)
        rollout.token_count(MIDNIGHT + k * MINUTE + 500, 20_000 + k, 5_000, 700)
    rollout.apply_patch(MIDNIGHT + 4 * MINUTE, ["/home/dev/late/b.py"], output="Success.")
    rollout.token_count(MIDNIGHT + 4 * MINUTE + 500, 1_000, 0, 100)
    rollout.write()


def _history_across_midnight(home: Path) -> Ledger:
    _across_midnight(home)
    return _history(home)


def _filters() -> list[Filters]:
    day = date(2026, 9, 22)
    before = date(2026, 9, 21)
    tokyo = ZoneInfo("Asia/Tokyo")
    return [
        Filters(),
        Filters(since=day),
        Filters(until=before),
        Filters(since=before, until=before),
        Filters(since=day, until=day, agent="codex"),
        Filters(agent="codex"),
        Filters(agent="claude-code", until=before),
        Filters(tz=ZoneInfo("America/New_York")),
        Filters(since=date(2026, 9, 22), tz=tokyo),
        Filters(since=date(2026, 9, 22), until=date(2026, 9, 22), tz=tokyo),
        Filters(since=date(2030, 1, 1)),
    ]


def _printed(report: dict[str, object]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("history", [_history_across_midnight, _demo])
def test_one_read_gives_the_report_of_sessions_report_with_insights(
    tmp_path: Path, history: object
) -> None:
    ledger = history(tmp_path)  # type: ignore[operator]
    settings = Settings()
    cut = 0
    for filters in _filters():
        before = sessions_report(ledger, filters)
        add_session_insights(before, ledger, settings)
        after = sessions_report_with_insights(ledger, filters, settings)
        assert _printed(after) == _printed(before)
        # Sessions whose calls the range cuts: their figures are the range's alone.
        cut += sum(
            1
            for row in after["sessions"]
            if row["first_activity"] > _first_ever(ledger, row["session_id"])
        )
    if history is _history_across_midnight:
        assert cut >= 3  # the Claude Code session, its subagent's calls and the rollout


def _first_ever(ledger: Ledger, session_id: str) -> str:
    (first,) = ledger.conn.execute(
        "SELECT min(ts_ms) FROM usage_events WHERE session_id = ?", (session_id,)
    ).fetchone()
    return iso_utc(first) or ""


def test_the_real_corpus_reads_the_same(real_corpus: Path, tmp_path: Path) -> None:
    home = real_corpus / "home"
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(
        ledger,
        [
            LogRoot(CLAUDE, home / ".claude" / "projects"),
            LogRoot(CODEX, home / ".codex" / "sessions"),
        ],
    )
    settings = Settings()
    for filters in [Filters(), Filters(agent="codex"), Filters(since=date(2025, 9, 1))]:
        before = sessions_report(ledger, filters)
        add_session_insights(before, ledger, settings)
        assert _printed(sessions_report_with_insights(ledger, filters, settings)) == _printed(
            before
        )


def test_the_ledger_is_mapped_for_the_reports_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reports over many sessions map the ledger while they read (their page reads
    were system calls) and leave the connection as they found it."""
    from shared.insights import reporting

    ledger = _demo(tmp_path)
    ledger.conn.execute("PRAGMA mmap_size = 4096")
    seen: list[int] = []
    read = reporting.session_insights
    outcomes = reporting.session_outcomes_only

    def mapping() -> int:
        return int(ledger.conn.execute("PRAGMA mmap_size").fetchone()[0])

    def insights(*args: Any, **kwargs: Any) -> Any:
        seen.append(mapping())
        return read(*args, **kwargs)

    def outcomes_only(*args: Any, **kwargs: Any) -> Any:
        seen.append(mapping())
        return outcomes(*args, **kwargs)

    monkeypatch.setattr(reporting, "session_insights", insights)
    monkeypatch.setattr(reporting, "session_outcomes_only", outcomes_only)
    assert sessions_report_with_insights(ledger, Filters(), Settings())["sessions"]
    assert mapping() == 4096
    assert sessions_report(ledger, Filters())["sessions"]
    assert mapping() == 4096
    report = repos_report(ledger, Filters())
    assert mapping() == 4096
    add_commit_costs(report, ledger, Settings(), Filters())
    assert mapping() == 4096
    assert seen == [REPORT_MMAP_BYTES, REPORT_MMAP_BYTES]


def test_a_mapping_left_by_a_report_that_failed_mid_read_ends_with_the_next_report(
    tmp_path: Path,
) -> None:
    """A report that failed while a statement was open could not restore the mapping
    (SQLite keeps the size while statements are open); the next report took that size for
    the connection's own and restored it, so the connection stayed mapped for good."""
    ledger = _demo(tmp_path)
    # Pages read from the database file, where the mapping is (not from the WAL).
    ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cursors = []
    with pytest.raises(RuntimeError), LedgerMapped(ledger):
        cursors.append(ledger.conn.execute("SELECT * FROM usage_events"))
        cursors[0].fetchone()
        raise RuntimeError("a report failing mid-read")
    assert int(ledger.conn.execute("PRAGMA mmap_size").fetchone()[0]) == REPORT_MMAP_BYTES
    cursors.clear()
    assert sessions_report(ledger, Filters())["sessions"]
    assert int(ledger.conn.execute("PRAGMA mmap_size").fetchone()[0]) == 0


# What SQLite 3.54.1's `sum()` gives for these values in this order (compensated since
# 3.43), beside one-by-one addition (3.42 and earlier, this interpreter's 3.40).
SUMS_BY_SQLITE = [
    ([0.1] * 10, 1.0, 0.9999999999999999),
    ([0, 0.1, 0, 0.2, 0.3], 0.6, 0.6000000000000001),
    ([1e16, 1.0, -1e16], 1.0, 0.0),
    ([0.000135, 0.0002835, 0.00081, 0.0147645, 0.000135], 0.016128, 0.016128),
    ([0, 0], 0, 0),
]


@pytest.mark.parametrize(("values", "compensated", "one_by_one"), SUMS_BY_SQLITE)
@pytest.mark.parametrize("newer", [True, False])
def test_the_gathered_cost_is_summed_as_sqlite_sums_it(
    monkeypatch: pytest.MonkeyPatch,
    values: list[float],
    compensated: float,
    one_by_one: float,
    newer: bool,
) -> None:
    """The report's costs were SQLite's `sum()`s: summed in Python they are added as the
    running SQLite adds them, compensated from 3.43 on (a millionth apart otherwise)."""
    from shared.insights import activity

    monkeypatch.setattr(activity, "COMPENSATED_SUM", newer)
    sums: list[Any] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, False]
    for value in values:
        if newer:
            activity.add_cost(sums, value)
        else:
            sums[7] += value
    total = activity.range_cost(sums)
    expected = compensated if newer else one_by_one
    assert (repr(total), type(total)) == (repr(expected), type(expected))
