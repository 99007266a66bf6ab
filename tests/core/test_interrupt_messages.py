"""What a Ctrl-C says is what it left: every interrupted command said "what was read so far
is kept", an ingest stopped before it had committed anything, a `--no-ingest` report, a
`doctor`, a `summary` and a `reprice` (one transaction) included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.cli import main
from shared.ingest.writer import LedgerWriter
from tests.insights.agent_logs import ClaudeSession

KEPT = "burnmeter: interrupted; what was read so far is kept (the next run reads on from there).\n"
NOTHING_YET = "burnmeter: interrupted before the ingest had kept any new model call.\n"
PLAIN = "burnmeter: interrupted.\n"


@pytest.fixture
def two_sessions(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    claude = isolated_home / ".claude"
    for number in range(2):
        session = ClaudeSession(claude, f"sess-{number}", f"/home/dev/project{number}")
        session.assistant(1_780_000_000_000 + number * 60_000, output_tokens=1_000)
        session.write()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    return claude


def _interrupt_commit(monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    """Every chunk read is a batch of its own; Ctrl-C as commit number `at` begins."""
    add, flush = LedgerWriter.add, LedgerWriter.flush
    commits = []

    def each_alone(self: LedgerWriter, result: Any) -> bool:
        add(self, result)
        return True

    def interrupted_flush(self: LedgerWriter) -> int:
        commits.append(1)
        if len(commits) == at:
            raise KeyboardInterrupt
        return flush(self)

    monkeypatch.setattr(LedgerWriter, "add", each_alone)
    monkeypatch.setattr(LedgerWriter, "flush", interrupted_flush)


def test_an_ingest_says_kept_only_once_it_has_committed(
    two_sessions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # (Patches of their own: undoing the test's monkeypatch would undo the private HOME.)
    with pytest.MonkeyPatch.context() as patch:
        _interrupt_commit(patch, at=1)
        assert main(["ingest"]) == 130
        assert capsys.readouterr().err == NOTHING_YET
    with pytest.MonkeyPatch.context() as patch:
        _interrupt_commit(patch, at=2)
        assert main(["report", "daily", "--json"]) == 130
        assert capsys.readouterr().err == KEPT
    # What it said was kept is there.
    assert main(["report", "daily", "--json", "--no-ingest"]) == 0
    assert '"output_tokens": 1000' in capsys.readouterr().out


def test_an_ingest_stopped_while_finding_the_logs_kept_nothing(
    two_sessions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted_scan(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("shared.ingest.run.scan", interrupted_scan)
    assert main(["ingest"]) == 130
    assert capsys.readouterr().err == NOTHING_YET


def test_commands_that_were_not_ingesting_just_say_interrupted(
    two_sessions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest"]) == 0
    capsys.readouterr()

    def interrupted_here(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("shared.commands.report_cmd.build_report", interrupted_here)
    assert main(["report", "daily", "--no-ingest"]) == 130
    assert capsys.readouterr().err == PLAIN
    # After its ingest: what the ingest read was kept, and nothing is being read any more.
    assert main(["report", "daily"]) == 130
    assert capsys.readouterr().err == PLAIN
    # reprice reads new log lines first, then changes the costs in one transaction.
    monkeypatch.setattr("shared.commands.reprice_cmd.reprice", interrupted_here)
    monkeypatch.setattr("shared.commands.doctor_cmd.collect", interrupted_here)
    for args in (["doctor", "--no-ingest"], ["reprice"]):
        assert main(args) == 130, args
        assert capsys.readouterr().err == PLAIN, args


def test_the_demo_says_nothing_of_keeping_its_throwaway_ledger(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _interrupt_commit(monkeypatch, at=2)
    assert main(["ingest", "--demo"]) == 130
    assert capsys.readouterr().err == PLAIN
