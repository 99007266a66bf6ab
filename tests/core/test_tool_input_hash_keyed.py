"""The ledger kept a keyless 64-bit blake2b of each tool input: anyone reading it (or a
report quoting a loop's hash) could find `git status` or `export KEY=sk-…1234` again from
a word list in seconds (found by the privacy audit). The stored hash is now keyed with the
secret beside the ledger: the same input still gives the same hash in one ledger, read in
the ingesting process or in parser workers (forked or spawned), and nothing a guesser can
compute without the key."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

import shared.ingest.pool
import shared.ingest.run
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.hashing import input_hash
from tests.core.helpers import roots_for
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, tool_use_block

CWD = "/home/dev/keyed"
COMMAND = "git status"


def _session_with_bash(home: Path, session_id: str) -> None:
    session = ClaudeSession(session_id, cwd=CWD)
    session.reply(
        1,
        [tool_use_block(f"toolu_{session_id}", "Bash", {"command": COMMAND})],
        claude_usage(100, 10),
    )
    session.write(claude_project_dir(home / ".claude", CWD) / f"{session_id}.jsonl")


def _ingest_into(data_dir: Path, workers: int) -> None:
    ledger = open_ledger(data_dir / "ledger.sqlite")
    try:
        ingest(ledger, roots_for(os.environ), workers=workers)
    finally:
        ledger.close()


def _hashes(data_dir: Path) -> dict[str, str]:
    conn = sqlite3.connect(data_dir / "ledger.sqlite")
    try:
        return dict(conn.execute("SELECT tool_id, input_hash FROM tool_calls").fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_commands_stored_hash_is_keyed_and_the_same_however_it_is_read(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, start: str
) -> None:
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    _session_with_bash(isolated_home, "s-one")
    _ingest_into(data, workers=1)  # in this process
    _session_with_bash(isolated_home, "s-two")
    # The next file through parser workers, started as the tray and the LSP start them
    # (spawn) or as a terminal's ingest does (fork).
    monkeypatch.setattr(shared.ingest.run, "PARALLEL_THRESHOLD_BYTES", 0)
    monkeypatch.setattr(
        shared.ingest.pool, "_pool_context", lambda: multiprocessing.get_context(start)
    )
    _ingest_into(data, workers=2)
    hashes = _hashes(data)
    assert set(hashes) == {"toolu_s-one", "toolu_s-two"}
    assert hashes["toolu_s-one"] == hashes["toolu_s-two"]  # loops are still found
    stored = hashes["toolu_s-one"]
    assert len(stored) == 16 and stored != input_hash(COMMAND)
    assert (data / "redact.key").stat().st_mode & 0o777 == 0o600

    # Another machine's ledger (another secret) stores another hash for the same command.
    other = tmp_path / "other-data"
    monkeypatch.setenv("BURNMETER_DATA_DIR", str(other))
    _ingest_into(other, workers=1)
    assert set(_hashes(other).values()) == {_hashes(other)["toolu_s-one"]}
    assert _hashes(other)["toolu_s-one"] != stored
