"""Schema 19 reads the Codex rollouts again: a spawned subagent naming its parent in
`forked_from_id`, whose first calls came within a second of each other, had them taken
for a copy of its parent's history and dropped; after the upgrade the ledger equals a
fresh ingest (the calls stored come back under their keys, the dropped ones are added)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import shared.sources.codex
from shared.ledger import open_ledger
from shared.schema import SCHEMA_VERSION
from tests.core.helpers import snapshot
from tests.core.logwriters import CodexRollout, codex_rollout_path
from tests.core.test_codex_spawn_copies import SPAWN, _parent
from tests.core.test_reread_v14 import _fill


def _write_history(home: Path) -> None:
    sub = CodexRollout("019d-sub", started=80, source=SPAWN, forked_from_id="019d-parent")
    sub.turn(80.005)
    sub.call(80.6, 12_000, 300, cached=8_000)
    sub.call(81.2, 27_000, 500, cached=20_000)
    sub.call(88, 30_000, 600, cached=25_000)
    for rollout in (_parent(), sub):
        rollout.write(codex_rollout_path(home / ".codex", rollout))


def _calls(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])
    finally:
        conn.close()


def test_an_upgraded_ledger_gets_a_spawned_subagents_quick_calls(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_history(isolated_home)
    fresh, upgraded = tmp_path / "fresh.sqlite", tmp_path / "upgraded.sqlite"
    _fill(fresh, isolated_home)
    with monkeypatch.context() as patch:
        # The schema-18 reader: a header naming a parent opened a copy, spawned or not.
        patch.setattr(shared.sources.codex, "_spawned", lambda _payload: False)
        _fill(upgraded, isolated_home)
    assert (_calls(fresh), _calls(upgraded)) == (5, 3)
    conn = sqlite3.connect(upgraded, isolation_level=None)
    conn.execute("PRAGMA user_version = 18")
    conn.close()

    _fill(upgraded, isolated_home)
    old, new = open_ledger(fresh), open_ledger(upgraded)
    try:
        assert new.schema_version() == SCHEMA_VERSION
        assert snapshot(new) == snapshot(old)
    finally:
        old.close()
        new.close()
