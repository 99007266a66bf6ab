"""The line cap's edges when a read is shorter than the cap: a line exactly as long as a
line may be is read whole, a half-written line shorter than the cap, after a long
stretch of complete lines, raises no "grown past" warning, and an archived line just
past the cap that spans pieces is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
import zstandard

import shared.ingest.reading
from shared.ingest.reading import LongLines, each_archive_piece, read_complete_lines

CAP = 64 * 1024


@pytest.fixture(autouse=True)
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines of at most 64 KiB, searched for their end 4 KiB at a time."""
    monkeypatch.setattr(shared.ingest.reading, "MAX_LINE_BYTES", CAP)
    monkeypatch.setattr(shared.ingest.reading, "SCAN_BYTES", 4 * 1024)


def test_a_line_exactly_at_the_cap_is_read_whole_by_shorter_reads(tmp_path: Path) -> None:
    """Reads of 4 KiB meet a line of exactly MAX_LINE_BYTES (its newline included): it
    is returned whole, not skipped."""
    path = tmp_path / "log.jsonl"
    at_cap = b"c" * (CAP - 1) + b"\n"
    path.write_bytes(b"a\n" + at_cap + b"b\n")
    long_lines = LongLines()
    assert read_complete_lines(str(path), 2, 4096, long_lines) == (at_cap, 2 + CAP, False)
    assert long_lines.skipped == 0


def test_a_short_unended_line_after_many_bytes_is_no_long_line(tmp_path: Path) -> None:
    """What counts is the length of the line being written, not the file's size: a
    10 KiB half-written line after 100 KiB of complete lines waits without a warning."""
    path = tmp_path / "log.jsonl"
    complete = b"x" * 99 + b"\n"
    head = complete * 1024  # 100 KiB, more than the cap
    path.write_bytes(head + b"y" * 10 * 1024)
    long_lines = LongLines()
    assert read_complete_lines(str(path), len(head), 4096, long_lines) == (
        b"",
        len(head),
        True,
    )
    assert long_lines.unended == 0


def test_an_archived_line_just_past_the_cap_across_pieces_is_skipped(tmp_path: Path) -> None:
    """Decompressed 4 KiB at a time, a line 100 bytes longer than the cap ends in the
    piece after the one that brought it to the cap: it is skipped, the next line kept."""
    path = tmp_path / "rollout-long.jsonl.zst"
    long_line = b"z" * (CAP + 99) + b"\n"
    path.write_bytes(zstandard.ZstdCompressor().compress(long_line + b"b\n"))
    long_lines = LongLines()
    pieces: list[bytes] = []
    each_archive_piece(str(path), 0, pieces.append, long_lines, piece_bytes=4096)
    assert pieces == [b"b\n"]
    assert long_lines.skipped == 1
