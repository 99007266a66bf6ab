"""Writers for Claude Code and Codex log lines in the exact shapes of the real logs.

Key order, compact separators and field sets follow the files in ../shared/corpus/real:
Claude Code 2.1.x assistant lines (streamed: early lines without `speed`/`iterations`,
the last with them), the 1.0.x shape without the 5m/1h split, tool_result lines; Codex
0.104 rollouts (`session_meta`, `turn_context`, `event_msg` token_count with cumulative
and last usage plus `rate_limits`, `response_item` tool calls and outputs). Forked Codex
rollouts follow codex-rs `RolloutRecorder`: the child's own `session_meta`, then the
parent's history copied in one burst with every line re-stamped at the fork instant.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

BASE_TIME = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC)
_counter = itertools.count(1)


def iso(at: datetime | float) -> str:
    """`2026-03-10T09:00:00.000Z`; a number is seconds after BASE_TIME."""
    if not isinstance(at, datetime):
        at = BASE_TIME + timedelta(seconds=at)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


def new_id(prefix: str = "") -> str:
    return f"{prefix}{uuid.UUID(int=next(_counter) * 7919 + 1_000_003)}"


def write_lines(path: Path, lines: Iterable[bytes], *, append: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab" if append else "wb") as handle:
        for item in lines:
            handle.write(item)
    return path


# --- Claude Code -------------------------------------------------------------------------


def claude_usage(
    input_tokens: int,
    output_tokens: int,
    *,
    cache_read: int = 0,
    write_5m: int = 0,
    write_1h: int = 0,
    speed: str | None = "standard",
    shape: str = "final",
    web_searches: int = 0,
) -> dict[str, Any]:
    """`message.usage` as Claude Code writes it.

    shape "final": the last line of a streamed reply (2.1.x), with `server_tool_use`,
    `iterations` and `speed`; "early": an earlier streamed line (no `speed`); "legacy":
    1.0.x, no `cache_creation` split.
    """
    write_total = write_5m + write_1h
    if shape == "legacy":
        return {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": write_total,
            "cache_read_input_tokens": cache_read,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }
    split = {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h}
    if shape == "early":
        return {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": write_total,
            "cache_read_input_tokens": cache_read,
            "cache_creation": split,
            "output_tokens": output_tokens,
            "service_tier": "standard",
            "inference_geo": "not_available",
        }
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": write_total,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "server_tool_use": {"web_search_requests": web_searches, "web_fetch_requests": 0},
        "service_tier": "standard",
        "cache_creation": {
            "ephemeral_1h_input_tokens": write_1h,
            "ephemeral_5m_input_tokens": write_5m,
        },
        "inference_geo": "",
        "iterations": [
            {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": write_total,
                "cache_creation": split,
                "type": "message",
            }
        ],
    }
    if speed is not None:
        usage["speed"] = speed
    return usage


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def thinking_block(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": text, "signature": "EpAxClkIDBgCKkCkVvjux"}


def tool_use_block(tool_id: str, name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


@dataclass
class ClaudeSession:
    """One Claude Code transcript (or a subagent's, with `agent_id`)."""

    session_id: str
    cwd: str = "/home/dev/project"
    git_branch: str = "main"
    version: str = "2.1.114"
    agent_id: str | None = None
    lines: list[bytes] = field(default_factory=list)
    _parent: str | None = None

    @property
    def sidechain(self) -> bool:
        return self.agent_id is not None

    def _envelope(self, kind: str, at: float | datetime) -> dict[str, Any]:
        record: dict[str, Any] = {"parentUuid": self._parent, "isSidechain": self.sidechain}
        if self.agent_id:
            record["agentId"] = self.agent_id
        record["type"] = kind
        return record

    def _tail(self, record: dict[str, Any], at: float | datetime) -> bytes:
        record_uuid = new_id()
        record.update(
            {
                "uuid": record_uuid,
                "timestamp": iso(at),
                "userType": "external",
                "entrypoint": "cli",
                "cwd": self.cwd,
                "sessionId": self.session_id,
                "version": self.version,
                "gitBranch": self.git_branch,
            }
        )
        self._parent = record_uuid
        data = line(record)
        self.lines.append(data)
        return data

    def prompt(self, text: str, at: float | datetime) -> bytes:
        record = self._envelope("user", at)
        record["message"] = {"role": "user", "content": text}
        return self._tail(record, at)

    def tool_result(
        self, tool_use_id: str, output: str, at: float | datetime, *, is_error: bool = False
    ) -> bytes:
        record = self._envelope("user", at)
        block: dict[str, Any] = {"type": "tool_result", "content": output}
        if is_error:
            block["is_error"] = True
        block["tool_use_id"] = tool_use_id
        record["message"] = {"role": "user", "content": [block]}
        record["toolUseResult"] = ("Error: " if is_error else "") + output
        return self._tail(record, at)

    def reply(
        self,
        at: float | datetime,
        blocks: list[dict[str, Any]],
        usage: dict[str, Any],
        *,
        model: str = "claude-opus-4-7",
        message_id: str | None = None,
        request_id: str | None = "auto",
        early_output: int = 3,
        api_error: bool = False,
    ) -> list[bytes]:
        """A streamed reply: one line per content block, same ids, prompt-side counts equal
        on all, placeholder `output_tokens` on all but the last line."""
        message_id = message_id or new_id("msg_")
        if request_id == "auto":
            request_id = new_id("req_")
        written = []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            if last:
                block_usage = usage
            else:
                block_usage = claude_usage(
                    usage["input_tokens"],
                    early_output,
                    cache_read=usage["cache_read_input_tokens"],
                    write_5m=usage.get("cache_creation", {}).get(
                        "ephemeral_5m_input_tokens", usage["cache_creation_input_tokens"]
                    ),
                    write_1h=usage.get("cache_creation", {}).get("ephemeral_1h_input_tokens", 0),
                    shape="legacy" if "cache_creation" not in usage else "early",
                )
            record = self._envelope("assistant", at)
            del record["type"]
            record["message"] = {
                "model": model,
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": "tool_use" if last and block["type"] == "tool_use" else None,
                "stop_sequence": None,
                "usage": block_usage,
            }
            if request_id is not None:
                record["requestId"] = request_id
            record["type"] = "assistant"
            if api_error:
                record["isApiErrorMessage"] = True
            written.append(self._tail(record, at))
        return written

    def write(self, path: Path) -> Path:
        return write_lines(path, self.lines)


def claude_replies(
    session_id: str, cwd: str, outputs: list[int], *, cache_read: int = 0
) -> ClaudeSession:
    """A session of one-block replies, a second apart, with these output counts (10 input
    tokens each)."""
    session = ClaudeSession(session_id, cwd=cwd)
    for index, output in enumerate(outputs):
        session.reply(index + 1, [text_block("x")], claude_usage(10, output, cache_read=cache_read))
    return session


def padded_to(line: bytes, length: int) -> bytes:
    """`line` (a JSON object) made exactly `length` bytes long with spaces before its `}`."""
    body = line.rstrip(b"\n")
    assert len(body) + 1 <= length
    return body[:-1] + b" " * (length - len(body) - 1) + b"}\n"


def claude_project_dir(config_dir: Path, cwd: str) -> Path:
    return config_dir / "projects" / cwd.replace("/", "-").replace(".", "-")


# --- Codex ---------------------------------------------------------------------------------

RATE_LIMITS = {
    "limit_id": "codex",
    "limit_name": None,
    "primary": {"used_percent": 12.0, "window_minutes": 300, "resets_at": 1773150000},
    "secondary": {"used_percent": 34.0, "window_minutes": 10080, "resets_at": 1773600000},
    "credits": {"has_credits": False, "unlimited": False, "balance": None},
    "plan_type": "plus",
}


def codex_usage(input_tokens: int, cached: int, output: int, reasoning: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "reasoning_output_tokens": reasoning,
        "total_tokens": input_tokens + output,
    }


@dataclass
class CodexRollout:
    """One Codex rollout: tracks the cumulative `total_token_usage` as Codex does."""

    session_id: str
    started: float | datetime = 0.0
    cwd: str = "/home/dev/project"
    git_branch: str = "main"
    model: str = "gpt-5.3-codex"
    forked_from_id: str | None = None
    source: Any = "cli"
    lines: list[bytes] = field(default_factory=list)
    total: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def __post_init__(self) -> None:
        payload: dict[str, Any] = {"id": self.session_id}
        if self.forked_from_id:
            payload["forked_from_id"] = self.forked_from_id
        payload.update(
            {
                "timestamp": iso(self.started),
                "cwd": self.cwd,
                "originator": "codex_cli_rs",
                "cli_version": "0.104.0",
                "source": self.source,
                "model_provider": "openai",
                "base_instructions": {"text": "You are Codex."},
                "git": {
                    "commit_hash": "1cdfa7b17410e00cddbb7a4347336af2c6f80ee0",
                    "branch": self.git_branch,
                    "repository_url": "https://example.invalid/repo.git",
                },
            }
        )
        self.add("session_meta", payload, self.started)

    def add(self, kind: str, payload: dict[str, Any], at: float | datetime) -> bytes:
        data = line({"timestamp": iso(at), "type": kind, "payload": payload})
        self.lines.append(data)
        return data

    def turn(self, at: float | datetime, *, model: str | None = None) -> None:
        if model:
            self.model = model
        self.add(
            "turn_context",
            {
                "turn_id": new_id(),
                "cwd": self.cwd,
                "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write", "network_access": False},
                "model": self.model,
                "effort": "high",
                "summary": "auto",
            },
            at,
        )

    def user_message(self, text: str, at: float | datetime) -> None:
        self.add(
            "event_msg",
            {"type": "user_message", "message": text, "images": [], "local_images": []},
            at,
        )
        self.add(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
            at,
        )

    def agent_message(self, text: str, at: float | datetime) -> None:
        self.add("event_msg", {"type": "agent_message", "message": text}, at)

    def reasoning(self, text: str, at: float | datetime) -> None:
        self.add("event_msg", {"type": "agent_reasoning", "text": text}, at)
        self.add(
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": text}],
                "content": None,
                "encrypted_content": "gAAAAABo",
            },
            at,
        )

    def call(
        self,
        at: float | datetime,
        input_tokens: int,
        output: int,
        *,
        cached: int = 0,
        reasoning: int = 0,
        reemit: int = 1,
        rate_limits: dict[str, Any] | None = RATE_LIMITS,
    ) -> None:
        """One model call: the cumulative total grows by this call's usage; Codex then
        re-emits the unchanged total `reemit` more times."""
        last = codex_usage(input_tokens, cached, output, reasoning)
        for index, value in enumerate((input_tokens, cached, output, reasoning)):
            self.total[index] += value
        total = codex_usage(*self.total)
        for _ in range(1 + reemit):
            self.add(
                "event_msg",
                {
                    "type": "token_count",
                    "info": {
                        "total_token_usage": total,
                        "last_token_usage": last,
                        "model_context_window": 258400,
                    },
                    "rate_limits": rate_limits,
                },
                at,
            )

    def restart_total(self) -> None:
        """Older Codex resuming a session in the same rollout: the cumulative total starts
        again from 0 (the next `call` writes the new total); nothing is written now."""
        self.total = [0, 0, 0, 0]

    def recompute(self, at: float | datetime, estimated_total: int) -> None:
        """codex-rs `recompute_token_usage` after a compaction: the total as it stands (all
        zeros when the session holds no usage yet), `last_token_usage` zeros but for an
        estimated `total_tokens`."""
        last = codex_usage(0, 0, 0, 0)
        last["total_tokens"] = estimated_total
        self.add(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": codex_usage(*self.total),
                    "last_token_usage": last,
                    "model_context_window": 258400,
                },
                "rate_limits": None,
            },
            at,
        )

    def rate_limits_only(self, at: float | datetime, limits: dict[str, Any]) -> None:
        self.add("event_msg", {"type": "token_count", "info": None, "rate_limits": limits}, at)

    def function_call(
        self, at: float | datetime, name: str, arguments: dict[str, Any], call_id: str
    ) -> None:
        self.add(
            "response_item",
            {
                "type": "function_call",
                "name": name,
                "arguments": orjson.dumps(arguments).decode(),
                "call_id": call_id,
            },
            at,
        )

    def custom_tool_call(self, at: float | datetime, name: str, text: str, call_id: str) -> None:
        self.add(
            "response_item",
            {
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call_id,
                "name": name,
                "input": text,
            },
            at,
        )

    def exec_output(self, at: float | datetime, call_id: str, output: str, exit_code: int) -> None:
        """`exec_command` output as Codex 0.10x writes it."""
        self.add(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": f"Chunk ID: 1a2b\nWall time: 0.1 seconds\n"
                f"Process exited with code {exit_code}\nOutput:\n{output}",
            },
            at,
        )

    def shell_output(self, at: float | datetime, call_id: str, output: str, exit_code: int) -> None:
        """Older `shell` tool output: a JSON string with metadata.exit_code."""
        self.add(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": orjson.dumps(
                    {
                        "output": output,
                        "metadata": {"exit_code": exit_code, "duration_seconds": 0.1},
                    }
                ).decode(),
            },
            at,
        )

    def custom_output(self, at: float | datetime, call_id: str, output: str) -> None:
        self.add(
            "response_item",
            {"type": "custom_tool_call_output", "call_id": call_id, "output": output},
            at,
        )

    def copy_history_from(self, parent: CodexRollout, at: float | datetime) -> None:
        """Codex forks: the parent's whole rollout (its session_meta first) re-stamped at
        the fork instant, a millisecond apart, written in one burst."""
        start = at if isinstance(at, datetime) else BASE_TIME + timedelta(seconds=at)
        for index, raw in enumerate(parent.lines):
            record = orjson.loads(raw)
            record["timestamp"] = iso(start + timedelta(milliseconds=index % 40))
            self.lines.append(line(record))
        self.total = list(parent.total)

    def copy_history_keeping_times(self, parent: CodexRollout) -> None:
        """Codex's spawned subagents (and forks, in newer versions): the parent's rollout
        (its session_meta first) copied line for line, each keeping its original time."""
        self.lines.extend(parent.lines)
        self.total = list(parent.total)

    def paginate(self, first_own_ordinal: int) -> None:
        """As paginated rollouts are written: every record numbered (`ordinal`), and the
        header naming the first record that is the rollout's own (a fork's copy of its
        parent's history ends before it)."""
        records = [orjson.loads(raw) for raw in self.lines]
        records[0]["payload"]["subagent_history_start_ordinal"] = first_own_ordinal
        self.lines = [line({**record, "ordinal": n}) for n, record in enumerate(records)]

    def write(self, path: Path) -> Path:
        return write_lines(path, self.lines)


