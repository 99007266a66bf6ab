"""`burnmeter watch` as a real process: it ingests live, a second one waits as a reader
and takes over when the first is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.live.test_engine import call, totals, wait_for
from tests.logfixtures import append, session_file


def start_watch(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shared", "watch"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def test_watch_ingests_live_and_hands_over_the_writer_role(tmp_path: Path) -> None:
    claude = tmp_path / "claude"
    log = session_file(claude / "projects", "/work/app", "s1")
    append(log, call(1))
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(claude), CODEX_HOME=str(tmp_path / "codex"))
    ledger_file = Path(env["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    first = start_watch(env)
    second: subprocess.Popen[str] | None = None
    try:
        assert first.stderr is not None
        assert "writing" in first.stderr.readline()
        assert wait_for(lambda: ledger_file.exists() and totals(ledger_file)[0] == 1, 10)
        append(log, call(2))
        assert wait_for(lambda: totals(ledger_file)[0] == 2)

        second = start_watch(env)
        assert second.stderr is not None
        assert "reading" in second.stderr.readline()
        first.send_signal(signal.SIGTERM)
        assert first.wait(10) == 0
        assert "took over" in second.stderr.readline()
        append(log, call(3))
        assert wait_for(lambda: totals(ledger_file)[0] == 3)
        started = time.monotonic()
        second.send_signal(signal.SIGINT)
        assert second.wait(10) == 0
        assert time.monotonic() - started < 5
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


def _costs(ledger_file: Path) -> list[float]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(ledger_file)) as conn:
        return [row[0] for row in conn.execute("SELECT cost_usd FROM usage_events ORDER BY ts_ms")]


def test_a_running_watch_prices_new_calls_with_the_config_as_it_is_now(tmp_path: Path) -> None:
    """A price set in the config file, then `burnmeter reprice`: the stored calls took the
    new price, but a running watch kept pricing new calls with the config it first read,
    so the ledger mixed two prices for one model."""
    claude = tmp_path / "claude"
    log = session_file(claude / "projects", "/work/app", "s1")
    append(log, call(1))
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(claude), CODEX_HOME=str(tmp_path / "codex"))
    ledger_file = Path(env["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    config = Path(env["BURNMETER_CONFIG_DIR"]) / "config.toml"
    watch = start_watch(env)
    try:
        assert wait_for(lambda: ledger_file.exists() and totals(ledger_file)[0] == 1, 10)
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text('[prices."claude-opus-4-7"]\ninput_mtok = 1000.0\noutput_mtok = 0\n')
        done = subprocess.run(
            [sys.executable, "-m", "shared", "reprice"], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        append(log, call(2))
        assert wait_for(lambda: totals(ledger_file)[0] == 2)
        first, second = _costs(ledger_file)
        assert first == pytest.approx(101 * 1000 / 1e6)
        assert second == pytest.approx(102 * 1000 / 1e6)
    finally:
        watch.kill()
        watch.wait()


def test_watch_says_how_a_big_first_import_goes(tmp_path: Path) -> None:
    """During a first import of a big history `watch` printed nothing for its minutes."""
    from tests.core.logwriters import write_history

    home = tmp_path / "home"
    write_history(home, claude_sessions=6, codex_rollouts=3, turns=5)
    env = dict(os.environ, HOME=str(home))
    code = (
        "import shared.ingest.run as ingest; ingest.PARALLEL_THRESHOLD_BYTES = 1; "
        "ingest.BULK_THRESHOLD_BYTES = 1; "
        "from shared.cli import main; raise SystemExit(main(['watch']))"
    )
    watch = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    # A watch that never says it would leave `readline` waiting forever: ended after a
    # minute, the lines it did print are then checked (and fail).
    deadline = threading.Timer(60, watch.kill)
    deadline.start()
    try:
        assert watch.stderr is not None
        lines = [watch.stderr.readline() for _ in range(3)]
        assert "writing" in lines[0]
        assert "reading the logs:" in lines[1] and " MB" in lines[1]
        assert "building the ledger's indexes and totals" in lines[2]
    finally:
        deadline.cancel()
        watch.send_signal(signal.SIGINT)
        watch.wait(30)


def test_watch_with_no_logs_says_where_it_looked(tmp_path: Path) -> None:
    """Every other command names the folders it looked in when there are no logs; `watch`
    only said "watching 4 log roots". It still waits for them, and then reads them."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    watch = start_watch(env)
    try:
        assert watch.stderr is not None
        said: list[str] = []
        while not said or not said[-1].startswith("burnmeter watch: "):
            line = watch.stderr.readline()  # up to its start-up line
            assert line, f"watch ended: {said}"
            said.append(line)
        assert said[0] == "No Claude Code or Codex logs found. burnmeter looked in:\n"
        assert any("~/.claude/projects (missing)" in line for line in said)
        assert said[-1].startswith("burnmeter watch: writing")
        log = session_file(home / ".claude" / "projects", "/work/app", "s1")
        append(log, call(1))
        ledger = Path(env["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
        assert wait_for(lambda: totals(ledger)[0] > 0, timeout=15)
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(30)
