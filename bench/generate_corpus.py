"""A deterministic synthetic history of Claude Code and Codex logs, for benchmarks and tests.

The files have the shapes of the real logs in ../shared/corpus/real (see its PROVENANCE.md):

Claude Code (`.claude/projects/<encoded-cwd>/<session>.jsonl`): a streamed reply is one
line per content block (thinking, text, tool_use), all with the same `message.id` and
`requestId` and the same prompt-side counts; only the last line carries the real
`output_tokens` (earlier ones hold a placeholder). Tool results come back on `user` lines
(`tool_result`, some with `is_error`) with a `toolUseResult` copy, as Claude Code writes
them. Cache writes are split 5m/1h (2.0.x: 5m, 2.1.x: 1h, 1.0.x: no split at all).
Subagents live in both layouts: `agent-<hex>.jsonl` beside the session (before 2.1.2) and
`<session>/subagents/agent-<id>.jsonl` with a `.meta.json`; some begin with a sidechain
copy of a main-thread message, which must count once. A few `<synthetic>` and API-error
lines cost nothing.

Codex (`.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`): `session_meta`, `turn_context`,
`response_item` reasoning / function_call / custom_tool_call `apply_patch` / outputs, and
`event_msg` `token_count` with the cumulative `total_token_usage`; about half of those are
re-emitted unchanged (with moving `rate_limits`), as Codex does.

All text is filler of realistic size (tool results and thinking of several KB). The
generator counts what a correct reader must find and writes it as `expected.json` beside
the home folder: per UTC day and model, the tokens of every model call.

    python -m bench.generate_corpus OUT_HOME --size 1GB --files 4000 --seed 1
    python -m bench.generate_corpus OUT_HOME --single-file 700MB
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson

CLAUDE = "claude-code"
CODEX = "codex"

# (version, cache split style): "1h" and "5m" write the split, "none" is the 1.0.x shape.
CLAUDE_VERSIONS = (
    ("1.0.128", "none"),
    ("2.0.37", "5m"),
    ("2.0.76", "5m"),
    ("2.1.17", "5m"),
    ("2.1.42", "1h"),
    ("2.1.114", "1h"),
)
CLAUDE_MODELS = (
    ("claude-sonnet-4-5-20250929", 0.40),
    ("claude-opus-4-5-20251101", 0.20),
    ("claude-opus-4-6", 0.15),
    ("claude-haiku-4-5-20251001", 0.10),
    ("claude-sonnet-4-20250514", 0.10),
    ("claude-opus-4-1-20250805", 0.05),
)
# Context beyond this is compacted, as the agents do, so cache reads stay realistic.
CONTEXT_LIMIT = 160_000
SUBAGENT_MODEL = "claude-haiku-4-5-20251001"
CODEX_MODELS = (("gpt-5.3-codex", 0.6), ("gpt-5.2-codex", 0.3), ("gpt-5.1-codex-mini", 0.1))
CODEX_VERSIONS = ("0.98.0", "0.104.0-alpha.1", "0.110.0")

REPOS = (
    "payments-api",
    "web-dashboard",
    "ml-pipeline",
    "infra-terraform",
    "mobile-app",
    "docs-site",
    "cli-tools",
    "data-warehouse",
    "auth-service",
    "search-indexer",
)
SOURCE_DIRS = ("src", "src/core", "src/api", "lib", "tests", "app/models", "app/views", "pkg")
SOURCE_EXTS = (".py", ".ts", ".tsx", ".go", ".rs", ".md", ".toml", ".sql")
_TEXT = (
    "the function returns a value when the request handler reads config from the cache and "
    "then writes the result into the ledger table while tests assert that every field keeps "
    "its type import export class struct impl async await yield match case return None "
    "error warning retry timeout buffer offset stream parser token model session budget "
    "def let const var fn pub mod use from import self this null true false"
)
WORDS = tuple(_TEXT.split(" "))
CLAUDE_TOOLS = (
    ("Read", 0.34),
    ("Edit", 0.18),
    ("Bash", 0.22),
    ("Grep", 0.12),
    ("Glob", 0.05),
    ("Write", 0.04),
    ("Task", 0.03),
    ("TodoWrite", 0.02),
)
CODEX_TOOLS = (("exec_command", 0.55), ("apply_patch", 0.30), ("update_plan", 0.05))


def parse_size(text: str) -> int:
    """`1GB`, `700MB`, `64k`, `12345` → bytes (powers of 1024)."""
    units = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "M": 1 << 20, "MB": 1 << 20}
    units |= {"G": 1 << 30, "GB": 1 << 30}
    cleaned = text.strip().upper()
    digits = cleaned.rstrip("KMGB")
    unit = cleaned[len(digits) :]
    if unit not in units or not digits:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1GB, 700MB, 64KB)")
    return int(float(digits) * units[unit])


# --------------------------------------------------------------------------- expected totals

FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
)


@dataclass
class Expected:
    """What a correct reader finds: tokens per (UTC day, agent, model), one model call once."""

    cells: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    def add(self, ts: datetime, agent: str, model: str, counts: tuple[int, ...]) -> None:
        key = (ts.strftime("%Y-%m-%d"), agent, model)
        cell = self.cells.setdefault(key, [0] * (len(FIELDS) + 1))
        for index, value in enumerate(counts):
            cell[index] += value
        cell[-1] += 1

    def to_json(self, params: dict[str, Any]) -> dict[str, Any]:
        days: dict[str, dict[str, Any]] = {}
        totals = _empty_row()
        per_agent: dict[str, dict[str, Any]] = {}
        for (day, agent, model), cell in sorted(self.cells.items()):
            row = days.setdefault(day, {"date": day, **_empty_row(), "models": {}})
            model_row = row["models"].setdefault(model, _empty_row())
            for target in (row, model_row, totals, per_agent.setdefault(agent, _empty_row())):
                _accumulate(target, cell)
        return {
            "generator": params,
            "timezone": "UTC",
            "files": self.files,
            "bytes": self.bytes,
            "daily": list(days.values()),
            "agents": per_agent,
            "totals": totals,
        }


def _empty_row() -> dict[str, Any]:
    return {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_write_tokens": 0,
        "cache_read_tokens": 0,
        "reasoning_tokens": 0,
        "total_tokens": 0,
        "calls": 0,
    }


def _accumulate(row: dict[str, Any], cell: list[int]) -> None:
    inp, out, w5, w1, read, reasoning, calls = cell
    row["input_tokens"] += inp
    row["output_tokens"] += out
    row["cache_write_tokens"] += w5 + w1
    row["cache_read_tokens"] += read
    row["reasoning_tokens"] += reasoning
    row["total_tokens"] += inp + out + w5 + w1 + read
    row["calls"] += calls


# --------------------------------------------------------------------------- filler text


class Filler:
    """Realistic-looking text of any length, cut from one pre-built pool (fast)."""

    def __init__(self, rng: random.Random, pool_chars: int = 1 << 20) -> None:
        parts: list[str] = []
        size = 0
        while size < pool_chars:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
            if rng.random() < 0.15:
                line = "    " + line + ' = "' + rng.choice(WORDS) + '"'
            if rng.random() < 0.05:
                line += " — naïve café ✓"
            parts.append(line)
            size += len(line) + 1
        pool = "\n".join(parts)
        self.pool = pool + pool  # a slice never wraps
        self.size = len(pool)
        self.rng = rng

    def text(self, chars: int) -> str:
        chars = max(1, min(chars, self.size))
        start = self.rng.randrange(self.size)
        return self.pool[start : start + chars]

    def token(self, chars: int = 40) -> str:
        """Base64-looking noise (signatures, encrypted content)."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        seed = "".join(self.rng.choice(alphabet) for _ in range(64))
        return (seed * (chars // 64 + 1))[:chars]


# --------------------------------------------------------------------------- helpers


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random() * sum(weight for _, weight in weighted)
    for name, weight in weighted:
        roll -= weight
        if roll <= 0:
            return name
    return weighted[-1][0]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _b58(rng: random.Random, chars: int) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(chars))


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _dump(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


@dataclass
class Project:
    name: str
    cwd: str
    branch: str
    files: list[str]

    @property
    def encoded(self) -> str:
        return self.cwd.replace("/", "-").replace(".", "-").replace("_", "-")


def _projects(rng: random.Random, user: str, count: int) -> list[Project]:
    projects = []
    for name in REPOS[:count]:
        cwd = f"/home/{user}/src/{name}"
        files = [
            f"{cwd}/{rng.choice(SOURCE_DIRS)}/{rng.choice(WORDS)}_{rng.choice(WORDS)}"
            f"{rng.choice(SOURCE_EXTS)}"
            for _ in range(rng.randint(12, 40))
        ]
        branch = rng.choice(("main", "main", "master", f"feature/{rng.choice(WORDS)}-fix"))
        projects.append(Project(name, cwd, branch, sorted(set(files))))
    return projects


class Clock:
    """Session time: every line moves it forward a little."""

    def __init__(self, start: datetime, rng: random.Random) -> None:
        self.now = start
        self.rng = rng

    def tick(self, low: float = 0.05, high: float = 3.0) -> datetime:
        self.now += timedelta(seconds=self.rng.uniform(low, high))
        return self.now

    def think(self) -> datetime:
        return self.tick(3.0, 90.0)


# --------------------------------------------------------------------------- Claude Code


@dataclass
class ClaudeSession:
    project: Project
    session_id: str
    version: str
    split: str
    model: str
    clock: Clock
    is_sidechain: bool = False
    agent_id: str | None = None
    context: int = 0
    last_uuid: str | None = None
    # Lines of the main thread a subagent file may begin with (replayed, counts once).
    replayable: list[bytes] = field(default_factory=list)


class AgentWriter:
    """What the Claude Code and Codex writers share: the random source, the filler text,
    the expected totals and the size scale."""

    def __init__(self, rng: random.Random, filler: Filler, expected: Expected, scale: float):
        self.rng = rng
        self.filler = filler
        self.expected = expected
        self.scale = scale

    def _size(self, low: int, high: int) -> int:
        """A text size drawn log-uniformly in [low, high], scaled for small histories."""
        value = math.exp(self.rng.uniform(math.log(low), math.log(high)))
        return max(8, int(value * self.scale))


class ClaudeWriter(AgentWriter):
    def _base(self, session: ClaudeSession, kind: str, ts: datetime) -> dict[str, Any]:
        line_uuid = _uuid(self.rng)
        record: dict[str, Any] = {
            "parentUuid": session.last_uuid,
            "isSidechain": session.is_sidechain,
            "userType": "external",
            "cwd": session.project.cwd,
            "sessionId": session.session_id,
            "version": session.version,
            "gitBranch": session.project.branch,
        }
        if session.agent_id:
            record["agentId"] = session.agent_id
        record["type"] = kind
        record["uuid"] = line_uuid
        record["timestamp"] = _iso(ts)
        session.last_uuid = line_uuid
        return record

    def _usage(
        self, session: ClaudeSession, fresh: int, output: int, new_context: int
    ) -> dict[str, Any]:
        read = session.context
        write = new_context
        usage: dict[str, Any] = {
            "input_tokens": fresh,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }
        if session.split == "1h":
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": 0,
                "ephemeral_1h_input_tokens": write,
            }
        elif session.split == "5m":
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": write,
                "ephemeral_1h_input_tokens": 0,
            }
        usage["output_tokens"] = output
        usage["service_tier"] = "standard"
        if session.split == "1h":
            usage["speed"] = "standard"
        return usage

    def _count(self, session: ClaudeSession, ts: datetime, usage: dict[str, Any]) -> None:
        write = usage["cache_creation_input_tokens"]
        w1h = write if session.split == "1h" else 0
        counts = (
            usage["input_tokens"],
            usage["output_tokens"],
            write - w1h,
            w1h,
            usage["cache_read_input_tokens"],
            0,
        )
        self.expected.add(ts, CLAUDE, session.model, counts)

    def prompt(self, session: ClaudeSession) -> bytes:
        record = self._base(session, "user", session.clock.think())
        record["message"] = {"role": "user", "content": self.filler.text(self._size(40, 1500))}
        record["promptId"] = _uuid(self.rng)
        return _dump(record)

    def call(self, session: ClaudeSession) -> tuple[bytes, list[tuple[str, str, dict[str, Any]]]]:
        """One model call: a streamed reply (one line per block) and the tool uses it made."""
        rng = self.rng
        message_id = f"msg_01{_b58(rng, 22)}"
        request_id = f"req_011C{_b58(rng, 18)}"
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.6:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": self.filler.text(self._size(200, 6000)),
                    "signature": self.filler.token(self._size(300, 2000)),
                }
            )
        if rng.random() < 0.75:
            blocks.append({"type": "text", "text": self.filler.text(self._size(30, 1200))})
        tools: list[tuple[str, str, dict[str, Any]]] = []
        for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
            name = _pick(rng, CLAUDE_TOOLS)
            tool_id = f"toolu_01{_b58(rng, 22)}"
            tool_input = self._tool_input(session, name)
            blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
            tools.append((tool_id, name, tool_input))
        if not blocks:
            blocks.append({"type": "text", "text": self.filler.text(self._size(30, 600))})
        output = rng.randint(20, 2500)
        fresh = rng.randint(1, 40)
        if session.context > CONTEXT_LIMIT:
            session.context = rng.randint(15000, 30000)  # compacted
        grow = rng.randint(200, 6000)
        if session.context == 0:
            grow += rng.randint(8000, 25000)
        placeholder_style = rng.random() < 0.5
        lines = []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            shown = output if last or not placeholder_style else rng.choice((1, 1, 3, 5))
            ts = session.clock.tick()
            record = self._base(session, "assistant", ts)
            usage = self._usage(session, fresh, shown, grow)
            record["message"] = {
                "model": session.model,
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": "tool_use" if tools else ("end_turn" if last else None),
                "stop_sequence": None,
                "usage": usage,
            }
            record["requestId"] = request_id
            # Keep the key order Claude Code writes: message before requestId and type.
            record["type"] = record.pop("type")
            record["uuid"] = record.pop("uuid")
            record["timestamp"] = record.pop("timestamp")
            line = _dump(record)
            lines.append(line)
            if last:
                self._count(session, ts, usage)
                if not session.is_sidechain and rng.random() < 0.3:
                    session.replayable.append(line)
        session.context += grow
        return b"".join(lines), tools

    def _tool_input(self, session: ClaudeSession, name: str) -> dict[str, Any]:
        rng = self.rng
        path = rng.choice(session.project.files)
        if name == "Read":
            return {"file_path": path}
        if name == "Edit":
            return {
                "file_path": path,
                "old_string": self.filler.text(self._size(20, 1200)),
                "new_string": self.filler.text(self._size(20, 1500)),
            }
        if name == "Write":
            return {"file_path": path, "content": self.filler.text(self._size(200, 8000))}
        if name == "Bash":
            command = rng.choice(
                (
                    "pytest -q",
                    "git status --short",
                    "npm test -- --watch=false",
                    f"rg -n {rng.choice(WORDS)} src",
                    "cargo build --release",
                    f"ls -la {os.path.dirname(path)}",
                )
            )
            return {"command": command, "description": self.filler.text(self._size(10, 80))}
        if name == "Grep":
            return {"pattern": rng.choice(WORDS), "path": session.project.cwd, "-n": True}
        if name == "Glob":
            return {"pattern": f"**/*{rng.choice(SOURCE_EXTS)}"}
        if name == "Task":
            return {
                "description": self.filler.text(self._size(20, 60)),
                "subagent_type": rng.choice(("Explore", "Plan", "general-purpose")),
                "prompt": self.filler.text(self._size(200, 2000)),
            }
        return {"todos": [{"content": self.filler.text(60), "status": "pending"}]}

    def results(
        self, session: ClaudeSession, tools: list[tuple[str, str, dict[str, Any]]]
    ) -> bytes:
        lines = []
        for tool_id, name, tool_input in tools:
            record = self._base(session, "user", session.clock.tick(0.2, 20.0))
            failed = self.rng.random() < 0.06
            if name == "Read":
                text = self.filler.text(self._size(800, 40000))
                result: Any = {
                    "type": "text",
                    "file": {
                        "filePath": tool_input["file_path"],
                        "content": text,
                        "numLines": text.count("\n") + 1,
                        "startLine": 1,
                        "totalLines": text.count("\n") + 1,
                    },
                }
            elif name == "Bash":
                text = self.filler.text(self._size(50, 12000))
                result = {"stdout": text, "stderr": "", "interrupted": False, "isImage": False}
            elif name == "Task":
                text = self.filler.text(self._size(500, 8000))
                result = {
                    "status": "completed",
                    "content": [{"type": "text", "text": text}],
                    "totalDurationMs": self.rng.randint(5000, 200000),
                    "totalTokens": self.rng.randint(5000, 90000),
                    "usage": {"input_tokens": 12, "output_tokens": self.rng.randint(100, 3000)},
                }
            else:
                text = self.filler.text(self._size(30, 3000))
                result = {"filePath": tool_input.get("file_path", ""), "text": text}
            if failed:
                text = f"<tool_use_error>Error: {self.filler.text(self._size(30, 300))}"
                result = f"Error: {text}"
            content: dict[str, Any] = {"tool_use_id": tool_id, "type": "tool_result"}
            content["content"] = text
            if failed:
                content["is_error"] = True
            record["message"] = {"role": "user", "content": [content]}
            record["toolUseResult"] = result
            lines.append(_dump(record))
        return b"".join(lines)

    def synthetic(self, session: ClaudeSession, api_error: bool) -> bytes:
        """`<synthetic>` and API-error lines: zero usage, cost nothing."""
        ts = session.clock.tick()
        record = self._base(session, "assistant", ts)
        record["message"] = {
            "id": _uuid(self.rng),
            "model": "<synthetic>",
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
            "content": [{"type": "text", "text": "API Error: 529 Overloaded" if api_error else ""}],
        }
        if api_error:
            record["isApiErrorMessage"] = True
        self.expected.add(ts, CLAUDE, "<synthetic>", (0, 0, 0, 0, 0, 0))
        return _dump(record)

    def noise(self, session: ClaudeSession) -> bytes:
        """Lines without usage that Claude Code writes between calls."""
        rng = self.rng
        ts = session.clock.tick()
        roll = rng.random()
        if roll < 0.3:
            message_id = _uuid(rng)
            return _dump(
                {
                    "type": "file-history-snapshot",
                    "messageId": message_id,
                    "snapshot": {
                        "messageId": message_id,
                        "trackedFileBackups": {},
                        "timestamp": _iso(ts),
                    },
                    "isSnapshotUpdate": False,
                }
            )
        if roll < 0.6:
            record = self._base(session, "system", ts)
            record["subtype"] = "stop_hook_summary"
            record["hookCount"] = 1
            record["hookInfos"] = [{"command": "scripts/notify.sh", "durationMs": 102}]
            record["level"] = "suggestion"
            return _dump(record)
        if roll < 0.8:
            record = self._base(session, "attachment", ts)
            record["attachment"] = {
                "type": "hook_success",
                "hookName": "SessionStart:startup",
                "content": "",
                "stdout": self.filler.text(self._size(20, 400)),
                "exitCode": 0,
            }
            return _dump(record)
        return _dump(
            {
                "type": "last-prompt",
                "lastPrompt": self.filler.text(120),
                "sessionId": session.session_id,
            }
        )

    def write_session(self, out: BinaryIO, session: ClaudeSession, budget: int) -> int:
        """Turns until about `budget` bytes are written; returns the bytes written."""
        written = 0
        if session.is_sidechain and session.replayable:
            # A subagent file may start with a copy of a main-thread reply: it counts once.
            chunk = b"".join(session.replayable[:2])
            out.write(chunk)
            written += len(chunk)
        first = True
        while written < budget or first:  # at least one turn, however small the budget
            first = False
            parts = [self.prompt(session)]
            for _ in range(self.rng.randint(1, 8)):
                reply, tools = self.call(session)
                parts.append(reply)
                if tools:
                    parts.append(self.results(session, tools))
                if self.rng.random() < 0.1:
                    parts.append(self.noise(session))
                roll = self.rng.random()
                if roll < 0.008:
                    parts.append(self.synthetic(session, api_error=roll < 0.004))
                if not tools:
                    break
            chunk = b"".join(parts)
            out.write(chunk)
            written += len(chunk)
        return written


