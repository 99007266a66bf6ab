"""What the summary says, section by section, independent of the output format.

Markdown and HTML both render these sections, so the two never drift apart; HTML adds a
chart where a section names one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.commands.render import short_ids
from shared.insights.budgets import AGENT_NAMES, ratio_text
from shared.summary.formatting import (
    change_text,
    cost_text,
    logged,
    money,
    percent,
    plural,
    short_model,
    span_text,
    tokens,
    when,
)
from shared.timezones import zone_named


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    # Columns from this one on hold figures, aligned right; but for text_columns, which
    # hold words or times among them.
    numeric_from: int = 1
    text_columns: tuple[int, ...] = ()

    def numeric(self, index: int) -> bool:
        return index >= self.numeric_from and index not in self.text_columns


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    table: Table | None = None
    # "daily", "models", "repos", "tiers": which chart the HTML draws above the table.
    chart: str | None = None


@dataclass
class Headline:
    title: str
    span: str
    cost: str | None = None
    facts: str = ""
    lines: list[str] = field(default_factory=list)


def _progress_note(summary: dict[str, Any]) -> str:
    """Whether the week is not over yet (or not begun) when the summary is made: its
    figures, and the change against a whole previous week, are then partial."""
    from datetime import datetime

    made = datetime.fromisoformat(summary["generated_at"].replace("Z", "+00:00"))
    if made < datetime.fromisoformat(summary["start"]):
        return "This week has not begun yet."
    if made < datetime.fromisoformat(summary["end"]):
        return (
            f"This week is still in progress (it ends {summary['last_day']}): its figures, "
            "and the change against the previous whole week, are partial."
        )
    return ""


def headline(summary: dict[str, Any]) -> Headline:
    head = Headline(f"Agent cost, week {summary['week']}", span_text(summary))
    progress = _progress_note(summary)
    if not summary["calls"]:
        previous = summary["previous_week"]
        head.lines = [
            progress or "No agent activity was recorded in this week.",
            f"Previous week ({previous['week']}): {cost_text(previous)}.",
        ]
        if progress and not progress.startswith("This week has not"):
            head.lines.insert(1, "No agent activity was recorded in it so far.")
        return head
    # As the tables write it: `unpriced (2 calls)` for a week of models with no price.
    head.cost = cost_text(summary)
    head.facts = (
        f"{tokens(summary['total_tokens'])} tokens · {plural(summary['calls'], 'model call')} · "
        f"{plural(summary['sessions'], 'session')}"
    )
    if progress:
        head.lines.append(progress)
    head.lines.append(change_text(summary) + ".")
    if summary.get("unpriced_calls"):
        names = ", ".join(
            logged(short_model(row["model"]))
            for row in summary["models"]
            if row.get("unpriced_calls")
        )
        head.lines.append(
            f"{plural(summary['unpriced_calls'], 'call')} used models with no known price "
            f"({names}): the costs shown leave them out. Add their prices under "
            '[prices."MODEL"] in the config file.'
        )
    return head


def _days(summary: dict[str, Any]) -> Section:
    rows = [
        [f"{day['weekday']} {day['date']}", cost_text(day), tokens(day["total_tokens"])]
        for day in summary["days"]
    ]
    return Section("Cost per day", table=Table(["Day", "Cost", "Tokens"], rows), chart="daily")


def _agents(summary: dict[str, Any]) -> Section:
    rows = [
        [row["agent"], cost_text(row), tokens(row["total_tokens"]), f"{row['calls']:,}"]
        for row in summary["agents"]
    ]
    return Section("By agent", table=Table(["Agent", "Cost", "Tokens", "Calls"], rows))


def _models(summary: dict[str, Any]) -> Section:
    rows = [
        [
            short_model(row["model"]),
            row.get("tier") or "",
            cost_text(row),
            tokens(row["total_tokens"]),
            f"{row['calls']:,}",
        ]
        for row in summary["models"]
    ]
    return Section(
        "By model",
        table=Table(["Model", "Tier", "Cost", "Tokens", "Calls"], rows, numeric_from=2),
        chart="models",
    )


def _repos(summary: dict[str, Any]) -> Section:
    rows = [
        [
            row["repo"] or "(no repo)",
            str(row["sessions"]),
            str(row.get("commits", 0)),
            _maybe_money(row.get("cost_per_commit_usd")),
            cost_text(row),
        ]
        for row in summary["repos"]
    ]
    columns = ["Repository", "Sessions", "Commits", "Cost per commit", "Cost"]
    return Section("By repository", table=Table(columns, rows), chart="repos")


def _maybe_money(value: float | None) -> str:
    return "–" if value is None else money(value)


def _share(row: dict[str, Any], total: float) -> str:
    """A row's share of the priced cost; none for a row with no priced call."""
    if not total or (not row["cost_usd"] and row.get("unpriced_calls")):
        return percent(None)
    return percent(row["cost_usd"] / total)


