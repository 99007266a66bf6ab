"""Counting and pricing rules of the core that no other test pinned down.

Each test here was written against a hand-made mutant of the production code (a flipped
comparison, a dropped term, a swapped field) that the rest of the suite let through; it
fails on that mutant and passes on the real code. Each docstring names the rule it pins.
Only observable behaviour is asserted: ledger rows, report JSON, prices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, period_report, sessions_report
from tests.core.helpers import events, ingest_env
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    line,
    text_block,
    thinking_block,
    write_lines,
)

CWD = "/home/dev/pinned"


def _claude_file(home: Path, name: str, cwd: str = CWD) -> Path:
    return claude_project_dir(home / ".claude", cwd) / name


def _ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


def _only_row(ledger: Ledger) -> dict[str, Any]:
    (row,) = events(ledger).values()
    return row


# --- Claude Code: what a line counts -------------------------------------------------------


def test_cache_writes_the_split_does_not_explain_count_at_the_5m_rate(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: `cache_creation_input_tokens` is the call's whole cache write; whatever its
    5m/1h split leaves unexplained is kept (as a 5m write), never dropped."""
    session = ClaudeSession("s-unexplained", cwd=CWD)
    usage = claude_usage(10, 20, write_5m=200, write_1h=300)
    usage["cache_creation_input_tokens"] = 1_000  # 500 more than the split says
    session.reply(1, [text_block("a")], usage)
    session.write(_claude_file(isolated_home, "s-unexplained.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    row = _only_row(ledger)
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (700, 300)
    assert row["total_tokens"] == 10 + 20 + 1_000
    totals = period_report(ledger, "daily", Filters())["totals"]
    assert totals["cache_write_tokens"] == 1_000


def test_one_message_id_under_two_request_ids_is_two_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: a Claude call is keyed by (`message.id`, `requestId`): the same message id
    under two request ids is two model calls, both counted."""
    session = ClaudeSession("s-two-requests", cwd=CWD)
    session.reply(
        1, [text_block("a")], claude_usage(100, 10), message_id="msg_x", request_id="req_1"
    )
    session.reply(
        2, [text_block("b")], claude_usage(200, 20), message_id="msg_x", request_id="req_2"
    )
    session.write(_claude_file(isolated_home, "s-two-requests.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    rows = events(ledger)
    assert len(rows) == 2
    totals = period_report(ledger, "daily", Filters())["totals"]
    assert (totals["input_tokens"], totals["output_tokens"]) == (300, 30)


def test_a_subagents_own_folder_and_branch_do_not_become_the_sessions(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: a session's project path is its earliest main-thread call's cwd and its branch
    its latest main-thread call's; a subagent (sidechain) call, often in a worktree of its
    own, counts only while the session has no main-thread call, even when it is earlier
    (project path) or later (branch) than every main-thread call."""
    main = ClaudeSession("s-owner", cwd=CWD, git_branch="main")
    main.reply(100, [text_block("main work")], claude_usage(10, 10))
    sub = ClaudeSession("s-owner", cwd="/tmp/worktree-a1", git_branch="agent-a1", agent_id="a1")
    sub.reply(50, [text_block("early sub work")], claude_usage(5, 5))
    sub.reply(200, [text_block("late sub work")], claude_usage(5, 5))
    main.write(_claude_file(isolated_home, "s-owner.jsonl"))
    sub.write(_claude_file(isolated_home, "s-owner/subagents/agent-a1.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (session,) = sessions_report(ledger, Filters())["sessions"]
    assert (session["project_path"], session["git_branch"]) == (CWD, "main")


def test_a_sidechain_only_session_takes_the_subagents_folder(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule (the other half of the one above): with no main-thread call at all, the
    subagent's cwd and branch are the session's."""
    sub = ClaudeSession("s-orphan", cwd="/tmp/worktree-b2", git_branch="agent-b2", agent_id="b2")
    sub.reply(50, [text_block("sub work")], claude_usage(5, 5))
    sub.write(_claude_file(isolated_home, "s-orphan/subagents/agent-b2.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (session,) = sessions_report(ledger, Filters())["sessions"]
    assert (session["project_path"], session["git_branch"]) == ("/tmp/worktree-b2", "agent-b2")


@pytest.mark.parametrize("final_first", [False, True])
def test_fast_wins_a_tie_between_readings_read_together(
    isolated_home: Path, tmp_path: Path, final_first: bool
) -> None:
    """Rule: of two readings of one call with the same token total, the one that says
    `speed: fast` is kept whichever comes first, also when both are read in the same
    ingest (early streamed lines carry no `speed`)."""
    session = ClaudeSession("s-tie", cwd=CWD)
    early, final = session.reply(
        1,
        [thinking_block("t"), text_block("x")],
        claude_usage(2, 49, cache_read=1_000, write_5m=285, speed="fast"),
        model="claude-opus-5",
        early_output=49,
    )
    assert b'"speed"' not in early
    ordered = (final, early) if final_first else (early, final)
    write_lines(_claude_file(isolated_home, "s-tie.jsonl"), ordered)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    row = _only_row(ledger)
    assert row["speed"] == "fast"
    # And it is priced as fast: twice the standard cost of the same tokens (claude-opus-5).
    standard = ClaudeSession("s-tie-std", cwd=CWD)
    standard.reply(
        1,
        [text_block("x")],
        claude_usage(2, 49, cache_read=1_000, write_5m=285),
        model="claude-opus-5",
    )
    standard.write(_claude_file(isolated_home, "s-tie-std.jsonl"))
    ingest_env(ledger)
    costs = {r["session_id"]: r["cost_usd"] for r in events(ledger).values()}
    assert costs["s-tie"] == pytest.approx(2 * costs["s-tie-std"])


def _reply_across_midnight() -> tuple[bytes, bytes]:
    """A streamed reply whose first line is written just before midnight UTC and whose
    final line (with the real output count) just after."""
    session = ClaudeSession("s-midnight", cwd=CWD)
    before = datetime(2026, 3, 10, 23, 59, 59, 500_000, tzinfo=UTC)
    after = datetime(2026, 3, 11, 0, 0, 0, 500_000, tzinfo=UTC)
    early, final = session.reply(
        before, [thinking_block("t"), text_block("x")], claude_usage(7, 700), early_output=3
    )
    record = orjson.loads(final)
    record["timestamp"] = after.strftime("%Y-%m-%dT%H:%M:%S.500Z")
    return early, line(record)


@pytest.mark.parametrize("split", ["together", "early_then_final", "final_then_early"])
def test_a_call_is_dated_by_its_earliest_reading(
    isolated_home: Path, tmp_path: Path, split: str
) -> None:
    """Rule: a call's time is its earliest reading's (a streamed reply's first line), so a
    reply that streams across midnight is counted, whole, on the day it started, whatever
    order and in however many ingests its lines are read."""
    early, final = _reply_across_midnight()
    path = _claude_file(isolated_home, "s-midnight.jsonl")
    ledger = _ledger(tmp_path)
    if split == "together":
        write_lines(path, [early, final])
    else:
        first, second = (early, final) if split == "early_then_final" else (final, early)
        write_lines(path, [first])
        ingest_env(ledger)
        write_lines(path, [second], append=True)
    ingest_env(ledger)
    report = period_report(ledger, "daily", Filters())
    assert [(day["date"], day["output_tokens"]) for day in report["daily"]] == [("2026-03-10", 700)]


# --- Codex ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logged", "counted"),
    [(True, 0), (False, 0), (250.0, 250), (2.5, 0), ("250", 0), (None, 0), (-250, 0)],
)
def test_a_token_count_is_a_positive_whole_number(
    isolated_home: Path, tmp_path: Path, logged: Any, counted: int
) -> None:
    """Rule: a token count is a positive whole number, `250.0` as JavaScript (which wrote
    the line) reads it; anything else (`true` too, which Python takes for 1 and counted so)
    counts as 0 and the call is kept."""
    session = ClaudeSession("s-odd-count", cwd=CWD)
    usage = claude_usage(10, 20, cache_read=30)
    usage["output_tokens"] = logged
    session.reply(1, [text_block("a")], usage)
    session.write(_claude_file(isolated_home, "s-odd-count.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    row = _only_row(ledger)
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (
        10,
        counted,
        30,
    )


@pytest.mark.parametrize("huge", [b"9223372036854775808", b"18446744073709551621", b"1e300"])
def test_a_count_beyond_any_real_one_makes_the_line_malformed(
    isolated_home: Path, tmp_path: Path, huge: bytes
) -> None:
    """Rule: no real count comes near 2**53; a line claiming one (as an integer, or one too
    big for 64 bits, which the JSON reader hands over as a float) is malformed, in both
    agents' logs: it was counted as 0 beyond 64 bits and rejected below."""
    sentinel = b"987654321"
    session = ClaudeSession("s-huge", cwd=CWD)
    session.reply(1, [text_block("ok")], claude_usage(10, 20))
    session.reply(2, [text_block("bad")], claude_usage(int(sentinel), 20))
    path = session.write(_claude_file(isolated_home, "s-huge.jsonl"))
    path.write_bytes(path.read_bytes().replace(sentinel, huge))
    rollout = CodexRollout("019c-huge", started=0)
    rollout.turn(1)
    rollout.call(2, 100, 10)
    rollout.call(3, 100, 10, reemit=0)
    path = rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    lines = path.read_bytes().splitlines(keepends=True)
    last = orjson.loads(lines[-1])
    last["payload"]["info"]["total_token_usage"]["output_tokens"] = int(sentinel)
    lines[-1] = orjson.dumps(last).replace(sentinel, huge) + b"\n"
    path.write_bytes(b"".join(lines))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    rejected = dict(
        ledger.conn.execute("SELECT agent, sum(rejected_lines) FROM sources GROUP BY agent")
    )
    assert rejected == {"claude-code": 1, "codex": 1}
    totals = period_report(ledger, "daily", Filters())["totals"]
    assert totals["output_tokens"] == 20 + 10


def test_codex_cached_input_beyond_the_input_is_capped_at_it(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: `cached_input_tokens` is part of `input_tokens`, so a call's non-cached input
    is input - cached and never negative: a reading claiming more cached than input counts
    all of its input as cached, nothing more."""
    rollout = CodexRollout("019c-overcached", started=0)
    rollout.turn(1)
    rollout.call(2, 100, 10, cached=150)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    row = _only_row(ledger)
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (0, 100, 10)
    totals = period_report(ledger, "daily", Filters())["totals"]
    assert (totals["input_tokens"], totals["cache_read_tokens"], totals["total_tokens"]) == (
        0,
        100,
        110,
    )


def test_a_replaced_rollout_is_read_again_as_a_new_file(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: a file whose inode changed is read again from the start as if new, with none
    of the old content's parser state: the new content's own `session_meta` names the
    session its calls belong to."""
    first = CodexRollout("019c-first", started=0, cwd="/home/dev/first")
    first.turn(1)
    first.call(2, 1_000, 10)
    path = first.write(codex_rollout_path(isolated_home / ".codex", first))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    second = CodexRollout("019c-second", started=0, cwd="/home/dev/second")
    second.turn(1)
    second.call(2, 2_000, 20)
    replacement = second.write(path.with_name("replacement.tmp"))
    replacement.replace(path)
    ingest_env(ledger)
    by_session = {row["session_id"]: row for row in sessions_report(ledger, Filters())["sessions"]}
    assert set(by_session) == {"019c-first", "019c-second"}
    assert by_session["019c-second"]["project_path"] == "/home/dev/second"
    assert by_session["019c-second"]["output_tokens"] == 20


# --- Timestamps and prices -----------------------------------------------------------------


def test_a_timestamp_without_an_offset_is_utc_whatever_the_machines_zone(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: a logged timestamp without an offset is UTC, not the machine's local time, so
    the ledger does not depend on where it was built."""
    import time

    from shared.sources.timeutil import iso_to_ms

    expected = int(datetime(2026, 4, 18, 13, 19, 11, 336_000, tzinfo=UTC).timestamp() * 1000)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert iso_to_ms("2026-04-18T13:19:11.336") == expected
        session = ClaudeSession("s-naive", cwd=CWD)
        (final,) = session.reply(1, [text_block("a")], claude_usage(3, 4))
        record = orjson.loads(final)
        record["timestamp"] = "2026-04-18T13:19:11.336"
        write_lines(_claude_file(isolated_home, "s-naive.jsonl"), [line(record)])
        ledger = _ledger(tmp_path)
        ingest_env(ledger)
        assert _only_row(ledger)["ts_ms"] == expected
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()


def test_a_dated_price_change_applies_from_its_first_millisecond() -> None:
    """Rule: a call is priced by the price in force at its time; genai-prices starts a new
    price at 00:00 UTC of its start date, so a call at that very millisecond already has
    the new price (claude-opus-4-6 lost its long-context tier on 2026-03-13)."""
    from shared.pricing import PriceBook
    from shared.sources.events import CLAUDE, UsageEvent

    change = int(datetime(2026, 3, 13, tzinfo=UTC).timestamp() * 1000)
    book = PriceBook()

    def cost_at(ts_ms: int) -> float:
        event = UsageEvent("k", CLAUDE, "s", ts_ms, "claude-opus-4-6", input_tokens=300_000)
        cost = book.cost(event)
        assert cost is not None
        return cost

    assert cost_at(change) == pytest.approx(300_000 * 5e-6)  # the new flat rate
    assert cost_at(change - 1) == pytest.approx(300_000 * 10e-6)  # the old long-context tier
    assert cost_at(change) == pytest.approx(cost_at(change + 60_000))


def test_a_codex_total_that_went_back_without_last_usage_counts_the_new_total(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: an older Codex that logs no `last_token_usage` and starts its cumulative total
    again (lower than before) made a call of the new total itself, never a negative
    change."""
    rollout = CodexRollout("019c-nolast", started=0)
    rollout.turn(1)
    rollout.call(2, 8_000, 50, cached=1_000, reasoning=5, reemit=0)
    rollout.restart_total()
    rollout.call(3, 3_000, 20, cached=500, reasoning=2, reemit=0)
    stripped = []
    for raw in rollout.lines:
        record = orjson.loads(raw)
        info = record["payload"].get("info")
        if isinstance(info, dict):
            info.pop("last_token_usage", None)
        stripped.append(line(record))
    write_lines(codex_rollout_path(isolated_home / ".codex", rollout), stripped)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    rows = sorted(events(ledger).values(), key=lambda row: row["ts_ms"])
    assert [(r["input_tokens"], r["cache_read_tokens"], r["output_tokens"]) for r in rows] == [
        (7_000, 1_000, 50),
        (2_500, 500, 20),
    ]
    totals = period_report(ledger, "daily", Filters())["totals"]
    assert (totals["output_tokens"], totals["reasoning_tokens"]) == (70, 7)


def _parent() -> CodexRollout:
    parent = CodexRollout("019c-pinned-parent", started=0)
    parent.turn(1)
    parent.call(10, 10_000, 500, cached=2_000, reasoning=100)
    parent.call(20, 12_000, 300, cached=9_000)
    return parent


def _numbered(lines: list[bytes]) -> list[bytes]:
    numbered = []
    for ordinal, raw in enumerate(lines):
        record = orjson.loads(raw)
        record["ordinal"] = ordinal
        numbered.append(line(record))
    return numbered


def test_a_forks_own_history_starts_at_the_start_ordinal_itself(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: in a paginated fork, `subagent_history_start_ordinal` is the ordinal of the
    fork's first own record: the record at that very ordinal is the fork's own (here its
    first model call), not part of the copied history."""
    parent = _parent()
    child = CodexRollout("019c-pinned-ord", started=400, forked_from_id=parent.session_id)
    header = orjson.loads(child.lines[0])
    header["payload"]["subagent_history_start_ordinal"] = len(parent.lines) + 1
    child.lines[0] = line(header)
    child.copy_history_from(parent, 400.001)
    child.call(400.003, 13_000, 250, cached=12_000)
    write_lines(codex_rollout_path(isolated_home / ".codex", child), _numbered(child.lines))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (row,) = events(ledger).values()
    assert (row["session_id"], row["input_tokens"], row["cache_read_tokens"]) == (
        "019c-pinned-ord",
        1_000,
        12_000,
    )
    assert row["output_tokens"] == 250


def test_a_pause_of_exactly_a_second_ends_a_forks_copied_history(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: a fork's copied history is one burst; a pause of a second or more (1000 ms
    included) between two records ends it, and what follows is the fork's own."""
    parent = _parent()
    child = CodexRollout("019c-pinned-gap", started=500, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 500.001)
    last_copied = orjson.loads(child.lines[-1])["timestamp"]
    at = datetime.fromisoformat(last_copied.replace("Z", "+00:00")) + timedelta(seconds=1)
    child.call(at, 13_000, 250, cached=12_000)
    child.write(codex_rollout_path(isolated_home / ".codex", child))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (row,) = events(ledger).values()
    assert (row["session_id"], row["input_tokens"], row["output_tokens"]) == (
        "019c-pinned-gap",
        1_000,
        250,
    )


def test_a_forks_copied_total_is_the_baseline_even_without_last_usage(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: a fork's copied history only sets the baseline of its cumulative total; the
    fork's calls are the change beyond it, also when its lines carry no
    `last_token_usage` to fall back on (the parent's spend is never counted again)."""
    parent = _parent()
    child = CodexRollout("019c-pinned-base", started=600, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 600.001)
    child.turn(600.05)
    child.call(607, 13_000, 250, cached=12_000, reasoning=40)
    stripped = []
    for raw in child.lines:
        record = orjson.loads(raw)
        info = record["payload"].get("info")
        if isinstance(info, dict):
            info.pop("last_token_usage", None)
        stripped.append(line(record))
    write_lines(codex_rollout_path(isolated_home / ".codex", child), stripped)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (row,) = events(ledger).values()
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (
        1_000,
        12_000,
        250,
    )
    assert row["reasoning_tokens"] == 40


# --- Reports -------------------------------------------------------------------------------


def _calls_at(home: Path, tmp_path: Path, *moments: datetime) -> Ledger:
    """One Claude call per moment, the n-th with n output tokens."""
    session = ClaudeSession("s-report", cwd=CWD)
    for number, at in enumerate(moments, start=1):
        session.reply(at, [text_block("x")], claude_usage(1, number))
    session.write(_claude_file(home, "s-report.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    return ledger


def test_the_models_report_cuts_since_and_until_at_local_midnight(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: `--since`/`--until` are whole days in the report's time zone for every report,
    the models report included: 23:30 UTC on 10 March is 11 March in Tokyo."""
    from zoneinfo import ZoneInfo

    from shared.reports import models_report

    ledger = _calls_at(isolated_home, tmp_path, datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    tokyo = ZoneInfo("Asia/Tokyo")
    day = datetime(2026, 3, 11).date()
    inside = models_report(ledger, Filters(since=day, until=day, tz=tokyo))
    assert inside["totals"]["output_tokens"] == 1
    before = day.replace(day=10)
    outside = models_report(ledger, Filters(since=before, until=before, tz=tokyo))
    assert outside["models"] == [] and outside["totals"]["output_tokens"] == 0


def test_weekly_rows_are_iso_weeks_labelled_with_the_iso_year(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: the weekly report groups by ISO week, labelled with the ISO week's own year:
    30 December 2025 belongs to 2026-W01, with 2 January 2026."""
    ledger = _calls_at(
        isolated_home,
        tmp_path,
        datetime(2025, 12, 28, 12, tzinfo=UTC),
        datetime(2025, 12, 30, 12, tzinfo=UTC),
        datetime(2026, 1, 2, 12, tzinfo=UTC),
    )
    weekly = period_report(ledger, "weekly", Filters())["weekly"]
    assert [(row["week"], row["output_tokens"]) for row in weekly] == [
        ("2025-W52", 1),
        ("2026-W01", 2 + 3),
    ]


@pytest.mark.parametrize(
    ("zone", "moment", "local_day"),
    [
        # 01:00 on 11 March at UTC+14 is still 10 March in UTC.
        ("Pacific/Kiritimati", datetime(2026, 3, 10, 11, tzinfo=UTC), "2026-03-11"),
        # 23:00 on 10 March at UTC-10 is already 11 March in UTC.
        ("Pacific/Honolulu", datetime(2026, 3, 11, 9, tzinfo=UTC), "2026-03-10"),
    ],
)
def test_a_one_day_range_finds_calls_whose_utc_day_differs(
    isolated_home: Path, tmp_path: Path, zone: str, moment: datetime, local_day: str
) -> None:
    """Rule: `--since D --until D` in a zone far from UTC counts every call of local day D,
    including those made on the UTC day before or after it."""
    from zoneinfo import ZoneInfo

    ledger = _calls_at(isolated_home, tmp_path, moment)
    day = datetime.fromisoformat(local_day).date()
    for period in ("daily", "weekly", "monthly"):
        report = period_report(ledger, period, Filters(since=day, until=day, tz=ZoneInfo(zone)))
        assert report["totals"]["output_tokens"] == 1, period
    daily = period_report(ledger, "daily", Filters(since=day, until=day, tz=ZoneInfo(zone)))
    assert [row["date"] for row in daily["daily"]] == [local_day]


def test_a_sessions_branch_is_its_latest_main_thread_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: a session's git branch is the one of its latest main-thread call (the user
    switched branches mid-session), also when both calls are read in one ingest."""
    session = ClaudeSession("s-branches", cwd=CWD, git_branch="feature-a")
    session.reply(1, [text_block("a")], claude_usage(1, 1))
    session.git_branch = "feature-b"
    session.reply(2, [text_block("b")], claude_usage(1, 1))
    session.write(_claude_file(isolated_home, "s-branches.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (row,) = sessions_report(ledger, Filters())["sessions"]
    assert row["git_branch"] == "feature-b"


def test_free_calls_stay_free_after_reprice(isolated_home: Path, tmp_path: Path) -> None:
    """Rule: `<synthetic>` and API-error lines cost nothing, at ingest and after
    `burnmeter reprice` alike."""
    from shared.commands.reprice_cmd import reprice
    from shared.pricing import PriceBook

    session = ClaudeSession("s-free", cwd=CWD)
    session.reply(1, [text_block("API Error: 500")], claude_usage(5_000, 10), api_error=True)
    session.reply(2, [text_block("ok")], claude_usage(5_000, 10))
    session.write(_claude_file(isolated_home, "s-free.jsonl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    ledger.conn.execute("UPDATE usage_events SET cost_usd = 1.0")
    reprice(ledger, PriceBook())
    error, ok = sorted(events(ledger).values(), key=lambda row: row["ts_ms"])
    assert error["cost_usd"] == 0.0 and error["priced"] == 1
    assert ok["cost_usd"] == pytest.approx(5_000 * 5e-6 + 10 * 25e-6)


def test_an_archive_rewritten_in_place_is_read_again(isolated_home: Path, tmp_path: Path) -> None:
    """Rule: a `.jsonl.zst` archive is read whole once; if it changes afterwards (same
    inode, new size or time: `zstd -f` over an older archive of a rollout that grew) it
    is read again from the start, and the calls it gained count."""
    import os

    from tests.core.logwriters import zstd_compress

    rollout = CodexRollout("019c-archived", started=0)
    rollout.turn(1)
    rollout.call(2, 1_000, 10)
    rollout.call(3, 2_000, 20)
    plain = rollout.write(tmp_path / "rollout.jsonl")
    archive = codex_rollout_path(isolated_home / ".codex", rollout, folder="archived_sessions")
    archive = zstd_compress(plain, archive.with_name(archive.name + ".zst"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert len(events(ledger)) == 2
    rollout.call(4, 3_000, 30)
    grown = zstd_compress(rollout.write(plain), tmp_path / "grown.jsonl.zst").read_bytes()
    inode = os.stat(archive).st_ino
    with open(archive, "r+b") as handle:  # rewritten in place, as `zstd -f` does
        handle.truncate(0)
        handle.write(grown)
    assert os.stat(archive).st_ino == inode
    ingest_env(ledger)
    totals = period_report(ledger, "daily", Filters())["totals"]
    assert (len(events(ledger)), totals["output_tokens"]) == (3, 60)


def test_a_codex_call_before_any_turn_context_is_priced_as_gpt_5(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule (README, Codex): early Codex versions logged usage without a `turn_context`
    naming the model; such a call is stored and priced as `gpt-5`, as ccusage does, and a
    later `turn_context` names the model of the calls after it."""
    rollout = CodexRollout("019c-nomodel", started=0)
    rollout.call(2, 8_000, 50, reemit=0)
    rollout.turn(3, model="gpt-5.3-codex")
    rollout.call(4, 1_000, 10, reemit=0)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    rows = sorted(events(ledger).values(), key=lambda row: row["ts_ms"])
    assert [(row["model"], row["input_tokens"]) for row in rows] == [
        ("gpt-5", 8_000),
        ("gpt-5.3-codex", 1_000),
    ]
    assert rows[0]["cost_usd"] > 0


def test_the_parents_thread_settings_inside_a_copied_history_do_not_end_the_copy(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rule: only the fork's own `thread_settings_applied` (its own thread id) ends the copy
    of the parent's history; the parent's, copied with its turns, is part of the copy, so
    the parent's calls after it are not counted again as the fork's."""
    parent = CodexRollout("019c-pinned-tsa-parent", started=0)
    parent.turn(1)
    parent.add("event_msg", {"type": "thread_settings_applied", "thread_id": parent.session_id}, 2)
    parent.call(10, 10_000, 500, cached=2_000)
    parent.call(20, 12_000, 300, cached=9_000)
    child = CodexRollout("019c-pinned-tsa", started=700, forked_from_id=parent.session_id)
    child.copy_history_from(parent, 700.001)
    child.add(
        "event_msg", {"type": "thread_settings_applied", "thread_id": child.session_id}, 700.05
    )
    child.turn(700.06)
    child.call(700.3, 13_000, 250, cached=12_000)
    child.write(codex_rollout_path(isolated_home / ".codex", child))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    (row,) = events(ledger).values()
    assert (row["session_id"], row["input_tokens"], row["cache_read_tokens"]) == (
        "019c-pinned-tsa",
        1_000,
        12_000,
    )
    assert row["output_tokens"] == 250