# --------------------------------------------------------------------------- Codex


@dataclass
class CodexSession:
    project: Project
    session_id: str
    model: str
    clock: Clock
    cumulative: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    context: int = 0
    primary: float = 0.0
    secondary: float = 0.0


class CodexWriter(AgentWriter):
    def _line(self, ts: datetime, kind: str, payload: dict[str, Any]) -> bytes:
        return _dump({"timestamp": _iso(ts), "type": kind, "payload": payload})

    def _rate_limits(self, session: CodexSession, ts: datetime) -> dict[str, Any]:
        epoch = int(ts.timestamp())
        return {
            "limit_id": "codex",
            "limit_name": None,
            "primary": {
                "used_percent": round(session.primary, 1),
                "window_minutes": 300,
                "resets_at": epoch - epoch % 18000 + 18000,
            },
            "secondary": {
                "used_percent": round(session.secondary, 1),
                "window_minutes": 10080,
                "resets_at": epoch - epoch % 604800 + 604800,
            },
            "credits": {"has_credits": False, "unlimited": False, "balance": None},
            "plan_type": "pro",
        }

    def header(self, session: CodexSession, version: str) -> bytes:
        ts = session.clock.now
        return self._line(
            ts,
            "session_meta",
            {
                "id": session.session_id,
                "timestamp": _iso(ts),
                "cwd": session.project.cwd,
                "originator": "codex_cli_rs",
                "cli_version": version,
                "source": "cli",
                "model_provider": "openai",
                "base_instructions": {"text": self.filler.text(self._size(2000, 13000))},
                "git": {
                    "commit_hash": _hex(self.rng, 40),
                    "branch": session.project.branch,
                    "repository_url": f"git@github.com:example/{session.project.name}.git",
                },
            },
        ) + self._line(
            session.clock.tick(),
            "event_msg",
            {"type": "token_count", "info": None, "rate_limits": self._rate_limits(session, ts)},
        )

    def turn(self, session: CodexSession) -> bytes:
        rng = self.rng
        turn_id = _uuid(rng)
        ts = session.clock.think()
        parts = [
            self._line(ts, "event_msg", {"type": "task_started", "turn_id": turn_id}),
            self._line(
                ts,
                "event_msg",
                {"type": "user_message", "message": self.filler.text(self._size(30, 1200))},
            ),
            self._line(
                ts,
                "response_item",
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": self.filler.text(self._size(30, 1200))}
                    ],
                },
            ),
            self._line(
                ts,
                "turn_context",
                {
                    "turn_id": turn_id,
                    "cwd": session.project.cwd,
                    "approval_policy": "on-request",
                    "sandbox_policy": {"type": "workspace-write", "network_access": False},
                    "model": session.model,
                    "effort": rng.choice(("medium", "high", "xhigh")),
                    "summary": "auto",
                    "user_instructions": self.filler.text(self._size(200, 3000)),
                },
            ),
        ]
        for _ in range(rng.randint(1, 10)):
            parts.append(self.call(session))
            if rng.random() < 0.25:
                break
        ts = session.clock.tick()
        final = self.filler.text(self._size(100, 4000))
        parts.append(self._line(ts, "event_msg", {"type": "agent_message", "message": final}))
        parts.append(
            self._line(
                ts,
                "response_item",
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": final}],
                },
            )
        )
        parts.append(
            self._line(
                ts,
                "event_msg",
                {"type": "task_complete", "turn_id": turn_id, "last_agent_message": final[:200]},
            )
        )
        return b"".join(parts)

    def call(self, session: CodexSession) -> bytes:
        """One model call: reasoning, a tool call and its output, then token counts."""
        rng = self.rng
        parts = []
        ts = session.clock.tick(1.0, 30.0)
        summary = self.filler.text(self._size(30, 300))
        parts.append(self._line(ts, "event_msg", {"type": "agent_reasoning", "text": summary}))
        parts.append(
            self._line(
                ts,
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": summary}],
                    "content": None,
                    "encrypted_content": self.filler.token(self._size(800, 6000)),
                },
            )
        )
        tool = _pick(rng, CODEX_TOOLS) if rng.random() < 0.85 else None
        call_id = f"call_{_b58(rng, 24)}"
        if tool == "apply_patch":
            files = rng.sample(session.project.files, k=min(len(session.project.files), 2))
            patch = "*** Begin Patch\n"
            for path in files[: rng.randint(1, 2)]:
                relative = os.path.relpath(path, session.project.cwd)
                verb = rng.choice(("Update", "Update", "Update", "Add"))
                patch += f"*** {verb} File: {relative}\n@@\n"
                patch += "".join(
                    f"{rng.choice('+- ')}{line}\n"
                    for line in self.filler.text(self._size(200, 5000)).split("\n")
                )
            patch += "*** End Patch\n"
            parts.append(
                self._line(
                    ts,
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": "apply_patch",
                        "input": patch,
                    },
                )
            )
            output = orjson.dumps(
                {"output": "Success. Updated the following files:\n", "metadata": {"exit_code": 0}}
            ).decode()
            parts.append(
                self._line(
                    session.clock.tick(),
                    "response_item",
                    {"type": "custom_tool_call_output", "call_id": call_id, "output": output},
                )
            )
        elif tool is not None:
            if tool == "exec_command":
                arguments = orjson.dumps(
                    {
                        "cmd": rng.choice(("pytest -q", "cargo test", "rg -n TODO", "ls -la")),
                        "workdir": session.project.cwd,
                        "yield_time_ms": 10000,
                    }
                ).decode()
            else:
                arguments = orjson.dumps({"plan": [{"step": summary, "status": "pending"}]})
                arguments = arguments.decode()
            parts.append(
                self._line(
                    ts,
                    "response_item",
                    {
                        "type": "function_call",
                        "name": tool,
                        "arguments": arguments,
                        "call_id": call_id,
                    },
                )
            )
            code = 1 if rng.random() < 0.08 else 0
            text = (
                f"Chunk ID: {_hex(rng, 6)}\nWall time: {rng.uniform(0.1, 9):.4f} seconds\n"
                f"Process exited with code {code}\nOutput:\n"
                + self.filler.text(self._size(100, 20000))
            )
            parts.append(
                self._line(
                    session.clock.tick(0.1, 20.0),
                    "response_item",
                    {"type": "function_call_output", "call_id": call_id, "output": text},
                )
            )
        # The model call's usage, logged once, and about half the time re-emitted unchanged.
        if session.context > CONTEXT_LIMIT:
            session.context = rng.randint(15000, 30000)  # compacted
        grow = rng.randint(300, 9000) + (rng.randint(8000, 15000) if session.context == 0 else 0)
        prompt = session.context + grow
        cached = min(prompt, session.context - session.context % 128)
        output = rng.randint(30, 3000)
        reasoning = rng.randint(0, output)
        session.context = prompt
        last = [prompt, cached, output, reasoning]
        session.cumulative = [a + b for a, b in zip(session.cumulative, last, strict=True)]
        ts = session.clock.tick()
        counts = (prompt - cached, output, 0, 0, cached, reasoning)
        self.expected.add(ts, CODEX, session.model, counts)
        info = {
            "total_token_usage": _codex_usage(session.cumulative),
            "last_token_usage": _codex_usage(last),
            "model_context_window": 258400,
        }
        session.primary = min(100.0, session.primary + rng.uniform(0.0, 0.6))
        session.secondary = min(100.0, session.secondary + rng.uniform(0.0, 0.1))
        limits = self._rate_limits(session, ts)
        payload = {"type": "token_count", "info": info, "rate_limits": limits}
        parts.append(self._line(ts, "event_msg", payload))
        if rng.random() < 0.5:
            session.primary = min(100.0, session.primary + 1.0)
            payload = {
                "type": "token_count",
                "info": info,
                "rate_limits": self._rate_limits(session, ts),
            }
            parts.append(self._line(session.clock.tick(), "event_msg", payload))
        return b"".join(parts)

    def write_session(self, out: BinaryIO, session: CodexSession, budget: int) -> int:
        header = self.header(session, self.rng.choice(CODEX_VERSIONS))
        out.write(header)
        written = len(header)
        first = True
        while written < budget or first:  # at least one turn, however small the budget
            first = False
            chunk = self.turn(session)
            out.write(chunk)
            written += len(chunk)
        return written


