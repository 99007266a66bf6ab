"""One tray per data dir. Two trays on one ledger gave two icons and every notification
twice; the second start now asks the first to open its dashboard and exits.

A `QLockFile` in the data dir says who runs (a lock left by a process that died is taken
over); a `QLocalServer` named after the data dir carries the second start's request. The
demo's data dir is a throwaway folder of its own, so a demo runs beside the real tray.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

LOCK_NAME = "tray.lock"
OPEN_DASHBOARD = b"open-dashboard\n"
REPLY_TIMEOUT_MS = 2_000


def server_name(data_dir: Path) -> str:
    """A local socket name for the data dir (a plain name, so it is valid on every OS)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"burnmeter-tray-{digest}"


class SingleInstance:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = QLockFile(str(data_dir / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # only a dead owner makes the lock stale, not age
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True if this process is the data dir's only tray. A lock that cannot be written
        at all (a read-only data dir) is not a reason to refuse to start."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
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
        socket = QLocalSocket()
        socket.connectToServer(server_name(self.data_dir))
        if not socket.waitForConnected(REPLY_TIMEOUT_MS):
            return False
        socket.write(OPEN_DASHBOARD)
        answered = socket.waitForBytesWritten(REPLY_TIMEOUT_MS) and socket.waitForReadyRead(
            REPLY_TIMEOUT_MS
        )
        ok = answered and bytes(socket.readAll().data()).startswith(b"ok")
        socket.disconnectFromServer()
        return ok

    def listen(self, open_dashboard: Callable[[], None]) -> None:
        """Serve later starts' requests (call once this process holds the lock)."""
        name = server_name(self.data_dir)
        QLocalServer.removeServer(name)  # a socket left by a tray that crashed
        server = QLocalServer()
        if not server.listen(name):
            log.warning("a second start cannot reach this tray: %s", server.errorString())
            return

        def serve() -> None:
            socket = server.nextPendingConnection()
            while socket is not None:
                socket.readyRead.connect(lambda s=socket: answer(s))
                socket.disconnected.connect(socket.deleteLater)
                socket = server.nextPendingConnection()

        def answer(socket: QLocalSocket) -> None:
            if not socket.canReadLine():
                return
            if bytes(socket.readLine().data()) == OPEN_DASHBOARD:
                log.info("a second start of the tray asked for the dashboard")
                socket.write(b"ok\n")
                socket.flush()
                open_dashboard()

        server.newConnection.connect(serve)
        self._server = server

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()
