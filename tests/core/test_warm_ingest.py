"""A warm ingest (the one every report runs first) compares each file's stat with the ledger
and reads or writes only what changed: nothing at all when nothing changed, just the changed
file when one grew, and it still notices files that appeared, vanished or came back."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, period_report
from tests.core.helpers import ingest_env, totals
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_replies,
    codex_rollout_path,
    write_lines,
    zstd_compress,
)

CWD = "/home/dev/app"


def _session(session_id: str, outputs: list[int]) -> ClaudeSession:
    return claude_replies(session_id, CWD, outputs)


def _project(home: Path) -> Path:
    return claude_project_dir(home / ".claude", CWD)


def _ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.sqlite")


def _stored(ledger: Ledger) -> dict[str, int]:
    """Stored path -> missing flag."""
    return dict(ledger.conn.execute("SELECT path, missing FROM sources").fetchall())


def test_nothing_new_reads_and_writes_nothing(isolated_home: Path, tmp_path: Path) -> None:
    for index in range(5):
        _session(f"s-{index}", [10 + index]).write(_project(isolated_home) / f"s-{index}.jsonl")
    rollout = CodexRollout("r-warm")
    rollout.turn(1)
    rollout.call(2, 1000, 40, cached=100)
    plain = rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    zstd_compress(plain, Path(str(plain) + ".zst").with_name("rollout-archived.jsonl.zst"))
    ledger = _ledger(tmp_path)
    first = ingest_env(ledger)
    assert first.files_seen == first.files_read == 7
    before = totals(ledger)
    changes = ledger.conn.total_changes
    again = ingest_env(ledger)
    assert again.files_seen == 7
    assert again.files_read == 0 and again.bytes_read == 0 and again.new_calls == 0
    # Not even a write transaction: a warm report leaves the ledger file as it was.
    assert ledger.conn.total_changes == changes
    assert totals(ledger) == before


def test_one_grown_file_among_many_is_the_only_one_read(
    isolated_home: Path, tmp_path: Path
) -> None:
    paths = [
        _session(f"s-{index}", [5]).write(_project(isolated_home) / f"s-{index}.jsonl")
        for index in range(6)
    ]
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 30
    grown = _session("s-3", [5, 100])
    write_lines(paths[3], grown.lines[1:], append=True)
    summary = ingest_env(ledger)
    assert summary.files_seen == 6 and summary.files_read == 1
    assert totals(ledger)["output_tokens"] == 130
    assert ingest_env(ledger).files_read == 0


def test_a_file_that_vanished_and_came_back_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    keep = _session("s-keep", [3]).write(_project(isolated_home) / "s-keep.jsonl")
    away = _session("s-away", [70]).write(_project(isolated_home) / "s-away.jsonl")
    content = away.read_bytes()
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    away.unlink()
    summary = ingest_env(ledger)
    assert summary.files_seen == 1
    assert _stored(ledger) == {str(keep): 0, str(away): 1}
    assert totals(ledger)["output_tokens"] == 73
    # Back (a restored backup: a new inode, the same lines): present again, counted once.
    away.write_bytes(content)
    ingest_env(ledger)
    assert _stored(ledger) == {str(keep): 0, str(away): 0}
    assert totals(ledger)["output_tokens"] == 73
    assert ingest_env(ledger).files_read == 0


def test_new_file_next_to_known_ones_is_registered_and_read(
    isolated_home: Path, tmp_path: Path
) -> None:
    _session("s-old", [8]).write(_project(isolated_home) / "s-old.jsonl")
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    _session("s-new", [9]).write(_project(isolated_home) / "s-new.jsonl")
    summary = ingest_env(ledger)
    assert summary.files_seen == 2 and summary.files_read == 1
    assert totals(ledger)["output_tokens"] == 17


def test_files_reached_through_links_are_stored_by_their_real_path(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A linked project folder and a linked transcript: the ledger keys both by the real
    path, so a warm run finds them unchanged."""
    elsewhere = tmp_path / "elsewhere"
    linked_dir_file = _session("s-dir", [4]).write(elsewhere / "project" / "s-dir.jsonl")
    linked_file = _session("s-file", [6]).write(elsewhere / "loose" / "s-file.jsonl")
    projects = isolated_home / ".claude" / "projects"
    projects.mkdir(parents=True)
    os.symlink(elsewhere / "project", projects / "-linked-project")
    (projects / "-other").mkdir()
    os.symlink(linked_file, projects / "-other" / "s-file.jsonl")
    ledger = _ledger(tmp_path)
    assert ingest_env(ledger).files_read == 2
    assert set(_stored(ledger)) == {str(linked_dir_file), str(linked_file)}
    again = ingest_env(ledger)
    assert again.files_seen == 2 and again.files_read == 0


