"""A small Claude Code history around "now", written as Claude Code writes it (counts,
models, tool names and paths only; no text), for the tray's tests and screenshots."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.paths import ledger_path
from shared.sources.roots import claude_roots
from tests.logfixtures import append, claude_call, iso, session_file

DAY_MS = 24 * 3600 * 1000
MODELS = ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5")
REPOS = ("burnmeter", "webshop", "infra-tools", "notebook")


def append_call(home: Path, session_id: str, cwd: str, ts_ms: int, n: int, **fields: Any) -> None:
    """Call `n` of a session (message id `m-SESSION-N`; `fields` as `claude_call` takes
    them) appended to its transcript under `home`."""
    append(
        session_file(home / ".claude" / "projects", cwd, session_id),
        claude_call(
            message_id=f"m-{session_id}-{n}", session_id=session_id, cwd=cwd, ts_ms=ts_ms, **fields
        ),
    )


def ingested_ledger() -> Ledger:
    """The isolated HOME's ledger, its Claude Code logs read."""
    ledger = open_ledger(ledger_path())
    ingest(ledger, claude_roots())
    return ledger


def write_session(
    projects: Path,
    *,
    session_id: str,
    cwd: str,
    start_ms: int,
    calls: int,
    model: str,
    step_ms: int = 60_000,
    input_tokens: int = 4000,
    output_tokens: int = 800,
) -> Path:
    path = session_file(projects, cwd, session_id)
    with path.open("a", encoding="utf-8") as handle:
        for n in range(calls):
            tool = (
                [(f"tool-{session_id}-{n}", "Edit", {"file_path": f"{cwd}/src/module_{n % 4}.py"})]
                if n % 3 == 0
                else [(f"tool-{session_id}-{n}", "Read", {"file_path": f"{cwd}/README.md"})]
            )
            handle.write(
                claude_call(
                    session_id=session_id,
                    message_id=f"msg-{session_id}-{n}",
                    cwd=cwd,
                    ts_ms=start_ms + n * step_ms,
                    model=model,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    cache_read=20_000,
                    tools=tool,
                )
            )
    return path


def write_history(home: Path, now_ms: int, *, days: int = 30, running: bool = True) -> Path:
    """Sessions on most of the last `days` days over a few repos and models, and (with
    `running`) one session whose last call was a minute ago. Returns the projects folder."""
    projects = home / ".claude" / "projects"
    rng = random.Random(7)
    for day in range(days, 0, -1):
        if rng.random() < 0.2:
            continue
        for k in range(rng.randint(1, 3)):
            repo = rng.choice(REPOS)
            write_session(
                projects,
                session_id=f"s-{day:02d}-{k}",
                cwd=f"/home/dev/src/{repo}",
                start_ms=now_ms - day * DAY_MS + k * 3_600_000,
                calls=rng.randint(5, 40),
                model=rng.choice(MODELS),
            )
    if running:
        write_session(
            projects,
            session_id="running-session",
            cwd="/home/dev/src/burnmeter",
            start_ms=now_ms - 25 * 60_000,
            calls=25,
            model="claude-opus-4-5",
        )
    return projects


def tool_error_line(*, session_id: str, cwd: str, ts_ms: int, tool_id: str) -> str:
    record = {
        "type": "user",
        "sessionId": session_id,
        "cwd": cwd,
        "timestamp": iso(ts_ms),
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_id, "is_error": True}],
        },
    }
    return json.dumps(record) + "\n"


def append_failing_loop(
    path: Path, *, session_id: str, cwd: str, start_ms: int, repeats: int = 6
) -> None:
    """The same Bash call failing `repeats` times in a row: a runaway loop."""
    with path.open("a", encoding="utf-8") as handle:
        for n in range(repeats):
            tool_id = f"loop-{session_id}-{start_ms}-{n}"
            handle.write(
                claude_call(
                    session_id=session_id,
                    message_id=f"loop-msg-{session_id}-{start_ms}-{n}",
                    cwd=cwd,
                    ts_ms=start_ms + n * 5_000,
                    model="claude-opus-4-5",
                    input_tokens=3000,
                    output_tokens=300,
                    tools=[(tool_id, "Bash", {"command": "make test"})],
                )
            )
            handle.write(
                tool_error_line(
                    session_id=session_id,
                    cwd=cwd,
                    ts_ms=start_ms + n * 5_000 + 1000,
                    tool_id=tool_id,
                )
            )