def _tiers(summary: dict[str, Any]) -> Section:
    total = summary["cost_usd"]
    rows = [
        [row["tier"], cost_text(row), _share(row, total), tokens(row["total_tokens"])]
        for row in summary["tiers"]
    ]
    return Section("By tier", table=Table(["Tier", "Cost", "Share", "Tokens"], rows), chart="tiers")


# Long lists show their largest rows; the JSON export has them all.
LIST_ROWS = 10


def _more(count: int) -> list[str]:
    if count <= LIST_ROWS:
        return []
    return [f"The table shows the {LIST_ROWS} largest of {count}; the JSON export lists all."]


def _outcome_text(row: dict[str, Any]) -> str:
    outcome = row.get("outcome")
    if not outcome:
        return ""
    if outcome["status"] == "committed":
        return f"committed ({row.get('commits', len(outcome['commits']))})"
    return str(outcome["status"])


def summary_ids(summary: dict[str, Any]) -> dict[str, str]:
    """Each session's id as the summary's tables show it: a prefix no other session of the
    summary shares, so a session reads the same in every table."""
    ids = [row["session_id"] for row in summary["top_sessions"]]
    ids += [hint["session_id"] for hint in summary["tier_hints"]["sessions"]]
    ids += [flag["session_id"] for flag in summary["flags"]["flags"]]
    return short_ids(ids)


def _sessions(summary: dict[str, Any]) -> Section:
    zone = summary["timezone"]
    ids = summary_ids(summary)
    rows = [
        [
            ids[row["session_id"]],
            row["agent"],
            row["repo"],
            when(row["first_activity"], zone),
            ", ".join(short_model(m) for m in row["models"]),
            _outcome_text(row),
            ", ".join(row.get("flags", [])) or "–",
            cost_text(row),
        ]
        for row in summary["top_sessions"]
    ]
    columns = ["Session", "Agent", "Repository", "Started", "Models", "Outcome", "Flags", "Cost"]
    lines = []
    if summary["sessions"] > len(rows):
        # The summary's zone, which `--tz` may have set: the report's days are then the
        # week's (without it, the report would cut days in the configured zone).
        named = f" --tz {zone}" if zone_named(zone) is not None and " " not in zone else ""
        lines.append(
            f"The table shows the {len(rows)} largest of {summary['sessions']}; "
            f"`burnmeter report sessions --since {summary['first_day']} "
            f"--until {summary['last_day']}{named}` lists them all."
        )
    return Section("Top sessions", lines=lines, table=Table(columns, rows, numeric_from=7))


def _outcomes(summary: dict[str, Any]) -> Section:
    outcomes = summary["outcomes"]
    counts = outcomes["sessions"]
    if outcomes["commits"]:
        lines = [
            f"{counts['committed']} of {plural(summary['sessions'], 'session')} ended in "
            f"committed work: {plural(outcomes['commits'], 'commit')}, from sessions that cost "
            f"{money(outcomes['committed_cost_usd'])}.",
            f"Cost per commit: {money(outcomes['cost_per_commit_usd'])} (the whole week's "
            "spend, unfinished sessions included, divided by the commits).",
        ]
    else:
        lines = ["None of the week's sessions ended in a commit found in git."]
    unknown = f"unknown: {counts['unknown']}"
    if counts["unknown"]:
        unknown += (
            " (git could not tell: a change that names no file, no repository, no answer "
            "from git; `burnmeter report sessions` gives each reason)"
        )
    lines += [
        f"Uncommitted: {counts['uncommitted']} · no changes: {counts['no-changes']} · {unknown}.",
    ]
    return Section("Outcomes", lines=lines)


def _hints(summary: dict[str, Any]) -> Section:
    hints = summary["tier_hints"]
    if not hints["sessions"]:
        return Section(
            "Tier hints",
            lines=["No session spent most of its frontier cost on exploring or chat this week."],
        )
    ids = summary_ids(summary)
    rows = [
        [
            ids[hint["session_id"]],
            hint["repo"],
            f"{hint['suggested_tier']} ({short_model(hint['suggested_model'])})",
            money(hint["hinted_cost_usd"]),
            money(hint["counterfactual_cost_usd"]),
            money(hint["saving_usd"]),
        ]
        for hint in hints["sessions"][:LIST_ROWS]
    ]
    lines = [
        f"Possible saving: {money(hints['total_saving_usd'])} across "
        f"{plural(len(hints['sessions']), 'session')}, "
        "repricing their explore and chat calls (same tokens, same cache use) at a cheaper "
        "tier. Whether that model would have done as well is not measured.",
        # The reason names the suggested model, as configured.
        f"Largest: {logged(hints['sessions'][0]['reason'])}",
    ]
    lines += _more(len(hints["sessions"]))
    columns = ["Session", "Repository", "Suggested", "Those calls cost", "Would cost", "Saving"]
    return Section("Tier hints", lines=lines, table=Table(columns, rows, numeric_from=3))


