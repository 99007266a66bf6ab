"""Upgrades while burnmeter runs: a ledger from before v11 gets the checksums that catch a
file rewritten in place from its next ingest; a checksum an older burnmeter left behind
while moving an offset is not trusted (nor does it make the file read again whole); and a
process that finds the ledger upgraded by a newer burnmeter writes nothing more."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from shared.ledger import LedgerTooNew, open_ledger
from shared.paths import ledger_path
from shared.schema import SCHEMA_VERSION
from tests.core.helpers import REPO_ROOT, events, ingest_env, run_cli, totals
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_replies,
    claude_usage,
    padded_to,
    text_block,
)

CWD = "/home/dev/upgrade"


def _session(session_id: str, outputs: list[int]) -> ClaudeSession:
    return claude_replies(session_id, CWD, outputs)


def _path(home: Path, name: str) -> Path:
    return claude_project_dir(home / ".claude", CWD) / name


def _forget_checksums(ledger_file: Path) -> None:
    """What a ledger migrated from v10 holds: offsets without checksums."""
    with closing(sqlite3.connect(ledger_file)) as conn, conn:
        conn.execute("UPDATE sources SET tail_hash = NULL, tail_offset = NULL")


def test_an_upgraded_ledger_catches_a_rewrite_after_its_next_ingest(
    isolated_home: Path, tmp_path: Path
) -> None:
    path = _path(isolated_home, "s-upgraded.jsonl")
    path.parent.mkdir(parents=True)
    new = _session("s-new", [1000]).lines[0]
    old = padded_to(_session("s-old", [100]).lines[0], len(new) + 16)
    path.write_bytes(old)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    _forget_checksums(ledger.path)
    # The first ingest after the upgrade finds the file unchanged: it takes the checksum
    # of the bytes it had read, without reading them again.
    assert ingest_env(ledger).events_read == 0
    (known,) = ledger.conn.execute("SELECT tail_offset = offset FROM sources").fetchone()
    assert known == 1
    stat = path.stat()
    path.write_bytes(padded_to(new, len(old)))  # `cp` over it: same inode, same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 1000


def test_a_checksum_left_at_an_older_offset_is_not_trusted(
    isolated_home: Path, tmp_path: Path
) -> None:
    """An older burnmeter still running (the tray before an upgrade) moves a file's offset
    and leaves the checksum of the old one: the file is not taken for rewritten and read
    again whole, and gets a checksum of its own again."""
    session = _session("s-moved", [100, 200])
    path = session.write(_path(isolated_home, "s-moved.jsonl"))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    left = ledger.conn.execute("SELECT tail_hash, tail_offset FROM sources").fetchone()
    session.reply(3, [text_block("x")], claude_usage(10, 300))
    with open(path, "ab") as handle:
        handle.write(session.lines[-1])
    ingest_env(ledger)
    # What the older writer would have left: the offset and stat moved on, the checksum
    # (and the offset it was taken at) still the earlier one.
    with closing(sqlite3.connect(ledger.path)) as conn, conn:
        conn.execute("UPDATE sources SET tail_hash = ?, tail_offset = ?", left)
    session.reply(4, [text_block("x")], claude_usage(10, 400))
    with open(path, "ab") as handle:
        handle.write(session.lines[-1])
    assert ingest_env(ledger).events_read == 1
    assert totals(ledger)["output_tokens"] == 1000
    assert len(events(ledger)) == 4
    (known,) = ledger.conn.execute("SELECT tail_offset = offset FROM sources").fetchone()
    assert known == 1


def test_an_ingest_into_a_ledger_a_newer_burnmeter_upgraded_writes_nothing(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = _session("s-newer", [100])
    path = session.write(_path(isolated_home, "s-newer.jsonl"))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    with closing(sqlite3.connect(ledger.path)) as conn, conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    session.reply(2, [text_block("x")], claude_usage(10, 200))
    with open(path, "ab") as handle:
        handle.write(session.lines[-1])
    with pytest.raises(LedgerTooNew, match="a newer burnmeter upgraded it while this one ran"):
        ingest_env(ledger)
    assert len(events(ledger)) == 1
    assert ledger.conn.execute("SELECT count(*) FROM sources WHERE offset > 0").fetchone() == (1,)


def test_watch_stops_when_a_newer_burnmeter_upgrades_the_ledger(isolated_home: Path) -> None:
    session = _session("s-watch", [100])
    path = session.write(_path(isolated_home, "s-watch.jsonl"))
    assert run_cli("ingest").returncode == 0
    watch = subprocess.Popen(
        [sys.executable, "-m", "shared", "watch"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # its first scan
        with closing(sqlite3.connect(ledger_path())) as conn, conn:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        session.reply(2, [text_block("x")], claude_usage(10, 200))
        with open(path, "ab") as handle:
            handle.write(session.lines[-1])
        _, stderr = watch.communicate(timeout=60)
    finally:
        watch.kill()
    assert watch.returncode == 2, stderr
    message = " ".join(stderr.split())
    assert f"has schema version {SCHEMA_VERSION + 1}, newer than this burnmeter" in message
    assert "Traceback" not in stderr
    # Said once, as watch's own message (it was printed bare, then again as "burnmeter: …").
    assert message.count("newer than this burnmeter") == 1
    (said,) = [line for line in stderr.splitlines() if "newer than" in line]
    assert said.startswith("burnmeter watch: ")
    with closing(sqlite3.connect(ledger_path())) as conn:
        assert conn.execute("SELECT count(*) FROM usage_events").fetchone() == (1,)
