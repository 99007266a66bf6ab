"""The tray's meter icon, painted at runtime.

Pure functions of a `MeterState`: a ring that fills with the share of the budget used,
coloured by budget state, the cost in the middle, a dot when a session is running and
two bars when watching is paused. They paint into a `QImage`, so tests can check pixels
without a screen; `meter_icon` adds one pixmap per size at the screen's pixel ratio so the
icon stays crisp on HiDPI panels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPen, QPixmap

BudgetLevel = Literal["none", "under", "warning", "over"]

LEVEL_COLOURS: dict[str, QColor] = {
    "none": QColor("#3b82c4"),  # no budget set: a neutral blue
    "under": QColor("#2e9e44"),
    "warning": QColor("#e3a008"),
    "over": QColor("#d93a2b"),
}
PAUSED_COLOUR = QColor("#8a8a8a")
TRACK_COLOUR = QColor("#4a4f57")
FACE_COLOUR = QColor("#1f2328")
RUNNING_COLOUR = QColor("#38d9f5")
TEXT_COLOUR = QColor("#ffffff")
ICON_SIZES = (16, 22, 24, 32, 48, 64)


@dataclass(frozen=True)
class MeterState:
    """What the icon shows. `fraction` is the share of the tightest budget used (None: no
    budget); `level` its state."""

    cost_usd: float = 0.0
    fraction: float | None = None
    level: BudgetLevel = "none"
    running: bool = False
    paused: bool = False


def short_cost(cost_usd: float) -> str:
    """At most four characters, so it fits a 22-pixel icon: `0`, `4.2`, `37`, `512`, `1.2k`,
    `25k`, `1.0M`, `12M`, `999M`, `1.0G`."""
    cost_usd = round(cost_usd, 6)  # as shared.commands.render.money does
    if cost_usd < 0.05:
        return "0"
    if cost_usd < 9.95:  # from 9.95 on, one decimal would round up to "10.0"
        return f"{cost_usd:.1f}"
    if cost_usd < 999.5:  # from 999.5 on, no decimal would round up to "1000"
        return f"{cost_usd:.0f}"
    for unit in ("k", "M", "G"):
        cost_usd /= 1000
        if cost_usd < 9.95:
            return f"{cost_usd:.1f}{unit}"
        if cost_usd < 999.5:
            return f"{cost_usd:.0f}{unit}"
    return "999G"  # far beyond any spend; the icon still has room for four characters


def icon_look(state: MeterState) -> tuple[object, ...]:
    """What `paint_meter` draws of a state: two states with the same look give the same
    pixels (a cost of $31.42 and $31.47 both read `31`)."""
    return (
        "" if state.paused else short_cost(state.cost_usd),
        arc_span(state),
        ring_colour(state).rgba(),
        state.running,
        state.paused,
    )


def arc_span(state: MeterState) -> int:
    """The coloured part of the ring, in Qt's 1/16 degrees clockwise from 12 o'clock. No
    budget: a full ring in the neutral colour, so the icon is never just grey."""
    fraction = 1.0 if state.fraction is None else min(max(state.fraction, 0.0), 1.0)
    return round(fraction * 360 * 16)


def ring_colour(state: MeterState) -> QColor:
    return PAUSED_COLOUR if state.paused else LEVEL_COLOURS[state.level]


def paint_meter(state: MeterState, size: int, device_pixel_ratio: float = 1.0) -> QImage:
    """The icon at `size` logical pixels, rendered with `device_pixel_ratio` device pixels
    per logical pixel."""
    pixels = max(1, round(size * device_pixel_ratio))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    image.setDevicePixelRatio(device_pixel_ratio)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        _paint(painter, state, float(size))
    finally:
        painter.end()
    return image


def _paint(painter: QPainter, state: MeterState, size: float) -> None:
    ring_width = max(2.0, size * 0.16)
    inset = ring_width / 2 + size * 0.02
    ring = QRectF(inset, inset, size - 2 * inset, size - 2 * inset)

    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(FACE_COLOUR)
    painter.drawEllipse(ring)

    pen = QPen(TRACK_COLOUR, ring_width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(ring)

    span = arc_span(state)
    if span > 0:
        pen.setColor(ring_colour(state))
        painter.setPen(pen)
        # Qt angles are 1/16 degree, counter-clockwise from 3 o'clock; fill clockwise from 12.
        painter.drawArc(ring, 90 * 16, -span)

    if state.paused:
        _paint_pause_bars(painter, size)
    else:
        _paint_cost(painter, state, size, ring)
    if state.running:
        _paint_running_dot(painter, size)


def _paint_cost(painter: QPainter, state: MeterState, size: float, ring: QRectF) -> None:
    text = short_cost(state.cost_usd)
    font = QFont("DejaVu Sans")
    font.setBold(True)
    # Shrink the text until it fits inside the ring.
    inner = ring.width() - size * 0.12
    pixel_size = max(5, int(size * 0.42))
    while pixel_size > 5:
        font.setPixelSize(pixel_size)
        painter.setFont(font)
        if painter.fontMetrics().horizontalAdvance(text) <= inner:
            break
        pixel_size -= 1
    painter.setPen(TEXT_COLOUR)
    painter.drawText(ring, Qt.AlignmentFlag.AlignCenter, text)


def _paint_pause_bars(painter: QPainter, size: float) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(TEXT_COLOUR)
    bar_w = size * 0.1
    bar_h = size * 0.34
    top = (size - bar_h) / 2
    painter.drawRect(QRectF(size / 2 - bar_w * 1.5, top, bar_w, bar_h))
    painter.drawRect(QRectF(size / 2 + bar_w * 0.5, top, bar_w, bar_h))


def running_dot_centre(size: float) -> QPointF:
    radius = size * 0.17
    return QPointF(size - radius - size * 0.01, radius + size * 0.01)


def _paint_running_dot(painter: QPainter, size: float) -> None:
    radius = size * 0.17
    painter.setPen(QPen(FACE_COLOUR, max(1.0, size * 0.04)))
    painter.setBrush(RUNNING_COLOUR)
    painter.drawEllipse(running_dot_centre(size), radius, radius)


def ring_point(size: float, fraction: float) -> QPointF:
    """The point on the middle of the ring at `fraction` of a clockwise turn from 12
    o'clock (what tests sample)."""
    ring_width = max(2.0, size * 0.16)
    inset = ring_width / 2 + size * 0.02
    radius = (size - 2 * inset) / 2
    angle = math.radians(90 - fraction * 360)
    centre = size / 2
    return QPointF(centre + radius * math.cos(angle), centre - radius * math.sin(angle))


def meter_icon(state: MeterState, device_pixel_ratio: float = 1.0) -> QIcon:
    icon = QIcon()
    ratios = {1.0, device_pixel_ratio}
    for ratio in sorted(ratios):
        for size in ICON_SIZES:
            icon.addPixmap(QPixmap.fromImage(paint_meter(state, size, ratio)))
    return icon
