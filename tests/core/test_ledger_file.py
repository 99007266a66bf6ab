"""The ledger file itself: private mode, corrupt and foreign files left untouched, old
schemas upgraded in place."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from shared import ledger as ledger_module
from shared.ledger import (
    APPLICATION_ID,
    LedgerCorrupt,
    LedgerError,
    LedgerForeign,
    add_migration_functions,
    open_ledger,
)
from shared.paths import ledger_path
from shared.schema import MIGRATIONS, SCHEMA_VERSION
from tests.core.helpers import ingest_env, run_cli, snapshot
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block


def _write_logs(home: Path) -> None:
    session = ClaudeSession("s-ledger", cwd="/home/dev/app")
    session.reply(1, [text_block("x")], claude_usage(10, 100, cache_read=1000))
    session.write(claude_project_dir(home / ".claude", "/home/dev/app") / "s-ledger.jsonl")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_ledger_file_is_private(isolated_home: Path) -> None:
    _write_logs(isolated_home)
    old_umask = os.umask(0o022)
    try:
        result = run_cli("ingest")
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr
    assert _mode(ledger_path()) == 0o600
    # While a connection is open, SQLite's WAL and shared-memory files copy that mode.
    ledger = open_ledger(ledger_path())
    ingest_env(ledger)
    for suffix in ("-wal", "-shm"):
        side = Path(str(ledger_path()) + suffix)
        if side.exists():
            assert _mode(side) == 0o600, suffix
    ledger.close()


def test_a_data_folder_burnmeter_makes_is_private_whatever_the_umask(
    isolated_home: Path, tmp_path: Path
) -> None:
    """With `umask 000` the data folder was world-writable: another user could replace the
    price cache or delete the ledger's side files."""
    folder = tmp_path / "made" / "by" / "burnmeter"
    old_umask = os.umask(0)
    try:
        open_ledger(folder / "ledger.sqlite").close()
    finally:
        os.umask(old_umask)
    assert _mode(folder) == 0o700
    assert _mode(folder / "ledger.sqlite") == 0o600


def _writer_lock(folder: Path) -> None:
    from shared.live.lock import WriterLock

    lock = WriterLock(folder)
    assert lock.try_acquire()
    lock.release()


def _redaction_key(folder: Path) -> None:
    from shared.machine_key import machine_key

    machine_key(folder)


def _server_token(folder: Path) -> None:
    from lsp_server.tokens import _file_token

    _file_token(folder / "lsp-token")


@pytest.mark.parametrize("first_file", [_writer_lock, _redaction_key, _server_token])
def test_the_data_folder_is_private_whichever_file_makes_it(
    isolated_home: Path, tmp_path: Path, first_file: Callable[[Path], None]
) -> None:
    """Only the ledger made its folder 0700: the writer lock (the tray and the language
    server take it before they open the ledger), the redaction key or the language server's
    token made it 0755 under the usual umask."""
    folder = tmp_path / "made" / "by" / "burnmeter"
    old_umask = os.umask(0o022)
    try:
        first_file(folder)
    finally:
        os.umask(old_umask)
    assert _mode(folder) == 0o700


def test_existing_ledger_with_loose_mode_is_tightened(isolated_home: Path) -> None:
    path = ledger_path()
    open_ledger(path).close()
    os.chmod(path, 0o644)
    open_ledger(path).close()
    assert _mode(path) == 0o600


@pytest.mark.parametrize("command", [["report", "daily", "--json"], ["ingest"], ["reprice"]])
def test_corrupt_ledger_is_reported_and_left_byte_identical(
    isolated_home: Path, command: list[str]
) -> None:
    _write_logs(isolated_home)
    path = ledger_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    before = _digest(path)
    result = run_cli(*command)
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "untouched" in result.stderr and "Traceback" not in result.stderr
    assert _digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.sqlite"]


