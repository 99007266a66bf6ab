"""One tray per data dir. Two trays on one ledger gave two icons and every notification
twice; the second start now asks the first to open its dashboard and exits.

A `QLockFile` in the data dir says who runs (a lock left by a process that died is taken
over). The second start's request is a file beside it, which the running tray looks for
four times a second and removes when it has opened its dashboard: plain files work on
every OS and need no QtNetwork (which the bundle leaves out, 5 MB with its TLS and
Kerberos libraries). The demo's data dir is a throwaway folder of its own, so a demo runs
beside the real tray.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QTimer

from shared.paths import make_data_dir

log = logging.getLogger(__name__)

LOCK_NAME = "tray.lock"
REQUEST_NAME = "tray-open-dashboard.request"
POLL_MS = 250
REPLY_TIMEOUT_S = 2.0


class SingleInstance:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = QLockFile(str(data_dir / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # only a dead owner makes the lock stale, not age
        self._timer: QTimer | None = None

    @property
    def request_file(self) -> Path:
        return self.data_dir / REQUEST_NAME

    def acquire(self) -> bool:
        """True if this process is the data dir's only tray. A lock that cannot be written
        at all (a read-only data dir) is not a reason to refuse to start."""
        try:
            make_data_dir(self.data_dir)
        except OSError as exc:
            log.warning("cannot create %s: %s", self.data_dir, exc)
            return True
        if self._lock.tryLock(0):
            return True
        if self._lock.error() == QLockFile.LockError.LockFailedError:
            return False
        log.warning("cannot lock %s: %s", self.data_dir / LOCK_NAME, self._lock.error())
        return True

    def owner_pid(self) -> int | None:
        info = self._lock.getLockInfo()
        pid = info[0] if isinstance(info, tuple) and info else 0
        return pid if isinstance(pid, int) and pid > 0 else None

    def ask_owner_to_open_dashboard(self) -> bool:
        """Ask the running tray to show its dashboard; False if it did not answer."""
        try:
            self.request_file.touch()
        except OSError as exc:
            log.warning("cannot ask the running tray: %s", exc)
            return False
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.request_file.exists():
                return True  # taken: the dashboard is open
            time.sleep(0.05)
        self.request_file.unlink(missing_ok=True)
        return False

    def listen(self, open_dashboard: Callable[[], None]) -> None:
        """Serve later starts' requests (call once this process holds the lock)."""
        try:
            self.request_file.unlink(missing_ok=True)  # left by a start that gave up
        except OSError as exc:
            # A read-only data folder (EROFS): no later start can leave a request here
            # either. The tray runs on without this; it was an uncaught exception.
            log.warning("cannot serve a second start's requests: %s", exc)
            return

        def look() -> None:
            try:
                self.request_file.unlink()
            except FileNotFoundError:
                return
            except OSError as exc:
                log.warning("cannot take a second start's request: %s", exc)
                return
            log.info("a second start of the tray asked for the dashboard")
            open_dashboard()

        timer = QTimer()
        timer.setInterval(POLL_MS)
        timer.timeout.connect(look)
        timer.start()
        self._timer = timer

    def release(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._lock.unlock()
