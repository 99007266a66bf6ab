"""Report queries on small, exactly known ledgers."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.ledger import open_ledger
from shared.reports import Filters, files_report, sessions_report
from tests.core.helpers import events, ingest_env
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    tool_use_block,
)

CWD = "/home/dev/files"


def test_file_cost_is_each_calls_cost_split_over_the_files_it_touched(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = ClaudeSession("s-files", cwd=CWD)
    session.reply(
        1,
        [
            tool_use_block("t1", "Edit", {"file_path": f"{CWD}/a.py"}),
            tool_use_block("t2", "Read", {"file_path": f"{CWD}/b.py"}),
        ],
        claude_usage(1000, 100),
    )
    session.reply(2, [tool_use_block("t3", "Edit", {"file_path": "a.py"})], claude_usage(3000, 300))
    session.write(claude_project_dir(isolated_home / ".claude", CWD) / "s-files.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    first, second = sorted(events(ledger).values(), key=lambda r: r["ts_ms"])
    rows = {row["path"]: row for row in files_report(ledger, Filters())["files"]}
    assert rows[f"{CWD}/a.py"]["cost_usd"] == pytest.approx(
        first["cost_usd"] / 2 + second["cost_usd"], abs=1e-6
    )
    assert rows[f"{CWD}/b.py"]["cost_usd"] == pytest.approx(first["cost_usd"] / 2, abs=1e-6)
    assert (rows[f"{CWD}/a.py"]["calls"], rows[f"{CWD}/b.py"]["calls"]) == (2, 1)


def test_codex_session_counts_its_tool_calls_and_errors(
    isolated_home: Path, tmp_path: Path
) -> None:
    rollout = CodexRollout("019c-report", started=0, cwd=CWD)
    rollout.turn(1)
    rollout.function_call(2, "exec_command", {"cmd": "make"}, "call_ok")
    rollout.exec_output(3, "call_ok", "fine", 0)
    rollout.function_call(4, "exec_command", {"cmd": "make test"}, "call_bad")
    rollout.exec_output(5, "call_bad", "failed", 2)
    rollout.call(6, 1000, 10)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    (row,) = sessions_report(ledger, Filters())["sessions"]
    assert (row["tool_calls"], row["tool_errors"]) == (2, 1)
    assert row["project_path"] == CWD and row["git_branch"] == "main"
