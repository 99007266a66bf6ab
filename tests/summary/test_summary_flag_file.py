"""A loop flag names the file its repeated failing call touched; the weekly summary shows
it as it is, and under `--redact` as a keyed hash (a field of the flag, never cut out of
the text), so no format of a redacted summary carries any trace of the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.sources.roots import claude_roots, codex_roots
from shared.summary import build_summary, parse_week, render
from tests.summary.history import ClaudeSession

SONNET = "claude-sonnet-4-5-20250929"
MONDAY = datetime(2026, 11, 9, tzinfo=UTC)  # 2026-W46 in UTC
WEEK = parse_week("2026-W46")
FORMATS = ("md", "html", "json", "csv")
# Distinct names, so a trace of any part of the path is found wherever it is.
FOLDER = "quillwort"
FILE = "src/marmalade_checkout.py"


@pytest.fixture
def scene(isolated_home: Path, tmp_path: Path) -> tuple[Ledger, Path]:
    repo = (tmp_path / FOLDER).resolve()
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=30)
    editor = ClaudeSession(isolated_home, str(repo))
    for minute in range(6):
        editor.call(
            MONDAY + timedelta(days=1, hours=10, minutes=minute),
            model=SONNET,
            tools=[("Edit", {"file_path": str(repo / FILE), "old_string": "a", "new_string": "b"})],
            failing=True,
        )
    editor.write()
    runner = ClaudeSession(isolated_home, str(repo))
    for minute in range(6):
        runner.call(
            MONDAY + timedelta(days=2, hours=10, minutes=minute),
            model=SONNET,
            tools=[("Bash", {"command": "make test"})],
            failing=True,
        )
    runner.write()
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    env = {"HOME": str(isolated_home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    return ledger, repo


def _loops(summary: dict[str, object]) -> dict[str, dict[str, str]]:
    flags = summary["flags"]
    assert isinstance(flags, dict)
    return {str(flag["evidence"]).split(" ")[0]: flag for flag in flags["flags"]}


def test_the_summary_names_the_file_of_an_edit_loop(scene: tuple[Ledger, Path]) -> None:
    ledger, _ = scene
    summary = build_summary(ledger, Settings(), WEEK, ZoneInfo("UTC"))
    loops = _loops(summary)
    assert loops["Edit"]["file"] == FILE
    assert loops["Edit"]["evidence"] == (
        f"Edit on {FILE} failed 6 times in a row with the same input over 5 min"
    )
    assert loops["Bash"]["file"] is None and "(hash " in loops["Bash"]["evidence"]
    assert f"Edit on {FILE.replace('_', chr(92) + '_')} failed" in render(summary, "md")
    assert f"Edit on {FILE} failed" in render(summary, "html")


def test_a_redacted_summary_carries_no_trace_of_the_file(scene: tuple[Ledger, Path]) -> None:
    ledger, repo = scene
    summary = build_summary(ledger, Settings(), WEEK, ZoneInfo("UTC"), redact=True)
    loops = _loops(summary)
    hashed = loops["Edit"]["file"]
    assert hashed.startswith("file-") and len(hashed) == len("file-") + 10
    assert loops["Edit"]["evidence"] == (
        f"Edit on {hashed} failed 6 times in a row with the same input over 5 min"
    )
    assert loops["Bash"]["evidence"] == (
        "Bash failed 6 times in a row with the same input over 5 min"
    )
    for fmt in FORMATS:
        text = render(summary, fmt)
        for trace in (str(repo), FOLDER, "marmalade", "checkout", "src/"):
            assert trace not in text, (fmt, trace)
    assert hashed in render(summary, "md") and hashed in render(summary, "html")
    # The same file gives the same hash in every summary made on this machine.
    again = build_summary(ledger, Settings(), WEEK, ZoneInfo("UTC"), redact=True)
    assert _loops(again)["Edit"]["file"] == hashed


def test_the_summary_command_with_redact(scene: tuple[Ledger, Path]) -> None:
    """The real command, reading the logs itself: no format names the file."""
    _, repo = scene
    command = [sys.executable, "-m", "shared", "summary", "--week", "2026-W46", "--tz", "UTC"]
    for fmt in FORMATS:
        done = subprocess.run(
            [*command, "--redact", "--format", fmt],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        for trace in (str(repo), FOLDER, "marmalade"):
            assert trace not in done.stdout, (fmt, trace)
        if fmt == "json":
            loops = _loops(json.loads(done.stdout))
            assert loops["Edit"]["file"].startswith("file-")
        elif fmt != "csv":
            assert "Edit on file-" in done.stdout, fmt
