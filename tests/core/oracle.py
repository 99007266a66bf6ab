"""A deliberately naive reference for burnmeter's totals, written from DESIGN.md, the README's
"How totals stay right" and issue 2's "Reading the logs", not from `shared/sources` or
`shared/ingest`.

It finds the log files the way the docs say, reads every complete line with `json.loads`,
and sums tokens per (UTC day, model) and per session. It prices nothing itself: a call's
cost is burnmeter's `shared.pricing` unit prices applied to that one call's tokens, so a
difference in cost can only come from which calls are counted and with which tokens.

Rules (Claude Code):
- roots: every `CLAUDE_CONFIG_DIR` entry (a config dir or its `projects/`), else both
  `~/.config/claude` and `~/.claude`; every `*.jsonl` under `projects/`, symlinks followed;
  a file reached twice (two roots, a symlink) is read once (same real path);
- a line counts when `message.usage` has `input_tokens` and `output_tokens`: a line whose
  `message` or `usage` is not an object, or whose usage lacks either count, is no call (nor
  part of one); a count the usage does not carry (no `cache_read_input_tokens`, ...) is 0;
- one call per (`message.id`, `requestId`), or per `message.id` alone when the line has no
  `requestId`, over all files: the line with the largest token total gives the tokens, the
  earliest line the time. The same message logged once with a `requestId` and once without
  is two pairs, so two calls;
- a sidechain line (`isSidechain: true`) whose pair no main-thread line of its session has,
  while a main-thread line of its session has its `message.id`, is a copy of that reply (a
  side question's copy under a request id of its own, or a subagent's copy of a reply whose
  own line is not written yet): a line of the reply's call. Where the session's main thread
  has the message under more than one pair (odd logs), the docs leave open which call it
  copies; burnmeter takes the least key (`cc:{id}` before `cc:{id}:{requestId}`, request
  ids in text order), and so does this;
- `<synthetic>` and `isApiErrorMessage` calls keep their tokens and cost nothing;
- cache writes: the 5m/1h split when logged, else all at the 5m rate;
- the session is the line's `sessionId` (subagent files carry their parent's); a call
  copied into a resumed session's file belongs to one of the two, so sessions that share
  calls are compared as one group.

Rules (Codex):
- roots: every `CODEX_HOME` entry, else `~/.codex`; `sessions/**/rollout-*.jsonl` and
  `archived_sessions/`, `.jsonl.zst` too; a file reached twice is read once;
- per file, a call is each change of `info.total_token_usage` (the difference to the last
  total, starting from zero); an unchanged (re-emitted) total is no call; where the
  difference is not the line's `last_token_usage` (the total restarted), the call is that
  `last_token_usage`; a change to no tokens (back to zero after a compaction) is no call;
- the model is the latest `turn_context` model; the session is the `session_meta` id;
- a forked rollout (`forked_from_id`) copies the parent's history first, in one burst at the
  fork instant: the copy (up to the first pause of a second or more) only sets the baseline
  of the cumulative total, its calls and tool calls are not counted; so does a spawned
  subagent's copy (its second line the parent's header), and only that: a spawned
  subagent naming its parent in `forked_from_id` copies nothing else; a copy whose lines
  kept the parent's times (before the rollout's own header) ends at the first line from
  the header's time on;
- input = input - cached, cache_read = cached, output includes reasoning.

A call's line whose timestamp is a bare number, or a date before 1970-01-02 or from 9999
on, is malformed: skipped as a whole (a Claude usage line, a Codex `token_count` reading),
as if it were not in the file.

Tool counts per session: Claude tool calls are the distinct `tool_use` ids in a counted
call's lines, tool errors the distinct `tool_use_id`s of `tool_result` blocks with
`is_error: true`; Codex tool calls are the `function_call`/`custom_tool_call` items of the
session's rollout, errors the outputs that say "Process exited with code N" with N != 0
and the patches Codex refused (an output that is its message, "apply_patch verification
failed: …") (neither in a fork's copy). A Codex tool call belongs to the model call whose reading
follows it; one logged after the rollout's last reading (the reply still streaming, or cut
off) is still one of the session's tool calls, errors and files: the docs give a session
its tool calls, and say nothing of which call a trailing one belongs to, so only session
figures are compared. Files touched (Codex only): the paths in the `*** Add File: `,
`*** Update File: ` and `*** Delete File: ` headers of `apply_patch` (a custom tool call's
input, or a function call's `input` argument), relative ones under the session's `cwd`.
A session exists only through its calls: tool calls of a rollout with no call yet show
nowhere.

A line without a trailing newline is not read; a line that is not JSON is skipped; a
timestamp without an offset is UTC, a date alone its midnight, digits beyond milliseconds
are cut.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "total_tokens",
)


@dataclass
class Call:
    agent: str
    session_id: str
    ts: datetime
    model: str
    input_tokens: int
    output_tokens: int
    write_5m: int
    write_1h: int
    cache_read_tokens: int
    reasoning_tokens: int = 0
    speed: str = "standard"
    web_searches: int = 0
    free: bool = False
    tool_ids: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    # Every session whose file holds a copy of the call (a resumed session's copy of the
    # earlier messages): the call belongs to one of them, whichever file is read first.
    candidates: frozenset[str] = frozenset()

    @property
    def tokens(self) -> dict[str, int]:
        cache_write = self.write_5m + self.write_1h
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": cache_write,
            "cache_read_tokens": self.cache_read_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "total_tokens": self.input_tokens
            + self.output_tokens
            + cache_write
            + self.cache_read_tokens,
        }


# --- finding files --------------------------------------------------------------------------


def _entries(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


def _walk_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for dirpath, _dirs, names in os.walk(folder, followlinks=True):
        for name in sorted(names):
            yield Path(dirpath) / name


def claude_files(env: Mapping[str, str]) -> list[Path]:
    home = Path(env["HOME"])
    configured = _entries(env.get("CLAUDE_CONFIG_DIR"))
    roots = (
        [Path(entry) for entry in configured]
        if configured
        else [home / ".config" / "claude", home / ".claude"]
    )
    found: dict[str, Path] = {}
    for root in roots:
        projects = root if root.name == "projects" else root / "projects"
        for path in _walk_files(projects):
            if path.name.endswith(".jsonl") and path.is_file():
                found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def codex_files(env: Mapping[str, str]) -> list[Path]:
    home = Path(env["HOME"])
    roots = [Path(entry) for entry in _entries(env.get("CODEX_HOME"))] or [home / ".codex"]
    found: dict[str, Path] = {}
    for root in roots:
        for folder in (root / "sessions", root / "archived_sessions"):
            for path in _walk_files(folder):
                name = path.name
                if name.startswith("rollout-") and name.endswith((".jsonl", ".jsonl.zst")):
                    found.setdefault(os.path.realpath(path), path)
    return list(found.values())


# --- reading lines ---------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        import zstandard

        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def complete_records(path: Path) -> list[dict[str, Any]]:
    """Every complete line of the file that is a JSON object, in order."""
    pieces = _read_bytes(path).split(b"\n")
    records = []
    for raw in pieces[:-1]:  # what follows the last newline is not a complete line
        try:
            record = json.loads(raw.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def parse_ts(value: str) -> datetime:
    """ISO 8601; no offset is UTC; more than milliseconds is cut to milliseconds."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


