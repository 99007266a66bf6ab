"""A line longer than MAX_LINE_BYTES is never held in memory: skipped as malformed once it
ends; while it grows without ending it waits, with a warning."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
import zstandard

import shared.ingest.pool
import shared.ingest.reading
from shared.cli import main
from shared.ingest.reading import read_complete_lines
from tests.core.logwriters import (
    claude_project_dir,
    claude_replies,
    codex_calls,
    codex_rollout_path,
    padded_to,
)

CWD = "/home/dev/app"


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """Lines of at most 64 KiB, searched for their end 4 KiB at a time."""
    monkeypatch.setattr(shared.ingest.reading, "MAX_LINE_BYTES", 64 * 1024)
    monkeypatch.setattr(shared.ingest.reading, "SCAN_BYTES", 4 * 1024)
    return 64 * 1024


def _peak_while(call):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_line_past_the_cap_is_skipped_without_being_held(tmp_path: Path, small_cap: int) -> None:
    path = tmp_path / "log.jsonl"
    at_cap = b"c" * (small_cap - 1) + b"\n"  # exactly as long as a line may be
    nul_run = b"\0" * (4 * 1024 * 1024) + b"\n"
    path.write_bytes(b"a\n" + nul_run + at_cap + b"y" * 300_000 + b"\nb\n")
    long_lines = shared.ingest.reading.LongLines()
    assert read_complete_lines(str(path), 0, 8 << 20, long_lines) == (b"a\n", 2, False)
    (data, offset, at_end), peak = _peak_while(
        lambda: read_complete_lines(str(path), 2, 8 << 20, long_lines)
    )
    assert (data, offset, at_end, long_lines.skipped) == (b"", 2 + len(nul_run), False, 1)
    assert peak < 256 * 1024  # one read and the search's buffer, not the 4 MiB line
    assert read_complete_lines(str(path), offset, 8 << 20, long_lines) == (
        at_cap,
        offset + small_cap,
        False,
    )
    offset += small_cap
    assert read_complete_lines(str(path), offset, 8 << 20, long_lines) == (
        b"",
        offset + 300_001,
        False,
    )
    assert long_lines.skipped == 2
    assert read_complete_lines(str(path), offset + 300_001, 8 << 20, long_lines) == (
        b"b\n",
        path.stat().st_size,
        True,
    )
    assert long_lines.unended == 0


def test_a_line_past_the_cap_without_its_newline_waits_unheld(
    tmp_path: Path, small_cap: int
) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"a\n" + b"\0" * (small_cap - 10))
    long_lines = shared.ingest.reading.LongLines()
    assert read_complete_lines(str(path), 2, 8 << 20, long_lines) == (b"", 2, True)
    assert long_lines.unended == 0  # within the cap: an ordinary half-written line
    with path.open("ab") as handle:
        handle.truncate(4 * 1024 * 1024)  # a crash's run of NUL bytes
    result, peak = _peak_while(lambda: read_complete_lines(str(path), 2, 8 << 20, long_lines))
    assert result == (b"", 2, True)
    assert long_lines.unended == 4 * 1024 * 1024 - 2
    assert peak < 256 * 1024


def test_a_line_longer_than_a_read_and_within_the_cap_comes_whole_in_one_read(
    tmp_path: Path, small_cap: int
) -> None:
    path = tmp_path / "log.jsonl"
    line = b"x" * 50_000 + b"\n"
    path.write_bytes(line + b"half")
    long_lines = shared.ingest.reading.LongLines()
    assert read_complete_lines(str(path), 0, 1024, long_lines) == (line, len(line), False)
    assert (long_lines.skipped, long_lines.unended) == (0, 0)


def test_a_run_of_nul_bytes_warns_while_it_grows_and_is_one_malformed_line_once_it_ends(
    isolated_home: Path, small_cap: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a crash leaves (`truncate -s 2200M`) was read whole into memory by every report,
    silently; it waits now, with a warning, and the lines after it count once it ends."""
    session = claude_replies("s-nul", CWD, [100, 200], cache_read=50)
    path = claude_project_dir(isolated_home / ".claude", CWD) / "s-nul.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(session.lines[0] + b"\0" * (small_cap * 5))
    assert main(["ingest"]) == 0
    captured = capsys.readouterr()
    assert f"warning: {path}: one line has grown past 65,536 bytes without a newline" in (
        captured.err
    )
    assert main(["doctor", "--json", "--no-ingest"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [item["path"] for item in report["unreadable_files"]] == [str(path)]
    assert "it waits for its newline" in report["unreadable_files"][0]["error"]
    assert report["agents"]["claude-code"]["calls"] == 1
    with path.open("ab") as handle:
        handle.write(b"\n" + session.lines[1])
    assert main(["report", "daily", "--json"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err
    assert json.loads(captured.out)["totals"]["output_tokens"] == 300
    assert main(["doctor", "--json", "--no-ingest"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unreadable_files"] == []
    agent = report["agents"]["claude-code"]
    assert (agent["calls"], agent["lines"], agent["rejected_lines"]) == (2, 3, 1)


def test_an_archived_line_past_the_cap_is_one_malformed_line(
    isolated_home: Path, small_cap: int, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout = codex_calls("019c-long-line", 4)
    # The last call's two readings made exactly as long as a line may be: still read.
    lines = [*rollout.lines[:-2], *(padded_to(line, small_cap) for line in rollout.lines[-2:])]
    lines.insert(3, b'{"junk":"' + b"z" * (small_cap * 3) + b'"}\n')
    plain = codex_rollout_path(isolated_home / ".codex", rollout, folder="archived_sessions")
    plain.parent.mkdir(parents=True)
    archive = plain.with_name(plain.name + ".zst")
    archive.write_bytes(zstandard.ZstdCompressor().compress(b"".join(lines)))
    assert main(["ingest"]) == 0
    captured = capsys.readouterr()
    assert "skipped 1 malformed line" in captured.out and "1 malformed lines" not in captured.out
    assert captured.err == ""
    assert main(["report", "daily", "--json", "--no-ingest"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["output_tokens"] == 40
    assert main(["doctor", "--json", "--no-ingest"]) == 0
    agent = json.loads(capsys.readouterr().out)["agents"]["codex"]
    assert (agent["lines"], agent["rejected_lines"]) == (len(lines), 1)


def test_a_file_that_starts_with_a_skipped_line_keeps_its_checksum(
    tmp_path: Path, small_cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first read that skipped a line too long to keep stored the checksum of the
    nothing it kept: the next growth of the file read as a rewrite, and the whole file
    (GBs, for a crash's run of NUL bytes) was scanned again from its start."""
    from shared.ingest import ingest
    from shared.ledger import open_ledger
    from tests.core.helpers import roots_for

    home = tmp_path / "home"
    path = claude_project_dir(home / ".claude", CWD) / "s-nul.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * (2 * small_cap) + b"\n")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    roots = roots_for({"HOME": str(home)})
    ingest(ledger, roots, workers=1)
    offsets: list[int] = []
    parse = shared.ingest.pool.parse_chunk

    def recording(task):  # type: ignore[no-untyped-def]
        offsets.append(task.offset)
        return parse(task)

    monkeypatch.setattr(shared.ingest.pool, "parse_chunk", recording)
    with path.open("ab") as handle:
        handle.write(claude_replies("s-nul", CWD, [7]).lines[0])
    ingest(ledger, roots, workers=1)
    assert offsets == [2 * small_cap + 1]  # on from the offset, not again from 0
    (output,) = ledger.conn.execute("SELECT sum(output_tokens) FROM usage_events").fetchone()
    assert output == 7
