"""`textDocument/hover`: anywhere in a file agents touched, a Markdown table of its cost
by session and model, with a link to the weekly summary; an aligned plain-text table for
a client that prefers plain text (`textDocument.hover.contentFormat`). One asked for
before the live engine's first ingest is done waits for it (up to 10 s)."""

from __future__ import annotations

import os
import sqlite3
import time

from lsprotocol import types

from lsp_server.format import ago, cost_text, count, md_text, plain_text, short_model
from lsp_server.queries import BreakdownRow, FileCost, file_breakdown, file_cost
from lsp_server.server import BurnmeterServer, path_of
from shared.commands.render import short_ids

# The VS Code extension registers this client command; other clients show the text.
WEEKLY_SUMMARY_LINK = "[Weekly summary](command:burnmeter.showWeeklySummary)"


def hover_markdown(cost: FileCost, rows: list[BreakdownRow], now_ms: int) -> str:
    # Names and ids come from the logs: escaped, never inside a code span (where an
    # escape would show) or raw (where `|` adds a column and `<b>` is HTML).
    spend = cost_text(cost.cost_usd, cost.unpriced_calls, cost.calls)
    lines = [
        f"**burnmeter** · {md_text(os.path.basename(cost.path))}: {spend} agent spend, "
        f"{count(cost.calls, 'model call')} in {count(cost.sessions, 'session')}",
        "",
        "| Session | Model | Calls | Cost | Last |",
        "|---|---|--:|--:|---|",
    ]
    ids = short_ids(row.session_id for row in rows)
    for row in rows:
        lines.append(
            f"| {md_text(ids[row.session_id])} | {md_text(short_model(row.model))} | "
            f"{row.calls} | {cost_text(row.cost_usd, row.unpriced_calls, row.calls)} | "
            f"{ago(now_ms - row.last_ts_ms)} |"
        )
    more = more_text(cost, rows)
    if more is not None:
        lines.append(f"| … | | | | {more} |")
    lines += [
        "",
        "A call's cost is split evenly over the files its tools touched. " + WEEKLY_SUMMARY_LINK,
    ]
    return "\n".join(lines)


def more_text(cost: FileCost, rows: list[BreakdownRow]) -> str | None:
    """What the rows leave out, or None. Rows are (session, model) pairs, at most 20: the
    calls no row lists and the sessions none names, so the table and this line add up to
    the heading. Comparing the row count with the sessions said nothing when 15 sessions
    of two models each filled 20 rows and left 10 calls out."""
    more_calls = cost.calls - sum(row.calls for row in rows)
    more_sessions = cost.sessions - len({row.session_id for row in rows})
    if more_calls <= 0:
        return None
    more = count(more_calls, "more call")
    if more_sessions > 0:
        more += f", {count(more_sessions, 'more session')}"
    return more


def hover_plaintext(cost: FileCost, rows: list[BreakdownRow], now_ms: int) -> str:
    """The hover as plain text, its table aligned in columns, for clients that show hover
    text as it is (eglot without markdown-mode asks for `plaintext` only and showed the
    Markdown's pipes and asterisks)."""
    spend = cost_text(cost.cost_usd, cost.unpriced_calls, cost.calls)
    table = [["Session", "Model", "Calls", "Cost", "Last"]]
    ids = short_ids(row.session_id for row in rows)
    for row in rows:
        table.append(
            [
                plain_text(ids[row.session_id]),
                plain_text(short_model(row.model)),
                str(row.calls),
                cost_text(row.cost_usd, row.unpriced_calls, row.calls),
                ago(now_ms - row.last_ts_ms),
            ]
        )
    widths = [max(len(line[column]) for line in table) for column in range(5)]
    numbers = (2, 3)  # right-aligned, as in the Markdown table
    lines = [
        f"burnmeter · {plain_text(os.path.basename(cost.path))}: {spend} agent spend, "
        f"{count(cost.calls, 'model call')} in {count(cost.sessions, 'session')}",
        "",
    ]
    for line in table:
        cells = [
            cell.rjust(width) if column in numbers else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    more = more_text(cost, rows)
    if more is not None:
        lines.append(f"… {more}")
    lines += ["", "A call's cost is split evenly over the files its tools touched."]
    return "\n".join(lines)


def markdown_for_path(conn: sqlite3.Connection, path: str) -> str | None:
    """The hover text of a file, or None if no agent touched it."""
    return hover_for_path(conn, path, False)


def hover_for_path(conn: sqlite3.Connection, path: str, plain: bool) -> str | None:
    """The hover of a file, in Markdown or plain text; None if no agent touched it."""
    cost = file_cost(conn, path)
    if cost is None:
        return None
    render = hover_plaintext if plain else hover_markdown
    return render(cost, file_breakdown(conn, path), int(time.time() * 1000))


def prefers_plaintext(server: BurnmeterServer) -> bool:
    """Whether the client's hover formats, most preferred first, put plain text before
    Markdown or leave Markdown out. Without the capability: Markdown, as before."""
    documents = getattr(server.client_capabilities, "text_document", None)
    hover = getattr(documents, "hover", None)
    formats = getattr(hover, "content_format", None)
    if not formats:
        return False
    kinds = [getattr(kind, "value", kind) for kind in formats]
    if "markdown" not in kinds:
        return True
    return "plaintext" in kinds[: kinds.index("markdown")]


def setup(server: BurnmeterServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: BurnmeterServer, params: types.HoverParams) -> types.Hover | None:
        path = path_of(params.text_document.uri)
        if path is None or not ls.settings.hover:
            return None
        # A hover is never asked again: one before the first ingest is done waits for it.
        await ls.hub.wait_first_ingest()
        plain = prefers_plaintext(ls)
        text = await ls.hub.query(hover_for_path, path, plain)
        if text is None:
            return None
        kind = types.MarkupKind.PlainText if plain else types.MarkupKind.Markdown
        return types.Hover(contents=types.MarkupContent(kind=kind, value=text))
