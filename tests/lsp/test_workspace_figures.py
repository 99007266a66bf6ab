"""The workspace figures of the `burnmeter/status` notification, from the ledger's
queries: which sessions lie inside a workspace folder (not a sibling folder whose name
starts the same), the count of its calls without a price over all its sessions, and a
session still running at the window's very edge; with no sessions listed, the latest one
is still known (the running-session progress needs it)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lsp_server.queries import SessionCost, workspace_cost, workspace_sessions
from lsp_server.status import status_params
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.reports import RUNNING_WINDOW_MS
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, session_file

MINUTE = 60_000
T0 = 1_780_315_200_000  # 2026-06-01T12:00Z


@pytest.fixture
def conn(isolated_home: Path) -> Iterator[sqlite3.Connection]:
    """Sessions in the folder, below it, and in two siblings named like it (`proj-old`,
    `proj0`); `in-a` and `in-b` each have one call of a model with no price."""
    projects = isolated_home / ".claude" / "projects"
    calls = (
        ("in-a", "/home/me/proj", "claude-opus-4-5"),
        ("in-a", "/home/me/proj", "mystery-model-1"),
        ("in-b", "/home/me/proj/sub", "mystery-model-1"),
        ("sib-dash", "/home/me/proj-old", "mystery-model-1"),
        ("sib-zero", "/home/me/proj0", "mystery-model-1"),
    )
    for n, (session_id, cwd, model) in enumerate(calls):
        append(
            session_file(projects, cwd, session_id),
            claude_call(
                message_id=f"m{n}", session_id=session_id, cwd=cwd,
                ts_ms=T0 - (10 - n) * MINUTE, model=model,
            ),
        )  # fmt: skip
    path = Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    ledger.close()
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


def test_workspace_sessions_leave_out_sibling_folders(conn: sqlite3.Connection) -> None:
    """`/home/me/proj` holds its own sessions and those below it, not those of
    `/home/me/proj-old` or `/home/me/proj0`."""
    found = {s.session_id for s in workspace_sessions(conn, ["/home/me/proj"])}
    assert found == {"in-a", "in-b"}


def test_workspace_cost_counts_unpriced_calls_over_all_its_sessions(
    conn: sqlite3.Connection,
) -> None:
    """The workspace's calls without a price are the sum over its sessions (one each
    here: 2), and its cost is that of its own sessions only."""
    cost, unpriced = workspace_cost(conn, ["/home/me/proj"], {})
    assert unpriced == 2
    own = conn.execute(
        "SELECT sum(coalesce(cost_usd, 0)) FROM usage_events WHERE session_id IN ('in-a', 'in-b')"
    ).fetchone()[0]
    assert abs(cost - own) < 1e-9


def test_a_session_is_still_running_at_the_windows_edge() -> None:
    """A session whose last call was exactly the running window ago still counts as
    running; a millisecond later it does not."""
    session = SessionCost("s", "claude-code", "/p", "m", 1.0, 10, 1, T0 - MINUTE, T0)
    assert session.running(T0 + RUNNING_WINDOW_MS)
    assert not session.running(T0 + RUNNING_WINDOW_MS + 1)


def test_with_no_sessions_listed_the_latest_is_still_found(
    conn: sqlite3.Connection,
) -> None:
    """`statusSessions = 0` lists no session in the notification, yet the workspace's most
    recent session is still handed on (the running-session progress shows it)."""
    params, latest = status_params(
        conn, ["/home/me/proj"], 0, RUNNING_WINDOW_MS, zone=lambda: ZoneInfo("UTC")
    )
    assert params["sessions"] == []
    assert latest is not None and latest.session_id == "in-b"
