"""Runaway loops and waste inside one session, each flag with its evidence and its cost.

- "loop": the same failing tool call (same tool, same input hash) `loop_same_call_repeats`
  times in a row, or `loop_consecutive_errors` failing tool calls in a row, in one thread
  (the main thread, or one subagent: five subagents each running the failing test suite
  once are no loop). A successful tool call ends the stretch, and so does a pause of more
  than LOOP_MAX_GAP_MINUTES between two failures (the user trying a deploy again each
  morning is no runaway; the logs burnmeter keeps do not say when the user spoke).
  Bookkeeping tools (to-do lists, plans: LOOP_NEUTRAL_TOOLS) neither end a stretch nor
  extend it.
- "cache-churn": `churn_min_calls` or more calls, each within `churn_window_minutes` of
  the previous, that each wrote at least `churn_min_write_tokens` to the prompt cache and
  wrote more than they read: the prefix was rebuilt instead of reused. Codex logs no cache
  writes, so only Claude Code sessions can raise it.
- "context-bloat": `bloat_min_calls` or more calls in a row, with no change call (Edit,
  Write, apply_patch…) among them, each sending at least `bloat_min_prompt_tokens` prompt
  tokens: the context keeps growing while nothing gets changed.

`cost_usd` is what the session's model calls inside the stretch cost (for a loop, the
calls of its thread). A loop whose repeated call touched a file (Edit, Write, Read,
apply_patch…) names it (`Flag.file`: relative to the session's repository, else its project
folder, when inside it; else as the ledger keeps it) instead of quoting the call's input
hash: "Edit on src/app.py failed 6 times in a row with the same input over 4 min". A
command (Bash) touches no file the ledger knows of and keeps the hash. Subagent
(sidechain) calls are left out of the cache and context rules: they have their own prompt.
`Flag.key` identifies a flag across runs, so a caller can alert once per new flag
(`new_flags`): its kind and start, never its evidence, so wording it otherwise (a file
named where the hash was) raises no alert again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.config import Insights
from shared.insights.activity import MAIN_THREAD, Call, SessionActivity, ToolUse
from shared.insights.tiers import NEUTRAL_TOOLS
from shared.reports import iso_utc

# Two failures further apart than this are not one stretch: an agent retrying on its own
# fails again within minutes (a long build or test run included); a day between two tries
# (the user asking again) is no runaway, whatever it cost.
LOOP_MAX_GAP_MINUTES = 15
LOOP_MAX_GAP_MS = LOOP_MAX_GAP_MINUTES * 60_000
# Bookkeeping between two tries (ticking a to-do, updating the plan) is neither a failure
# nor a success of the work: a `make build` failing six times with a TodoWrite after each
# is a loop. The tools that wait for the user (AskUserQuestion, ExitPlanMode) are not
# among them: the user answering ends a stretch, as any successful call does, and so
# does the user turning a plan down (an error result).
USER_ANSWERED_TOOLS = frozenset({"AskUserQuestion", "ExitPlanMode"})
LOOP_NEUTRAL_TOOLS = NEUTRAL_TOOLS - USER_ANSWERED_TOOLS


@dataclass(frozen=True)
class Flag:
    kind: str
    evidence: str
    cost_usd: float
    started_at: str
    ended_at: str
    # The file the loop's repeated failing call touched, as `evidence` names it (see the
    # module's doc); None for a flag that names none.
    file: str | None = None
    # `evidence` cut where it names `file` (evidence == before + file + after), so a
    # shared summary can name the file otherwise (`evidence_naming`).
    around_file: tuple[str, str] = field(default=("", ""), repr=False)

    @property
    def key(self) -> str:
        # Kind and start only: the evidence (its wording, the file it names) can change
        # between versions, and an alert already raised must not be raised again.
        return f"{self.kind}@{self.started_at}"

    def evidence_naming(self, file: str) -> str:
        """The evidence with its file shown as `file` (a keyed hash, when redacting)."""
        if self.file is None:
            return self.evidence
        return file.join(self.around_file)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "evidence": self.evidence,
            "file": self.file,
            "cost_usd": round(self.cost_usd, 6),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }


def _flag(
    activity: SessionActivity,
    kind: str,
    evidence: str,
    start_ms: int,
    end_ms: int,
    cost_usd: float | None = None,
    *,
    file: str | None = None,
    after_file: str = "",
) -> Flag:
    """A flag whose evidence is `evidence`, then `file` (if any), then `after_file`."""
    return Flag(
        kind=kind,
        evidence=f"{evidence}{file or ''}{after_file}",
        cost_usd=activity.cost_between(start_ms, end_ms) if cost_usd is None else cost_usd,
        started_at=iso_utc(start_ms) or "",
        ended_at=iso_utc(end_ms) or "",
        file=file,
        around_file=(evidence, after_file) if file is not None else ("", ""),
    )


def _run_cost(activity: SessionActivity, run: list[ToolUse]) -> float:
    """What the calls of a stretch of failing tool calls cost: the calls that issued them
    and every call of their thread between (another subagent working meanwhile is not the
    loop's). A call is timed by its first line, its tool by the line that holds it (Claude
    Code streams a text line seconds before the tool_use line; Codex logs a call's usage
    just after its function calls), so the tools' own times leave out the first (Claude
    Code) or last (Codex) call of the stretch."""
    keys = {tool.event_key for tool in run if tool.event_key}
    times = [call.ts_ms for call in activity.calls if call.event_key in keys]
    start, end = min([run[0].ts_ms, *times]), max([run[-1].ts_ms, *times])
    thread = run[0].thread
    return sum(
        call.cost for call in activity.calls if start <= call.ts_ms <= end and call.thread == thread
    )


def _lasting(start_ms: int, end_ms: int, word: str = "over") -> str:
    """`over 4 min` (or `within 4 min`), and `within a minute` for less: never "over under
    a minute"."""
    minutes = (end_ms - start_ms) / 60_000
    return f"{word} {minutes:.0f} min" if minutes >= 1 else "within a minute"