MIN_TS = datetime(1970, 1, 2, tzinfo=UTC)


def valid_ts(value: Any) -> bool:
    """A timestamp a call's line may carry: ISO 8601 text from 1970-01-02 to before 9999."""
    if not isinstance(value, str):
        return False
    try:
        parsed = parse_ts(value)
    except ValueError:
        return False
    return parsed >= MIN_TS and parsed.year < 9999


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


# --- Claude Code ------------------------------------------------------------------------------


def claude_calls(env: Mapping[str, str]) -> tuple[list[Call], dict[str, set[str]]]:
    """The calls, and per tool call that failed (a tool result flagged as an error, counted
    once however many copies of it the files hold) the sessions whose files hold it."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    errors: dict[str, set[str]] = defaultdict(set)
    for path in claude_files(env):
        for record in complete_records(path):
            message = record.get("message")
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            if record.get("type") == "user" and isinstance(content, list):
                for block in content:
                    if (
                        isinstance(block, dict)
                        and block.get("type") == "tool_result"
                        and block.get("is_error") is True
                    ):
                        errors[block["tool_use_id"]].add(record["sessionId"])
            usage = message.get("usage")
            if not isinstance(usage, dict):
                continue
            if "input_tokens" not in usage or "output_tokens" not in usage:
                continue
            if not valid_ts(record.get("timestamp")):
                continue  # a malformed line, skipped
            if "requestId" in record:
                key: tuple[str, ...] = (message["id"], record["requestId"])
            else:
                key = (message["id"],)
            groups[key].append(record)

    calls = []
    for all_lines in _copies_with_their_replies(groups).values():
        lines = [record for record in all_lines if not record.get("_tools_only")]
        best = max(lines, key=lambda record: _claude_total(record["message"]["usage"]))
        usage = best["message"]["usage"]
        split = usage.get("cache_creation")
        if isinstance(split, dict):
            write_5m = _count(split.get("ephemeral_5m_input_tokens"))
            write_1h = _count(split.get("ephemeral_1h_input_tokens"))
        else:
            write_5m, write_1h = _count(usage.get("cache_creation_input_tokens")), 0
        model = best["message"].get("model", "")
        server = usage.get("server_tool_use")
        tool_ids = set()
        for record in all_lines:
            for block in record["message"].get("content") or []:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    tool_ids.add(block["id"])
        calls.append(
            Call(
                agent="claude-code",
                session_id=best["sessionId"],
                ts=min(parse_ts(record["timestamp"]) for record in lines),
                model=model,
                input_tokens=_count(usage.get("input_tokens")),
                output_tokens=_count(usage.get("output_tokens")),
                write_5m=write_5m,
                write_1h=write_1h,
                cache_read_tokens=_count(usage.get("cache_read_input_tokens")),
                speed="fast" if usage.get("speed") == "fast" else "standard",
                web_searches=_count(server.get("web_search_requests"))
                if isinstance(server, dict)
                else 0,
                free=model == "<synthetic>" or best.get("isApiErrorMessage") is True,
                tool_ids=tool_ids,
                candidates=frozenset(record["sessionId"] for record in lines),
            )
        )
    return calls, errors


def _copies_with_their_replies(
    groups: dict[tuple[str, ...], list[dict[str, Any]]],
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The lines per call once each sidechain copy is put with its reply (see the rules)."""
    replies: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for key, lines in groups.items():
        for record in lines:
            if record.get("isSidechain") is not True:
                replies[(record.get("sessionId"), key[0])].add(key)
    main_keys = {key for keys in replies.values() for key in keys}
    calls: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for key, lines in groups.items():
        for record in lines:
            reply = replies.get((record.get("sessionId"), key[0]), set())
            if record.get("isSidechain") is True and (reply or key in main_keys):
                # A copy of a main-thread reply adds no reading (what the main thread
                # logged is the call's); its tool calls are the reply's.
                target = key if key in main_keys else min(reply)
                calls[target].append({**record, "_tools_only": True})
                continue
            calls[key].append(record)
    return calls


