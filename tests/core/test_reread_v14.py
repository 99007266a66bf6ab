"""Schema 14 reads the Codex rollouts again once (and only them): a ledger whose Codex
reader took a refused patch for a success gets the failure, nothing else changes, and no
Claude Code transcript is read again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.schema import SCHEMA_VERSION
from shared.sources.roots import all_roots
from tests.core.helpers import snapshot
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    apply_patch_text,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    tool_use_block,
)
from tests.core.test_codex_source import REFUSED_PATCH


def _write_history(home: Path) -> None:
    rollout = CodexRollout("019d-refused", started=0, cwd="/work/repo")
    rollout.turn(1)
    for k in range(3):
        call_id = f"call_refused_{k}"
        patch = apply_patch_text(("Update", "app.js"))
        rollout.custom_tool_call(2 + 3 * k, "apply_patch", patch, call_id)
        rollout.custom_output(3 + 3 * k, call_id, REFUSED_PATCH)
        rollout.call(4 + 3 * k, 10_000, 300)
    rollout.write(codex_rollout_path(home / ".codex", rollout))
    session = ClaudeSession("claude-upgrade", cwd="/work/repo")
    bash = tool_use_block("toolu_make", "Bash", {"command": "make"})
    session.reply(1, [bash], claude_usage(5000, 100))
    session.tool_result("toolu_make", "make: *** [all] Error 2", 2, is_error=True)
    session.write(claude_project_dir(home / ".claude", "/work/repo") / "claude-upgrade.jsonl")


def _fill(path: Path, home: Path) -> None:
    ledger = open_ledger(path)
    try:
        ingest(ledger, all_roots({"HOME": str(home)}))
    finally:
        ledger.close()


def test_an_upgraded_ledger_gets_the_refused_patches_of_its_codex_rollouts(
    isolated_home: Path, tmp_path: Path
) -> None:
    _write_history(isolated_home)
    fresh, upgraded = tmp_path / "fresh.sqlite", tmp_path / "upgraded.sqlite"
    _fill(fresh, isolated_home)
    _fill(upgraded, isolated_home)
    # As the schema-13 Codex reader left it: the refused patches were no failures.
    conn = sqlite3.connect(upgraded, isolation_level=None)
    assert conn.execute("DELETE FROM tool_errors WHERE tool_id LIKE 'cx:%'").rowcount == 3
    read = dict(conn.execute("SELECT agent, offset FROM sources"))
    assert read["codex"] > 0 and read["claude-code"] > 0
    conn.execute("PRAGMA user_version = 13")
    conn.close()

    ledger = open_ledger(upgraded)  # the upgrade: the Codex rollouts from the start
    offsets = dict(ledger.conn.execute("SELECT agent, offset FROM sources"))
    # (and the Claude log, by a later step: schema 18 reads every Claude log again)
    assert offsets == {"codex": 0, "claude-code": 0}
    ledger.close()
    _fill(upgraded, isolated_home)
    old, new = open_ledger(fresh), open_ledger(upgraded)
    try:
        assert new.schema_version() == SCHEMA_VERSION
        assert snapshot(new) == snapshot(old)
        errors = {row[0] for row in new.conn.execute("SELECT tool_id FROM tool_errors")}
        # The refused patches, and the Claude failure kept as it was.
        assert errors == {f"cx:call_refused_{k}" for k in range(3)} | {"toolu_make"}
    finally:
        old.close()
        new.close()
