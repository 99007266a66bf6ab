"""Reading complete lines: a line longer than one read is read whole (never split), and a
long line still being written waits for its newline."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.ingest.reading import read_complete_lines


@pytest.mark.parametrize("long_size", [1023, 1024, 1025, 5000, 100_000])
def test_a_line_longer_than_a_read_comes_whole(tmp_path: Path, long_size: int) -> None:
    lines = [b"a" * 10, b"x" * long_size, b"b" * 3000, b"c" * 5]
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n" + b"half-written")
    got: list[bytes] = []
    offset, at_end = 0, False
    while not at_end:
        data, offset, at_end = read_complete_lines(str(path), offset, 1024)
        assert data == b"" or data.endswith(b"\n")
        got.extend(data.splitlines())
    assert got == lines
    assert offset == path.stat().st_size - len(b"half-written")


def test_a_long_line_without_its_newline_yet_waits(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"done\n" + b"y" * 10_000)
    assert read_complete_lines(str(path), 0, 1024) == (b"done\n", 5, False)
    assert read_complete_lines(str(path), 5, 1024) == (b"", 5, True)
    with path.open("ab") as handle:
        handle.write(b"\n")
    assert read_complete_lines(str(path), 5, 1024) == (b"y" * 10_000 + b"\n", 10_006, False)
