"""A ledger damaged inside (its header intact, so it opens): every command reports it with
its path and what to do, writes nothing into it, and never shows a traceback.

Opening a ledger checks only its first page; a page overwritten later (a disk fault, a
stray copy) surfaces as SQLITE_CORRUPT in whichever query reads it. That used to reach
the user as `sqlite3.DatabaseError: database disk image is malformed` and a traceback
from every command, `doctor` included, and `watch` retried it forever."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from shared.ledger import NEW_LEDGER_PAGE_SIZE
from shared.paths import ledger_path
from tests.core.helpers import REPO_ROOT, run_cli
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block


def _log(home: Path, replies: int) -> Path:
    session = ClaudeSession("s-damaged", cwd="/home/dev/app")
    for n in range(replies):
        session.reply(1 + n, [text_block("x")], claude_usage(10 + n, 100, cache_read=1000))
    return session.write(claude_project_dir(home / ".claude", "/home/dev/app") / "s.jsonl")


def _damage(path: Path) -> str:
    """Overwrite every page of the ledger's tables and indexes with noise, keeping the
    header and the schema (so the file still opens); the file's digest after."""
    with closing(sqlite3.connect(path)) as conn:
        pages = [
            pageno
            for (pageno,) in conn.execute(
                "SELECT pageno FROM dbstat WHERE name != 'sqlite_schema' AND pageno > 1"
            )
        ]
    assert len(pages) > 10
    data = bytearray(path.read_bytes())
    for pageno in pages:
        start = (pageno - 1) * NEW_LEDGER_PAGE_SIZE
        data[start : start + NEW_LEDGER_PAGE_SIZE] = os.urandom(NEW_LEDGER_PAGE_SIZE)
    path.write_bytes(bytes(data))
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def damaged_ledger(isolated_home: Path) -> tuple[Path, str]:
    _log(isolated_home, 3)
    assert run_cli("ingest").returncode == 0
    path = ledger_path()
    assert not Path(str(path) + "-wal").exists()  # all of it in the file
    digest = _damage(path)
    _log(isolated_home, 6)  # new lines, which an ingest would try to write
    return path, digest


@pytest.mark.parametrize(
    "command",
    [["ingest"], ["report", "daily"], ["report", "sessions", "--no-ingest"], ["budgets"]],
)
def test_a_command_on_a_damaged_ledger_says_so_and_writes_nothing(
    damaged_ledger: tuple[Path, str], command: list[str]
) -> None:
    path, digest = damaged_ledger
    result = run_cli(*command)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"The ledger at {path} is damaged" in message
    assert "Move it aside" in message and "burnmeter ingest" in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_doctor_checks_the_file_before_it_ingests(damaged_ledger: tuple[Path, str]) -> None:
    path, digest = damaged_ledger
    result = run_cli("doctor")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    text = " ".join(result.stdout.split())
    assert "is damaged: its integrity check found" in text and str(path) in text
    as_json = run_cli("doctor", "--json")
    assert as_json.returncode == 1  # as the text output: it was 0 with the error inside
    report = json.loads(as_json.stdout)
    assert report["ledger"]["integrity"] != "ok" and report["ledger"]["integrity"]
    assert "damaged" in report["ledger"]["error"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_doctor_says_a_sound_ledger_passed_its_check(isolated_home: Path) -> None:
    _log(isolated_home, 2)
    result = run_cli("doctor")
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    assert json.loads(run_cli("doctor", "--json").stdout)["ledger"]["integrity"] == "ok"


def test_watch_stops_with_the_message_instead_of_retrying(
    damaged_ledger: tuple[Path, str],
) -> None:
    path, digest = damaged_ledger
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "shared", "watch"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 30
    message = " ".join(result.stderr.split())
    assert f"The ledger at {path} is damaged" in message
    assert "Traceback" not in result.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
