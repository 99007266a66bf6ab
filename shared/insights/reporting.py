"""Insights folded into the `burnmeter report` JSON: blocks, per-session insights, and cost
per commit per repository (or per any grouping, e.g. per week for the weekly summary).

Public API:

- `blocks_report(ledger, filters, now_ms=None) -> {"blocks": [Block.as_json()...]}`
- `add_session_insights(report, ledger, settings, with_outcomes=True)`: adds "tier",
  "hint", "outcome" and "flags" to every row of a `sessions_report`.
- `sessions_report_with_insights(ledger, filters, settings)`: the two at once, the same
  report from one read of the sessions' calls and tool calls (`report sessions`).
- `commit_costs(rows, outcomes, group_of) -> dict[group, CommitCosts]`: from sessions
  report rows (cost in range) and their git outcomes; `group_of(row)` names the group.
- `add_commit_costs(report, ledger, settings, filters)`: adds "commits",
  "committed_sessions", "cost_per_commit_usd" and "cost_per_committed_session_usd" to
  every row of a `repos_report`. Both divide the repository's whole spend in the range
  (failed and abandoned sessions included: they are part of what the commits cost).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.config import Settings
from shared.insights.activity import RangeSums, range_cost
from shared.insights.block_chain import latest_block_start
from shared.insights.blocks import compute_blocks
from shared.insights.sessions import (
    Outcome,
    SessionInsight,
    session_insights,
    session_outcomes_only,
)
from shared.ledger import Ledger
from shared.reports import (
    Filters,
    LedgerMapped,
    Totals,
    _event_range,
    _session_meta,
    _time_range,
    session_costs,
    session_row,
)
from shared.sources.events import CLAUDE


def blocks_report(ledger: Ledger, filters: Filters, now_ms: int | None = None) -> dict[str, Any]:
    agent = filters.agent or CLAUDE
    since_ms = None
    if filters.since:
        # Blocks chain from a start found by index seeks (shared.insights.block_chain):
        # computed from the block holding the last call before `--since`, they are the
        # blocks a full read gives, without reading the history before it.
        day_start = datetime.combine(filters.since, datetime.min.time(), filters.tz)
        since_ms = latest_block_start(ledger.conn, agent, int(day_start.timestamp() * 1000))
    blocks = compute_blocks(ledger, now_ms=now_ms, agent=agent, since_ms=since_ms)
    rows = []
    for block in blocks:
        day = datetime.fromtimestamp(block.start_ms / 1000, filters.tz).date()
        if (filters.since and day < filters.since) or (filters.until and day > filters.until):
            continue
        rows.append(block.as_json())
    return {"blocks": rows}


def add_session_insights(
    report: dict[str, Any], ledger: Ledger, settings: Settings, with_outcomes: bool = True
) -> dict[str, SessionInsight]:
    rows = report["sessions"]
    insights = session_insights(
        ledger, settings, [row["session_id"] for row in rows], with_outcomes=with_outcomes
    )
    for row in rows:
        insight = insights.get(row["session_id"])
        if insight is None:
            row.update(tier="unknown", hint=None, outcome=None, flags=[])
        else:
            row.update(insight.as_json())
    return insights


def sessions_report_with_insights(
    ledger: Ledger, filters: Filters, settings: Settings
) -> dict[str, Any]:
    """`sessions_report` with `add_session_insights` on it, the same bytes, from one read of
    the sessions' calls and tool calls: the report's sums, tool counts and files are
    gathered as the insights read them (`RangeSums`), not in three more passes (a third
    of `report sessions` on a year of history).

    The ledger is memory-mapped for the length of the report (`LedgerMapped`)."""
    with LedgerMapped(ledger):
        return _sessions_report_with_insights(ledger, filters, settings)


def _sessions_report_with_insights(
    ledger: Ledger, filters: Filters, settings: Settings
) -> dict[str, Any]:
    import json

    where, params = _event_range(filters)
    # The report's sessions in id order with their last call in the range (the (session,
    # time) index alone), then in the order of its rows: by last call, ties in id order.
    lasts = ledger.conn.execute(
        f"SELECT e.session_id, max(e.ts_ms) FROM usage_events e WHERE {where} "
        "GROUP BY e.session_id ORDER BY e.session_id",
        params,
    ).fetchall()
    if not lasts:
        return {"sessions": [], "totals": Totals().as_json()}
    order = [session_id for session_id, _ in sorted(lasts, key=lambda row: row[1])]
    call_where, call_params = _time_range(filters, "ts_ms")
    if filters.agent:
        call_where.append("agent = ?")
        call_params.append(filters.agent)
    tool_where, tool_params = _time_range(filters, "t.ts_ms")
    gathered = RangeSums(
        (f"({' AND '.join(call_where) or '1'})", call_params),
        (f"({' AND '.join(tool_where) or '1'})", tool_params),
    )
    insights = session_insights(ledger, settings, order, in_range=gathered)
    # Summed as `_session_sums` sums its rows (grouped by session, then model).
    totals = Totals()
    entries: dict[str, dict[str, Any]] = {}
    for session_id, _ in lasts:
        models = gathered.models[session_id]
        entry: dict[str, Any] = {"totals": Totals(), "models": models}
        for model in sorted(models):
            sums = models[model]
            row_sums = [*sums[:7], range_cost(sums), *sums[8:10]]
            entry["totals"].add_row(row_sums)
            totals.add_row(row_sums)
            entry["first"] = min(entry.get("first", sums[10]), sums[10])
            entry["last"] = max(entry.get("last", sums[11]), sums[11])
        entries[session_id] = entry
    meta = _session_meta(ledger, json.dumps([session_id for session_id, _ in lasts]))
    rows = []
    for session_id in order:
        tool_count, error_count = gathered.tools.get(session_id, (0, 0))
        row = session_row(
            session_id,
            meta.get(session_id, ("", "", None, "")),
            entries[session_id],
            tool_count,
            error_count,
            sorted(gathered.files.get(session_id, ())),
        )
        insight = insights.get(session_id)
        if insight is None:
            row.update(tier="unknown", hint=None, outcome=None, flags=[])
        else:
            row.update(insight.as_json())
        rows.append(row)
    return {"sessions": rows, "totals": totals.as_json()}


@dataclass
class CommitCosts:
    cost_usd: float = 0.0
    sessions: int = 0
    committed_sessions: int = 0
    commits: set[str] = field(default_factory=set)

    @property
    def cost_per_commit_usd(self) -> float | None:
        return self.cost_usd / len(self.commits) if self.commits else None

    @property
    def cost_per_committed_session_usd(self) -> float | None:
        return self.cost_usd / self.committed_sessions if self.committed_sessions else None

    def as_json(self) -> dict[str, Any]:
        per_commit = self.cost_per_commit_usd
        per_session = self.cost_per_committed_session_usd
        return {
            "commits": len(self.commits),
            "committed_sessions": self.committed_sessions,
            "cost_per_commit_usd": None if per_commit is None else round(per_commit, 6),
            "cost_per_committed_session_usd": None
            if per_session is None
            else round(per_session, 6),
        }


def commit_costs(
    rows: list[dict[str, Any]],
    outcomes: Mapping[str, Outcome],
    group_of: Callable[[dict[str, Any]], str],
) -> dict[str, CommitCosts]:
    groups: dict[str, CommitCosts] = {}
    for row in rows:
        entry = groups.setdefault(group_of(row), CommitCosts())
        entry.cost_usd += row["cost_usd"]
        entry.sessions += 1
        outcome = outcomes.get(row["session_id"])
        if outcome is not None and outcome.status == "committed":
            entry.committed_sessions += 1
            entry.commits.update(outcome.commits)
    return groups


def repo_key(row: dict[str, Any]) -> str:
    """The grouping `repos_report` uses: the git root, else the project folder."""
    return str(row.get("repo") or row.get("project_path") or "")


def add_commit_costs(
    report: dict[str, Any], ledger: Ledger, settings: Settings, filters: Filters
) -> None:
    # Each session's cost in the range and its repository, as `sessions_report` gives
    # them: not a whole sessions report (its tool calls and files), which took two thirds
    # of `report repos` on a year of history.
    with LedgerMapped(ledger):
        sessions = session_costs(ledger, filters)
        ids = [row["session_id"] for row in sessions]
        outcomes = session_outcomes_only(ledger, settings, ids)
    per_repo = commit_costs(sessions, outcomes, repo_key)
    for row in report["repos"]:
        row.update(per_repo.get(row["repo"], CommitCosts()).as_json())
