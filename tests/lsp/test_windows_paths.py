"""Windows paths in the ledger, as Claude Code logs them there (`C:\\Users\\me\\proj`),
found from the paths the server has on Windows: pygls lowercases the drive letter of a
URI, and folders use `\\` as separator. Run on Linux with Windows-style strings."""

from __future__ import annotations

import ntpath
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pygls.uris
import pytest

from lsp_server.queries import (
    file_breakdown,
    file_cost,
    path_forms,
    workspace_cost,
    workspace_sessions,
)
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call
from tests.lsp.conftest import HOUR_MS, NOW_MS

WIN_PROJECT = "C:\\Users\\me\\proj"
WIN_FILE = "C:\\Users\\me\\proj\\src\\app.py"
POSIX_PROJECT = "/home/me/proj"


@pytest.fixture
def conn(isolated_home: Path) -> Iterator[sqlite3.Connection]:
    projects = isolated_home / ".claude" / "projects"
    for cwd, session_id, touched, n in (
        (WIN_PROJECT, "sess-win", WIN_FILE, 1),
        (POSIX_PROJECT, "sess-posix", POSIX_PROJECT + "/src/app.py", 2),
    ):
        folder = projects / cwd.replace("\\", "-").replace("/", "-").replace(":", "-")
        folder.mkdir(parents=True)
        append(
            folder / f"{session_id}.jsonl",
            claude_call(
                message_id=f"m{n}", session_id=session_id, cwd=cwd, ts_ms=NOW_MS - HOUR_MS,
                model="claude-sonnet-4-5", tools=[(f"t{n}", "Edit", {"file_path": touched})],
            ),
        )  # fmt: skip
    ledger = open_ledger(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, projects)])
    ledger.close()
    connection = sqlite3.connect(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    yield connection
    connection.close()


def server_path_on_windows(uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `path_of` computes on Windows: pygls' path, then ntpath's normalisation."""
    monkeypatch.setattr(pygls.uris, "IS_WIN", True)
    path = pygls.uris.to_fs_path(uri)
    assert path is not None
    return ntpath.normpath(ntpath.abspath(path))


def test_a_file_is_found_whatever_the_case_of_its_drive_letter(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What VS Code sends on Windows.
    path = server_path_on_windows("file:///c%3A/Users/me/proj/src/app.py", monkeypatch)
    assert path == "c:\\Users\\me\\proj\\src\\app.py"
    cost = file_cost(conn, path)
    assert cost is not None
    assert cost.calls == 1 and cost.sessions == 1 and cost.cost_usd > 0
    assert cost.last_model == "claude-sonnet-4-5"
    assert file_cost(conn, WIN_FILE) == replace(cost, path=WIN_FILE)
    rows = file_breakdown(conn, path)
    assert [(r.session_id, r.calls) for r in rows] == [("sess-win", 1)]
    # Only the drive letter's case: the rest of the path must match.
    assert file_cost(conn, "c:\\users\\me\\proj\\src\\app.py") is None


@pytest.mark.parametrize(
    "folder",
    [
        "c:\\Users\\me\\proj",  # the workspace itself, as pygls gives it
        "C:\\Users\\me\\proj",
        "c:\\Users\\me\\proj\\",
        "c:\\Users\\me",  # a parent folder
        "C:\\Users",
        "c:\\",  # the drive's root
    ],
)
def test_windows_sessions_inside_a_workspace_folder_are_found(
    conn: sqlite3.Connection, folder: str
) -> None:
    assert [s.session_id for s in workspace_sessions(conn, [folder])] == ["sess-win"]
    cost, unpriced = workspace_cost(conn, [folder], {})
    assert cost > 0 and unpriced == 0


@pytest.mark.parametrize("folder", ["c:\\Users\\m", "c:\\Users\\me\\proj\\src", "d:\\", "C:"])
def test_windows_sessions_outside_a_folder_are_not(conn: sqlite3.Connection, folder: str) -> None:
    assert workspace_sessions(conn, [folder]) == []


@pytest.mark.parametrize(
    ("folder", "found"),
    [
        ("/home/me/proj", ["sess-posix"]),
        ("/home/me/proj/", ["sess-posix"]),
        ("/home/me", ["sess-posix"]),
        ("/home/m", []),
        ("/", ["sess-posix"]),
    ],
)
def test_posix_folders_are_unchanged(
    conn: sqlite3.Connection, folder: str, found: list[str]
) -> None:
    assert [s.session_id for s in workspace_sessions(conn, [folder])] == found


def test_path_forms() -> None:
    assert path_forms("/home/me/a.py") == ["/home/me/a.py"]
    assert path_forms("c:\\a.py") == ["c:\\a.py", "C:\\a.py"]
    assert path_forms("D:/a.py") == ["D:/a.py", "d:/a.py"]
    assert path_forms("c:relative") == ["c:relative"]
