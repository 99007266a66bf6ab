"""What the summary says, section by section, independent of the output format.

Markdown and HTML both render these sections, so the two never drift apart; HTML adds a
chart where a section names one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.summary.formatting import (
    change_text,
    money,
    percent,
    short_model,
    span_text,
    tokens,
    when,
)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric_from: int = 1


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


def headline(summary: dict[str, Any]) -> Headline:
    head = Headline(f"Agent cost, week {summary['week']}", span_text(summary))
    if not summary["calls"]:
        previous = summary["previous_week"]
        head.lines = [
            "No agent activity was recorded in this week.",
            f"Previous week ({previous['week']}): {money(previous['cost_usd'])}.",
        ]
        return head
    head.cost = money(summary["cost_usd"])
    head.facts = (
        f"{tokens(summary['total_tokens'])} tokens · {summary['calls']:,} model calls · "
        f"{summary['sessions']} sessions"
    )
    head.lines.append(change_text(summary) + ".")
    if summary.get("unpriced_calls"):
        head.lines.append(
            f"{summary['unpriced_calls']} calls used models with no known price; they count as $0."
        )
    return head


def _days(summary: dict[str, Any]) -> Section:
    rows = [
        [f"{day['weekday']} {day['date']}", money(day["cost_usd"]), tokens(day["total_tokens"])]
        for day in summary["days"]
    ]
    return Section("Cost per day", table=Table(["Day", "Cost", "Tokens"], rows), chart="daily")


def _agents(summary: dict[str, Any]) -> Section:
    rows = [
        [row["agent"], money(row["cost_usd"]), tokens(row["total_tokens"]), f"{row['calls']:,}"]
        for row in summary["agents"]
    ]
    return Section("By agent", table=Table(["Agent", "Cost", "Tokens", "Calls"], rows))


def _models(summary: dict[str, Any]) -> Section:
    rows = [
        [
            short_model(row["model"]),
            row.get("tier") or "",
            money(row["cost_usd"]),
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
        [row["repo"] or "(no repo)", str(row["sessions"]), money(row["cost_usd"])]
        for row in summary["repos"]
    ]
    return Section(
        "By repository", table=Table(["Repository", "Sessions", "Cost"], rows), chart="repos"
    )


def _sessions(summary: dict[str, Any]) -> Section:
    zone = summary["timezone"]
    rows = [
        [
            row["session_id"][:8],
            row["agent"],
            row["repo"],
            when(row["first_activity"], zone),
            ", ".join(short_model(m) for m in row["models"]),
            money(row["cost_usd"]),
            tokens(row["total_tokens"]),
        ]
        for row in summary["top_sessions"]
    ]
    columns = ["Session", "Agent", "Repository", "Started", "Models", "Cost", "Tokens"]
    return Section("Top sessions", table=Table(columns, rows, numeric_from=5))


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


SECTIONS: list[Callable[[dict[str, Any]], Section | None]] = [
    _days,
    _agents,
    _models,
    _repos,
    _sessions,
    _cache,
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
