"""Runaway flags and tier hints, each rule on both sides of its threshold, through logs
written as Claude Code and Codex write them and the real ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Settings
from shared.ingest import ingest
from shared.insights.flags import new_flags
from shared.insights.sessions import SessionInsight, active_sessions, session_insights
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE, CODEX
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import ClaudeSession, CodexRollout, iso

MINUTE = 60_000
T0 = 1_790_000_000_000
CWD = "/home/dev/shop"


def _insights(home: Path, settings: Settings | None = None) -> dict[str, SessionInsight]:
    ledger = open_ledger(home / "ledger.sqlite")
    ingest(
        ledger,
        [
            LogRoot(CLAUDE, home / ".claude" / "projects"),
            LogRoot(CODEX, home / ".codex" / "sessions"),
        ],
    )
    return session_insights(ledger, settings or Settings(), with_outcomes=False)


def _kinds(insight: SessionInsight) -> list[str]:
    return [flag.kind for flag in insight.flags]


def _failing_bash(home: Path, sid: str, commands: list[str]) -> ClaudeSession:
    session = ClaudeSession(home / ".claude", sid, CWD)
    ts = T0
    for command in commands:
        ids = session.assistant(ts, tools=[("Bash", {"command": command})])
        session.tool_results(ts + 1000, ids, is_error=True)
        ts += MINUTE
    session.assistant(ts, tools=[("Bash", {"command": "ls"})])  # a success ends the stretch
    session.tool_results(ts + 1000, [], is_error=False)
    session.write()
    return session


def test_a_loop_within_a_minute_is_said_so(tmp_path: Path) -> None:
    """Failures seconds apart read "over under a minute"."""
    session = ClaudeSession(tmp_path / ".claude", "sess-fast", CWD)
    for k in range(6):
        ids = session.assistant(T0 + k * 5_000, tools=[("Bash", {"command": "npm test"})])
        session.tool_results(T0 + k * 5_000 + 1_000, ids, is_error=True)
    session.write()
    (flag,) = _insights(tmp_path)["sess-fast"].flags
    assert flag.evidence.startswith("Bash failed 6 times in a row with the same input (hash ")
    assert flag.evidence.endswith(") within a minute") and " over " not in flag.evidence


@pytest.mark.parametrize(("repeats", "flagged"), [(4, False), (5, True)])
def test_loop_same_failing_call(tmp_path: Path, repeats: int, flagged: bool) -> None:
    _failing_bash(tmp_path, "sess-loop", ["npm test"] * repeats)
    insight = _insights(tmp_path)["sess-loop"]
    assert _kinds(insight) == (["loop"] if flagged else [])
    if flagged:
        flag = insight.flags[0]
        assert f"Bash failed {repeats} times in a row with the same input" in flag.evidence
        # Cost inside the stretch: the failing calls, not the successful one after it.
        per_call = insight.cost_usd / (repeats + 1)
        assert flag.cost_usd == pytest.approx(per_call * repeats)
        assert flag.started_at.startswith("2026-09-21T")


@pytest.mark.parametrize(("errors", "flagged"), [(7, False), (8, True)])
def test_loop_consecutive_errors(tmp_path: Path, errors: int, flagged: bool) -> None:
    _failing_bash(tmp_path, "sess-errors", [f"cmd {k}" for k in range(errors)])
    insight = _insights(tmp_path)["sess-errors"]
    assert _kinds(insight) == (["loop"] if flagged else [])
    if flagged:
        assert f"{errors} tool calls failed in a row" in insight.flags[0].evidence


def test_a_loop_of_one_repeated_call_names_it_however_long(tmp_path: Path) -> None:
    """Ten identical failing calls read "10 tool calls failed in a row (Bash)", the
    repeated call no longer named, once the stretch reached the consecutive-errors count."""
    _failing_bash(tmp_path, "sess-ten", ["npm test"] * 10)
    (flag,) = _insights(tmp_path)["sess-ten"].flags
    assert "Bash failed 10 times in a row with the same input" in flag.evidence
    assert "among" not in flag.evidence


@pytest.mark.parametrize("repeats", [5, 6, 8])
def test_a_stretch_that_is_both_kinds_of_loop_is_one_flag(tmp_path: Path, repeats: int) -> None:
    """Two other failures, then the same call failing `repeats` times: at 8 failures in a
    row it was flagged twice (the summary counted the stretch's cost twice, the tray
    alerted twice); it is one flag, over the whole stretch, from its first failure."""
    _failing_bash(tmp_path, "sess-both", ["cargo build", "make"] + ["npm test"] * repeats)
    insight = _insights(tmp_path)["sess-both"]
    (flag,) = insight.flags
    assert flag.kind == "loop"
    assert "npm test" not in flag.evidence  # a hash, never the command
    if repeats + 2 >= 8:
        assert f"{repeats + 2} tool calls failed in a row (Bash)" in flag.evidence
        assert f"Bash {repeats} times with the same input" in flag.evidence
    else:
        assert f"Bash failed {repeats} times in a row with the same input" in flag.evidence
        assert f"among {repeats + 2} failing tool calls in a row" in flag.evidence
    per_call = insight.cost_usd / (repeats + 3)
    assert flag.cost_usd == pytest.approx(per_call * (repeats + 2))  # the whole stretch
    # Its key is the stretch's first failure, whatever it grows into: one tray alert.
    assert flag.started_at == iso(T0)


def test_codex_failing_shell_loop(tmp_path: Path) -> None:
    rollout = CodexRollout(tmp_path / ".codex", "019c0000-bbbb-7000-8000-000000000002", CWD, T0)
    for k in range(6):
        rollout.shell(T0 + k * MINUTE, ["cargo", "build"], exit_code=101)
        rollout.token_count(T0 + k * MINUTE + 500, 8000, 6000, 200)
    rollout.write()
    insight = _insights(tmp_path)[rollout.session_id]
    assert _kinds(insight) == ["loop"]
    assert "exec_command failed 6 times" in insight.flags[0].evidence
    # Each call's usage is logged just after its function call: the last call of the
    # stretch was left out of the flag's cost when the stretch ended at the last tool.
    assert insight.flags[0].cost_usd == pytest.approx(insight.cost_usd)


def test_a_loop_costs_every_call_of_its_stretch_when_text_streams_first(tmp_path: Path) -> None:
    """Claude Code writes a reply's text line seconds before its tool_use line (same
    message): the call is timed by the first, the tool by the second, and the stretch's
    first call fell outside the flag's cost."""
    import copy

    session = ClaudeSession(tmp_path / ".claude", "sess-streamed", CWD)
    for k in range(5):
        at = T0 + k * MINUTE
        ids = session.assistant(at + 4000, tools=[("Bash", {"command": "npm test"})])
        text_first = copy.deepcopy(session.lines[-1])
        text_first["timestamp"] = iso(at)
        text_first["message"]["content"] = text_first["message"]["content"][:1]
        text_first["message"]["usage"]["output_tokens"] = 1  # streaming: fewer tokens so far
        session.lines.insert(len(session.lines) - 1, text_first)
        session.tool_results(at + 5000, ids, is_error=True)
    session.write()
    insight = _insights(tmp_path)["sess-streamed"]
    assert _kinds(insight) == ["loop"]
    assert insight.flags[0].cost_usd == pytest.approx(insight.cost_usd)


