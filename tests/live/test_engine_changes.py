"""Files and folders that come and go are handled by their own paths, not by a scan of
every root: a new session's first line waited for a full scan (0.8-1.4 s on a 16,000-file
history, against ~55 ms for the lines after it). The ledger ends as `burnmeter ingest`
leaves it after each change. Also: the writer hears of other processes' commits, and its
safety rescan runs every RESCAN_S only when the watch may miss changes without a word."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import shared.live.engine as engine_module
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.live import LiveEngine
from shared.sources.events import CLAUDE, CODEX
from shared.sources.roots import LogFile, LogRoot
from tests.live.test_engine import Changes, call, totals, wait_for
from tests.logfixtures import append, session_file


class Ingests:
    """Stands in for `shared.ingest.ingest` in the engine and records what each call was
    given: None for a full scan, else the paths of the files."""

    def __init__(self) -> None:
        self.calls: list[list[str] | None] = []
        self.lock = threading.Lock()
        self.real = engine_module.ingest

    def __call__(self, *args: Any, files: list[LogFile] | None = None, **kwargs: Any) -> Any:
        with self.lock:
            self.calls.append(None if files is None else sorted(f.path for f in files))
        return self.real(*args, files=files, **kwargs)

    def taken(self) -> list[list[str] | None]:
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


@pytest.fixture
def ingests(monkeypatch: pytest.MonkeyPatch) -> Ingests:
    spy = Ingests()
    monkeypatch.setattr(engine_module, "ingest", spy)
    return spy


@pytest.fixture
def engines() -> Iterator[list[LiveEngine]]:
    started: list[LiveEngine] = []
    yield started
    for engine in started:
        engine.stop()


def start(engines: list[LiveEngine], roots: list[LogRoot], ledger_file: Path) -> Changes:
    changes = Changes()
    engine = LiveEngine(roots, ledger_file, on_change=changes, debounce_s=0.02)
    engines.append(engine)
    engine.start()
    assert engine.wait_ready(30)
    return changes


def history(projects: Path, folders: int) -> None:
    for n in range(folders):
        append(session_file(projects, f"/work/p{n}", f"old{n}"), call(n, session=f"old{n}"))


def state(ledger_file: Path) -> tuple[tuple[int, int], list[tuple[str, int]]]:
    """The totals, and every file the ledger knows with whether it is gone."""
    with closing(sqlite3.connect(ledger_file)) as conn:
        sources = conn.execute("SELECT path, missing FROM sources ORDER BY path").fetchall()
    return totals(ledger_file), sources


def test_a_new_session_file_is_read_by_itself_without_a_scan_of_every_root(
    tmp_path: Path, engines: list[LiveEngine], ingests: Ingests
) -> None:
    projects = tmp_path / "claude" / "projects"
    history(projects, 40)
    # A root that does not exist yet: its parent folder is watched for it to appear.
    waiting = tmp_path / "config" / "claude" / "projects"
    waiting.parent.parent.mkdir()
    roots = [LogRoot(CLAUDE, projects), LogRoot(CLAUDE, waiting)]
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    start(engines, roots, ledger_file)
    assert ingests.taken() == [None]  # the first ingest scans everything
    new = session_file(projects, "/work/p7", "new")
    append(new, call(100, session="new"))
    assert wait_for(lambda: totals(ledger_file)[0] == 41)
    assert wait_for(lambda: bool(ingests.calls))
    calls = ingests.taken()
    assert None not in calls, calls
    assert {path for files in calls if files for path in files} == {str(new)}
    # Files coming and going beside a root yet to appear (another program's settings
    # saved in ~/.config) are no business of the engine: each made it scan every root.
    (tmp_path / "config" / "app.tmp").write_text("x")
    (tmp_path / "config" / "app.tmp").rename(tmp_path / "config" / "app.conf")
    (tmp_path / "config" / "app.conf").unlink()
    append(new, call(101, session="new"))
    assert wait_for(lambda: totals(ledger_file)[0] == 42)
    assert None not in ingests.taken()


def test_a_new_project_folder_is_read_with_the_files_already_in_it(
    tmp_path: Path, engines: list[LiveEngine], ingests: Ingests
) -> None:
    projects = tmp_path / "claude" / "projects"
    history(projects, 20)
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    start(engines, [LogRoot(CLAUDE, projects)], ledger_file)
    ingests.taken()
    # mkdir and a first line, as an agent starting in a new project does.
    append(session_file(projects, "/work/new", "s1"), call(100, session="s1"))
    assert wait_for(lambda: totals(ledger_file)[0] == 21)
    # A folder that arrives with files in it (moved in, or written before its watch began).
    outside = tmp_path / "elsewhere" / "-work-moved"
    subagents = outside / "s2" / "subagents"
    subagents.mkdir(parents=True)
    append(outside / "s2.jsonl", call(101, session="s2"))
    append(subagents / "agent-1.jsonl", call(102, session="s2"))
    outside.rename(projects / "-work-moved")
    assert wait_for(lambda: totals(ledger_file)[0] == 23)
    # `mkdir -p` of a subagents folder in a known project.
    nested = projects / "-work-new" / "s1" / "subagents"
    nested.mkdir(parents=True)
    append(nested / "agent-2.jsonl", call(103, session="s1"))
    assert wait_for(lambda: totals(ledger_file)[0] == 24)
    assert None not in ingests.taken()
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, [LogRoot(CLAUDE, projects)])
    reference.close()
    assert state(ledger_file) == state(tmp_path / "reference.sqlite")


def test_logs_deleted_moved_or_renamed_end_as_burnmeter_ingest_leaves_them(
    tmp_path: Path, engines: list[LiveEngine], ingests: Ingests
) -> None:
    """After each change the live ledger equals one that `burnmeter ingest` (a full scan)
    brought up to date after the same change: the same totals, the same files, the same
    ones gone (their history stays)."""
    projects = tmp_path / "claude" / "projects"
    history(projects, 12)
    sessions = tmp_path / "codex" / "sessions" / "2026" / "05" / "01"
    sessions.mkdir(parents=True)
    archived = tmp_path / "codex" / "archived_sessions"
    archived.mkdir()
    rollout = sessions / "rollout-2026-05-01T10-00-00-abc.jsonl"
    rollout.write_text(
        '{"timestamp":"2026-05-01T10:00:00Z","type":"session_meta",'
        '"payload":{"id":"abc","cwd":"/work/codex"}}\n'
    )
    roots = [
        LogRoot(CLAUDE, projects),
        LogRoot(CODEX, tmp_path / "codex" / "sessions"),
        LogRoot(CODEX, archived),
    ]
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, roots)
    changes = start(engines, roots, ledger_file)
    ingests.taken()

    def same_as_burnmeter_ingest_after(change: Callable[[], object]) -> None:
        seen = changes.count
        change()
        ingest(reference, roots)
        expected = state(tmp_path / "reference.sqlite")
        assert wait_for(lambda: changes.count > seen)
        assert wait_for(lambda: state(ledger_file) == expected), change

    same_as_burnmeter_ingest_after((projects / "-work-p0" / "old0.jsonl").unlink)
    same_as_burnmeter_ingest_after(lambda: shutil.rmtree(projects / "-work-p1"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    same_as_burnmeter_ingest_after(lambda: (projects / "-work-p2").rename(elsewhere / "-work-p2"))
    same_as_burnmeter_ingest_after(
        lambda: (projects / "-work-p3").rename(projects / "-work-p3-renamed")
    )
    same_as_burnmeter_ingest_after(
        lambda: (projects / "-work-p4" / "old4.jsonl").rename(projects / "-work-p4" / "new.jsonl")
    )
    # Codex moves a rollout from sessions/ to archived_sessions/: two roots, two watches.
    same_as_burnmeter_ingest_after(lambda: rollout.rename(archived / rollout.name))
    assert None not in ingests.taken()

    # A second path to a known file (a hard link): only a scan of every root decides which
    # path counts (the one it finds first, once), as `burnmeter ingest` does.
    os.link(projects / "-work-p5" / "old5.jsonl", projects / "-work-p6" / "link.jsonl")
    ingest(reference, roots)
    reference.close()
    assert wait_for(lambda: None in ingests.calls)
    assert wait_for(lambda: state(ledger_file) == state(tmp_path / "reference.sqlite"))


def test_the_writer_tells_of_commits_by_other_processes(
    tmp_path: Path, engines: list[LiveEngine]
) -> None:
    """A `burnmeter ingest` (or a report's own ingest, or `reprice`) in a terminal commits
    to the ledger the tray or the language server writes: the writer now says so at once;
    the front end heard of it at its next timer (up to 30 s), or never when that ingest had
    taken the lines the writer was about to read."""
    projects = tmp_path / "claude" / "projects"
    history(projects, 2)
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    changes = start(engines, [LogRoot(CLAUDE, projects)], ledger_file)
    assert engines[0].is_writer
    seen = changes.count
    other = tmp_path / "other" / "projects"
    append(session_file(other, "/work/other", "o1"), call(50, session="o1"))
    terminal = open_ledger(ledger_file)
    try:
        ingest(terminal, [LogRoot(CLAUDE, other)])
    finally:
        terminal.close()
    assert wait_for(lambda: changes.count > seen, timeout=5)
    assert totals(ledger_file)[0] == 3


@pytest.mark.skipif(sys.platform != "linux", reason="inotify: a watch that reports lost events")
def test_the_safety_rescan_runs_every_minute_only_once_the_watch_may_have_missed_changes(
    tmp_path: Path,
    engines: list[LiveEngine],
    ingests: Ingests,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rescan of a 16,000-file history every minute kept an idle tray at 0.3-1.5 % of a
    core. With inotify on a local disk (it says when it lost events) it runs every
    RESCAN_WATCHED_S; once watchdog warns (a folder it could not watch: out of inotify
    watches) every RESCAN_S again."""
    monkeypatch.setattr(engine_module, "RESCAN_S", 0.1)
    monkeypatch.setattr(engine_module, "RESCAN_WATCHED_S", 3600.0, raising=False)
    caplog.set_level(logging.WARNING, logger="watchdog")
    projects = tmp_path / "claude" / "projects"
    history(projects, 2)
    start(engines, [LogRoot(CLAUDE, projects)], tmp_path / "data" / "ledger.sqlite")
    from shared.live.changes import on_local_disk

    if not on_local_disk(str(projects)):
        pytest.skip("the test folder is not on a local disk")
    assert not wait_for(lambda: len(ingests.calls) > 1, timeout=1.0)
    logging.getLogger("watchdog.observers.inotify").warning("Unable to watch %r: %s", "x", "y")
    assert wait_for(lambda: ingests.calls.count(None) >= 4, timeout=10)


def test_on_local_disk_reads_the_mount_table(tmp_path: Path) -> None:
    from shared.live.changes import on_local_disk

    table = tmp_path / "mountinfo"
    table.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "40 22 0:35 / /home/dev/nas rw,relatime shared:20 - nfs4 srv:/home rw\n"
        "41 22 0:36 / /home/dev/my\\040disk rw shared:21 - fuse.sshfs dev@host: rw\n"
        "42 22 8:2 / /home/dev/nas/local rw shared:22 - xfs /dev/sdb1 rw\n"
    )
    assert on_local_disk("/home/dev/.claude/projects", str(table))
    assert not on_local_disk("/home/dev/nas/.claude", str(table))
    assert not on_local_disk("/home/dev/my disk/x", str(table))
    assert on_local_disk("/home/dev/nas/local/x", str(table))
    assert not on_local_disk("/home/dev", str(tmp_path / "no-such-table"))
