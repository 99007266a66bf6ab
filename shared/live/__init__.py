"""Live updates: one writer ingests appended log bytes as they are written; every other
burnmeter process reads and learns of new data through `PRAGMA data_version`.

The names are imported on first use (PEP 562): every ingest, a warm report's included,
takes `shared.live.lock`, and importing the engine with it (watchdog, logging, threading)
cost that report ~26 ms."""

from __future__ import annotations

# Not `from typing import ...`: that import alone costs a warm report milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from shared.live.engine import LiveEngine as LiveEngine
    from shared.live.lock import WriterLock as WriterLock

__all__ = ["LiveEngine", "WriterLock"]


def __getattr__(name: str) -> Any:
    if name == "LiveEngine":
        from shared.live.engine import LiveEngine

        return LiveEngine
    if name == "WriterLock":
        from shared.live.lock import WriterLock

        return WriterLock
    raise AttributeError(f"module 'shared.live' has no attribute {name!r}")
