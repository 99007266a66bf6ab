"""How an ingest decides what to read again: a known file moved away and back unchanged is
present again, an archive rewritten in place is read whole again, a file rewritten
in place counts its lines afresh, and without a stored checksum (a ledger from before
v11) a stored offset that no longer ends a line means the file was rewritten."""

from __future__ import annotations

import os
from pathlib import Path

from shared.ledger import Ledger, open_ledger
from tests.core.helpers import ingest_env, totals
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_replies,
    claude_usage,
    codex_rollout_path,
    text_block,
    zstd_compress,
)

CWD = "/home/dev/app"


def _session(session_id: str, outputs: list[int]) -> ClaudeSession:
    return claude_replies(session_id, CWD, outputs)


def _ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


def _source(ledger: Ledger, path: Path) -> tuple[int, int]:
    """(missing, lines) of one stored file."""
    row = ledger.conn.execute(
        "SELECT missing, lines FROM sources WHERE path = ?", (str(path),)
    ).fetchone()
    assert row is not None
    return row


def test_a_file_moved_away_and_back_unchanged_is_present_again(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Moved out of the log folder, the file is flagged gone; moved back (the same inode,
    size and time) it is present again, its calls counted once, and a warm run after
    that reads nothing."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    path = _session("s-moved", [40]).write(project / "s-moved.jsonl")
    aside = tmp_path / "aside.jsonl"
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    os.rename(path, aside)
    ingest_env(ledger)
    assert _source(ledger, path)[0] == 1
    os.rename(aside, path)
    ingest_env(ledger)
    assert _source(ledger, path)[0] == 0
    assert totals(ledger)["output_tokens"] == 40
    assert ingest_env(ledger).files_read == 0


def test_an_archive_rewritten_in_place_is_read_again(isolated_home: Path, tmp_path: Path) -> None:
    """An archive is read whole once; when the same file (same inode) is overwritten with
    a longer archive, every call in it is counted, the first one still once."""
    codex_home = isolated_home / ".codex"
    short = CodexRollout("r-arch")
    short.turn(1)
    short.call(2, 1000, 40, cached=100)
    plain = short.write(tmp_path / "short.jsonl")
    archive = codex_rollout_path(codex_home, short).with_name("rollout-archived.jsonl.zst")
    zstd_compress(plain, archive)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 40
    inode, size = archive.stat().st_ino, archive.stat().st_size

    longer = CodexRollout("r-arch")
    longer.turn(1)
    longer.call(2, 1000, 40, cached=100)
    longer.call(3, 2000, 500, cached=900)
    longer.call(4, 3000, 7000, cached=1900)
    more = longer.write(tmp_path / "longer.jsonl")
    archive.write_bytes(zstd_compress(more, tmp_path / "longer.jsonl.zst").read_bytes())
    assert archive.stat().st_ino == inode and archive.stat().st_size > size
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 40 + 500 + 7000


def test_a_file_rewritten_in_place_counts_its_lines_afresh(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rewritten in place with other text, the file is read again from its start: its
    stored line count is that of the new text, not the old count plus the new."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    path = _session("s-rewritten", [10, 20, 30, 40]).write(project / "s-rewritten.jsonl")
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert _source(ledger, path)[1] == len(path.read_bytes().splitlines())
    inode = path.stat().st_ino
    with path.open("r+b") as handle:  # the same inode
        handle.truncate(0)
        for line in _session("s-other", [5]).lines:
            handle.write(line)
    assert path.stat().st_ino == inode
    ingest_env(ledger)
    assert _source(ledger, path) == (0, len(path.read_bytes().splitlines()))


def test_without_a_checksum_an_offset_inside_a_line_means_rewritten(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A ledger from before checksums were stored knows only the offset. The file is then
    rewritten in place with other, longer text in which that offset falls inside a line:
    it is read again from its start, every call of the new text counted (and the old
    calls kept), not read on from the middle of a line."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    path = _session("s-old", [10, 20]).write(project / "s-old.jsonl")
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    offset = path.stat().st_size
    ledger.conn.execute("UPDATE sources SET tail_hash = NULL, tail_offset = NULL")
    ledger.conn.commit()
    newer = ClaudeSession("s-new", cwd=CWD)
    for index, output in enumerate([100, 200, 300, 400]):
        newer.reply(index + 1, [text_block("y" * 37)], claude_usage(10, output))
    text = b"".join(newer.lines)
    assert len(text) > offset and text[offset - 1 : offset] != b"\n"
    with path.open("r+b") as handle:  # the same inode
        handle.write(text)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 30 + 1000
