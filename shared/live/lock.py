"""The advisory writer lock: one live ingester at a time across every burnmeter process.

An `flock` on a file beside the ledger. The kernel drops it when the holder exits or
dies, so a crashed tray never blocks the next process from becoming the writer.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILENAME = "writer.lock"


class WriterLock:
    """Non-blocking exclusive lock on `<folder>/writer.lock`.

    `flock` locks belong to an open file description, so two `WriterLock`s in one process
    exclude each other just as two processes do.
    """

    def __init__(self, folder: Path, name: str = LOCK_FILENAME) -> None:
        self.path = folder / name
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True if this object holds it now."""
        return self._take(fcntl.LOCK_EX | fcntl.LOCK_NB)

    def acquire(self) -> None:
        """Take the lock, waiting for as long as another holder keeps it."""
        self._take(fcntl.LOCK_EX)

    def _take(self, operation: int) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, operation)
        except OSError:
            os.close(fd)
            if operation & fcntl.LOCK_NB:
                return False
            raise
        # The holder's pid, for `doctor` and for people wondering who writes.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def holder_pid(self) -> int | None:
        """The pid written by the current holder, if any (informational only)."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None
