"""A loop whose repeated failing call touched a file names that file: the evidence read
"Edit failed 6 times in a row with the same input (hash 1a2b3c4d) over 4 min", and no
user can tell from a hash which call it was. A command (Bash) touches no file the ledger
knows of and keeps the hash. The flag's key (what the tray's alerts are de-duplicated
by, across restarts) is the same as before the file was named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.insights.flags import Flag, new_flags
from shared.insights.sessions import SessionInsight, session_insights
from shared.reports import iso_utc
from tests.insights.agent_logs import ClaudeSession, CodexRollout, ingest_home
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
T0 = 1_790_000_000_000
CWD = "/home/dev/shop"


def _failing(session: ClaudeSession, at: int, tool: tuple[str, dict[str, Any]]) -> None:
    ids = session.assistant(at, tools=[tool])
    session.tool_results(at + 1000, ids, is_error=True)


def _edit(path: str) -> tuple[str, dict[str, Any]]:
    return ("Edit", {"file_path": path, "old_string": "foo()", "new_string": "bar()"})


def _insights(home: Path) -> dict[str, SessionInsight]:
    return session_insights(ingest_home(home), Settings(), with_outcomes=False)


def test_an_edit_loop_names_its_file_relative_to_the_repository(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0 - 60 * MINUTE, {"src/app.py": "foo()\n"}, "start")
    session = ClaudeSession(tmp_path / ".claude", "sess-edit", str(repo.root / "src"))
    for k in range(6):
        _failing(session, T0 + k * 48_000, _edit(str(repo.root / "src" / "app.py")))
    session.write()

    (flag,) = _insights(tmp_path)["sess-edit"].flags
    # Relative to the repository (the session ran in its src/ folder).
    assert flag.evidence == (
        "Edit on src/app.py failed 6 times in a row with the same input over 4 min"
    )
    assert flag.file == "src/app.py"
    assert "hash" not in flag.evidence
    assert flag.as_json()["file"] == "src/app.py"
    assert flag.evidence_naming("file-0123456789") == (
        "Edit on file-0123456789 failed 6 times in a row with the same input over 4 min"
    )


def test_the_sessions_report_json_carries_the_file(tmp_path: Path) -> None:
    """`burnmeter report sessions --json`, the real command: the flag names the file, in
    its text and in a field of its own."""
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-write", CWD)
    for k in range(5):
        _failing(session, T0 + k * 30_000, ("Write", {"file_path": f"{CWD}/docs/notes.md"}))
    session.write()
    done = subprocess.run(
        [sys.executable, "-m", "shared", "report", "sessions", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CLAUDE_CONFIG_DIR": str(claude)},
    )
    (row,) = json.loads(done.stdout)["sessions"]
    (flag,) = row["flags"]
    assert flag["file"] == "docs/notes.md"
    assert flag["evidence"] == (
        "Write on docs/notes.md failed 5 times in a row with the same input over 2 min"
    )


def test_a_bash_loop_keeps_the_hash_and_names_no_file(tmp_path: Path) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-bash", CWD)
    for k in range(6):
        _failing(session, T0 + k * MINUTE, ("Bash", {"command": "pytest -x"}))
    session.write()
    (flag,) = _insights(tmp_path)["sess-bash"].flags
    assert flag.evidence.startswith("Bash failed 6 times in a row with the same input (hash ")
    assert flag.file is None and flag.as_json()["file"] is None
    assert flag.evidence_naming("file-0123456789") == flag.evidence


def test_a_file_outside_the_project_is_named_as_stored(tmp_path: Path) -> None:
    session = ClaudeSession(tmp_path / ".claude", "sess-outside", CWD)
    for k in range(5):
        _failing(session, T0 + k * 10_000, ("Read", {"file_path": "/etc/shop/app.conf"}))
    # A folder that only begins like the project's is not inside it.
    for k in range(5):
        _failing(session, T0 + 20 * MINUTE + k * 10_000, ("Read", {"file_path": f"{CWD}2/x.py"}))
    session.write()
    first, second = _insights(tmp_path)["sess-outside"].flags
    assert first.evidence == (
        "Read on /etc/shop/app.conf failed 5 times in a row with the same input within a minute"
    )
    assert second.file == f"{CWD}2/x.py"


def test_a_codex_patch_loop_names_its_files(tmp_path: Path) -> None:
    rollout = CodexRollout(tmp_path / ".codex", "019c0000-aaaa-7000-8000-000000000011", CWD, T0)
    refusal = "apply_patch verification failed: Failed to find expected lines"
    for k in range(5):
        rollout.apply_patch(T0 + k * MINUTE, ["web/app.js", "web/util.js"], output=refusal)
        rollout.token_count(T0 + k * MINUTE + 2000, 10_000, 0, 300)
    rollout.write()
    (flag,) = _insights(tmp_path)[rollout.session_id].flags
    assert flag.file == "web/app.js"
    assert flag.evidence == (
        "apply_patch on web/app.js and 1 other file failed 5 times in a row with the same "
        "input over 4 min"
    )


def test_a_mixed_stretch_names_the_repeated_calls_file(tmp_path: Path) -> None:
    """Eight failures in a row, five of them the same Edit, in a subagent: the text names
    the Edit's file where it quoted the hash, and the rest reads as before."""
    session = ClaudeSession(tmp_path / ".claude", "sess-mixed", CWD, agent_id="a1b2")
    for k in range(3):
        _failing(session, T0 + k * 20_000, ("Bash", {"command": f"make t{k}"}))
    for k in range(5):
        _failing(session, T0 + MINUTE + k * 20_000, _edit(f"{CWD}/lib/cart.py"))
    session.write()
    (flag,) = _insights(tmp_path)["sess-mixed"].flags
    assert flag.evidence == (
        "8 tool calls failed in a row (Bash, Edit) over 2 min, Edit on lib/cart.py 5 times "
        "with the same input, in a subagent"
    )
    assert flag.evidence_naming("file-x") == (
        "8 tool calls failed in a row (Bash, Edit) over 2 min, Edit on file-x 5 times "
        "with the same input, in a subagent"
    )


def test_naming_the_file_keeps_the_flags_key(tmp_path: Path) -> None:
    """The tray remembers `flag:<session>:<Flag.key>` of every alert it showed, across
    restarts: a key that took in the new wording would alert on every known loop again
    after the upgrade. The key is the kind and start, as it was."""
    session = ClaudeSession(tmp_path / ".claude", "sess-edit", CWD)
    for k in range(5):
        _failing(session, T0 + k * MINUTE, _edit(f"{CWD}/app.py"))
    session.write()
    (flag,) = _insights(tmp_path)["sess-edit"].flags
    # The flag as the version before this one made it.
    before = Flag(
        "loop",
        "Edit failed 5 times in a row with the same input (hash 1a2b3c4d) over 4 min",
        flag.cost_usd,
        flag.started_at,
        flag.ended_at,
    )
    assert flag.key == before.key == f"loop@{iso_utc(T0)}"
    assert flag.evidence != before.evidence
    assert new_flags({"sess-edit": [before]}, {"sess-edit": [flag]}) == []
