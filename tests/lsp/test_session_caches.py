"""The language server's per-session caches (calls without a price, tier hints) keep only
the sessions it still shows: a long-running server over a growing history, or one whose
workspace folders change, does not keep one entry per session it ever saw."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lsp_server import diagnostics
from lsp_server.diagnostics import HintCache, hints_by_file
from lsp_server.queries import UnpricedCache, workspace_cost, workspace_sessions
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, session_file
from tests.lsp.conftest import HOUR_MS, NOW_MS

# In the order of their calls: three sessions in folder a, one in folder b.
SESSIONS = [
    ("/home/me/a", "sess-a1"),
    ("/home/me/a", "sess-a2"),
    ("/home/me/b", "sess-b1"),
    ("/home/me/a", "sess-a3"),
]


@pytest.fixture
def ledger(isolated_home: Path) -> Ledger:
    projects = isolated_home / ".claude" / "projects"
    for n, (cwd, session_id) in enumerate(SESSIONS):
        append(
            session_file(projects, cwd, session_id),
            claude_call(
                message_id=f"m{n}", session_id=session_id, cwd=cwd,
                ts_ms=NOW_MS - HOUR_MS + n * 60_000, model="claude-opus-4-5-20251101",
                output_tokens=200_000,
                tools=[(f"t{n}", "Grep", {"pattern": "x", "path": f"{cwd}/src"})],
            ),
        )  # fmt: skip
    ledger = open_ledger(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    return ledger


def test_the_unpriced_cache_keeps_the_open_folders_sessions(ledger: Ledger) -> None:
    cache: UnpricedCache = {}
    cost_a, unpriced = workspace_cost(ledger.conn, ["/home/me/a"], cache)
    assert cost_a > 0 and unpriced == 0
    assert sorted(cache) == ["sess-a1", "sess-a2", "sess-a3"]
    # The sessions list (its other user) asks for some of them: nothing is dropped.
    workspace_sessions(ledger.conn, ["/home/me/a"], 1, cache)
    workspace_cost(ledger.conn, ["/home/me/a"], cache)
    assert sorted(cache) == ["sess-a1", "sess-a2", "sess-a3"]
    # The workspace's folder changes: folder a's sessions go.
    cost_b, _ = workspace_cost(ledger.conn, ["/home/me/b"], cache)
    assert cost_b > 0
    assert sorted(cache) == ["sess-b1"]


def test_the_hint_cache_keeps_the_sessions_it_shows(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache: HintCache = {}
    hints_by_file(ledger, ["/home/me/a"], cache)
    assert sorted(cache) == ["sess-a1", "sess-a2", "sess-a3"]
    monkeypatch.setattr(diagnostics, "MAX_SESSIONS", 2)
    hints_by_file(ledger, ["/home/me/a", "/home/me/b"], cache)
    assert sorted(cache) == ["sess-a3", "sess-b1"]  # the two most recent


def test_a_sessions_hint_is_worked_out_again_once_its_totals_move(ledger: Ledger) -> None:
    """A live session's hint follows it: once the session has new calls (here one that
    edits a file), the next pass evaluates it again, so the hint reaches the file it now
    edited, instead of the pass reusing what it found before the call."""
    cache: HintCache = {}
    assert hints_by_file(ledger, ["/home/me/a"], cache) == {}  # explored, edited nothing
    (before, hint, files) = cache["sess-a1"]
    assert hint is not None and files == []
    edited = "/home/me/a/src/app.py"
    projects = Path(os.environ["HOME"]) / ".claude" / "projects"
    append(
        session_file(projects, "/home/me/a", "sess-a1"),
        claude_call(
            message_id="m-edit", session_id="sess-a1", cwd="/home/me/a",
            ts_ms=NOW_MS - HOUR_MS + 30 * 60_000, model="claude-opus-4-5-20251101",
            output_tokens=1_000,
            tools=[("t-edit", "Edit", {"file_path": edited, "old_string": "a", "new_string": "b"})],
        ),
    )  # fmt: skip
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    by_file = hints_by_file(ledger, ["/home/me/a"], cache)
    (after, _, files) = cache["sess-a1"]
    assert after != before and after[0] == before[0] + 1
    assert files == [edited]
    assert edited in by_file
