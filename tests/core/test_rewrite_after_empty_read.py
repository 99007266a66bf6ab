"""A read that consumes nothing (the file ends in a half-written line) keeps the checksum
of the bytes before the file's offset: a later rewrite in place is still caught, even one
that leaves a line end at the old offset."""

from __future__ import annotations

import os
from pathlib import Path

from shared.ledger import open_ledger
from tests.core.helpers import ingest_env, totals
from tests.core.logwriters import claude_project_dir, claude_replies, padded_to

CWD = "/home/dev/halfline"


def test_a_rewrite_after_a_read_of_only_a_half_written_line_is_read_again(
    isolated_home: Path, tmp_path: Path
) -> None:
    """One call read (100 output tokens); a half-written line is appended and an ingest
    reads nothing of it; then the file is overwritten in place (same inode) with another
    session's text whose first line ends exactly at the old offset, and a second line.
    The checksum stored with the offset still tells the rewrite apart: the file is read
    again from its start and both new calls are counted (the old one kept), rather than
    only the text after the old offset."""
    path = claude_project_dir(isolated_home / ".claude", CWD) / "s-half.jsonl"
    new_first, new_second = claude_replies("s-new", CWD, [1000, 20000]).lines
    old = padded_to(claude_replies("s-old", CWD, [100]).lines[0], len(new_first) + 16)
    path.parent.mkdir(parents=True)
    path.write_bytes(old)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100

    with path.open("ab") as handle:
        handle.write(new_first[:40])  # no newline yet
    summary = ingest_env(ledger)
    assert summary.new_calls == 0
    assert ledger.conn.execute("SELECT offset FROM sources").fetchone() == (len(old),)

    stat = path.stat()
    with path.open("r+b") as handle:  # `cp` over it: the same inode
        handle.truncate(0)
        handle.write(padded_to(new_first, len(old)) + new_second)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert path.stat().st_ino == stat.st_ino
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 1000 + 20000
