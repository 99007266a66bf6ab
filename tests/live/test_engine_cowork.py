"""The live engine (watch, tray, language server) watches Claude Desktop's Cowork folder as
its sessions' `.claude/projects/` folders: lines appended there are read at once, a session
made after the start (its `local_<id>/` folder, then `.claude/projects/`) is read and
watched without waiting for the safety rescan, and the app's other files (`audit.jsonl`,
the `local_<id>.json` records, the task's outputs) are neither read nor cause a scan of
every root. The ledger ends as `burnmeter ingest` leaves it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import shared.live.engine as engine_module
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.live import LiveEngine
from shared.sources.events import CLAUDE
from shared.sources.roots import COWORK_FOLDER, LogRoot
from tests.live.test_engine import call, totals, wait_for
from tests.live.test_engine_changes import Ingests, engines, ingests, start, state
from tests.logfixtures import append, session_file

__all__ = ["engines", "ingests"]  # fixtures

ORG = "0f6b1e2a-5c3d-4e8f-9a1b-2c3d4e5f6a7b"
ACCOUNT = "8d7c6b5a-4f3e-4d2c-8b1a-0f9e8d7c6b5a"


def new_session(account: Path, local_id: str, session: str, n: int) -> Path:
    """A Cowork session as the app makes it: its record and storage folder first, the
    Agent SDK's stream, then Claude Code's config dir and first line."""
    storage = account / f"local_{local_id}"
    (storage / "outputs").mkdir(parents=True)
    (account / f"local_{local_id}.json").write_text(json.dumps({"sessionId": storage.name}))
    append(storage / "audit.jsonl", call(9000 + n, session=session))
    transcript = session_file(storage / ".claude" / "projects", "/work/cowork", session)
    append(transcript, call(n, session=session))
    return transcript


def test_cowork_sessions_are_watched_and_new_ones_picked_up_without_a_rescan(
    tmp_path: Path, engines: list[LiveEngine], ingests: Ingests
) -> None:
    assert engine_module.RESCAN_S >= 60  # what is read below is not the safety rescan's
    folder = tmp_path / "Claude" / COWORK_FOLDER
    account = folder / ORG / ACCOUNT
    first = new_session(account, "4f1c", "s-first", 1)
    roots = [LogRoot(CLAUDE, tmp_path / "claude" / "projects"), LogRoot(CLAUDE, folder, True)]
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    start(engines, roots, ledger_file)
    assert ingests.taken() == [None]
    assert totals(ledger_file)[0] == 1

    # A line appended to a session's transcript: read by itself.
    append(first, call(2, session="s-first"))
    assert wait_for(lambda: totals(ledger_file)[0] == 2)
    assert None not in ingests.taken()

    # The app's own files: nothing read, no scan of every root.
    append(first.parents[3] / "audit.jsonl", call(9100, session="s-first"))
    (account / "local_4f1c.json").write_text('{"sessionId": "local_4f1c", "title": "t"}')
    append(first.parents[3] / "outputs" / "notes.jsonl", call(9101, session="s-first"))
    append(first, call(3, session="s-first"))
    assert wait_for(lambda: totals(ledger_file)[0] == 3)
    assert None not in ingests.taken()

    # A session made after the start, and one in the agent/ folder: read at once, then
    # watched like the others.
    second = new_session(account, "7b2d", "s-second", 10)
    assert wait_for(lambda: totals(ledger_file)[0] == 4)
    append(second, call(11, session="s-second"))
    assert wait_for(lambda: totals(ledger_file)[0] == 5)
    third = new_session(account / "agent", "ditto_9a2e", "s-third", 20)
    assert wait_for(lambda: totals(ledger_file)[0] == 6)
    append(third, call(21, session="s-third"))
    assert wait_for(lambda: totals(ledger_file)[0] == 7)

    # A session the app deletes keeps its history, as any deleted log does.
    reference = open_ledger(tmp_path / "reference.sqlite")
    ingest(reference, roots)
    shutil.rmtree(second.parents[3])
    ingest(reference, roots)
    reference.close()
    assert wait_for(lambda: state(ledger_file) == state(tmp_path / "reference.sqlite"))
    assert totals(ledger_file)[0] == 7


def test_a_cowork_folder_that_appears_after_the_start_is_read(
    tmp_path: Path, engines: list[LiveEngine], ingests: Ingests
) -> None:
    """Claude Desktop installed, or Cowork first used, while the tray runs."""
    app_data = tmp_path / "Claude"
    app_data.mkdir()
    folder = app_data / COWORK_FOLDER
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    start(engines, [LogRoot(CLAUDE, folder, True)], ledger_file)
    assert totals(ledger_file)[0] == 0
    transcript = new_session(folder / ORG / ACCOUNT, "4f1c", "s-first", 1)
    assert wait_for(lambda: totals(ledger_file)[0] == 1)
    append(transcript, call(2, session="s-first"))
    assert wait_for(lambda: totals(ledger_file)[0] == 2)


def test_the_cowork_folder_is_one_watch_however_many_sessions_it_holds(
    tmp_path: Path, engines: list[LiveEngine], ingests: Ingests
) -> None:
    """Each watch is a thread of its own: a watch per session made hundreds. Events of the
    sessions' other files (an audit.jsonl, a task writing its outputs) wake nothing."""
    folder = tmp_path / "Claude" / COWORK_FOLDER
    account = folder / ORG / ACCOUNT
    for n in range(30):
        new_session(account, f"s{n:02}", f"s-{n}", n)
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    changes = start(engines, [LogRoot(CLAUDE, folder, True)], ledger_file)
    assert totals(ledger_file)[0] == 30
    (engine,) = engines
    assert list(engine._watches) == [(str(folder), True)]
    ingests.taken()
    seen = changes.count
    storage = account / "local_s00"
    for n in range(50):
        append(storage / "outputs" / f"file{n}.jsonl", call(5000 + n, session="s-0"))
        append(storage / "audit.jsonl", call(6000 + n, session="s-0"))
    (storage / "outputs" / "repo" / "src").mkdir(parents=True)
    append(next((storage / ".claude" / "projects").rglob("*.jsonl")), call(99, session="s-0"))
    assert wait_for(lambda: totals(ledger_file)[0] == 31)
    assert ingests.taken() == [[str(next((storage / ".claude" / "projects").rglob("*.jsonl")))]]
    assert changes.count == seen + 1