def _flags(summary: dict[str, Any]) -> Section:
    flagged = summary["flags"]
    if not flagged["flags"]:
        return Section(
            "Flagged loops and waste",
            lines=["No loops, cache churn or context bloat flagged this week."],
        )
    ids = summary_ids(summary)
    kinds = ", ".join(
        f"{entry['count']} × {entry['kind']} ({money(entry['cost_usd'])})"
        for entry in flagged["by_kind"]
    )
    rows = [
        [
            ids[flag["session_id"]],
            flag["repo"],
            flag["kind"],
            flag["evidence"],
            money(flag["cost_usd"]),
        ]
        for flag in flagged["flags"][:LIST_ROWS]
    ]
    return Section(
        "Flagged loops and waste",
        lines=[
            f"Flagged stretches cost {money(flagged['cost_usd'])}: {kinds}.",
            *_more(len(flagged["flags"])),
        ],
        table=Table(["Session", "Repository", "Flag", "Evidence", "Cost"], rows, numeric_from=4),
    )


def _cache(summary: dict[str, Any]) -> Section:
    cache = summary["cache"]
    return Section(
        "Cache efficiency",
        lines=[
            f"{percent(cache['share_from_cache'])} of input tokens were served from the prompt "
            f"cache ({tokens(cache['cache_read_tokens'])} of "
            f"{tokens(cache['input_side_tokens'])}).",
            f"The cache saved {money(cache['saved_usd'])} against paying the full input price "
            "for those tokens.",
        ],
    )


def _limits(summary: dict[str, Any]) -> Section:
    peaks = summary["plan_limits"]
    if not peaks:
        return Section("Plan-limit peaks", lines=["No plan-limit readings this week."])
    rows = [
        [
            peak["agent"],
            _window_name(peak["window_minutes"]),
            _used(peak["peak_used_percent"]),
            when(peak["peak_at"], summary["timezone"]),
        ]
        for peak in peaks
    ]
    columns = ["Agent", "Window", "Peak used", "When"]
    return Section("Plan-limit peaks", table=Table(columns, rows, text_columns=(1, 3)))


def _used(percent: float) -> str:
    """`42.5%`: one decimal, a half rounded up (`:.0f` made 42.5 "42%")."""
    return f"{Decimal(str(percent)).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def _window_name(minutes: int | None) -> str:
    if not minutes:
        return "?"
    if minutes % 1440 == 0:
        return f"{minutes // 1440} days"
    return f"{minutes / 60:g} hours"


def _leverage(summary: dict[str, Any]) -> Section:
    lev = summary["leverage"]
    if not lev["plan_price_usd"]:
        return Section(
            "Subscription leverage",
            lines=[
                'No plan price set: add `plan` (one of the presets, e.g. "Claude Max 5x") '
                "or `monthly_price_usd` under `[subscription]` in config.toml to compare."
            ],
        )
    # The week's calls without a price are said, as in the headline: "$0.00 of work"
    # for a week of a model burnmeter cannot price would be false.
    # Only the plan's agent counts (a Claude plan: Claude Code), its unpriced calls too.
    week_value = cost_text(
        {"cost_usd": lev["week_value_usd"], "unpriced_calls": lev["week_unpriced_calls"]}
    )
    agent = lev.get("agent")
    work = f"{AGENT_NAMES.get(agent, agent)} work" if agent else "work by all agents"
    return Section(
        "Subscription leverage",
        lines=[
            f"This week: {week_value} of API-equivalent {work} against a "
            f"week's share of the plan ({money(lev['week_plan_share_usd'])}): "
            f"{ratio_text(lev['week_ratio'])}×.",
            f"Month {lev['month']['month']}: {lev['month']['text']}.",
        ],
    )


def _budgets(summary: dict[str, Any]) -> Section:
    states = summary["budgets"]
    if not states:
        return Section("Budgets", lines=["No budgets set (`[budgets]` in config.toml)."])
    rows = [
        [
            state["period"],
            state["label"],
            money(state["spent_usd"])
            + (f" (+{state['unpriced_calls']:,} unpriced)" if state.get("unpriced_calls") else ""),
            money(state["limit_usd"]),
            "met" if state["met"] else "missed",
        ]
        for state in states
    ]
    missed = sum(1 for state in states if not state["met"])
    line = "Every budget was met." if not missed else f"{missed} of {len(states)} budgets missed."
    return Section(
        "Budgets",
        lines=[line],
        table=Table(
            ["Budget", "Period", "Spent", "Limit", "Result"],
            rows,
            numeric_from=2,
            text_columns=(4,),
        ),
    )


SECTIONS: list[Callable[[dict[str, Any]], Section | None]] = [
    _days,
    _agents,
    _models,
    _tiers,
    _repos,
    _sessions,
    _outcomes,
    _hints,
    _flags,
    _cache,
    _limits,
    _leverage,
    _budgets,
]


def sections(summary: dict[str, Any]) -> list[Section]:
    if not summary["calls"]:
        return []
    built = (make(summary) for make in SECTIONS)
    return [section for section in built if section is not None]


def footer(summary: dict[str, Any]) -> list[str]:
    lines = ["Costs are API-equivalent prices of the tokens used, from burnmeter's local ledger."]
    if summary["redacted"]:
        lines.append("Repository and file paths are replaced by stable short hashes.")
    return lines