def _codex_usage(values: list[int]) -> dict[str, int]:
    inp, cached, out, reasoning = values
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


# --------------------------------------------------------------------------- the plan


@dataclass
class FilePlan:
    agent: str
    budget: int
    subagents: list[int] = field(default_factory=list)  # budgets of subagent files


def _plan(rng: random.Random, target_bytes: int, files: int) -> list[FilePlan]:
    """Sessions and their sizes: heavy-tailed like real histories, summing to the target."""
    plans: list[FilePlan] = []
    count = 0
    while count < files:
        roll = rng.random()
        if roll < 0.28 or (files - count == 1 and roll < 0.5):
            plans.append(FilePlan(CODEX, 0))
            count += 1
            continue
        plan = FilePlan(CLAUDE, 0)
        count += 1
        while count < files and rng.random() < 0.22:
            plan.subagents.append(0)
            count += 1
        plans.append(plan)
    weights = [rng.lognormvariate(0.0, 1.1) for _ in range(count)]
    scale = target_bytes / sum(weights)
    sizes = iter(max(2048, int(weight * scale)) for weight in weights)
    for plan in plans:
        plan.budget = next(sizes)
        plan.subagents = [next(sizes) for _ in plan.subagents]
    return plans


def _session_starts(
    rng: random.Random, count: int, start: datetime, days: int
) -> Iterator[datetime]:
    """Start times spread over the days, in working hours, in chronological order."""
    starts = []
    for _ in range(count):
        day = rng.randrange(days)
        seconds = rng.uniform(8 * 3600, 20 * 3600)
        starts.append(start + timedelta(days=day, seconds=seconds))
    yield from sorted(starts)


