"""A live ingest that keeps failing is tried again after a back-off that doubles (up to
RETRY_MAX_S), its traceback logged once and then one short line per try; a success starts
over. It was tried again every second or so, forever, each time with the whole traceback
(hundreds of them in a language server's log)."""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import shared.live.engine as engine_module
from shared.live import LiveEngine
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.live.test_engine import call, totals, wait_for
from tests.logfixtures import append, session_file

FIRST_S = 0.1
MAX_S = 0.4


class FailingIngest:
    """Stands in for `shared.ingest.ingest`: raises `error()` while `failing`, else
    ingests."""

    def __init__(self, error: Callable[[], Exception]) -> None:
        self.error = error
        self.failing = True
        self.tries: list[float] = []
        self.lock = threading.Lock()
        self.real = engine_module.ingest

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.tries.append(time.monotonic())
            failing = self.failing
        if failing:
            raise self.error()
        return self.real(*args, **kwargs)

    def count(self) -> int:
        with self.lock:
            return len(self.tries)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "RETRY_FIRST_S", FIRST_S, raising=False)
    monkeypatch.setattr(engine_module, "RETRY_MAX_S", MAX_S, raising=False)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the engine asks for, one per failed try: what `LiveEngine._failed`
    (which computes the back-off) returns."""
    delays: list[float] = []
    real = LiveEngine._failed

    def recording(engine: LiveEngine, exc: Exception, *, with_traceback: bool = False) -> float:
        delay = real(engine, exc, with_traceback=with_traceback)
        delays.append(delay)
        return delay

    monkeypatch.setattr(LiveEngine, "_failed", recording)
    return delays


def schedule(tries: int) -> list[float]:
    """The back-off for `tries` failures in a row: FIRST_S, doubled each time, at most
    MAX_S."""
    return [min(MAX_S, FIRST_S * 2**n) for n in range(tries)]


def waited_at_least_as_asked(tries: list[float], delays: list[float]) -> bool:
    """Each try came no sooner than the delay asked for after the one before (a lower
    bound on the clock: a loaded machine only makes the gaps longer)."""
    return all(gap >= delay for gap, delay in zip(gaps(tries), delays, strict=False))


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[LiveEngine]]:
    engines: list[LiveEngine] = []
    yield engines
    for engine in engines:
        engine.stop()


def start(engines: list[LiveEngine], tmp_path: Path) -> tuple[Path, Path]:
    projects = tmp_path / "claude" / "projects"
    projects.mkdir(parents=True)
    log = session_file(projects, "/work/app", "s1")
    append(log, call(1))
    ledger_file = tmp_path / "data" / "ledger.sqlite"
    engine = LiveEngine(
        [LogRoot(CLAUDE, projects)], ledger_file, on_change=lambda: None, debounce_s=0.02
    )
    engines.append(engine)
    engine.start()
    return ledger_file, log


def gaps(tries: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(tries)]


def engine_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "shared.live.engine" and "failed" in r.message]


@pytest.mark.usefixtures("fast_backoff")
def test_an_unexpected_error_backs_off_and_is_logged_in_full_once(
    tmp_path: Path,
    started: list[LiveEngine],
    asked: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shared.live.engine")
    failing = FailingIngest(lambda: ImportError("cannot import name 'x' from 'shared.config_fast'"))
    monkeypatch.setattr(engine_module, "ingest", failing)
    ledger_file, _ = start(started, tmp_path)
    # Tries at 0, 0.1, 0.3, 0.7, 1.1, 1.5 s (the back-off doubles up to MAX_S).
    assert wait_for(lambda: failing.count() >= 6, timeout=15)
    with failing.lock:
        tries = failing.tries[:6]
    assert asked[:5] == pytest.approx(schedule(5))  # 0.1, 0.2, 0.4 (capped), 0.4, 0.4
    assert waited_at_least_as_asked(tries, asked), (gaps(tries), asked)
    lines = engine_lines(caplog)
    with_traceback = [r for r in lines if r.exc_info]
    assert len(with_traceback) == 1, [r.message for r in lines]
    assert with_traceback[0].levelno == logging.ERROR
    again = [r.message for r in lines if not r.exc_info]
    assert again and all("failed again" in m and "ImportError" in m for m in again), again
    assert "3 times in a row" in again[1]
    # "this process writes the ledger" is said once, not on every try.
    writes = [r for r in caplog.records if "writes the ledger" in r.message]
    assert len(writes) == 1

    # It works again: the next failure starts the back-off (and the full log) over.
    with failing.lock:
        failing.failing = False
    assert wait_for(lambda: totals(ledger_file) == (1, 111), timeout=10)
    # Logged once the ingest has returned, a moment after its rows are visible.
    assert wait_for(lambda: any("works again" in r.message for r in caplog.records), timeout=10)


@pytest.mark.usefixtures("fast_backoff")
def test_a_database_error_is_retried_with_back_off_without_a_new_change(
    tmp_path: Path,
    started: list[LiveEngine],
    asked: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shared.live.engine")
    failing = FailingIngest(lambda: sqlite3.OperationalError("disk I/O error"))
    monkeypatch.setattr(engine_module, "ingest", failing)
    ledger_file, log = start(started, tmp_path)
    # Retried on a timer (it used to wait for the next change to a log, or the 60 s
    # rescan), the waits doubling.
    assert wait_for(lambda: failing.count() >= 4, timeout=10)
    assert asked[:3] == pytest.approx(schedule(3))
    lines = [r.message for r in engine_lines(caplog)]
    assert lines[0] == f"live ingest failed, retrying in {FIRST_S:g} s: disk I/O error"
    assert all("failed again" in m for m in lines[1:]), lines
    # Changes meanwhile do not bring the retry forward.
    count = failing.count()
    for n in range(2, 6):
        append(log, call(n))
        time.sleep(0.02)
    assert failing.count() <= count + 1
    assert wait_for(lambda: failing.count() >= count + 2, timeout=10)
    with failing.lock:
        failing.failing = False
        tries = list(failing.tries)
    # Every retry, those after the changes too, waited the back-off it asked for.
    assert asked[: len(tries) - 1] == pytest.approx(schedule(len(tries) - 1))
    assert waited_at_least_as_asked(tries, asked), (gaps(tries), asked)
    assert wait_for(lambda: totals(ledger_file)[0] == 5, timeout=10)
    # Logged once the ingest has returned, a moment after its rows are visible: cleared
    # before it, it was taken for the next failure's line on a loaded machine.
    assert wait_for(lambda: any("works again" in r.message for r in caplog.records), timeout=10)
    # A success resets the count: the next failure is logged in full again.
    caplog.clear()
    with failing.lock:
        failing.failing = True
    append(log, call(9))
    assert wait_for(lambda: bool(engine_lines(caplog)), timeout=10)
    assert engine_lines(caplog)[0].message.startswith("live ingest failed, retrying in")


@pytest.mark.usefixtures("fast_backoff")
def test_a_failed_first_ingest_settles_the_engine_without_making_it_ready(
    tmp_path: Path, started: list[LiveEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The language server holds a hover (and a lens for clients it cannot refresh) until
    the first ingest is done: while ingests kept failing, every one of them waited the
    whole 10 s. A failed attempt settles the engine; it is still not "ready" (caught up),
    which the tray's Monday export waits for."""
    failing = FailingIngest(lambda: RuntimeError("a bug"))
    monkeypatch.setattr(engine_module, "ingest", failing)
    start(started, tmp_path)
    engine = started[0]
    assert wait_for(lambda: failing.count() >= 1, timeout=10)
    assert wait_for(engine.settled, timeout=5)
    assert not engine.wait_ready(0)
    failing.failing = False
    assert engine.wait_ready(10)
