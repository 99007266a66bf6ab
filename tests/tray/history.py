"""A small Claude Code history around "now", written as Claude Code writes it (counts,
models, tool names and paths only; no text), for the tray's tests and screenshots."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

DAY_MS = 24 * 3600 * 1000
MODELS = ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5")
REPOS = ("burnmeter", "webshop", "infra-tools", "notebook")


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def call_line(
    *,
    session_id: str,
    message_id: str,
    cwd: str,
    ts_ms: int,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_read: int = 0,
    tools: list[tuple[str, str, dict[str, str]]] | None = None,
) -> str:
    content = [
        {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
        for tool_id, name, tool_input in tools or []
    ]
    record = {
        "type": "assistant",
        "sessionId": session_id,
        "cwd": cwd,
        "gitBranch": "main",
        "timestamp": iso(ts_ms),
        "requestId": f"req_{message_id}",
        "message": {
            "id": message_id,
            "model": model,
            "role": "assistant",
            "content": content,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cache_read,
            },
        },
    }
    return json.dumps(record) + "\n"


def session_path(projects: Path, cwd: str, session_id: str) -> Path:
    folder = projects / cwd.replace("/", "-")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{session_id}.jsonl"


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
    path = session_path(projects, cwd, session_id)
    with path.open("a", encoding="utf-8") as handle:
        for n in range(calls):
            tool = (
                [(f"tool-{session_id}-{n}", "Edit", {"file_path": f"{cwd}/src/module_{n % 4}.py"})]
                if n % 3 == 0
                else [(f"tool-{session_id}-{n}", "Read", {"file_path": f"{cwd}/README.md"})]
            )
            handle.write(
                call_line(
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