def generate(
    home: Path,
    target_bytes: int,
    files: int,
    seed: int = 1,
    start_date: date | None = None,
    days: int = 30,
    *,
    text_scale: float = 1.0,
    projects: int = 6,
    user: str = "dev",
) -> dict[str, Any]:
    """Write a synthetic history under `home` (`.claude/` and `.codex/`) and
    `expected.json` beside it (`home.parent / "expected.json"`); returns the expected dict.

    `text_scale` shrinks or grows every filler text (small demo histories use ~0.05).
    """
    rng = random.Random(seed)
    filler = Filler(random.Random(seed + 1))
    expected = Expected()
    start_date = start_date or date(2026, 1, 5)
    start = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
    project_list = _projects(rng, user, projects)
    claude = ClaudeWriter(rng, filler, expected, text_scale)
    codex = CodexWriter(rng, filler, expected, text_scale)
    plans = _plan(rng, target_bytes, files)
    planned = 0
    for plan, started in zip(plans, _session_starts(rng, len(plans), start, days), strict=True):
        # Every file ends with a whole turn, so it overshoots its budget a little: the next
        # file pays that back and the history lands near the target size.
        overshoot = max(0, expected.bytes - planned)
        planned += plan.budget + sum(plan.subagents)
        plan.budget = max(2048, plan.budget - overshoot)
        project = rng.choice(project_list)
        clock = Clock(started, rng)
        if plan.agent == CODEX:
            _write_codex(home, codex, plan, project, clock, rng, expected)
        else:
            _write_claude(home, claude, plan, project, clock, rng, expected)
    params = {
        "target_bytes": target_bytes,
        "files": files,
        "seed": seed,
        "start_date": start_date.isoformat(),
        "days": days,
        "text_scale": text_scale,
    }
    result = expected.to_json(params)
    (home.parent / "expected.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def _finish(path: Path, clock: Clock, written: int, expected: Expected) -> None:
    stamp = clock.now.timestamp()
    os.utime(path, (stamp, stamp))
    expected.files += 1
    expected.bytes += written


def _write_codex(
    home: Path,
    writer: CodexWriter,
    plan: FilePlan,
    project: Project,
    clock: Clock,
    rng: random.Random,
    expected: Expected,
) -> None:
    started = clock.now
    session_id = _uuid(rng)
    folder = home / ".codex" / "sessions" / started.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{started.strftime('%Y-%m-%dT%H-%M-%S')}-{session_id}.jsonl"
    session = CodexSession(project, session_id, _pick(rng, CODEX_MODELS), clock)
    with open(path, "wb", buffering=1 << 20) as out:
        written = writer.write_session(out, session, plan.budget)
    _finish(path, clock, written, expected)


def _write_claude(
    home: Path,
    writer: ClaudeWriter,
    plan: FilePlan,
    project: Project,
    clock: Clock,
    rng: random.Random,
    expected: Expected,
) -> None:
    version, split = rng.choice(CLAUDE_VERSIONS)
    folder = home / ".claude" / "projects" / project.encoded
    folder.mkdir(parents=True, exist_ok=True)
    session = ClaudeSession(project, _uuid(rng), version, split, _pick(rng, CLAUDE_MODELS), clock)
    path = folder / f"{session.session_id}.jsonl"
    with open(path, "wb", buffering=1 << 20) as out:
        written = writer.write_session(out, session, plan.budget)
    _finish(path, clock, written, expected)
    new_layout = version >= "2.1.2"  # only compares the versions listed above
    for budget in plan.subagents:
        # A subagent runs inside the parent's span, on its own clock.
        span = max(1.0, (clock.now - _first_ts(path)).total_seconds())
        sub_clock = Clock(_first_ts(path) + timedelta(seconds=rng.uniform(0, span)), rng)
        if new_layout:
            agent_id = _hex(rng, 17)
            sub_folder = folder / session.session_id / "subagents"
            sub_folder.mkdir(parents=True, exist_ok=True)
            sub_path = sub_folder / f"agent-{agent_id}.jsonl"
            meta = {"agentType": "general-purpose", "description": "synthetic subagent"}
            (sub_folder / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))
        else:
            agent_id = _hex(rng, 8)
            sub_path = folder / f"agent-{agent_id}.jsonl"
        sub = ClaudeSession(
            project,
            session.session_id,
            version,
            split,
            SUBAGENT_MODEL if rng.random() < 0.6 else session.model,
            sub_clock,
            is_sidechain=True,
            agent_id=agent_id,
            replayable=session.replayable if rng.random() < 0.3 else [],
        )
        with open(sub_path, "wb", buffering=1 << 20) as out:
            written = writer.write_session(out, sub, budget)
        _finish(sub_path, sub_clock, written, expected)