def _claude_total(usage: dict[str, Any]) -> int:
    return sum(
        _count(usage.get(name))
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        )
    )


# --- Codex ------------------------------------------------------------------------------------

CODEX_USAGE = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def _fork_copy_end(records: list[dict[str, Any]]) -> int:
    """Index of the first line after a rollout's copy of another thread's history: a fork's
    (`forked_from_id`), or a spawned subagent's, whose second line is its parent's header."""
    if not records:
        return 1
    second = records[1] if len(records) > 1 else {}
    copied_header = second.get("type") == "session_meta" and second.get("payload", {}).get(
        "id"
    ) != records[0].get("payload", {}).get("id")
    header = records[0].get("payload", {})
    source = header.get("source")
    spawned = isinstance(source, dict) and "thread_spawn" in (source.get("subagent") or {})
    # A spawned subagent's `forked_from_id` (newer Codex names its parent there) says no
    # copy follows: its copy repeats the parent's header.
    if not copied_header and (spawned or not header.get("forked_from_id")):
        return 1
    started = parse_ts(records[0]["timestamp"])
    times = [
        (index, parse_ts(records[index]["timestamp"]))
        for index in range(1, len(records))
        if valid_ts(records[index].get("timestamp"))  # a malformed one is not there
    ]
    if times and times[0][1] < started:
        # The copy kept the parent's times: the rollout's own lines are from its start on.
        return next((index for index, now in times if now >= started), len(records))
    before = None  # the time of the last line read
    for index, now in times:
        if before is not None and (now - before).total_seconds() >= 1.0:
            return index
        before = now
    return len(records)


