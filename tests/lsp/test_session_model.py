"""A session whose last line is an API error (Claude Code logs it as a free call of the
model "<synthetic>") is still named by the model it ran on: in the language server's
status and sessions list, and in the tray's running session (its menu and alerts)."""

from __future__ import annotations

import time
from pathlib import Path

from lsp_server.queries import workspace_sessions
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, session_file
from tray_app.snapshot import running_sessions

CWD = "/home/dev/shop"


def _ledger(home: Path, now_ms: int) -> Ledger:
    projects = home / ".claude" / "projects"
    path = session_file(projects, CWD, "s-error")
    append(path, claude_call(message_id="m1", session_id="s-error", cwd=CWD, ts_ms=now_ms - 60_000))
    error = claude_call(
        message_id="m2", session_id="s-error", cwd=CWD, ts_ms=now_ms - 30_000,
        model="<synthetic>", input_tokens=0, output_tokens=0,
    )  # fmt: skip
    append(
        path, error.replace('"type": "assistant"', '"isApiErrorMessage": true, "type": "assistant"')
    )
    ledger = open_ledger(home / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    last = ledger.conn.execute("SELECT last_model FROM session_totals").fetchone()
    assert last == ("<synthetic>",)  # what the ledger keeps: the last line's model
    return ledger


def test_the_status_names_the_model_the_session_ran_on(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, int(time.time() * 1000))
    (session,) = workspace_sessions(ledger.conn, [CWD])
    assert session.model == "claude-opus-4-7"


def test_the_trays_running_session_names_it_too(tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    (running,) = running_sessions(_ledger(tmp_path, now_ms), now_ms)
    assert running.model == "claude-opus-4-7"
