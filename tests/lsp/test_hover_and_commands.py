"""`textDocument/hover` and `workspace/executeCommand` through the real server."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.hover import hover_markdown
from lsp_server.queries import BreakdownRow, FileCost
from tests.lsp.conftest import Workspace

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


async def hover(client: LanguageClient, uri: str, line: int = 0) -> types.Hover | None:
    return await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=3),
        )
    )


async def test_hover_is_a_markdown_table_by_session_and_model(
    client: LanguageClient, workspace: Workspace
) -> None:
    result = await hover(client, workspace.uri(workspace.main_py), line=5)
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    assert result.contents.kind == types.MarkupKind.Markdown
    text = result.contents.value
    assert "| Session | Model | Calls | Cost | Last |" in text
    assert "| sess-app | opus-4-7 | 2 |" in text
    assert "command:burnmeter.showWeeklySummary" in text
    assert "agent spend, 2 model calls in 1 session\n" in text
    # One call: "1 model call", not "1 model calls".
    util = await hover(client, workspace.uri(workspace.util_py))
    assert util is not None and isinstance(util.contents, types.MarkupContent)
    assert "agent spend, 1 model call in 1 session\n" in util.contents.value
    assert await hover(client, workspace.uri(workspace.untouched_py)) is None
    assert await hover(client, "untitled:x") is None


async def execute(client: LanguageClient, command: str, *arguments: object) -> object:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def test_weekly_summary_returns_markdown(
    client: LanguageClient, workspace: Workspace
) -> None:
    text = await execute(client, "burnmeter.weeklySummary")
    assert isinstance(text, str)
    assert text.startswith("#")
    assert "$" in text


async def test_sessions_lists_only_workspace_sessions(
    client: LanguageClient, workspace: Workspace
) -> None:
    rows = await execute(client, "burnmeter.sessions")
    assert isinstance(rows, list)
    ids = sorted(row["session_id"] for row in rows)
    assert ids == ["sess-app-1", "sess-app-explore"]
    first = next(row for row in rows if row["session_id"] == "sess-app-1")
    assert first["agent"] == "claude-code"
    assert first["model"] == "claude-opus-4-7"
    assert first["running"] is False
    assert first["total_tokens"] == 36_000


async def test_file_cost_command_and_bad_arguments(
    client: LanguageClient, workspace: Workspace
) -> None:
    text = await execute(client, "burnmeter.fileCost", workspace.uri(workspace.main_py))
    assert isinstance(text, str) and "| Session |" in text
    assert await execute(client, "burnmeter.fileCost", 42) is None
    with pytest.raises(Exception, match="not defined"):
        await execute(client, "burnmeter.noSuchCommand")


def test_hover_counts_are_plural_only_when_not_one() -> None:
    row = BreakdownRow("s1", "claude-opus-4-7", 1, 1.0, 0)
    one = FileCost("/w/a.py", 1.0, calls=1, sessions=1, last_model="m", last_ts_ms=0)
    text = hover_markdown(one, [row], now_ms=0)
    assert "1 model call in 1 session" in text and "more" not in text
    two = FileCost("/w/a.py", 1.5, calls=2, sessions=2, last_model="m", last_ts_ms=0)
    assert "| … | | | | 1 more call, 1 more session |" in hover_markdown(two, [row], now_ms=0)
    many = FileCost("/w/a.py", 9.0, calls=1204, sessions=5, last_model="m", last_ts_ms=0)
    text = hover_markdown(many, [row], now_ms=0)
    assert "1,204 model calls in 5 sessions" in text
    assert "| 1,203 more calls, 4 more sessions |" in text


def unescaped_pipes(line: str) -> int:
    return line.count("|") - line.count("\\|")


def test_hover_escapes_logged_names_and_ids() -> None:
    """A model, session id or file name from the logs cannot add a column (`|`), become
    HTML (`<b>`), emphasis, a link or a code span, or end the row (a line break)."""
    cost = FileCost("/w/a|<i>x`y`.py", 1.0, calls=3, sessions=3, last_model="m", last_ts_ms=0)
    rows = [
        BreakdownRow("s|1`<b>", "odd|model", 1, 0.5, 0),
        BreakdownRow("s2", "<b>model</b>", 1, 0.25, 0),
        BreakdownRow("s3", "two\nlines*_[x](y)~~z~~\r", 1, 0.25, 0),
    ]
    text = hover_markdown(cost, rows, now_ms=0)
    lines = text.split("\n")
    table = lines[lines.index("| Session | Model | Calls | Cost | Last |") :]
    table = table[: table.index("")]
    assert len(table) == 2 + len(rows)  # header, alignment, one line per row
    assert all(unescaped_pipes(line) == 6 for line in table)
    assert "<b>" not in text and "<i>" not in text
    assert "| s\\|1\\`\\<b\\> | odd\\|model |" in text
    assert "| s2 | \\<b\\>model\\</b\\> |" in text
    assert "| s3 | two\\\\nlines\\*\\_\\[x\\](y)\\~\\~z\\~\\~\\\\r |" in text
    assert lines[0].startswith("**burnmeter** · a\\|\\<i\\>x\\`y\\`.py: $1.00 agent spend")


def test_hover_rows_of_sessions_started_together_keep_distinct_ids() -> None:
    """Codex ids are UUIDv7 (their first 8 hex digits the start time in 65 s steps): two
    rollouts opened seconds apart both read `019c8a4c` in the hover table."""
    from lsp_server.hover import hover_plaintext

    cost = FileCost("/w/a.py", 1.0, calls=2, sessions=2, last_model="m", last_ts_ms=0)
    rows = [
        BreakdownRow("019c8a4c-ed82-7c61-9d0e-3f1a2b3c4d5e", "gpt-5.2-codex", 1, 0.5, 0),
        BreakdownRow("019c8a4c-f9c0-7a12-8b3c-4d5e6f708192", "gpt-5.2-codex", 1, 0.5, 0),
    ]
    markdown = hover_markdown(cost, rows, now_ms=0)
    assert "| 019c8a4c-e |" in markdown and "| 019c8a4c-f |" in markdown
    plain = hover_plaintext(cost, rows, now_ms=0)
    assert "019c8a4c-e " in plain and "019c8a4c-f " in plain


def test_a_path_with_a_nul_has_its_own_form_only() -> None:
    """`file:///tmp/%00x` made realpath raise "embedded null byte": the hover and lens
    answered an internal error with a traceback."""
    from lsp_server.queries import path_forms

    assert path_forms("/tmp/\0x") == ["/tmp/\0x"]