@dataclass
class Loose:
    """A session's Codex tool calls that no model call follows (yet), and their files."""

    tool_ids: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


def codex_calls(
    env: Mapping[str, str],
) -> tuple[list[Call], dict[str, set[str]], dict[str, Loose]]:
    """The calls, per shell command that exited non-zero its session, and per session the
    tool calls after its last call."""
    calls = []
    errors: dict[str, set[str]] = {}
    loose: dict[str, Loose] = {}
    for path in codex_files(env):
        records = complete_records(path)
        if not records or records[0].get("type") != "session_meta":
            continue
        session_id = records[0]["payload"]["id"]
        cwd = records[0]["payload"].get("cwd", "")
        copy_end = _fork_copy_end(records)
        previous = (0, 0, 0, 0)
        model = ""
        pending_tools: set[str] = set()
        pending_files: set[str] = set()
        failed: set[str] = set()
        for index, record in enumerate(records):
            payload = record.get("payload")
            if not isinstance(payload, dict):
                continue
            if record.get("type") == "turn_context":
                model = payload.get("model", model)
            if (
                index >= copy_end
                and record.get("type") == "response_item"
                and payload.get("type") in ("function_call", "custom_tool_call")
            ):
                pending_tools.add(payload["call_id"])
                pending_files |= _patch_files(payload, cwd)
            if (
                index >= copy_end
                and record.get("type") == "response_item"
                and payload.get("type") == "function_call_output"
                and _exit_code(payload.get("output")) not in (None, 0)
            ):
                failed.add(payload["call_id"])
            if (
                index >= copy_end
                and record.get("type") == "response_item"
                and payload.get("type") in ("function_call_output", "custom_tool_call_output")
                and str(payload.get("output")).startswith("apply_patch verification failed: ")
            ):
                failed.add(payload["call_id"])
            if record.get("type") != "event_msg" or payload.get("type") != "token_count":
                continue
            info = payload.get("info")
            if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
                continue
            if not valid_ts(record.get("timestamp")):
                continue  # a malformed reading, skipped
            total_usage = info["total_token_usage"]
            total = tuple(_count(total_usage.get(name)) for name in CODEX_USAGE)
            if total == previous:
                continue
            delta = tuple(now - before for now, before in zip(total, previous, strict=True))
            previous = total
            if index < copy_end:
                continue  # the parent's history: only the baseline
            last_usage = info.get("last_token_usage")
            if isinstance(last_usage, dict):
                last = tuple(_count(last_usage.get(name)) for name in CODEX_USAGE)
                if last != delta:
                    delta = last  # the total restarted: the call is the line's own usage
            if not any(delta):
                continue  # a reading with no tokens (a total set back to zero) is no call
            input_tokens, cached, output, reasoning = delta
            calls.append(
                Call(
                    agent="codex",
                    session_id=session_id,
                    ts=parse_ts(record["timestamp"]),
                    model=model,
                    input_tokens=input_tokens - cached,
                    output_tokens=output,
                    write_5m=0,
                    write_1h=0,
                    cache_read_tokens=cached,
                    reasoning_tokens=reasoning,
                    tool_ids=pending_tools,
                    files=pending_files,
                )
            )
            pending_tools, pending_files = set(), set()
        for call_id in failed:
            errors.setdefault(f"cx:{call_id}", set()).add(session_id)
        trailing = loose.setdefault(session_id, Loose())
        trailing.tool_ids |= pending_tools
        trailing.files |= pending_files
    return calls, errors, loose


PATCH_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ")


def _patch_files(payload: dict[str, Any], cwd: str) -> set[str]:
    """The files an `apply_patch` tool call names, absolute."""
    if payload.get("name") != "apply_patch":
        return set()
    if payload.get("type") == "custom_tool_call":
        text = payload.get("input")
    else:
        try:
            text = json.loads(payload.get("arguments") or "{}").get("input")
        except (ValueError, AttributeError):
            return set()
    if not isinstance(text, str):
        return set()
    found = set()
    for line in text.split("\n"):
        for header in PATCH_HEADERS:
            if line.startswith(header):
                name = line[len(header) :]
                found.add(name if name.startswith("/") else f"{cwd.rstrip('/')}/{name}")
    return found


