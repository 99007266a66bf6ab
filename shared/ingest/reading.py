"""Reading log files: the complete lines after an offset (a line longer than MAX_LINE_BYTES
is never held whole), the checksum of the bytes before an offset, and `.jsonl.zst`
archives decompressed in pieces and checked for a frame cut short."""

from __future__ import annotations

import os
import zlib

from shared.ingest.chunks import CHUNK_BYTES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from io import FileIO
    from typing import BinaryIO

# The longest line read. The longest real lines are Claude Code tool results that carry a
# file inline as base64 (an image, or a PDF of up to the API's 32 MB request limit, ~43 MB
# as base64, the text sometimes twice: in `message` and in `toolUseResult`), so tens of MB;
# 256 MiB leaves room for that and more. What a crash can leave (a run of NUL bytes of the
# size of the file, GBs, with no newline) is never gathered whole: such a line is skipped
# and counted as malformed once it ends, and until then it waits like a half-written line,
# with a warning. A module constant, so that tests can make it small.
MAX_LINE_BYTES = 256 * 1024 * 1024
# The reads that look for the end of a line longer than one read (nothing of it is kept).
SCAN_BYTES = 1024 * 1024


class LongLines:
    """What `read_complete_lines` met past MAX_LINE_BYTES: lines skipped, and the length so
    far of a last line that grew past it without ending (0 if none)."""

    __slots__ = ("skipped", "unended")

    def __init__(self) -> None:
        self.skipped = 0
        self.unended = 0


def read_complete_lines(
    path: str, offset: int, max_bytes: int, long_lines: LongLines | None = None
) -> tuple[bytes, int, bool]:
    """Bytes from `offset` up to the last newline within about `max_bytes`.

    Returns (data, new offset, reached the end of the complete lines). A line longer
    than `max_bytes` is read whole rather than split. One longer than MAX_LINE_BYTES is
    never held in memory: once its newline comes it is skipped (the offset moves past it,
    no data, counted in `long_lines.skipped`); until then it waits like any half-written
    line, its length so far in `long_lines.unended`.
    """
    # No read is longer than a line may be, so every line of a read is short enough.
    max_bytes = min(max_bytes, MAX_LINE_BYTES)
    with open(path, "rb", buffering=0) as handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
        if len(data) < max_bytes:
            cut = data.rfind(b"\n") + 1
            return data[:cut], offset + cut, True
        cut = data.rfind(b"\n") + 1
        if cut:
            return data[:cut], offset + cut, False
        # One line longer than max_bytes: find its end first, keeping nothing of it, then
        # read it whole in one read (gathering it in pieces held it twice, and held a line
        # of any length).
        del data
        end, size = _line_end(handle, offset + max_bytes)
        if end < 0:
            if long_lines is not None and size - offset > MAX_LINE_BYTES:
                long_lines.unended = size - offset
            return b"", offset, True  # still being written: it waits, as ever
        if end - offset > MAX_LINE_BYTES:
            if long_lines is not None:
                long_lines.skipped += 1
            return b"", end, False
        handle.seek(offset)
        line = handle.read(end - offset)
        if len(line) != end - offset or not line.endswith(b"\n"):
            return b"", offset, True  # rewritten meanwhile: the next ingest sees to it
        return line, end, False


def _line_end(handle: FileIO, start: int) -> tuple[int, int]:
    """The offset just past the first newline at or after `start` (the handle is there),
    or -1 and the offset of the file's end; read in SCAN_BYTES pieces, one buffer reused."""
    buffer = bytearray(SCAN_BYTES)
    position = start
    while read := handle.readinto(buffer):
        newline = buffer.find(b"\n", 0, read)
        if newline >= 0:
            return position + newline + 1, position + read
        position += read
    return -1, position


# How many bytes before a file's stored offset its checksum covers: the end of the last
# line read, with its ids and timestamp (a Claude Code line ends with ~300 bytes that every
# line of its session shares, so 64 bytes told lines of one session apart from each other
# no better than from a copy of the session).
TAIL_BYTES = 4096


def tail_checksum(tail: bytes) -> int:
    """A checksum of the bytes that end at a stored offset (a number: no log text is
    stored)."""
    return zlib.crc32(tail[-TAIL_BYTES:])


def read_tail(path: str, offset: int) -> bytes:
    with open(path, "rb", buffering=0) as handle:
        handle.seek(max(0, offset - TAIL_BYTES))
        return handle.read(min(offset, TAIL_BYTES))


