"""Python's cycle collector, run on the GUI thread only.

Left automatic, a collection runs in whichever thread allocates when the counts pass their
thresholds: in the tray, often a pool thread reading the ledger. A cycle that holds a Qt
object of the GUI thread (a widget's wrapper and a lambda connected to it) is then freed in
that thread, and Qt objects must be destroyed in their own: the process died with a
segmentation fault ('QBasicTimer::stop: Failed', 'Garbage-collecting'). Pausing the
collector around the reads (`shared.gcpause`) narrows the window but leaves other threads'
allocations. So, as qutebrowser does, the tray turns automatic collection off and a timer
on the GUI thread collects the generations whose thresholds the counts have passed, as the
automatic collector would have, only in the right thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

# Often enough that garbage does not pile up between two checks (a refresh makes a few
# thousand objects), rarely enough to cost nothing when idle: a check is three integers.
CHECK_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_if_due)
        self._was_enabled: bool | None = None

    def start(self) -> None:
        if self._was_enabled is None:
            self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Automatic collection back as it was (a test's process goes on after the tray)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None

    def collect_if_due(self) -> None:
        """The oldest generation whose count passed its threshold, and the younger ones,
        as the automatic collector picks them."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return
        generation = 0
        while generation < 2 and counts[generation + 1] > thresholds[generation + 1]:
            generation += 1
        gc.collect(generation)
