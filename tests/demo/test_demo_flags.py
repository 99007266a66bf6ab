"""`--demo` reads the bundled history into a throwaway ledger: `--no-ingest` with it gave an
empty table and advice naming that ledger, deleted by then, and `ingest --demo` named it
too, as if it would stay."""

from __future__ import annotations

import pytest

from tests.core.helpers import run_cli


@pytest.mark.parametrize(
    "command", [["report", "daily"], ["report", "sessions", "--json"], ["summary"], ["budgets"]]
)
def test_demo_with_no_ingest_is_a_usage_error(command: list[str]) -> None:
    done = run_cli(*command, "--demo", "--no-ingest")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"usage: burnmeter {command[0]} ")
    assert f"burnmeter {command[0]}: error: --no-ingest cannot be used with --demo" in done.stderr
    assert "burnmeter-demo-" not in done.stderr


def test_ingest_demo_says_its_ledger_is_thrown_away() -> None:
    done = run_cli("ingest", "--demo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("into a throwaway ledger (deleted on exit)"), done.stdout
    assert "burnmeter-demo-" not in done.stdout
