"""A Codex tool call is attributed to the model call that follows it when it is first
read, and keeps it: a later reading of the same call id (its rollout replaced by another
version of the session, a restored backup) followed by another model call does not move
it, whether that reading comes in one read or in two (the tool call at the end of one
read, its model call at the start of the next)."""

from __future__ import annotations

import os
from pathlib import Path

from shared.ledger import Ledger, open_ledger
from tests.core.helpers import ingest_env
from tests.core.logwriters import CodexRollout, codex_rollout_path, write_lines

SESSION = "019c-tool-link"


def _rollout(input_tokens: int, output: int) -> CodexRollout:
    """A turn that runs one `exec_command` (call id `call_1`), then a model call."""
    rollout = CodexRollout(SESSION)
    rollout.turn(1)
    rollout.function_call(2, "exec_command", {"cmd": "make test"}, "call_1")
    rollout.exec_output(3, "call_1", "ok", 0)
    rollout.call(4, input_tokens, output)
    return rollout


def _replace(path: Path, lines: list[bytes]) -> None:
    """Another file put in its place (a new inode), as a restore or a sync does."""
    aside = path.with_name(path.name + ".tmp")
    write_lines(aside, lines)
    os.replace(aside, path)


def _links(ledger: Ledger) -> list[tuple[str, str | None]]:
    return ledger.conn.execute("SELECT tool_id, event_key FROM tool_calls").fetchall()


def _call_keys(ledger: Ledger) -> set[str]:
    return {key for (key,) in ledger.conn.execute("SELECT event_key FROM usage_events")}


def test_a_tool_call_keeps_its_first_model_call_however_a_later_reading_is_split(
    isolated_home: Path, tmp_path: Path
) -> None:
    original, other = _rollout(1000, 40), _rollout(3000, 700)
    path = codex_rollout_path(isolated_home / ".codex", original)
    original.write(path)
    whole, split = open_ledger(tmp_path / "whole.sqlite"), open_ledger(tmp_path / "split.sqlite")
    ingest_env(whole)
    ingest_env(split)
    (first_key,) = _call_keys(whole)
    assert _links(whole) == _links(split) == [("cx:call_1", first_key)]

    # The other version, read by one ledger up to its tool call (its model call not yet
    # written), then by both once it is whole.
    tool_end = next(i for i, item in enumerate(other.lines) if b'"function_call"' in item) + 1
    _replace(path, other.lines[:tool_end])
    ingest_env(split)
    write_lines(path, other.lines[tool_end:], append=True)
    ingest_env(split)
    ingest_env(whole)

    (other_key,) = _call_keys(whole) - {first_key}
    assert _call_keys(split) == _call_keys(whole) == {first_key, other_key}
    assert _links(whole) == [("cx:call_1", first_key)]
    assert _links(split) == [("cx:call_1", first_key)]
