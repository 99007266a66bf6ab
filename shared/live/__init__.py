"""Live updates: one writer ingests appended log bytes as they are written; every other
burnmeter process reads and learns of new data through `PRAGMA data_version`."""

from shared.live.engine import LiveEngine
from shared.live.lock import WriterLock

__all__ = ["LiveEngine", "WriterLock"]