def each_archive_piece(
    path: str,
    offset: int,
    take: Callable[[bytes], None],
    long_lines: LongLines | None = None,
    piece_bytes: int = CHUNK_BYTES,
) -> int:
    """Decompress an archive in pieces of complete lines (about `piece_bytes` each, never
    the whole file at once), hand each to `take`, and return the compressed size: the
    offset that marks it read. Nothing when `offset` says it was read already. A line longer than
    MAX_LINE_BYTES is not handed on (counted in `long_lines.skipped`)."""
    if offset > 0:
        return offset
    import zstandard

    # No piece is longer than a line may be, so every line within one is short enough.
    piece_bytes = min(piece_bytes, MAX_LINE_BYTES)
    with open(path, "rb") as handle:
        reader = zstandard.ZstdDecompressor().stream_reader(handle)
        # The start of a line that one piece began and a later one ends, in pieces (joined
        # once it ends); dropped once longer than a line may be, the line then skipped.
        started: list[bytes] = []
        started_bytes = 0
        skipping = False
        try:
            while piece := reader.read(piece_bytes):
                if not (started or skipping):
                    cut = piece.rfind(b"\n") + 1
                    if cut:
                        take(piece[:cut])
                    if cut < len(piece):
                        started.append(piece[cut:])
                        started_bytes = len(piece) - cut
                    continue
                ended = piece.find(b"\n") + 1
                if not ended:
                    if not skipping:
                        started.append(piece)
                        started_bytes += len(piece)
                        if started_bytes > MAX_LINE_BYTES:
                            started, started_bytes, skipping = [], 0, True
                    continue
                if skipping or started_bytes + ended > MAX_LINE_BYTES:
                    if long_lines is not None:
                        long_lines.skipped += 1
                else:
                    take(b"".join([*started, piece[:ended]]))
                started, started_bytes, skipping = [], 0, False
                cut = piece.rfind(b"\n") + 1
                if cut > ended:
                    take(piece[ended:cut])
                if cut < len(piece):
                    started.append(piece[cut:])
                    started_bytes = len(piece) - cut
        except zstandard.ZstdError as exc:
            # A damaged archive is an unreadable file: a warning, not the end of the ingest.
            raise OSError(f"not a readable zstd file ({exc})") from exc
        if skipping or b"".join(started).strip():
            # A rollout ends with a newline: text after the last one is an archive cut short
            # (still being written, or copied in part). Nothing of it is kept (the caller
            # drops a failed chunk's rows); it is read whole once it is complete.
            raise OSError(
                "the archive ends in the middle of a line: cut short, or still being written"
            )
        size = os.fstat(handle.fileno()).st_size
        # The decompressor ends a frame cut short without a word (a small archive cut
        # anywhere, or one cut between two blocks, decompresses to whole lines or nothing),
        # so the frames' own lengths are checked too.
        if _zstd_cut_short(handle, size):
            raise OSError(
                "the archive ends in the middle of a zstd frame: cut short, or still being written"
            )
        return size


ZSTD_MAGIC = 0xFD2FB528
# Skippable frames (RFC 8878 3.1.2) have a magic number of 0x184D2A50 to 0x184D2A5F.
ZSTD_SKIPPABLE_MAGIC = 0x184D2A50


def _zstd_cut_short(handle: BinaryIO, size: int) -> bool:
    """Whether the last zstd frame of a file of `size` bytes, read through without an
    error, ends past the file's end. Walks the frames' headers and block headers (RFC 8878
    3.1.1), a few bytes per 128 KiB block of text, nothing decompressed. A frame of a kind
    this does not know (a legacy format the decompressor took) is left to the
    decompressor."""
    position = 0
    while position < size:
        handle.seek(position)
        head = handle.read(18)  # the magic number and the longest frame header
        if len(head) < 5:
            return True  # no frame is shorter
        magic = int.from_bytes(head[:4], "little")
        if magic & 0xFFFFFFF0 == ZSTD_SKIPPABLE_MAGIC:
            if len(head) < 8:
                return True
            position += 8 + int.from_bytes(head[4:8], "little")
            continue
        if magic != ZSTD_MAGIC:
            return False
        descriptor = head[4]
        single_segment = descriptor >> 5 & 1
        position += (
            5
            + (0 if single_segment else 1)  # the window descriptor
            + (0, 1, 2, 4)[descriptor & 3]  # the dictionary id
            + (single_segment, 2, 4, 8)[descriptor >> 6]  # the content size
        )
        while True:
            handle.seek(position)
            block = handle.read(3)
            if len(block) < 3:
                return True
            header = int.from_bytes(block, "little")
            # An RLE block (type 1) holds one byte, whatever size it stands for.
            position += 3 + (1 if header >> 1 & 3 == 1 else header >> 3)
            if header & 1:  # the frame's last block
                break
        position += 4 if descriptor & 4 else 0  # the content checksum
    return position > size


def unended_warning(long_lines: LongLines) -> str:
    return (
        f"one line has grown past {_size_text(MAX_LINE_BYTES)} without a newline "
        f"({_size_text(long_lines.unended)} so far; a crash can leave such a run of NUL "
        "bytes): it waits for its newline, then is skipped as malformed"
    )


def _size_text(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB" if size >= 2**20 else f"{size:,} bytes"
