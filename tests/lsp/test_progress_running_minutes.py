"""The running-session progress follows the `runningMinutes` setting: a session whose
last call was 15 minutes ago is running under `runningMinutes = 30` (the default window
is ten minutes), so its progress is begun, and with the default setting it is not."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from lsp_server.progress import RunningSessionProgress
from lsp_server.queries import SessionCost


class _Server:
    """What the progress reads of the server: its settings, the client's capabilities, and
    `run_task` (recorded, not run)."""

    def __init__(self, running_minutes: int) -> None:
        self.settings = SimpleNamespace(progress=True, running_minutes=running_minutes)
        self.tasks: list[str] = []

    def client_supports(self, *path: str) -> bool:
        return True

    def run_task(self, coroutine: Any, name: str) -> None:
        coroutine.close()
        self.tasks.append(name)


def _session(last_ms: int) -> SessionCost:
    return SessionCost("s1", "claude-code", "/p", "claude-opus-4-7", 1.0, 10, 1, last_ms, last_ms)


def test_progress_uses_the_running_minutes_setting() -> None:
    now_ms = int(time.time() * 1000)
    latest = _session(now_ms - 15 * 60_000)
    longer = _Server(running_minutes=30)
    RunningSessionProgress(longer).update({}, latest)  # type: ignore[arg-type]
    assert longer.tasks == ["running-session progress"]
    default = _Server(running_minutes=10)
    RunningSessionProgress(default).update({}, latest)  # type: ignore[arg-type]
    assert default.tasks == []
