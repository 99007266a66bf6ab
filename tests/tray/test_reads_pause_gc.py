"""The tray's reads run in pool threads, and Python's cycle collector runs in whichever
thread allocates when it is due: a collection in a pool thread freed cyclic garbage of the
GUI thread's Qt objects there, and the tray (or the test run) died in a segfault
('QBasicTimer::stop: Failed. Possibly trying to stop from a different thread', then
'Garbage-collecting' in `read_extras`). The reads pause the collector; it runs again,
in the GUI thread, once they are done."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.paths import ledger_path
from tests.tray.history import ingested_ledger, write_history
from tray_app import snapshot


def test_the_snapshot_reads_run_with_the_cycle_collector_paused(
    isolated_home: Path, now_ms: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_history(isolated_home, now_ms, days=3)
    ingested_ledger().close()
    seen: dict[str, bool] = {}

    def watching(name: str) -> Any:
        real = getattr(snapshot, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen[name] = gc.isenabled()
            return real(*args, **kwargs)

        monkeypatch.setattr(snapshot, name, wrapper)

    watching("running_sessions")
    watching("active_block")
    watching("running_flags")
    assert gc.isenabled()
    snap = snapshot.read_snapshot(ledger_path(), Settings(), ZoneInfo("UTC"), now_ms)
    full = snapshot.read_extras(ledger_path(), Settings(), snap)
    assert full.complete and full.running
    assert seen == {"running_sessions": False, "active_block": False, "running_flags": False}
    assert gc.isenabled()