def test_doctor_reports_a_corrupt_ledger(isolated_home: Path) -> None:
    path = ledger_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    before = _digest(path)
    text = run_cli("doctor")
    assert text.returncode == 1
    assert str(path) in text.stdout.replace("\n", "")
    report = json.loads(run_cli("doctor", "--json").stdout)
    assert str(path) in report["ledger"]["error"]
    assert _digest(path) == before
    with pytest.raises(LedgerCorrupt):
        open_ledger(path)
    assert _digest(path) == before


def test_foreign_sqlite_file_is_reported_and_left_byte_identical(isolated_home: Path) -> None:
    _write_logs(isolated_home)
    path = ledger_path()
    path.parent.mkdir(parents=True)
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.execute("INSERT INTO recipes VALUES ('bread')")
    other.commit()
    other.close()
    before = _digest(path)
    result = run_cli("report", "daily")
    assert result.returncode == 2
    assert str(path) in result.stderr and "did not write" in result.stderr
    assert _digest(path) == before
    with pytest.raises(LedgerForeign):
        open_ledger(path)
    assert _digest(path) == before
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert "did not write" in doctor["ledger"]["error"]
    assert _digest(path) == before


def _ledger_at_version(path: Path, version: int) -> None:
    """A ledger as an older burnmeter left it: only the first `version` migrations."""
    conn = sqlite3.connect(path, isolation_level=None)
    add_migration_functions(conn)
    for step in range(version):
        conn.executescript(
            f"BEGIN;\n{MIGRATIONS[step]}\nPRAGMA application_id = {APPLICATION_ID};\n"
            f"PRAGMA user_version = {step + 1};\nCOMMIT;"
        )
    conn.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_older_schema_upgrades_in_place_keeping_history(
    isolated_home: Path, tmp_path: Path, version: int
) -> None:
    _write_logs(isolated_home)
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest_env(reference)
    path = tmp_path / "old.sqlite"
    _ledger_at_version(path, version)
    # A call recorded by the old version.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "INSERT INTO usage_events (event_key, agent, session_id, ts_ms, model, input_tokens, "
        "output_tokens, total_tokens, cost_usd) VALUES ('old:1', 'claude-code', 'old-session', "
        "1700000000000, 'claude-opus-4-7', 5, 7, 12, 0.5)"
    )
    conn.close()
    inode = os.stat(path).st_ino
    upgraded = open_ledger(path)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert os.stat(path).st_ino == inode
    # It keeps the page size it was made with (SQLite's default then), unlike a new ledger.
    assert _page_size(upgraded.conn) == 4096
    kept = upgraded.conn.execute(
        "SELECT output_tokens, cost_usd, web_search_requests FROM usage_events "
        "WHERE event_key = 'old:1'"
    ).fetchone()
    assert kept == (7, 0.5, 0)  # stored before web searches were: none, its cost kept
    ingest_env(upgraded)
    upgraded.conn.execute("DELETE FROM usage_events WHERE event_key = 'old:1'")
    assert snapshot(upgraded, skip=("sources",)) == snapshot(reference, skip=("sources",))
    # Same indexes as a new ledger: none that v7 dropped as unread is left behind.
    indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    names = {name for name, _ in upgraded.conn.execute(indexes)}
    assert not names & {"tool_calls_event", "tool_files_path"}
    assert upgraded.conn.execute(indexes).fetchall() == reference.conn.execute(indexes).fetchall()