@pytest.mark.parametrize(
    ("calls", "spacing_min", "flagged"), [(2, 3, False), (3, 11, False), (3, 3, True)]
)
def test_cache_churn(tmp_path: Path, calls: int, spacing_min: int, flagged: bool) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-churn", CWD)
    for k in range(calls):
        session.assistant(T0 + k * spacing_min * MINUTE, cache_write=80_000, cache_read=2_000)
    session.assistant(T0 + 40 * MINUTE, cache_write=1_000, cache_read=80_000)  # reuse: fine
    session.write()
    insight = _insights(tmp_path)["sess-churn"]
    assert _kinds(insight) == (["cache-churn"] if flagged else [])
    if flagged:
        assert "240,000 tokens written" in insight.flags[0].evidence


@pytest.mark.parametrize(
    ("calls", "edit_at", "flagged"), [(9, None, False), (10, 5, False), (10, None, True)]
)
def test_context_bloat(tmp_path: Path, calls: int, edit_at: int | None, flagged: bool) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-bloat", CWD)
    for k in range(calls):
        tools = (
            [("Edit", {"file_path": f"{CWD}/a.py"})]
            if k == edit_at
            else [("Read", {"file_path": f"{CWD}/f{k}.py"})]
        )
        session.assistant(T0 + k * MINUTE, cache_read=150_000 + k * 2_000, tools=tools)
    session.write()
    insight = _insights(tmp_path)["sess-bloat"]
    assert _kinds(insight) == (["context-bloat"] if flagged else [])


