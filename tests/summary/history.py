"""Write session logs the way Claude Code and Codex write them, into a fake home, for the
summary tests. Only counts, model names, tool names and paths; no text worth reading."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ClaudeSession:
    home: Path
    cwd: str
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        folder = self.home / ".claude" / "projects" / self.cwd.replace("/", "-")
        return folder / f"{self.session_id}.jsonl"

    def call(
        self,
        at: datetime,
        *,
        model: str = "claude-sonnet-4-5-20250929",
        input_tokens: int = 1000,
        output_tokens: int = 200,
        cache_write: int = 0,
        cache_read: int = 0,
        tools: list[tuple[str, dict[str, Any]]] | None = None,
        failing: bool = False,
    ) -> ClaudeSession:
        """One model call; `failing` answers each of its tool calls with an error."""
        content: list[dict[str, Any]] = [{"type": "text", "text": "..."}]
        tool_ids = []
        for name, tool_input in tools or []:
            tool_ids.append(f"toolu_{uuid.uuid4().hex[:20]}")
            content.append(
                {"type": "tool_use", "id": tool_ids[-1], "name": name, "input": tool_input}
            )
        self.lines.append(
            {
                "type": "assistant",
                "sessionId": self.session_id,
                "cwd": self.cwd,
                "gitBranch": "main",
                "timestamp": _iso(at),
                "requestId": f"req_{uuid.uuid4().hex[:16]}",
                "uuid": str(uuid.uuid4()),
                "message": {
                    "id": f"msg_{uuid.uuid4().hex[:16]}",
                    "model": model,
                    "role": "assistant",
                    "content": content,
                    "usage": {
                        "input_tokens": input_tokens,
                        "output_tokens": output_tokens,
                        "cache_creation_input_tokens": cache_write,
                        "cache_creation": {
                            "ephemeral_5m_input_tokens": cache_write,
                            "ephemeral_1h_input_tokens": 0,
                        },
                        "cache_read_input_tokens": cache_read,
                    },
                },
            }
        )
        if failing:
            self.lines.append(
                {
                    "type": "user",
                    "sessionId": self.session_id,
                    "cwd": self.cwd,
                    "timestamp": _iso(at),
                    "message": {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": tool_id, "is_error": True}
                            for tool_id in tool_ids
                        ],
                    },
                }
            )
        return self

    def write(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8") as handle:
            for line in self.lines:
                handle.write(json.dumps(line) + "\n")
        return self.path


@dataclass
class CodexSession:
    home: Path
    cwd: str
    started: datetime
    model: str = "gpt-5.1-codex"
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    lines: list[dict[str, Any]] = field(default_factory=list)
    cumulative: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"), 0
        )
    )

    def __post_init__(self) -> None:
        self.lines.append(
            {
                "timestamp": _iso(self.started),
                "type": "session_meta",
                "payload": {
                    "id": self.session_id,
                    "cwd": self.cwd,
                    "timestamp": _iso(self.started),
                },
            }
        )
        self.lines.append(
            {
                "timestamp": _iso(self.started),
                "type": "turn_context",
                "payload": {"model": self.model, "cwd": self.cwd},
            }
        )

    def call(
        self,
        at: datetime,
        *,
        input_tokens: int = 2000,
        cached: int = 0,
        output_tokens: int = 300,
        reasoning: int = 0,
        primary_percent: float | None = None,
        secondary_percent: float | None = None,
    ) -> CodexSession:
        last = {
            "input_tokens": input_tokens,
            "cached_input_tokens": cached,
            "output_tokens": output_tokens,
            "reasoning_output_tokens": reasoning,
        }
        for key, value in last.items():
            self.cumulative[key] += value
        total = dict(self.cumulative)
        total["total_tokens"] = total["input_tokens"] + total["output_tokens"]
        payload: dict[str, Any] = {
            "type": "token_count",
            "info": {
                "total_token_usage": total,
                "last_token_usage": {**last, "total_tokens": input_tokens + output_tokens},
            },
        }
        if primary_percent is not None:
            payload["rate_limits"] = {
                "primary": {"used_percent": primary_percent, "window_minutes": 300},
                "secondary": {"used_percent": secondary_percent or 0.0, "window_minutes": 10080},
                "plan_type": "plus",
            }
        self.lines.append({"timestamp": _iso(at), "type": "event_msg", "payload": payload})
        return self

    def write(self) -> Path:
        day = self.started.astimezone(UTC)
        folder = self.home / ".codex" / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"rollout-{day:%Y-%m-%dT%H-%M-%S}-{self.session_id}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for line in self.lines:
                handle.write(json.dumps(line) + "\n")
        return path
