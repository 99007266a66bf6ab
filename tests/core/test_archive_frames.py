"""An archive made of several zstd frames (archives joined with `cat`, or written in
pieces) is read whole, including one whose first frame is tiny: zstd then writes a
one-byte content size, which the check for a frame cut short must step over. Behind a
skippable frame (as pzstd writes), a frame cut before its checksum is still noticed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import zstandard

from shared.ingest.reading import each_archive_piece


def test_an_archive_of_a_tiny_frame_and_a_larger_one_is_read_whole(tmp_path: Path) -> None:
    """The first frame holds one short line (a single-segment frame with a one-byte
    content size), the second twenty: every line is handed on and the archive is marked
    read to its end, not reported as cut short."""
    compressor = zstandard.ZstdCompressor()
    first = compressor.compress(b'{"a":1}\n')
    assert first[4] == 0x20  # single segment, content size in one byte
    second = compressor.compress(
        b"".join(b'{"line":%d,"pad":"%s"}\n' % (index, b"x" * 50) for index in range(20))
    )
    path = tmp_path / "rollout-joined.jsonl.zst"
    path.write_bytes(first + second)
    pieces: list[bytes] = []
    assert each_archive_piece(str(path), 0, pieces.append) == os.path.getsize(path)
    assert b"".join(pieces).count(b"\n") == 21


def test_a_frame_cut_before_its_checksum_behind_a_skippable_frame_is_cut_short(
    tmp_path: Path,
) -> None:
    """A skippable frame (8 header bytes and its payload), then a frame whose 4-byte
    checksum is missing: every line decompresses, but the archive is cut short."""
    text = b"".join(b'{"line":%d,"pad":"%s"}\n' % (index, b"x" * 50) for index in range(20))
    skippable = (0x184D2A5E).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"12345"
    frame = zstandard.ZstdCompressor(write_checksum=True).compress(text)
    path = tmp_path / "rollout-skippable.jsonl.zst"
    path.write_bytes(skippable + frame[:-4])
    with pytest.raises(OSError, match="zstd frame"):
        each_archive_piece(str(path), 0, lambda piece: None)
    path.write_bytes(skippable + frame)
    assert each_archive_piece(str(path), 0, lambda piece: None) == os.path.getsize(path)