def _threads(tools: list[ToolUse]) -> Iterator[list[ToolUse]]:
    """Each thread's tool calls, in order, bookkeeping left out."""
    threads: dict[str, list[ToolUse]] = {}
    for tool in tools:
        if tool.name not in LOOP_NEUTRAL_TOOLS:
            threads.setdefault(tool.thread, []).append(tool)
    yield from threads.values()


def _failing_runs(tools: list[ToolUse], same_call: bool) -> Iterator[list[ToolUse]]:
    """Maximal runs of failing tool calls (of the same call, if `same_call`), each failure
    within LOOP_MAX_GAP_MS of the one before."""
    run: list[ToolUse] = []
    for tool in tools:
        if tool.name in USER_ANSWERED_TOOLS:
            # The user answered: a stretch ends there, even when the answer is an error
            # result (Claude Code logs a plan the user turned down as one).
            if run:
                yield run
            run = []
            continue
        continues = (
            tool.failed
            and run
            and tool.ts_ms - run[-1].ts_ms <= LOOP_MAX_GAP_MS
            and (not same_call or (tool.name, tool.input_hash) == (run[0].name, run[0].input_hash))
        )
        if continues:
            run.append(tool)
            continue
        if run:
            yield run
        run = [tool] if tool.failed else []
    if run:
        yield run


def loop_flags(activity: SessionActivity, limits: Insights) -> list[Flag]:
    """One flag per stretch of failing tool calls in a row that is a loop: the same call
    failing `loop_same_call_repeats` times, or `loop_consecutive_errors` failures of any
    calls. A stretch that is both was flagged twice (its cost counted twice in the summary,
    two tray alerts); now it is one flag over the whole stretch, which starts where the
    failures started, so its key stays the same as the stretch grows."""
    flags: list[Flag] = []
    runs = (run for tools in _threads(activity.tools) for run in _failing_runs(tools, False))
    for run in runs:
        repeated = max(
            (
                same
                for same in _failing_runs(run, same_call=True)
                if len(same) >= limits.loop_same_call_repeats
            ),
            key=len,
            default=None,
        )
        start, end = run[0].ts_ms, run[-1].ts_ms
        touched = _touched(activity, repeated) if repeated is not None else None
        after = ""
        if len(run) >= limits.loop_consecutive_errors and (
            repeated is None or len(repeated) < len(run)
        ):
            names = sorted({tool.name for tool in run})
            evidence = (
                f"{len(run)} tool calls failed in a row ({', '.join(names)}) {_lasting(start, end)}"
            )
            if repeated is not None:
                head, after = _same_input(repeated, touched, f"{len(repeated)} times")
                evidence += f", {head}"
        elif repeated is not None:
            evidence, after = _same_input(
                repeated, touched, f"failed {len(repeated)} times in a row"
            )
            after += f" {_lasting(repeated[0].ts_ms, repeated[-1].ts_ms)}"
            if len(repeated) < len(run):
                after += f", among {len(run)} failing tool calls in a row"
        else:
            continue
        if run[0].thread != MAIN_THREAD:
            after += ", in a subagent"
        flags.append(
            _flag(
                activity,
                "loop",
                evidence,
                start,
                end,
                _run_cost(activity, run),
                file=None if touched is None else touched[0],
                after_file=after,
            )
        )
    return sorted(flags, key=lambda flag: flag.started_at)