def test_non_ascii_and_non_utf8_names_are_unchanged_on_a_warm_run(
    isolated_home: Path, tmp_path: Path
) -> None:
    project = _project(isolated_home)
    _session("s-café", [11]).write(project / "s-café.jsonl")
    odd = os.fsencode(project) + b"/s-caf\xe9.jsonl"
    with open(odd, "wb") as handle:
        handle.write(b"".join(_session("s-latin1", [12]).lines))
    ledger = _ledger(tmp_path)
    assert ingest_env(ledger).files_read == 2
    assert str(project / "s-café.jsonl") in _stored(ledger)
    assert str(project) + "/s-caf\\xe9.jsonl" in _stored(ledger)
    assert ingest_env(ledger).files_read == 0
    assert totals(ledger)["output_tokens"] == 23


def test_a_half_written_last_line_is_looked_at_again_until_it_ends(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = _session("s-half", [20, 30])
    path = write_lines(_project(isolated_home) / "s-half.jsonl", session.lines[:1])
    with open(path, "ab") as handle:
        handle.write(session.lines[1][:25])
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 20
    offset = ledger.conn.execute("SELECT offset FROM sources").fetchone()
    # Its stat is unchanged, yet bytes are left past the offset: read again, still no line.
    assert ingest_env(ledger).files_read == 1
    assert ledger.conn.execute("SELECT offset FROM sources").fetchone() == offset
    assert totals(ledger)["output_tokens"] == 20
    with open(path, "ab") as handle:
        handle.write(session.lines[1][25:])
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 50


def test_period_report_of_an_agent_without_calls_is_empty(
    isolated_home: Path, tmp_path: Path
) -> None:
    _session("s-only-claude", [5]).write(_project(isolated_home) / "s-only-claude.jsonl")
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    report = period_report(ledger, "daily", Filters(agent="codex"))
    assert report["daily"] == [] and report["totals"]["output_tokens"] == 0
    assert period_report(_ledger(tmp_path / "empty"), "weekly", Filters())["weekly"] == []


def test_a_report_does_not_wait_for_an_ingest_that_holds_the_write_lock(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Opening an up-to-date ledger and a warm ingest only read: a report run while the
    tray writes a big batch answers at once instead of waiting for the batch's commit."""
    import threading

    _session("s-locked", [5]).write(_project(isolated_home) / "s-locked.jsonl")
    ingest_env(_ledger(tmp_path))
    writer = _ledger(tmp_path)
    writer.conn.execute("BEGIN IMMEDIATE")
    results: list[int] = []

    def report() -> None:
        reader = _ledger(tmp_path)
        ingest_env(reader)
        results.append(totals(reader)["output_tokens"])

    try:
        thread = threading.Thread(target=report, daemon=True)
        thread.start()
        thread.join(timeout=10)
        assert results == [5]
    finally:
        writer.conn.execute("ROLLBACK")


def test_an_ingest_leaves_the_cycle_collector_as_it_found_it(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Discovery pauses the collector (it makes no cycles); a long-running tray or language
    server must get it back on, and a caller that turned it off keeps it off."""
    import gc

    _session("s-gc", [5]).write(_project(isolated_home) / "s-gc.jsonl")
    ledger = _ledger(tmp_path)
    assert gc.isenabled()
    ingest_env(ledger)
    assert gc.isenabled()
    gc.disable()
    try:
        ingest_env(ledger)
        assert not gc.isenabled()
    finally:
        gc.enable()


class _OtherProcessCreatesTheLedger:
    """A connection between whose first and second statement another burnmeter process
    creates the ledger (all its migrations committed)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._statements = 0

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        self._statements += 1
        if self._statements == 2:
            open_ledger(self._path).close()
        return self._conn.execute(sql, *args)


def test_a_ledger_another_process_is_creating_is_not_taken_for_a_foreign_file(
    tmp_path: Path,
) -> None:
    """Two burnmeter processes starting at once on a new ledger (a report while the tray
    starts): the identity check reads one snapshot, never tables without the app id."""
    from shared.ledger import _check_identity

    path = tmp_path / "ledger.sqlite"
    path.touch()
    conn = sqlite3.connect(path, isolation_level=None)
    _check_identity(_OtherProcessCreatesTheLedger(conn, path), path)  # type: ignore[arg-type]
    assert open_ledger(path).schema_version() > 0


def test_a_warm_report_does_not_import_the_live_engine(isolated_home: Path) -> None:
    """Every ingest probes the ingest lock (shared.live.lock); the package's __init__ then
    imported the engine too (watchdog, logging, threading): ~26 ms of a ~100 ms warm report."""
    import subprocess
    import sys

    from tests.core.helpers import REPO_ROOT

    code = (
        "import sys; from shared.cli import main; main(['report', 'daily', '--json']); "
        "print(sorted(m for m in sys.modules if m.startswith(('watchdog', 'shared.live'))), "
        "file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stderr.strip().splitlines()[-1]
    assert "watchdog" not in loaded and "shared.live.engine" not in loaded, loaded