def codex_rollout_path(codex_home: Path, rollout: CodexRollout, folder: str = "sessions") -> Path:
    started = (
        rollout.started
        if isinstance(rollout.started, datetime)
        else BASE_TIME + timedelta(seconds=rollout.started)
    )
    name = f"rollout-{started.strftime('%Y-%m-%dT%H-%M-%S')}-{rollout.session_id}.jsonl"
    if folder == "archived_sessions":
        return codex_home / folder / name
    return codex_home / folder / started.strftime("%Y/%m/%d") / name


def codex_calls(session_id: str, calls: int) -> CodexRollout:
    """A rollout of one turn and `calls` calls of 1,000 input and 10 output tokens each."""
    rollout = CodexRollout(session_id, started=0)
    rollout.turn(1)
    for n in range(calls):
        rollout.call(2 + n, 1000, 10)
    return rollout


def apply_patch_text(*paths: tuple[str, str]) -> str:
    """A Codex apply_patch body; each item is (verb, path) with verb Add/Update/Delete."""
    body = ["*** Begin Patch"]
    for verb, path in paths:
        body.append(f"*** {verb} File: {path}")
        body.append("@@\n-old line\n+new line" if verb == "Update" else "+hello")
    body.append("*** End Patch")
    return "\n".join(body)