def _page_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_ledger_gets_the_bigger_page_size(isolated_home: Path, tmp_path: Path) -> None:
    _write_logs(isolated_home)
    path = tmp_path / "new.sqlite"
    ledger = open_ledger(path)
    ingest_env(ledger)
    ledger.close()
    conn = sqlite3.connect(path)
    assert _page_size(conn) == ledger_module.NEW_LEDGER_PAGE_SIZE == 8192
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_future_migration_is_applied_in_place(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mechanism itself: a ledger at today's version gains tomorrow's migration."""
    _write_logs(isolated_home)
    path = tmp_path / "ledger.sqlite"
    current = open_ledger(path)
    ingest_env(current)
    before = snapshot(current)
    current.close()
    extra = "CREATE TABLE future_notes (note TEXT); INSERT INTO meta VALUES ('future', 'yes');"
    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*MIGRATIONS, extra])
    monkeypatch.setattr(ledger_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    upgraded = open_ledger(path)
    assert upgraded.schema_version() == SCHEMA_VERSION + 1
    assert upgraded.get_meta("future") == "yes"
    assert snapshot(upgraded) == before


def test_newer_schema_is_refused_and_left_alone(isolated_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    open_ledger(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    before = _digest(path)
    with pytest.raises(ledger_module.LedgerTooNew, match=str(path)):
        open_ledger(path)
    assert _digest(path) == before


def test_data_dir_with_uri_characters_in_its_name(isolated_home: Path, tmp_path: Path) -> None:
    """The ledger is opened through an SQLite URI: `?`, `#` and `%` in the folder name must
    not send it to another file."""
    _write_logs(isolated_home)
    folder = tmp_path / "odd #1 ?x=y %41"
    env = {**os.environ, "BURNMETER_DATA_DIR": str(folder)}
    result = run_cli("ingest", env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("ledger")) == [
        "ledger.sqlite"
    ]
    report = run_cli("report", "daily", "--json", "--no-ingest", env=env)
    assert json.loads(report.stdout)["totals"]["output_tokens"] == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection in the middle of a write on the (new, empty) ledger file, as a
    second burnmeter creating the same ledger is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_new_ledger_another_process_is_writing_opens_once_the_lock_is_free(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "ledger.sqlite"
    holder = _hold_write_lock(path)
    letting_go = threading.Event()

    def release() -> None:
        letting_go.set()  # before the commit: the opener may finish the moment it lands
        holder.execute("COMMIT")

    released = threading.Timer(0.4, release)
    released.start()
    ledger = open_ledger(path)  # SQLite refuses the switch to WAL at once: it must wait
    # It waited: it was opened only once the other writer let go of its lock.
    opened_after_the_release = letting_go.is_set()
    released.join()
    holder.close()
    assert opened_after_the_release
    assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.schema_version() == SCHEMA_VERSION


def test_a_ledger_locked_for_too_long_is_reported_as_busy_not_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "LOCK_WAIT_SECONDS", 0.3)
    path = tmp_path / "data" / "ledger.sqlite"
    holder = _hold_write_lock(path)
    try:
        with pytest.raises(LedgerError) as raised:
            open_ledger(path)
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert not isinstance(raised.value, LedgerCorrupt)
    assert "locked by another process" in str(raised.value)
    assert path.exists()


def _ledger_sqlite_cannot_open(isolated_home: Path) -> Path:
    """A ledger with calls whose -wal file SQLite cannot create (a folder is in its place):
    SQLite answers SQLITE_CANTOPEN, as on a read-only file system, with the file intact."""
    _write_logs(isolated_home)
    assert run_cli("ingest").returncode == 0
    path = ledger_path()
    Path(str(path) + "-wal").mkdir()
    return path


def test_a_ledger_that_cannot_be_opened_for_writing_is_not_called_damaged(
    isolated_home: Path,
) -> None:
    path = _ledger_sqlite_cannot_open(isolated_home)
    before = _digest(path)
    result = run_cli("report", "daily", "--json")
    assert result.returncode == 2
    assert f"Cannot open the ledger at {path}" in result.stderr
    assert "not damaged" in result.stderr and "Traceback" not in result.stderr
    assert "move it aside" not in result.stderr  # that advice would throw history away
    assert _digest(path) == before
    with pytest.raises(LedgerError) as raised:
        open_ledger(path)
    assert not isinstance(raised.value, LedgerCorrupt)


def test_a_read_only_file_system_is_named(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _ledger_sqlite_cannot_open(isolated_home)

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(ledger_module.os, "statvfs", lambda _: ReadOnly())
    with pytest.raises(LedgerError, match="is on a read-only file system"):
        open_ledger(path)
