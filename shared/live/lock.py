"""The advisory writer lock: one live ingester at a time across every burnmeter process.

A lock on a file beside the ledger: `flock` where there is fcntl (Linux, macOS), a byte
lock through msvcrt on Windows. The system drops it when the holder exits or dies, so a
crashed tray never blocks the next process from becoming the writer.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from shared.paths import make_data_dir

LOCK_FILENAME = "writer.lock"
# Where Windows locks its one byte: past the holder's pid, which other processes read, and
# a byte lock there is mandatory (reading a locked byte fails).
WINDOWS_LOCK_OFFSET = 1 << 20
WINDOWS_RETRY_SECONDS = 0.2

if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int, wait: bool) -> None:
        """Lock the file or raise OSError (at once when not `wait`)."""
        while True:
            os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if not wait:
                    raise
            time.sleep(WINDOWS_RETRY_SECONDS)

    def _unlock(fd: int) -> None:
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, wait: bool) -> None:
        """Lock the file or raise OSError (at once when not `wait`)."""
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class WriterLock:
    """Non-blocking exclusive lock on `<folder>/writer.lock`.

    The lock belongs to an open file (`flock`: its open file description), so two
    `WriterLock`s in one process exclude each other just as two processes do.
    """

    def __init__(self, folder: Path, name: str = LOCK_FILENAME) -> None:
        self.path = folder / name
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True if this object holds it now."""
        return self._take(wait=False)

    def acquire(self) -> None:
        """Take the lock, waiting for as long as another holder keeps it."""
        self._take(wait=True)

    def _take(self, wait: bool) -> bool:
        if self._fd is not None:
            return True
        make_data_dir(self.path.parent)
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            _lock(fd, wait)
        except OSError:
            os.close(fd)
            if not wait:
                return False
            raise
        # The holder's pid, for `doctor` and for people wondering who writes.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def is_free(self) -> bool:
        """Whether nobody holds the lock right now: a probe that takes nothing (and, unlike
        `try_acquire`, writes nothing)."""
        if self._fd is not None:
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY if sys.platform != "win32" else os.O_RDWR)
        except FileNotFoundError:
            return True  # never taken in this folder
        try:
            _lock(fd, False)
        except OSError:
            return False
        else:
            _unlock(fd)
            return True
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def holder_pid(self) -> int | None:
        """The pid written by the current holder, if any (informational only)."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None
