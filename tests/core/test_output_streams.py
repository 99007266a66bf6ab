"""Output that cannot be written the usual way: a full disk, a closed stdout or stdin, an
encoding that is not UTF-8, a reader that stops reading. Each used to end in a traceback
(or, for the summary, in a file whose bytes contradicted its declared charset)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.helpers import REPO_ROOT
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block


@pytest.fixture
def history(isolated_home: Path) -> Path:
    session = ClaudeSession("s-streams", cwd="/home/dev/app")
    for n in range(3):
        session.reply(1 + n, [text_block("x")], claude_usage(10, 100))
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/app") / "s.jsonl")
    return isolated_home


def _shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`burnmeter ...` through a shell, for redirections a subprocess argument cannot say."""
    python = f"{sys.executable} -m shared"
    return subprocess.run(
        ["bash", "-c", command.replace("burnmeter", python, 1)],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", ["report daily --json", "report daily", "summary"])
def test_a_full_disk_is_a_message_and_exit_1(history: Path, args: str) -> None:
    done = _shell(f"burnmeter {args} > /dev/full")
    assert done.returncode == 1, done.stderr
    assert "burnmeter: cannot write the output: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr


def test_closed_streams_are_no_traceback(history: Path) -> None:
    for command in ("burnmeter summary >&-", "burnmeter report daily --json >&-"):
        done = _shell(command)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert done.returncode == 0, (command, done.stderr)
    status = _shell("burnmeter statusline <&-")
    assert status.returncode == 0 and "Traceback" not in status.stderr
    assert status.stdout.strip() == "Claude │ today $0.00"


def test_an_encoding_that_is_not_utf8(history: Path, tmp_path: Path) -> None:
    for args in ("report sessions --no-insights", "report blocks", "summary"):
        done = _shell(f"burnmeter {args}", PYTHONIOENCODING="latin-1")
        assert done.returncode == 0 and "UnicodeEncodeError" not in done.stderr, done.stderr
    # A summary redirected to a file is a document in UTF-8, as its HTML declares.
    page = tmp_path / "week.html"
    done = _shell(f"burnmeter summary --format html > {page}", PYTHONIOENCODING="cp1252")
    assert done.returncode == 0, done.stderr
    text = page.read_bytes().decode("utf-8")
    assert '<meta charset="utf-8">' in text and "–" in text


def test_json_and_csv_lose_no_character_on_a_stream_that_is_not_utf8(
    isolated_home: Path,
) -> None:
    """On a Windows pipe (cp1252) a project path's `語` or `🙂` came out as `?` in
    `--json` and `--csv`: machine-readable output silently changed."""
    import csv
    import io
    import json

    cwd = "/home/dev/語-app 🙂"
    session = ClaudeSession("s-cjk", cwd=cwd)
    session.reply(1, [text_block("x")], claude_usage(10, 100))
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s.jsonl")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    command = [sys.executable, "-m", "shared", "report", "sessions", "--no-insights"]
    done = subprocess.run(
        [*command, "--json"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.isascii()  # escapes, which any decoder reads back
    assert json.loads(done.stdout)["sessions"][0]["project_path"] == cwd
    done = subprocess.run(
        [*command, "--csv"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8"))))
    assert rows[0]["project_path"] == cwd


@pytest.mark.parametrize("lines_read", [0, 1], ids=["gone-before-the-table", "gone-mid-table"])
def test_a_reader_that_stops_reading_ends_a_table_with_0(
    isolated_home: Path, tmp_path: Path, lines_read: int
) -> None:
    """rich's own handler exits with 1 when the reader goes away (`| head`); every other
    output of burnmeter's ends with 0 then. The real CLI prints a sessions table of 400
    rows (about 190 KB, past a pipe's 64 KB buffer) to a reader that has already gone (the
    first write fails with a broken pipe: the CLI's handler) or that takes one line and
    goes while the table is being written."""
    folder = claude_project_dir(isolated_home / ".claude", "/home/dev/app")
    for n in range(400):
        session = ClaudeSession(f"s-pipe-{n:04d}", cwd="/home/dev/app")
        session.reply(1000 + 60 * n, [text_block("x")], claude_usage(10, 100))
        session.write(folder / f"s{n:04d}.jsonl")
    read_end, write_end = os.pipe()
    if lines_read == 0:
        os.close(read_end)
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        cli = subprocess.Popen(
            [sys.executable, "-m", "shared", "report", "sessions", "--no-insights"],
            cwd=REPO_ROOT,
            stdout=write_end,
            stderr=stderr,
        )
        os.close(write_end)
        if lines_read:
            with os.fdopen(read_end, "rb") as reader:
                assert b"Usage by session" in reader.readline()
        code = cli.wait(timeout=120)
    assert "Traceback" not in errors.read_text(), errors.read_text()
    assert code == 0, errors.read_text()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_the_status_line_on_a_full_disk_or_a_closed_pipe(history: Path) -> None:
    """The status line's own path (it skips the CLI's general handling) ended a full disk
    or a reader that went away (Claude Code giving up on a refresh) in a traceback."""
    full = _shell("echo '{}' | burnmeter statusline > /dev/full")
    assert full.returncode == 1, full.stderr
    assert full.stderr == "burnmeter statusline: cannot write the line: No space left on device\n"
    # A reader that exits at once (before the line is written, most times).
    gone = _shell("burnmeter statusline < /dev/null | true")
    assert gone.returncode == 0 and "Traceback" not in gone.stderr, gone.stderr


def test_the_status_line_reads_json_nested_past_pythons_limit_as_nothing(history: Path) -> None:
    deep = '{"session_id": "d", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    done = subprocess.run(
        [sys.executable, "-m", "shared", "statusline"],
        input=deep,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("Claude │ today $")