def zstd_compress(path: Path, target: Path) -> Path:
    import zstandard

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
    return target


def file_identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def write_history(home: Path, *, claude_sessions: int, codex_rollouts: int, turns: int) -> int:
    """A synthetic history of both agents for tests that need volume; returns its bytes."""
    written = 0
    tools = ["Read", "Edit", "Bash", "Grep", "Write"]
    for number in range(claude_sessions):
        cwd = f"/home/dev/repo{number % 7}"
        session = ClaudeSession(f"s-vol-{number:05d}", cwd=cwd)
        for turn in range(turns):
            at = number * 3600 + turn * 20
            session.prompt("prompt text " * 20, at)
            name = tools[turn % len(tools)]
            tool_input = (
                {"command": f"make t{turn}"} if name == "Bash" else {"file_path": f"src/m{turn}.py"}
            )
            session.reply(
                at + 1,
                [
                    thinking_block("thinking " * 30),
                    text_block("reply text " * 20),
                    tool_use_block(f"toolu_{number}_{turn}", name, tool_input),
                ],
                claude_usage(
                    3,
                    50 + turn,
                    cache_read=1000 * turn,
                    write_5m=40,
                    write_1h=turn,
                    web_searches=turn % 3,
                ),
            )
            session.tool_result(f"toolu_{number}_{turn}", "output " * 40, at + 2)
        path = session.write(
            claude_project_dir(home / ".claude", cwd) / f"s-vol-{number:05d}.jsonl"
        )
        written += path.stat().st_size
    for number in range(codex_rollouts):
        rollout = CodexRollout(f"019c-vol-{number:05d}", started=number * 3600)
        rollout.turn(number * 3600 + 1)
        for turn in range(turns):
            at = number * 3600 + turn * 20 + 2
            rollout.reasoning("reasoning " * 20, at)
            rollout.function_call(
                at, "exec_command", {"cmd": f"ls {turn}"}, f"call_{number}_{turn}"
            )
            rollout.exec_output(at + 1, f"call_{number}_{turn}", "listing " * 40, turn % 5 == 0)
            rollout.call(at + 2, 3000 + turn, 40 + turn, cached=2500, reasoning=turn, reemit=1)
        written += rollout.write(codex_rollout_path(home / ".codex", rollout)).stat().st_size
    return written