def _first_ts(path: Path) -> datetime:
    with open(path, "rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            if isinstance(record, dict) and isinstance(record.get("timestamp"), str):
                return datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
    raise ValueError(f"no timestamp in {path}")


def generate_single_file(
    home: Path, target_bytes: int, seed: int = 1, start_date: date | None = None
) -> dict[str, Any]:
    """One long Claude Code session of about `target_bytes` (the bounded-memory case)."""
    rng = random.Random(seed)
    filler = Filler(random.Random(seed + 1))
    expected = Expected()
    start_date = start_date or date(2026, 1, 5)
    start = datetime(start_date.year, start_date.month, start_date.day, 9, tzinfo=UTC)
    project = _projects(rng, "dev", 1)[0]
    writer = ClaudeWriter(rng, filler, expected, 1.0)
    plan = FilePlan(CLAUDE, target_bytes)
    _write_claude(home, writer, plan, project, Clock(start, rng), rng, expected)
    params = {"single_file_bytes": target_bytes, "seed": seed, "start_date": start_date.isoformat()}
    result = expected.to_json(params)
    (home.parent / "expected.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate_corpus",
        description="Write a deterministic synthetic Claude Code + Codex history under OUT_HOME "
        "(use it as HOME) and expected.json beside it.",
    )
    parser.add_argument("home", type=Path, metavar="OUT_HOME")
    parser.add_argument("--size", type=parse_size, default=parse_size("1GB"))
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2026, 1, 5))
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--text-scale", type=float, default=1.0)
    parser.add_argument(
        "--single-file",
        type=parse_size,
        metavar="SIZE",
        help="instead: one Claude Code session file of this size",
    )
    args = parser.parse_args(argv)
    if args.home.exists() and any(args.home.iterdir()):
        parser.error(f"{args.home} is not empty; pick a new folder")
    args.home.mkdir(parents=True, exist_ok=True)
    if args.single_file:
        result = generate_single_file(args.home, args.single_file, args.seed, args.start_date)
    else:
        result = generate(
            args.home,
            args.size,
            args.files,
            args.seed,
            args.start_date,
            args.days,
            text_scale=args.text_scale,
        )
    totals = result["totals"]
    print(
        f"{result['files']} files, {result['bytes'] / 1e6:.1f} MB, {totals['calls']} calls, "
        f"{totals['total_tokens']} tokens → {args.home} (expected totals: "
        f"{args.home.parent / 'expected.json'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
