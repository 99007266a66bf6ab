"""Write session logs the way Claude Code and Codex write them (shapes taken from the real
logs in ../shared/corpus/real), so insight tests go through the real ingest."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.sources.events import CLAUDE, CODEX
from shared.sources.roots import LogRoot

_ids = itertools.count(1)


def iso(ts_ms: int) -> str:
    stamp = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def _uid(prefix: str) -> str:
    return f"{prefix}{next(_ids):024d}"


@dataclass
class ClaudeSession:
    """A Claude Code transcript: `projects/<encoded cwd>/<session>.jsonl`."""

    claude_dir: Path
    session_id: str
    cwd: str
    version: str = "2.1.17"
    lines: list[dict[str, Any]] = field(default_factory=list)
    # A subagent's transcript: `<session>/subagents/agent-<id>.jsonl`, every line a
    # sidechain's.
    agent_id: str | None = None

    @property
    def path(self) -> Path:
        folder = self.claude_dir / "projects" / self.cwd.replace("/", "-")
        if self.agent_id is not None:
            return folder / self.session_id / "subagents" / f"agent-{self.agent_id}.jsonl"
        return folder / f"{self.session_id}.jsonl"

    def _base(self, ts_ms: int, kind: str) -> dict[str, Any]:
        return {
            "parentUuid": None,
            "isSidechain": self.agent_id is not None,
            **({} if self.agent_id is None else {"agentId": self.agent_id}),
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": "main",
            "type": kind,
            "uuid": _uid("uuid-"),
            "timestamp": iso(ts_ms),
        }

    def assistant(
        self,
        ts_ms: int,
        model: str = "claude-opus-4-5-20251101",
        *,
        input_tokens: int = 10,
        output_tokens: int = 200,
        cache_write: int = 0,
        cache_read: int = 0,
        tools: list[tuple[str, dict[str, Any]]] | None = None,
        sidechain: bool = False,
    ) -> list[str]:
        """One model call; returns the tool_use ids of `tools` [(name, input)]."""
        content: list[dict[str, Any]] = [{"type": "text", "text": "…"}]
        tool_ids = []
        for name, tool_input in tools or []:
            tool_id = _uid("toolu_")
            tool_ids.append(tool_id)
            content.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        record = self._base(ts_ms, "assistant")
        record["isSidechain"] = sidechain or self.agent_id is not None
        record["requestId"] = _uid("req_")
        record["message"] = {
            "model": model,
            "id": _uid("msg_"),
            "type": "message",
            "role": "assistant",
            "content": content,
            "stop_reason": "tool_use" if tools else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": cache_write,
                    "ephemeral_1h_input_tokens": 0,
                },
                "output_tokens": output_tokens,
                "service_tier": "standard",
            },
        }
        self.lines.append(record)
        return tool_ids

    def tool_results(self, ts_ms: int, tool_ids: list[str], is_error: bool = False) -> None:
        record = self._base(ts_ms, "user")
        record["message"] = {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": tool_id,
                    "content": "…",
                    "is_error": is_error,
                }
                for tool_id in tool_ids
            ],
        }
        self.lines.append(record)

    def write(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8") as handle:
            for line in self.lines:
                handle.write(json.dumps(line, separators=(",", ":")) + "\n")
        return self.path


@dataclass
class CodexRollout:
    """A Codex rollout: `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`."""

    codex_dir: Path
    session_id: str
    cwd: str
    start_ms: int
    model: str = "gpt-5.3-codex"
    lines: list[dict[str, Any]] = field(default_factory=list)
    _totals: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def __post_init__(self) -> None:
        self._add(
            self.start_ms,
            "session_meta",
            {
                "id": self.session_id,
                "timestamp": iso(self.start_ms),
                "cwd": self.cwd,
                "originator": "codex_cli_rs",
                "cli_version": "0.104.0",
                "source": "cli",
                "model_provider": "openai",
                "git": {"commit_hash": "0" * 40, "branch": "main"},
            },
        )
        self._add(
            self.start_ms,
            "turn_context",
            {"cwd": self.cwd, "approval_policy": "on-request", "model": self.model},
        )

    @property
    def path(self) -> Path:
        stamp = datetime.fromtimestamp(self.start_ms / 1000, UTC)
        folder = self.codex_dir / "sessions" / stamp.strftime("%Y/%m/%d")
        return folder / f"rollout-{stamp.strftime('%Y-%m-%dT%H-%M-%S')}-{self.session_id}.jsonl"

    def _add(self, ts_ms: int, kind: str, payload: dict[str, Any]) -> None:
        self.lines.append({"timestamp": iso(ts_ms), "type": kind, "payload": payload})

    def shell(self, ts_ms: int, command: list[str], exit_code: int = 0) -> None:
        call_id = _uid("call_")
        arguments = json.dumps({"cmd": command, "workdir": self.cwd})
        self._add(
            ts_ms,
            "response_item",
            {
                "type": "function_call",
                "name": "exec_command",
                "arguments": arguments,
                "call_id": call_id,
            },
        )
        output = f"Process exited with code {exit_code}\nOutput:\n…"
        self._add(
            ts_ms,
            "response_item",
            {"type": "function_call_output", "call_id": call_id, "output": output},
        )

    def apply_patch(self, ts_ms: int, files: list[str], output: str | None = None) -> None:
        """An apply_patch call; with `output`, Codex's answer to it a second later."""
        body = "".join(f"*** Update File: {name}\n@@\n-old\n+new\n" for name in files)
        call_id = _uid("call_")
        self._add(
            ts_ms,
            "response_item",
            {
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call_id,
                "name": "apply_patch",
                "input": f"*** Begin Patch\n{body}*** End Patch\n",
            },
        )
        if output is not None:
            self._add(
                ts_ms + 1000,
                "response_item",
                {"type": "custom_tool_call_output", "call_id": call_id, "output": output},
            )

    def token_count(
        self, ts_ms: int, input_tokens: int, cached: int, output: int, reasoning: int = 0
    ) -> None:
        """One model call: Codex logs the new cumulative total (and often repeats it)."""
        last = [input_tokens, cached, output, reasoning]
        self._totals = [a + b for a, b in zip(self._totals, last, strict=True)]
        names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
        total = dict(zip(names, self._totals, strict=True))
        total["total_tokens"] = self._totals[0] + self._totals[2]
        last_usage = dict(zip(names, last, strict=True))
        last_usage["total_tokens"] = input_tokens + output
        payload = {
            "type": "token_count",
            "info": {
                "total_token_usage": total,
                "last_token_usage": last_usage,
                "model_context_window": 258400,
            },
            "rate_limits": {
                "limit_id": "codex",
                "primary": {
                    "used_percent": 12.0,
                    "window_minutes": 300,
                    "resets_at": ts_ms // 1000 + 3600,
                },
                "secondary": {
                    "used_percent": 30.0,
                    "window_minutes": 10080,
                    "resets_at": ts_ms // 1000 + 86400,
                },
                "plan_type": "pro",
            },
        }
        self._add(ts_ms, "event_msg", payload)
        self._add(ts_ms + 5, "event_msg", payload)  # the unchanged re-emit Codex writes

    def write(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8") as handle:
            for line in self.lines:
                handle.write(json.dumps(line, separators=(",", ":")) + "\n")
        return self.path


def write_editing_session(home: Path, cwd: Path, files: list[str], sid: str, start_ms: int) -> None:
    """A Claude Code session in `cwd` that reads the first file at `start_ms`, then edits
    each file a minute apart."""
    session = ClaudeSession(home / ".claude", sid, str(cwd))
    session.assistant(start_ms, tools=[("Read", {"file_path": str(cwd / files[0])})])
    for k, name in enumerate(files):
        session.assistant(
            start_ms + (k + 1) * 60_000,
            tools=[("Edit", {"file_path": str(cwd / name), "old_string": "a", "new_string": "b"})],
        )
    session.write()


def ingest_home(home: Path) -> Ledger:
    """A ledger at `home`/ledger.sqlite with both agents' logs under `home` read into it."""
    ledger = open_ledger(home / "ledger.sqlite")
    ingest(
        ledger,
        [
            LogRoot(CLAUDE, home / ".claude" / "projects"),
            LogRoot(CODEX, home / ".codex" / "sessions"),
        ],
    )
    return ledger