def test_new_flags_reports_only_what_is_new(tmp_path: Path) -> None:
    _failing_bash(tmp_path, "sess-live", ["make"] * 5)
    first = {sid: i.flags for sid, i in _insights(tmp_path).items()}
    assert [(sid, f.kind) for sid, f in new_flags({}, first)] == [("sess-live", "loop")]
    assert new_flags(first, first) == []


def test_active_sessions_polling(tmp_path: Path) -> None:
    _failing_bash(tmp_path, "sess-live", ["make"] * 3)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, tmp_path / ".claude" / "projects")])
    last_call = T0 + 3 * MINUTE
    assert active_sessions(ledger, now_ms=last_call + 14 * MINUTE) == ["sess-live"]
    assert active_sessions(ledger, now_ms=last_call + 16 * MINUTE) == []
    live = active_sessions(ledger, now_ms=last_call + MINUTE)
    before = {
        sid: i.flags
        for sid, i in session_insights(ledger, Settings(), live, with_outcomes=False).items()
    }
    assert before == {"sess-live": []}


def _reader_session(home: Path, model: str, calls: int, edits: int = 0) -> None:
    session = ClaudeSession(home / ".claude", "sess-hint", CWD)
    for k in range(calls):
        tool = (
            ("Edit", {"file_path": f"{CWD}/a.py"}) if k < edits else ("Grep", {"pattern": "TODO"})
        )
        session.assistant(
            T0 + k * MINUTE,
            model,
            input_tokens=1_000,
            output_tokens=2_000,
            cache_write=10_000,
            cache_read=100_000,
            tools=[tool],
        )
    session.write()


# Per call at Haiku 5.5, the economy reference model, at its rates above 100,000 input
# tokens (the call's 111,000: $0.50 in, $2.50 out, $0.05 cache read, $0.625 5-minute cache
# write per million): 1,000 in + 2,000 out + 100,000 read + 10,000 written.
HAIKU_PER_CALL = (1_000 * 0.5 + 2_000 * 2.5 + 100_000 * 0.05 + 10_000 * 0.625) / 1e6
# The same at Opus 4.5 ($5 / $25 / $0.50 / $6.25).
OPUS_PER_CALL = (1_000 * 5.0 + 2_000 * 25.0 + 100_000 * 0.50 + 10_000 * 6.25) / 1e6


def test_hint_reprices_explore_calls_at_the_economy_model(tmp_path: Path) -> None:
    _reader_session(tmp_path, "claude-opus-4-5-20251101", calls=10)
    insight = _insights(tmp_path)["sess-hint"]
    assert insight.tier == "frontier"
    hint = insight.hint
    assert hint is not None
    assert (hint.suggested_tier, hint.suggested_model) == ("economy", "claude-haiku-5-5")
    assert hint.counterfactual_cost_usd == pytest.approx(10 * HAIKU_PER_CALL)
    assert hint.saving_usd == pytest.approx(10 * (OPUS_PER_CALL - HAIKU_PER_CALL))
    assert "100% of this session's $1.67 frontier spend went to 10 calls" in hint.reason
    assert hint.as_json()["suggested_model"] == "claude-haiku-5-5"


