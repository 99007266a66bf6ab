"""Big reads of one ledger take turns (the second waits, then reads only what is left),
and parser workers never outlive their ingest, even one killed with SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import shared.ingest.run
from shared.ingest import INGEST_LOCK_FILENAME, FirstImportInterrupted, ingest
from shared.ledger import open_ledger
from shared.live.lock import WriterLock
from tests.core.helpers import REPO_ROOT, roots_for, snapshot
from tests.core.logwriters import write_history

# `burnmeter ingest` with every read counted as big (parallel parsers, the ingest lock).
BIG_INGEST = (
    "import shared.ingest.run as ingest; ingest.PARALLEL_THRESHOLD_BYTES = 1; "
    "from shared.cli import main; raise SystemExit(main(['ingest']))"
)


def _start(env: dict[str, str], code: str = BIG_INGEST, **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def _workers_of(process: subprocess.Popen[str]) -> set[int]:
    """The parser worker processes of a running ingest, once there are two."""
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        workers = _children(process.pid)
        time.sleep(0.02)
    assert len(workers) >= 2, "no parser workers appeared"
    return workers


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent pid, ...), or
    None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry.name)
            if fields is not None and int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    # A zombie has ended; only its exit status waits to be collected.
    return fields is not None and fields[0] != "Z"


def test_a_big_read_waits_for_the_one_under_way_and_reads_nothing_twice(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_history(isolated_home, claude_sessions=8, codex_rollouts=8, turns=10)
    # The ingest below stands for the lock holder's own, which does not wait for itself.
    monkeypatch.setattr(shared.ingest.run, "_wait_for_a_big_ingest", lambda *_: None)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    other = WriterLock(data, INGEST_LOCK_FILENAME)  # another process's big read, under way
    assert other.try_acquire()
    waiting = _start(dict(os.environ))
    try:
        time.sleep(1.5)
        assert waiting.poll() is None, waiting.communicate()
        # What the other process reads meanwhile (small enough to need no lock here).
        ledger = open_ledger(data / "ledger.sqlite")
        ingest(ledger, roots_for(os.environ))
        expected = snapshot(ledger)
        ledger.close()
    finally:
        other.release()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert out.startswith("Ingested 0 of "), out
    assert "waited" in out and "another burnmeter process" in out
    ledger = open_ledger(data / "ledger.sqlite")
    assert snapshot(ledger) == expected
    ledger.close()


# A small `burnmeter ingest` (or report) that gives up on SQLite's lock after 1 s.
IMPATIENT_INGEST = (
    "import shared.ledger as ledger; ledger.LOCK_WAIT_SECONDS = 1; "
    "from shared.cli import main; raise SystemExit(main(['ingest']))"
)


def _an_import_under_way(data: Path) -> tuple[WriterLock, sqlite3.Connection]:
    """What another process's first import holds: the ingest lock and, for its one long
    transaction, SQLite's write lock."""
    lock = WriterLock(data, INGEST_LOCK_FILENAME)
    assert lock.try_acquire()
    conn = sqlite3.connect(data / "ledger.sqlite", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return lock, conn


def test_a_small_read_waits_for_a_big_one_under_way_instead_of_failing(
    isolated_home: Path,
) -> None:
    """A report or ingest while another process imports (a log changed meanwhile, as one
    does while an agent works) waited inside SQLite, silently, and failed after 30 s with
    a traceback ("database is locked")."""
    write_history(isolated_home, claude_sessions=2, codex_rollouts=1, turns=3)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    ledger = open_ledger(data / "ledger.sqlite")
    ingest(ledger, roots_for(os.environ))
    ledger.close()
    write_history(isolated_home, claude_sessions=3, codex_rollouts=1, turns=4)  # grown
    lock, conn = _an_import_under_way(data)
    try:
        waiting = _start(dict(os.environ), IMPATIENT_INGEST)
        time.sleep(2.5)  # past the 1 s SQLite would have waited
        assert waiting.poll() is None, waiting.communicate()
    finally:
        conn.execute("ROLLBACK")
        conn.close()
        lock.release()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waited" in out and "another burnmeter process" in out
    assert "Traceback" not in err


def test_ctrl_c_while_waiting_for_a_big_read_ends_at_once(isolated_home: Path) -> None:
    """Waiting inside SQLite's busy handler, Ctrl-C went unheard for up to 30 s."""
    write_history(isolated_home, claude_sessions=2, codex_rollouts=1, turns=3)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    ledger = open_ledger(data / "ledger.sqlite")
    ingest(ledger, roots_for(os.environ))
    ledger.close()
    write_history(isolated_home, claude_sessions=3, codex_rollouts=1, turns=4)
    lock, conn = _an_import_under_way(data)
    # Deaf to Ctrl-C, it would wait 600 s, until long after the import under way (held
    # here until the end) is done.
    waiting = _start(dict(os.environ), IMPATIENT_INGEST.replace("= 1;", "= 600;"))
    # Ctrl-C once it says it waits (a fixed sleep could land before Python's handlers are
    # set on a loaded machine); a child that never says so is killed after a minute.
    guard = threading.Timer(60, waiting.kill)
    guard.start()
    try:
        assert waiting.stderr is not None
        said = waiting.stderr.readline()
        assert "waiting for another burnmeter process" in said, said
        waiting.send_signal(signal.SIGINT)
        # The timeout is only a guard against hanging (it ends in well under a second once
        # it hears the Ctrl-C): it ended while the other import was still under way.
        _, err = waiting.communicate(timeout=30)
    finally:
        guard.cancel()
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
        conn.execute("ROLLBACK")
        conn.close()
        lock.release()
    assert waiting.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err


def test_parser_workers_end_with_their_killed_ingest(isolated_home: Path) -> None:
    write_history(isolated_home, claude_sessions=100, codex_rollouts=100, turns=60)
    process = _start(dict(os.environ))
    workers = _workers_of(process)
    os.kill(process.pid, signal.SIGKILL)  # the ingest alone, not its process group
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    # Nothing holds the ingest lock any more: the next big read starts at once.
    lock = WriterLock(Path(os.environ["BURNMETER_DATA_DIR"]), INGEST_LOCK_FILENAME)
    assert lock.try_acquire()
    lock.release()


def test_a_big_read_without_a_usable_lock_still_reads_everything(isolated_home: Path) -> None:
    write_history(isolated_home, claude_sessions=4, codex_rollouts=4, turns=8)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    (data / INGEST_LOCK_FILENAME).mkdir(parents=True)  # the lock file cannot be opened
    process = _start(dict(os.environ))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "waited" not in out
    reference = open_ledger(isolated_home / "reference.sqlite")
    ingest(reference, roots_for(os.environ))
    ledger = open_ledger(data / "ledger.sqlite")
    assert snapshot(ledger) == snapshot(reference)
    ledger.close()
    reference.close()


def _interrupt_once_parsing(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """Start an ingest, and press Ctrl-C (SIGINT to its whole process group, as a terminal
    does) once its parser workers are running."""
    process = _start(
        env,
        code,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _workers_of(process)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _assert_ledger_of_an_uninterrupted_ingest(home: Path, env: dict[str, str]) -> None:
    """The ledger the ingest under `env` left equals one read in this process, untouched."""
    reference = open_ledger(home / "reference.sqlite")
    ingest(reference, roots_for(env))
    ledger = open_ledger(Path(env["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    assert snapshot(ledger) == snapshot(reference)
    ledger.close()
    reference.close()


def test_parser_workers_leave_ctrl_c_to_the_ingest(isolated_home: Path) -> None:
    """A Ctrl-C that reached a worker between two tasks (sending a result back) used to end
    it with a traceback of its own. Workers now ignore SIGINT, which only the ingest acts
    on: interrupted workers alone, the ingest goes on to the uninterrupted totals."""
    write_history(isolated_home, claude_sessions=60, codex_rollouts=60, turns=40)
    env = dict(os.environ)
    process = _start(env, start_new_session=True)
    workers = _workers_of(process)
    for _ in range(20):
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        time.sleep(0.01)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    _assert_ledger_of_an_uninterrupted_ingest(isolated_home, env)


def test_ctrl_c_says_truly_what_was_kept(isolated_home: Path) -> None:
    write_history(isolated_home, claude_sessions=100, codex_rollouts=100, turns=60)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    first_import = BIG_INGEST.replace("; from", "; ingest.BULK_THRESHOLD_BYTES = 1; from")
    done = _interrupt_once_parsing(dict(os.environ), first_import)
    assert done.returncode == 130, done.stderr
    assert "nothing of it was kept" in done.stderr and "Traceback" not in done.stderr
    ledger = open_ledger(data / "ledger.sqlite")
    assert ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 0
    ledger.close()
    # Once the ledger has calls, an ingest commits batch by batch: what it read is kept, and
    # said to be only once a batch was committed (it was said of every interrupted ingest).
    (isolated_home / ".claude" / "projects").rename(isolated_home / "later")
    assert _start(dict(os.environ)).wait(timeout=120) == 0  # the Codex half, in full
    (isolated_home / "later").rename(isolated_home / ".claude" / "projects")
    codex_half = _calls(data)
    row_by_row = BIG_INGEST.replace(
        "; from",
        # Batches of 500 rows, each a moment in coming: a Ctrl-C lands between two of them.
        "; import shared.ingest.writer as w, time; w.BATCH_ROWS = 500; flush = w.LedgerWriter"
        ".flush; w.LedgerWriter.flush = lambda self: (time.sleep(0.05), flush(self))[1]; from",
    )
    done = _interrupt_once_parsing(dict(os.environ), row_by_row)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr == _truly(kept=_calls(data) > codex_half)
    # Pressed once a batch is in the ledger: kept, and said so.
    process = _start(dict(os.environ), row_by_row, start_new_session=True)
    before = _calls(data)
    deadline = time.monotonic() + 60
    while _calls(data) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err == _truly(kept=True)
    assert _calls(data) > before


def _calls(data: Path) -> int:
    conn = sqlite3.connect(f"file:{data / 'ledger.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])
    finally:
        conn.close()


def _truly(*, kept: bool) -> str:
    """What an interrupted (not first) ingest says, as it had committed a batch or not."""
    if kept:
        return (
            "burnmeter: interrupted; what was read so far is kept (the next run reads on from "
            "there).\n"
        )
    return "burnmeter: interrupted before the ingest had kept any new model call.\n"


# A Ctrl-C that lands while `concurrent.futures.wait` takes its futures' locks one by one:
# the exception leaves the first taken, the pool's manager thread later blocks on it, and
# Python's exit hook for the pool joins that thread forever. The Ctrl-C is raised here
# between two acquisitions of the first `wait` from the 5th on that waits on two futures or
# more (the 20th alone, as before, could come when fewer were left: on a busy machine the
# starved ingest found its results done and waited fewer times, and the Ctrl-C never came),
# and `burnmeter`'s exit watchdog is switched off, so that nothing but the ingest itself
# can end the process.
CTRL_C_INSIDE_WAIT = """
import signal, sys
import concurrent.futures._base as base
import shared.cli, shared.ingest.run as ingest
ingest.PARALLEL_THRESHOLD_BYTES = 1
shared.cli._exit_even_if_the_pool_hangs = lambda code: None
real_enter, calls = base._AcquireFutures.__enter__, [0]
def enter(self):
    calls[0] += 1
    futures = list(self.futures)
    if calls[0] < 5 or len(futures) < 2:
        return real_enter(self)
    calls[0] = -(10**9)  # once
    futures[0]._condition.acquire()
    signal.raise_signal(signal.SIGINT)
    for future in futures[1:]:
        future._condition.acquire()
base._AcquireFutures.__enter__ = enter
sys.exit(shared.cli.main(["ingest"]))
"""


def test_ctrl_c_inside_the_pools_wait_still_ends_the_ingest(isolated_home: Path) -> None:
    write_history(isolated_home, claude_sessions=100, codex_rollouts=100, turns=60)
    process = _start(dict(os.environ), CTRL_C_INSIDE_WAIT)
    try:
        _, err = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"the interrupted ingest did not end: {err[-2000:]}")
    assert process.returncode == 130, err
    assert "Traceback" not in err, err
    assert err.endswith(_truly(kept=_calls(Path(os.environ["BURNMETER_DATA_DIR"])) > 0)), err


def test_an_ingest_started_with_ctrl_c_ignored_is_not_interrupted(isolated_home: Path) -> None:
    """A script's background job (`burnmeter ingest &` in sh) starts with SIGINT ignored, so
    the Ctrl-C meant for the script's foreground leaves it running. The ingest's own guards
    around the pool must not turn that ignored signal into an interruption."""
    write_history(isolated_home, claude_sessions=60, codex_rollouts=60, turns=40)
    env = dict(os.environ)
    process = _start(
        env, start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    )
    _workers_of(process)
    while process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.005)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "interrupted" not in err and "Traceback" not in err, err
    _assert_ledger_of_an_uninterrupted_ingest(isolated_home, env)


class _InterruptAfterCommit:
    """The ledger's connection, with a Ctrl-C landing right after its Nth COMMIT (the
    commit done, the statement not yet returned to the caller)."""

    def __init__(self, conn: sqlite3.Connection, nth: int) -> None:
        self._conn, self._left = conn, nth

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        cursor = self._conn.execute(sql, *args)
        if sql.strip().upper() == "COMMIT":
            self._left -= 1
            if self._left == 0:
                raise KeyboardInterrupt
        return cursor


def test_ctrl_c_just_after_a_commit_is_an_interrupt_not_an_error(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cleanup used to roll back a transaction that had just committed ("cannot
    rollback - no transaction is active"), turning Ctrl-C into a traceback; after the
    first import's own COMMIT it said nothing was kept while all of it was."""
    write_history(isolated_home, claude_sessions=4, codex_rollouts=4, turns=6)
    roots = roots_for(os.environ)
    reference = open_ledger(isolated_home / "reference.sqlite")
    ingest(reference, roots)
    monkeypatch.setattr(shared.ingest.run, "BULK_THRESHOLD_BYTES", 1)
    for nth, kept_all in ((1, False), (2, True)):  # planning's COMMIT, then the load's
        ledger = open_ledger(isolated_home / f"ledger-{nth}.sqlite")
        ledger.conn = _InterruptAfterCommit(ledger.conn, nth)  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt) as raised:
            ingest(ledger, roots, workers=1)
        assert isinstance(raised.value, FirstImportInterrupted) is False, nth
        held = snapshot(ledger) == snapshot(reference)
        assert held is kept_all, nth
        ledger.close()
    reference.close()


def test_commands_without_a_progress_bar_say_they_wait_and_no_ingest_names_the_import(
    isolated_home: Path,
) -> None:
    """`report --json`, `doctor` (no progress bar) waited for another process's import in
    silence, and `report --no-ingest` during a first import said to run an ingest."""
    write_history(isolated_home, claude_sessions=2, codex_rollouts=1, turns=3)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    open_ledger(data / "ledger.sqlite").close()  # created, empty: the import is under way
    lock = WriterLock(data, INGEST_LOCK_FILENAME)
    assert lock.try_acquire()
    try:
        empty = subprocess.run(
            [sys.executable, "-m", "shared", "report", "daily", "--no-ingest"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert f"another burnmeter process (pid {os.getpid()}) is importing" in empty.stderr
        as_json = subprocess.run(
            [sys.executable, "-m", "shared", "report", "daily", "--no-ingest", "--json"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert f"(pid {os.getpid()}) is importing" in as_json.stderr
        assert json.loads(as_json.stdout)["daily"] == []  # the JSON itself stays clean
        waiting = _start(
            dict(os.environ),
            "from shared.cli import main; raise SystemExit(main(['report', 'daily', '--json']))",
        )
        time.sleep(1.5)
        assert waiting.poll() is None
    finally:
        lock.release()
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waiting for another burnmeter process to finish reading the logs" in err


def test_ctrl_c_while_a_command_is_set_up_is_a_message_not_a_traceback(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C (or SIGINT from a script) in a command's first tenth of a second, while its
    parser was built, ended in a KeyboardInterrupt traceback through argparse."""
    import shared.cli

    def interrupted(module: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(shared.cli, "build_parser", interrupted)
    assert shared.cli.main(["ingest"]) == 130
    assert capsys.readouterr().err == "burnmeter: interrupted before it began; nothing was read.\n"


# Another process's big read: takes the ingest lock, says so, and holds it.
HOLDER = (
    "import sys, time; from pathlib import Path; from shared.live.lock import WriterLock; "
    "lock = WriterLock(Path(sys.argv[1]), 'ingest.lock'); assert lock.try_acquire(); "
    "print('held', flush=True); time.sleep(300)"
)


def test_a_report_does_not_wait_for_good_on_a_stopped_ingest(isolated_home: Path) -> None:
    """A `burnmeter ingest` suspended with Ctrl-Z while it held the ingest lock: every
    report printed "waiting for another burnmeter process to finish reading the logs…"
    and waited without end. Now it says who holds the lock, that it is stopped, and what
    to do, and ends (2); `--no-ingest` still answers."""
    write_history(isolated_home, claude_sessions=2, codex_rollouts=1, turns=3)
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data)],
        cwd=REPO_ROOT, env=dict(os.environ), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGSTOP)
        report = subprocess.run(
            [sys.executable, "-m", "shared", "report", "daily", "--json"],
            cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert report.returncode == 2, report
        assert f"(pid {holder.pid})" in report.stderr and "stopped" in report.stderr
        assert f"kill -CONT {holder.pid}" in report.stderr and "--no-ingest" in report.stderr
        as_is = subprocess.run(
            [sys.executable, "-m", "shared", "report", "daily", "--json", "--no-ingest"],
            cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert as_is.returncode == 0, as_is.stderr
        json.loads(as_is.stdout)
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait(timeout=10)
