"""The figures behind the code lens and the hover, from the ledger's queries: a file
logged under both spellings of its drive letter counts once with all its calls, cost and
latest model; the hover's breakdown lists the newest session first and splits a call's
cost evenly over the files it touched."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_server.queries import file_breakdown, file_cost
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call

MINUTE = 60_000
# A fixed moment (2026-06-01T12:00Z): the queries take no "now".
T0 = 1_780_315_200_000


def _ledger_of(home: Path, calls: list[tuple[str, str, int, str, list[str]]]) -> Path:
    """Calls as (session, cwd, ts_ms, model, files edited), each file by its own tool."""
    projects = home / ".claude" / "projects"
    for n, (session_id, cwd, ts_ms, model, files) in enumerate(calls):
        folder = projects / cwd.replace("\\", "-").replace("/", "-").replace(":", "-")
        folder.mkdir(parents=True, exist_ok=True)
        tools = [(f"t{n}-{k}", "Edit", {"file_path": path}) for k, path in enumerate(files)]
        append(
            folder / f"{session_id}.jsonl",
            claude_call(
                message_id=f"m{n}", session_id=session_id, cwd=cwd, ts_ms=ts_ms, model=model,
                tools=tools,
            ),
        )  # fmt: skip
    path = Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    ledger.close()
    return path


@pytest.fixture
def connect() -> Iterator[list[sqlite3.Connection]]:
    opened: list[sqlite3.Connection] = []
    yield opened
    for conn in opened:
        conn.close()


def _open(path: Path, opened: list[sqlite3.Connection]) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    opened.append(conn)
    return conn


def _call_cost(conn: sqlite3.Connection, session_id: str) -> float:
    return float(
        conn.execute(
            "SELECT sum(cost_usd) FROM usage_events WHERE session_id = ?", (session_id,)
        ).fetchone()[0]
    )


def test_a_file_under_both_drive_letter_spellings_counts_whole(
    isolated_home: Path, connect: list[sqlite3.Connection]
) -> None:
    """One Windows file logged as `C:\\...` by one session and `c:\\...` by a later one:
    its lens has both calls, both sessions' cost, and the later call's model."""
    upper, lower = "C:\\Users\\me\\proj\\app.py", "c:\\Users\\me\\proj\\app.py"
    path = _ledger_of(
        isolated_home,
        [
            (
                "sess-up",
                "C:\\Users\\me\\proj",
                T0 - 60 * MINUTE,
                "claude-opus-4-5",
                [upper],
            ),
            (
                "sess-low",
                "c:\\Users\\me\\proj",
                T0 - 5 * MINUTE,
                "claude-haiku-4-5",
                [lower],
            ),
        ],
    )
    conn = _open(path, connect)
    cost = file_cost(conn, lower)
    assert cost is not None
    assert cost.calls == 2
    assert cost.sessions == 2
    whole = _call_cost(conn, "sess-up") + _call_cost(conn, "sess-low")
    assert abs(cost.cost_usd - whole) < 1e-9
    assert cost.last_model == "claude-haiku-4-5"
    assert cost.last_ts_ms == T0 - 5 * MINUTE


def test_breakdown_newest_first_with_each_calls_cost_split_over_its_files(
    isolated_home: Path, connect: list[sqlite3.Connection]
) -> None:
    """The hover's rows: the session with the latest call on the file first; a call that
    edited two files gives each of them half its cost."""
    shared_file, other = "/home/me/proj/a.py", "/home/me/proj/b.py"
    path = _ledger_of(
        isolated_home,
        [
            (
                "sess-old",
                "/home/me/proj",
                T0 - 60 * MINUTE,
                "claude-opus-4-5",
                [shared_file, other],
            ),
            (
                "sess-new",
                "/home/me/proj",
                T0 - 5 * MINUTE,
                "claude-opus-4-5",
                [shared_file],
            ),
        ],
    )
    conn = _open(path, connect)
    rows = file_breakdown(conn, shared_file)
    assert [row.session_id for row in rows] == ["sess-new", "sess-old"]
    assert abs(rows[1].cost_usd - _call_cost(conn, "sess-old") / 2) < 1e-9
    assert abs(rows[0].cost_usd - _call_cost(conn, "sess-new")) < 1e-9
