"""The installed PySide6 must not drop references to None: PySide6 6.12.0 does on every
call returning nothing, and on Python 3.11 the tray then aborts ("deallocating None")
after a few thousand Qt calls. pyproject.toml excludes that release; this keeps it out."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QImage, QPainter


def test_void_qt_calls_keep_none_alive(qapp: object) -> None:
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    owner = QObject()
    before = sys.getrefcount(None)
    for _ in range(500):
        painter.drawRect(QRectF(0, 0, 2, 2))
        owner.setObjectName("x")
    painter.end()
    # A few references may come and go; 1,000 lost ones are the binding bug.
    assert sys.getrefcount(None) - before > -50
