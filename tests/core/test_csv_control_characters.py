"""`--csv` on a terminal writes the control and bidi characters of logged names as escapes,
as the tables do: a cwd holding ESC ]0;… BEL (an OSC sequence) retitled the terminal, and a
carriage return rewrote the row on screen. Piped, the cells are written as logged."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.core.helpers import REPO_ROOT, run_cli
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    tool_use_block,
)

CWD = "/home/dev/\x1b]0;pwned\x07odd\r\u202eproj"


def _run_on_terminal(*args: str) -> str:
    """`burnmeter ARGS` with a pseudo-terminal as stdout (stderr piped apart); its stdout."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "shared", *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
        cwd=REPO_ROOT,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    os.close(master)
    assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    return output.decode("utf-8")


def test_csv_on_a_terminal_escapes_control_characters(isolated_home: Path) -> None:
    session = ClaudeSession("s-osc", cwd=CWD)
    edit = tool_use_block("t-osc", "Edit", {"file_path": f"{CWD}/a\tb.py"})
    session.reply(0, [edit], claude_usage(1_000, 10), model="odd\x1b[31mmodel")
    session.reply(1, [text_block("x")], claude_usage(1_000, 10))
    session.write(claude_project_dir(isolated_home / ".claude", CWD) / "s.jsonl")
    assert run_cli("ingest").returncode == 0
    escaped = "/home/dev/\\x1b]0;pwned\\x07odd\\r\\u202eproj"
    for kind in ("sessions", "files", "models", "daily"):
        shown = _run_on_terminal("report", kind, "--csv", "--no-ingest")
        # The pty turns each "\n" into "\r\n": those are the only carriage returns left.
        text = shown.replace("\r\n", "\n")
        assert not any(c in text for c in "\x1b\x07\r\u202e"), (kind, text)
        if kind in ("sessions", "files"):
            assert escaped in text, (kind, text)
        if kind != "files":
            assert "odd\\x1b[31mmodel" in text, (kind, text)
    # The weekly summary on a terminal, in each format it writes there (2026-03-10: W11).
    for fmt in ("csv", "md", "json"):
        shown = _run_on_terminal(
            "summary", "--week", "2026-W11", "--tz", "UTC", "--format", fmt, "--no-ingest"
        ).replace("\r\n", "\n")
        assert not any(c in shown for c in "\x1b\x07\r\u202e"), (fmt, shown)
        assert "odd" in shown and "\n" in shown.strip(), (fmt, shown)
    files = _run_on_terminal("report", "files", "--csv", "--no-ingest").replace("\r\n", "\n")
    assert f"{escaped}/a\\tb.py" in files
    # Piped: as logged, CSV-quoted, for whatever reads the file.
    piped = subprocess.run(
        [sys.executable, "-m", "shared", "report", "sessions", "--csv", "--no-ingest"],
        capture_output=True,  # bytes: text mode would read the "\r" as a line's end
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    rows = list(csv.DictReader(io.StringIO(piped.stdout.decode("utf-8"), newline="")))
    assert [row["project_path"] for row in rows] == [CWD]
    assert "odd\x1b[31mmodel" in rows[0]["models"].split(";")