def _touched(activity: SessionActivity, run: list[ToolUse]) -> tuple[str, int] | None:
    """A file the repeated call touched (the first by name, so the text is the same each
    run), as shown (see `shown_path`), and how many others it touched; None for a call
    that touched none (a command). The same tool with the same input touches the same
    files each time: the first call's are read."""
    paths = run[0].paths
    if not paths:
        return None
    return shown_path(min(paths), activity), len(paths) - 1


def shown_path(path: str, activity: SessionActivity) -> str:
    """`path` relative to the session's repository when inside it, else to its project
    folder when inside that, else as the ledger keeps it."""
    for base in (activity.repo, activity.project_path):
        folder = (base or "").rstrip("/" + os.sep)
        if not folder:
            continue
        for sep in {"/", os.sep}:
            if path.startswith(folder + sep) and len(path) > len(folder) + 1:
                return path[len(folder) + 1 :]
    return path


def _same_input(run: list[ToolUse], touched: tuple[str, int] | None, did: str) -> tuple[str, str]:
    """What a stretch of the same failing call did, cut where it names its file: ("Edit on
    ", " failed 6 times in a row with the same input") for a call that touched a file, else
    ("Bash failed 6 times in a row with the same input (hash 1a2b3c4d)", "")."""
    name = run[0].name
    if touched is None:
        return f"{name} {did} with the same input (hash {run[0].input_hash[:8]})", ""
    others = touched[1]
    more = f" and {others} other file{'s' if others > 1 else ''}" if others else ""
    return f"{name} on ", f"{more} {did} with the same input"


def _main_thread(calls: Iterable[Call]) -> list[Call]:
    return [call for call in calls if not call.is_sidechain and not call.free]


def churn_flags(activity: SessionActivity, limits: Insights) -> list[Flag]:
    window_ms = limits.churn_window_minutes * 60_000
    rewrites = [
        call
        for call in _main_thread(activity.calls)
        if call.cache_write_tokens >= limits.churn_min_write_tokens
        and call.cache_write_tokens > call.cache_read_tokens
    ]
    groups: list[list[Call]] = []
    for call in rewrites:
        if groups and call.ts_ms - groups[-1][-1].ts_ms <= window_ms:
            groups[-1].append(call)
        else:
            groups.append([call])
    flags = []
    for group in groups:
        if len(group) < limits.churn_min_calls:
            continue
        start, end = group[0].ts_ms, group[-1].ts_ms
        written = sum(call.cache_write_tokens for call in group)
        read = sum(call.cache_read_tokens for call in group)
        flags.append(
            _flag(
                activity,
                "cache-churn",
                f"{len(group)} calls rewrote the prompt cache {_lasting(start, end, 'within')} "
                f"({written:,} tokens written, {read:,} read): the cached prefix kept "
                f"changing or expiring instead of being reused",
                start,
                end,
            )
        )
    return flags


def bloat_flags(activity: SessionActivity, limits: Insights) -> list[Flag]:
    flags: list[Flag] = []
    run: list[Call] = []

    def close() -> None:
        if len(run) >= limits.bloat_min_calls:
            start, end = run[0].ts_ms, run[-1].ts_ms
            peak = max(call.prompt_tokens for call in run)
            flags.append(
                _flag(
                    activity,
                    "context-bloat",
                    f"{len(run)} calls in a row sent {limits.bloat_min_prompt_tokens:,}+ "
                    f"prompt tokens each (from {run[0].prompt_tokens:,} to peak {peak:,}) "
                    f"without a single file change",
                    start,
                    end,
                )
            )
        run.clear()

    for call in _main_thread(activity.calls):
        if call.kind == "change" or call.prompt_tokens < limits.bloat_min_prompt_tokens:
            close()
        else:
            run.append(call)
    close()
    return flags


def session_flags(activity: SessionActivity, limits: Insights) -> list[Flag]:
    flags = loop_flags(activity, limits) + churn_flags(activity, limits)
    flags += bloat_flags(activity, limits)
    return sorted(flags, key=lambda flag: (flag.started_at, flag.kind))


def new_flags(
    before: dict[str, list[Flag]], after: dict[str, list[Flag]]
) -> list[tuple[str, Flag]]:
    """(session id, flag) for every flag in `after` that `before` did not have: what a
    running front end alerts on once."""
    found: list[tuple[str, Flag]] = []
    for session_id, flags in after.items():
        known = {flag.key for flag in before.get(session_id, [])}
        found.extend((session_id, flag) for flag in flags if flag.key not in known)
    return found
