"""An archive cut short inside a zstd frame is a warning and none of it is counted until
it is whole, as one cut inside a line: the decompressor ends a cut frame without an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import zstandard

import shared.ingest.reading
from tests.core.helpers import run_cli
from tests.core.logwriters import CodexRollout, codex_calls, codex_rollout_path

CUT = "cut short, or still being written"


def _archive_path(home: Path, rollout: CodexRollout) -> Path:
    plain = codex_rollout_path(home / ".codex", rollout, folder="archived_sessions")
    plain.parent.mkdir(parents=True, exist_ok=True)
    return plain.with_name(plain.name + ".zst")


def _output_tokens(*args: str) -> int:
    result = run_cli("report", "daily", "--json", *args)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["totals"]["output_tokens"])


def _doctor() -> dict[str, Any]:
    result = run_cli("doctor", "--json", "--no-ingest")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def _cut_then_whole(archive: Path, cut: bytes, whole: bytes, calls: int) -> None:
    archive.write_bytes(cut)
    first = run_cli("ingest")
    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert f"warning: {archive}: " in first.stderr and CUT in first.stderr
    unreadable = _doctor()["unreadable_files"]
    assert [item["path"] for item in unreadable] == [str(archive)]
    assert CUT in unreadable[0]["error"]
    assert _output_tokens("--no-ingest") == 0  # none of it until it is whole
    assert _output_tokens() == 0  # read again, still cut short: still nothing
    archive.write_bytes(whole)
    assert _output_tokens() == calls * 10
    assert _doctor()["unreadable_files"] == []


def test_a_small_archive_cut_short_is_a_warning_until_it_is_whole(isolated_home: Path) -> None:
    """A small archive is one zstd block: cut anywhere it decompresses to nothing, without
    an error, and was marked read with 0 lines."""
    rollout = codex_calls("019c-small-cut", 3)
    whole = zstandard.ZstdCompressor().compress(b"".join(rollout.lines))
    archive = _archive_path(isolated_home, rollout)
    _cut_then_whole(archive, whole[: len(whole) // 2], whole, 3)


def test_an_archive_whose_last_frame_is_cut_between_lines_is_a_warning(
    isolated_home: Path,
) -> None:
    """Two frames (as `cat a.zst b.zst` or a compressor that writes several makes), the
    second cut before its checksum: every line decompresses whole, and was counted as if the
    archive were complete."""
    rollout = codex_calls("019c-frame-cut", 6)
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    half = len(rollout.lines) // 2
    frames = compressor.compress(b"".join(rollout.lines[:half]))
    frames += compressor.compress(b"".join(rollout.lines[half:]))
    archive = _archive_path(isolated_home, rollout)
    _cut_then_whole(archive, frames[:-4], frames, 6)


def test_every_prefix_of_an_archive_is_cut_short_and_the_whole_is_read(tmp_path: Path) -> None:
    """Frames with and without checksums and content sizes, and a skippable frame (as pzstd
    writes), each cut at every byte."""
    rollout = codex_calls("019c-prefixes", 30)
    text = b"".join(rollout.lines)
    third = len(text) // 3
    skippable = (0x184D2A5E).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"12345"
    whole = (
        zstandard.ZstdCompressor(write_checksum=True).compress(text[:third])
        + skippable
        + zstandard.ZstdCompressor(write_content_size=False).compress(text[third:])
    )
    path = tmp_path / "rollout.jsonl.zst"
    path.write_bytes(whole)
    got: list[bytes] = []
    assert shared.ingest.reading.each_archive_piece(str(path), 0, got.append) == len(whole)
    assert b"".join(got) == text
    for size in range(1, len(whole)):
        path.write_bytes(whole[:size])
        with pytest.raises(OSError, match=CUT):
            shared.ingest.reading.each_archive_piece(str(path), 0, lambda _: None)
