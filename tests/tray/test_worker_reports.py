"""How a background job's outcome reaches the GUI thread (tray_app.worker).

The pool thread may still be inside the emit that carries a report when the GUI thread
has already handled it: PySide lets go of the GIL during the emit, and Qt's activation
reads the sending object again after posting the event. A relay per job, deleted on the
GUI thread once its report arrived, was sometimes deleted under that emit: the tray died
with SIGSEGV in libQt6Core's signal activation on a "Thread (pooled)" (the real-tray
repaint test, 2 of ~6 full runs on a loaded machine; the kernel's log had the same crash
from trays in other runs)."""

from __future__ import annotations

import gc
import threading
import weakref

from pytestqt.qtbot import QtBot

from tests.tray.offscreen import run_offscreen
from tray_app.worker import Worker, wait_for_pool

DELETIONS_SCRIPT = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from tray_app.worker import Worker

app = QApplication([])


class Deletions(QObject):
    seen = 0

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.DeferredDelete:
            Deletions.seen += 1
        return False


deletions = Deletions()
app.installEventFilter(deletions)
worker = Worker()
jobs = int(sys.argv[1])
reported = []
# A timer of its own: QTimer.singleShot's internal one is deleted once it fired.
stop = QTimer()
stop.setSingleShot(True)
stop.timeout.connect(app.quit)


def fail():
    raise ValueError("a busy ledger")


def report(outcome):
    reported.append(outcome)
    if len(reported) == jobs:
        # Deletions asked for while the last report was handled come in a later pass.
        stop.start(50)
    else:
        submit()


def submit():
    # Every fourth job fails, as a read of a busy ledger can: errors report too.
    if len(reported) % 4 == 3:
        worker.submit(fail, report, report)
    else:
        worker.submit(lambda: 42, report)


submit()
app.exec()
print(len(reported), Deletions.seen)
"""


def test_jobs_report_through_nothing_the_gui_thread_deletes() -> None:
    """No Qt object is made per job and deleted once its report arrived: whatever the
    pool thread emits on lives as long as the application."""
    result = run_offscreen("-c", DELETIONS_SCRIPT, "200")
    assert result.returncode == 0, result.stderr[-2000:]
    reported, deleted = map(int, result.stdout.split())
    assert reported == 200
    assert deleted == 0, f"{deleted} Qt objects deleted after {reported} jobs reported"


class _Reader:
    def read(self) -> int:
        return 7


def test_what_a_job_holds_is_let_go_on_the_gui_thread(qtbot: QtBot) -> None:
    """The function a job runs (a window's bound method, say) is let go on the GUI thread
    once its outcome arrived. It was let go in the pool thread, after the report: where
    that was its last reference, Qt objects were freed there, their timers stayed
    registered with the GUI thread and fired into freed memory (SIGSEGV in
    QTimerInfoList::activateTimers under pytest-qt's event processing, with 9c7ac61)."""
    reader = _Reader()
    freed_in: list[str] = []
    weakref.finalize(reader, lambda: freed_in.append(threading.current_thread().name))
    worker = Worker()
    got: list[int] = []
    worker.submit(reader.read, got.append)
    del reader
    qtbot.waitUntil(lambda: bool(got), timeout=5_000)
    assert wait_for_pool()
    gc.collect()
    assert got == [7]
    assert freed_in == [threading.main_thread().name]


def test_a_job_whose_worker_is_gone_reports_to_nobody(qtbot: QtBot) -> None:
    """A worker deleted with its owner (a tray or window let go) while its job ran: the
    outcome is dropped on the GUI thread, not handed to callbacks of a deleted window."""
    release = threading.Event()
    owner = Worker()
    worker = Worker(owner)
    got: list[object] = []
    worker.submit(lambda: release.wait(5), got.append, got.append)
    del worker
    with qtbot.waitSignal(owner.destroyed, timeout=5_000):
        owner.deleteLater()
    release.set()
    assert wait_for_pool()
    qtbot.wait(50)
    assert got == []
