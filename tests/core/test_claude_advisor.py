"""Claude Code's advisor tool: the advisor model's call is written inside the line's
`message.usage.iterations` (type `advisor_message`, its own `model`) and is not in the
line's usage. Each such entry is a model call of the advisor's model; the other entries
(`message`, already in the line's usage; `fallback_message`, not billed) add nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.core.helpers import run_cli

MAIN = "claude-sonnet-4-6"
ADVISOR = "claude-opus-4-7"
ADVISED = {"input_tokens": 159_419, "output_tokens": 7_805, "cache_read_input_tokens": 1_200}


def _line(day: int, message_id: str, usage: dict[str, Any], **extra: Any) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "timestamp": f"2026-11-{day:02d}T12:00:00.000Z",
            "sessionId": f"session-{day}",
            "requestId": f"req-{message_id}",
            "cwd": "/home/dev/shop",
            "isSidechain": False,
            "message": {"id": message_id, "model": MAIN, "usage": usage},
            **extra,
        }
    )


def _write_history(home: Path) -> None:
    main_usage: dict[str, Any] = {
        "input_tokens": 2,
        "output_tokens": 491,
        "cache_read_input_tokens": 226_584,
        "cache_creation_input_tokens": 7_853,
    }
    iterations = [
        {"type": "message", "input_tokens": 1, "output_tokens": 45},
        {"type": "advisor_message", "model": ADVISOR, **ADVISED},
        {"type": "message", "input_tokens": 1, "output_tokens": 446},
    ]
    streamed_first = {**main_usage, "output_tokens": 12, "iterations": iterations}
    lines = [
        # A streamed reply: two lines of one call, both with the advisor's entry.
        _line(20, "msg_a", streamed_first, advisorModel=ADVISOR),
        _line(20, "msg_a", {**main_usage, "iterations": iterations}, advisorModel=ADVISOR),
        # A failed-over attempt is not billed: the line's usage is the whole call.
        _line(
            20,
            "msg_b",
            {
                "input_tokens": 10,
                "output_tokens": 100,
                "iterations": [
                    {"type": "fallback_message", "model": "claude-fable-5-1", "input_tokens": 10},
                    {"type": "message", "input_tokens": 10, "output_tokens": 100},
                ],
            },
        ),
        # The same counts as a plain call of the advisor's model, on a day of its own.
        json.dumps(
            {
                "type": "assistant",
                "timestamp": "2026-11-21T12:00:00.000Z",
                "sessionId": "session-21",
                "requestId": "req-c",
                "message": {"id": "msg_c", "model": ADVISOR, "usage": ADVISED},
            }
        ),
    ]
    folder = home / ".claude" / "projects" / "-home-dev-shop"
    folder.mkdir(parents=True)
    (folder / "session.jsonl").write_text("\n".join(lines) + "\n")


def _daily(*extra: str) -> dict[str, Any]:
    result = run_cli("report", "daily", "--json", "--tz", "UTC", *extra)
    assert result.returncode == 0, result.stderr
    return {row["date"]: row for row in json.loads(result.stdout)["daily"]}


def test_an_advisors_call_counts_as_a_call_of_its_own_model(isolated_home: Path) -> None:
    _write_history(isolated_home)
    days = _daily()
    advised_day, plain_day = days["2026-11-20"], days["2026-11-21"]
    assert set(advised_day["models"]) == {MAIN, ADVISOR}
    # The advisor's entry is priced and counted exactly as the same call made directly.
    assert advised_day["models"][ADVISOR] == plain_day["models"][ADVISOR]
    assert advised_day["models"][ADVISOR]["input_tokens"] == ADVISED["input_tokens"]
    assert advised_day["models"][ADVISOR]["cost_usd"] == pytest.approx(0.99282)  # $5 / $25 / $0.50
    # The main model keeps the line's own usage (two calls: msg_a once, msg_b), nothing of
    # the advisor's or of the failed-over attempt.
    main = advised_day["models"][MAIN]
    assert (main["input_tokens"], main["output_tokens"]) == (2 + 10, 491 + 100)
    assert advised_day["total_tokens"] == main["total_tokens"] + sum(ADVISED.values())

    sessions = run_cli("report", "sessions", "--json", "--no-insights")
    assert sessions.returncode == 0, sessions.stderr
    by_id = {row["session_id"]: row for row in json.loads(sessions.stdout)["sessions"]}
    assert sorted(by_id["session-20"]["models"]) == sorted([MAIN, ADVISOR])

    # Read again (nothing new), and after the file grows: the advisor's call counts once.
    assert _daily() == days
    with (isolated_home / ".claude/projects/-home-dev-shop/session.jsonl").open("a") as log:
        log.write(_line(22, "msg_d", {"input_tokens": 1, "output_tokens": 1}) + "\n")
    again = _daily()
    assert again["2026-11-20"] == advised_day and again["2026-11-21"] == plain_day


def test_an_advisor_consulted_while_editing_is_no_frontier_model_chatting(
    isolated_home: Path,
) -> None:
    """An advisor's call has no tools of its own: read as chat, the advisor's Opus spend in
    a Sonnet session that edits made a hint to move "chat" to a cheaper model, for a
    session already on one. It does the work of the call it was made in."""
    lines = []
    for n in range(4):
        usage = {
            "input_tokens": 3,
            "output_tokens": 300,
            "iterations": [
                {"type": "advisor_message", "model": ADVISOR, **ADVISED},
                {"type": "message", "input_tokens": 3, "output_tokens": 300},
            ],
        }
        record = json.loads(_line(20, f"msg_{n}", usage, advisorModel=ADVISOR))
        record["timestamp"] = f"2026-11-20T12:0{n}:00.000Z"
        record["message"]["content"] = [
            {"type": "tool_use", "id": f"toolu_{n}", "name": "Edit", "input": {"file_path": "a.py"}}
        ]
        lines.append(json.dumps(record))
    folder = isolated_home / ".claude" / "projects" / "-home-dev-shop"
    folder.mkdir(parents=True)
    (folder / "session.jsonl").write_text("\n".join(lines) + "\n")
    result = run_cli("report", "sessions", "--json")
    assert result.returncode == 0, result.stderr
    [session] = json.loads(result.stdout)["sessions"]
    assert session["cost_usd"] > 3  # four advisor calls of about $0.99 each
    assert session["tier"] == "frontier"
    assert session["hint"] is None
