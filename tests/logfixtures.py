"""Claude Code transcript lines for tests: the same shape the real logs have, no text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def claude_call(
    *,
    message_id: str,
    session_id: str,
    cwd: str,
    ts_ms: int,
    model: str = "claude-opus-4-7",
    input_tokens: int = 1000,
    output_tokens: int = 500,
    cache_read: int = 0,
    tools: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> str:
    """One assistant line; `tools` are (tool_id, name, input) tool_use blocks."""
    content: list[dict[str, Any]] = [
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


def session_file(projects: Path, cwd: str, session_id: str) -> Path:
    folder = projects / cwd.replace("/", "-")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{session_id}.jsonl"


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