def _exit_code(output: Any) -> int | None:
    """The exit code of an `exec_command` output ("Process exited with code N")."""
    if not isinstance(output, str):
        return None
    marker = "Process exited with code "
    if marker not in output:
        return None
    digits = output.split(marker, 1)[1].split("\n", 1)[0]
    return int(digits) if digits.strip().lstrip("-").isdigit() else None


# --- totals -----------------------------------------------------------------------------------


class Pricer:
    """One call's cost from burnmeter's own unit prices (None: the model has no price)."""

    def __init__(self) -> None:
        from shared.pricing import PriceBook

        self.book = PriceBook()

    def cost(self, call: Call) -> float | None:
        from shared.pricing import cost_of_counts

        if call.free:
            return 0.0
        prices = self.book.prices_for(call.model, call.speed)
        if prices is None:
            return None
        return cost_of_counts(
            prices,
            call.input_tokens,
            call.output_tokens,
            call.write_5m,
            call.write_1h,
            call.cache_read_tokens,
            int(call.ts.timestamp() * 1000),
            call.web_searches,
        )


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(TOKEN_FIELDS, 0), "cost_usd": 0.0, "unpriced_calls": 0}


def _add(into: dict[str, Any], call: Call, cost: float | None) -> None:
    for name, value in call.tokens.items():
        into[name] += value
    if cost is None:
        into["unpriced_calls"] += 1
    else:
        into["cost_usd"] += cost


@dataclass
class Expected:
    daily: dict[str, dict[str, Any]]  # date -> totals + "models": {model: totals}
    totals: dict[str, Any]
    # Per group of sessions that share calls (nearly always one session: a resumed one and
    # the session it copied from form a group), its session ids -> totals + agent, models,
    # tool counts.
    sessions: dict[tuple[str, ...], dict[str, Any]]
    calls: list[Call]


def _groups(calls: list[Call]) -> dict[str, tuple[str, ...]]:
    """Session id -> the sorted ids of all sessions it shares a call with, transitively."""
    group_of: dict[str, set[str]] = {}
    for call in calls:
        merged = set(call.candidates) | {call.session_id}
        for session_id in list(merged):
            merged |= group_of.get(session_id, set())
        for session_id in merged:
            group_of[session_id] = merged
    return {session_id: tuple(sorted(ids)) for session_id, ids in group_of.items()}


def expected(env: Mapping[str, str], pricer: Pricer | None = None) -> Expected:
    claude, tool_errors = claude_calls(env)
    codex, codex_errors, loose = codex_calls(env)
    calls = claude + codex
    tool_errors = {**tool_errors, **codex_errors}
    group_of = _groups(calls)
    daily: dict[str, dict[str, Any]] = {}
    sessions: dict[tuple[str, ...], dict[str, Any]] = {}
    totals = _empty()
    for call in calls:
        cost = pricer.cost(call) if pricer else 0.0
        day = daily.setdefault(call.ts.date().isoformat(), {**_empty(), "models": {}})
        _add(day, call, cost)
        _add(day["models"].setdefault(call.model, _empty()), call, cost)
        _add(totals, call, cost)
        session = sessions.setdefault(
            group_of[call.session_id],
            {**_empty(), "agent": call.agent, "models": set(), "tool_ids": set(), "files": set()},
        )
        _add(session, call, cost)
        session["first"] = min(session.get("first", call.ts), call.ts)
        session["last"] = max(session.get("last", call.ts), call.ts)
        session["models"].add(call.model)
        session["tool_ids"] |= call.tool_ids
        session["files"] |= call.files
    for session_id, trailing in loose.items():
        if session_id in group_of:  # a session with no call has no row
            session = sessions[group_of[session_id]]
            session["tool_ids"] |= trailing.tool_ids
            session["files"] |= trailing.files
    for group, session in sessions.items():
        session["tool_calls"] = len(session.pop("tool_ids"))
        session["tool_errors"] = sum(
            1 for sessions_of in tool_errors.values() if sessions_of & set(group)
        )
    return Expected(daily=daily, totals=totals, sessions=sessions, calls=calls)
