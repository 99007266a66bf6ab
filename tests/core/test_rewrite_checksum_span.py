"""A Claude Code transcript rewritten in place (same inode) is caught by the checksum of
the bytes before its stored offset even when only the last few dozen of those bytes are
the same: the lines of one session end with the same ~90 bytes (cwd, session id, version,
branch), so a checksum of a short span cannot tell one of its lines from another."""

from __future__ import annotations

import os
from pathlib import Path

from shared.ingest.reading import TAIL_BYTES
from shared.ledger import open_ledger
from tests.core.helpers import ingest_env, totals
from tests.core.logwriters import claude_project_dir, claude_replies

CWD = "/home/dev/span"


def test_a_rewrite_that_keeps_the_last_bytes_before_the_offset_is_read_again(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Read once (one call of 100 output tokens), the file is overwritten in place with
    other text of the same session: a line of exactly the old length whose last 64 bytes
    are the old line's (only its counts and ids differ, further back), then one more
    line. The rewrite is noticed and the file read again from its start: both new calls
    are counted (and the old one kept), not just the line after the old offset."""
    path = claude_project_dir(isolated_home / ".claude", CWD) / "s-span.jsonl"
    old = claude_replies("s-span", CWD, [100]).lines[0]
    path.parent.mkdir(parents=True)
    path.write_bytes(old)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100

    first, second = claude_replies("s-span", CWD, [700, 5000]).lines
    # The premise: the old offset falls at the end of the new first line, the 64 bytes
    # before it are unchanged, and what differs lies within the checksum's 4 KiB.
    assert len(first) == len(old) <= TAIL_BYTES
    assert first[-64:] == old[-64:] and first != old
    stat = path.stat()
    with path.open("r+b") as handle:  # `cp` over it: the same inode
        handle.truncate(0)
        handle.write(first + second)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert path.stat().st_ino == stat.st_ino

    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 700 + 5000
    (offset, lines) = ledger.conn.execute("SELECT offset, lines FROM sources").fetchone()
    assert (offset, lines) == (len(first + second), 2)