def test_no_hint_below_the_frontier_spend_threshold(tmp_path: Path) -> None:
    _reader_session(tmp_path, "claude-opus-4-5-20251101", calls=5)  # $0.84 < $1.00
    assert _insights(tmp_path)["sess-hint"].hint is None
    cheaper = Settings.model_validate({"insights": {"hint_min_frontier_cost_usd": 0.5}})
    assert _insights(tmp_path, cheaper)["sess-hint"].hint is not None


def test_no_hint_when_most_frontier_spend_made_changes(tmp_path: Path) -> None:
    _reader_session(tmp_path / "a", "claude-opus-4-5-20251101", calls=10, edits=6)  # 40%
    assert _insights(tmp_path / "a")["sess-hint"].hint is None
    _reader_session(tmp_path / "b", "claude-opus-4-5-20251101", calls=10, edits=5)  # 50%
    assert _insights(tmp_path / "b")["sess-hint"].hint is not None


def _priced_session(home: Path, calls: int, edits: int, output_tokens: int) -> None:
    """Opus 4.5 calls with output only ($25 per million), the first `edits` of them edits."""
    session = ClaudeSession(home / ".claude", "sess-edge", CWD)
    for k in range(calls):
        tool = ("Edit", {"file_path": f"{CWD}/a.py"}) if k < edits else ("Read", {"path": "x"})
        session.assistant(
            T0 + k * MINUTE,
            "claude-opus-4-5-20251101",
            input_tokens=0,
            output_tokens=output_tokens,
            tools=[tool],
        )
    session.write()


def test_hint_thresholds_met_exactly_despite_float_sums(tmp_path: Path) -> None:
    """Ten $0.10 calls add up to 0.9999999999999999 and five $0.33 calls of ten to a share
    of 0.49999999999999994: both meet the "at least $1" and "at least half" the README
    states, as the $1.00 and 50% shown do (the hint was missing)."""
    _priced_session(tmp_path / "a", calls=10, edits=0, output_tokens=4_000)  # $0.10 each
    hint = _insights(tmp_path / "a")["sess-edge"].hint
    assert hint is not None and "$1.00 frontier spend" in hint.reason
    _priced_session(tmp_path / "b", calls=10, edits=5, output_tokens=13_200)  # $0.33 each
    hint = _insights(tmp_path / "b")["sess-edge"].hint
    assert hint is not None and hint.reason.startswith("50% of this session's $3.30")


def test_no_hint_on_a_standard_tier_session(tmp_path: Path) -> None:
    _reader_session(tmp_path, "claude-sonnet-4-5-20250929", calls=20)
    insight = _insights(tmp_path)["sess-hint"]
    assert (insight.tier, insight.hint) == ("standard", None)


def test_codex_chat_on_frontier_model_suggests_the_openai_standard_model(tmp_path: Path) -> None:
    rollout = CodexRollout(
        tmp_path / ".codex", "019c0000-cccc-7000-8000-000000000003", CWD, T0, model="gpt-5.5"
    )
    for k in range(10):
        rollout.token_count(T0 + k * MINUTE, 100_000, 80_000, 3_000)
    rollout.write()
    hint = _insights(tmp_path)[rollout.session_id].hint
    assert hint is not None
    assert (hint.suggested_tier, hint.suggested_model) == ("standard", "gpt-6-sol")
    # gpt-6-sol: $2 in, $0.20 cached, $10 out per million; same cached share.
    expected = 10 * (20_000 * 2.0 + 80_000 * 0.2 + 3_000 * 10.0) / 1e6
    assert hint.counterfactual_cost_usd == pytest.approx(expected)


def test_mixed_tier(tmp_path: Path) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-mixed", CWD)
    session.assistant(T0, "claude-opus-4-5-20251101", output_tokens=10_000)  # $0.25
    session.assistant(T0 + MINUTE, "claude-sonnet-4-5-20250929", output_tokens=15_000)  # $0.225
    session.write()
    assert _insights(tmp_path)["sess-mixed"].tier == "mixed"
