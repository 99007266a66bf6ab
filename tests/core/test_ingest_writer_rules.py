"""What later reads of a session keep: a session's first and last call times only widen
(a grown file does not move its start, a second file with an earlier call does not move
its end), and a file read in several ingests counts each of its lines once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.ledger import Ledger, open_ledger
from tests.core.helpers import ingest_env, totals
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    write_lines,
)

CWD = "/home/dev/app"
T0 = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _span(ledger: Ledger, session_id: str) -> tuple[int, int]:
    row = ledger.conn.execute(
        "SELECT first_ts_ms, last_ts_ms FROM sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    assert row is not None
    return row


def test_a_grown_file_keeps_its_sessions_start(isolated_home: Path, tmp_path: Path) -> None:
    """Lines appended after an ingest are read from the stored offset: the session's
    first call time stays that of its first line, its last moves to the new one."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    session = ClaudeSession("s-grow", cwd=CWD)
    session.reply(T0, [text_block("x")], claude_usage(10, 10))
    path = session.write(project / "s-grow.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    later = ClaudeSession("s-grow", cwd=CWD)
    later.reply(T0 + timedelta(hours=2), [text_block("x")], claude_usage(10, 20))
    write_lines(path, later.lines, append=True)
    ingest_env(ledger)
    assert _span(ledger, "s-grow") == (_ms(T0), _ms(T0 + timedelta(hours=2)))
    assert totals(ledger)["output_tokens"] == 30


def test_an_earlier_call_read_later_keeps_the_sessions_end(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A second file of the same session, read after the first and holding a call from
    the middle of it, leaves the session's last call time where it was."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    main = ClaudeSession("s-two", cwd=CWD)
    main.reply(T0, [text_block("x")], claude_usage(10, 10))
    main.reply(T0 + timedelta(hours=3), [text_block("x")], claude_usage(10, 10))
    main.write(project / "s-two.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    other = ClaudeSession("s-two", cwd=CWD)
    other.reply(T0 + timedelta(hours=1), [text_block("x")], claude_usage(10, 5))
    other.write(project / "s-two-copy.jsonl")
    ingest_env(ledger)
    assert _span(ledger, "s-two") == (_ms(T0), _ms(T0 + timedelta(hours=3)))
    assert totals(ledger)["output_tokens"] == 25


def test_a_file_read_in_several_ingests_counts_every_line_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The stored line count of a file read, then grown and read on, is its number of
    lines."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    session = ClaudeSession("s-count", cwd=CWD)
    for hour in range(3):
        session.reply(T0 + timedelta(hours=hour), [text_block("x")], claude_usage(10, 10))
    path = session.write(project / "s-count.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    more = ClaudeSession("s-count", cwd=CWD)
    more.reply(T0 + timedelta(hours=5), [text_block("x")], claude_usage(10, 10))
    write_lines(path, more.lines, append=True)
    ingest_env(ledger)
    (lines,) = ledger.conn.execute(
        "SELECT lines FROM sources WHERE path = ?", (str(path),)
    ).fetchone()
    assert lines == len(path.read_bytes().splitlines()) == 4
