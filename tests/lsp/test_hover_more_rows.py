"""The hover's table lists at most 20 (session, model) rows; the line under it counts the
calls and sessions it leaves out, so the rows and that line add up to the heading. With
15 sessions of two models each, it showed 20 rows and no such line, 10 calls missing:
the line compared the rows with the sessions."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from tests.logfixtures import append, claude_call, session_file
from tests.lsp.conftest import (
    HOUR_MS,
    NOW_MS,
    Workspace,
    build_history,
    preingest,
    start_client,
)


async def test_the_more_line_counts_what_the_rows_leave_out(isolated_home: Path) -> None:
    ws = build_history(isolated_home)
    shared_py = ws.folder / "src" / "shared.py"
    for n in range(15):
        session = f"sess-two-models-{n:02d}"
        log = session_file(ws.projects, str(ws.folder), session)
        for k, model in enumerate(("claude-opus-4-7", "claude-sonnet-4-5")):
            append(
                log,
                claude_call(
                    message_id=f"two-{n}-{k}", session_id=session, cwd=str(ws.folder),
                    ts_ms=NOW_MS - HOUR_MS + n * 60_000 + k * 1000, model=model,
                    tools=[(f"t-{n}-{k}", "Edit", {"file_path": str(shared_py)})],
                ),
            )  # fmt: skip
    preingest(isolated_home)
    text = await hover_text(ws, shared_py)
    assert "30 model calls in 15 sessions" in text
    rows = [line for line in text.split("\n") if re.match(r"\| sess-two-models-\d+ \|", line)]
    assert len(rows) == 20
    listed = sum(int(row.split("|")[3]) for row in rows)
    assert listed == 20
    assert "| … | | | | 10 more calls, 5 more sessions |" in text


async def hover_text(ws: Workspace, path: Path) -> str:
    client = await start_client(ws, "neovim")
    try:
        answer = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=ws.uri(path)),
                position=types.Position(line=0, character=0),
            )
        )
    finally:
        await client.shutdown_session()
        await client.stop()
    assert answer is not None and isinstance(answer.contents, types.MarkupContent)
    return answer.contents.value
