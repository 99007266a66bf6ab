"""Charts painted with QPainter (Qt Charts is not in PySide6-Essentials).

Each chart is a plain painter function of a rectangle and its data, so the same drawing
goes to a widget (`ChartWidget`), a `QImage`, or an SVG file (`render_svg`, for the
weekly summary).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from tray_app.texts import money, short_model

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
)
OTHER_COLOUR = "#bab0ac"
AXIS_COLOUR = QColor("#808080")
TEXT_COLOUR = QColor("#303030")

PaintFn = Callable[[QPainter, QRectF], None]


@dataclass
class StackedDays:
    """Cost per day, split by model. `values[model][i]` is the cost on `days[i]`."""

    days: list[str]
    values: dict[str, list[float]] = field(default_factory=dict)

    def top_models(self, keep: int = 6) -> StackedDays:
        """The `keep` costliest models, the rest summed into "other"."""
        ranked = sorted(self.values, key=lambda m: -sum(self.values[m]))
        if len(ranked) <= keep + 1:
            return self
        kept = {m: self.values[m] for m in ranked[:keep]}
        other = [0.0] * len(self.days)
        for model in ranked[keep:]:
            other = [a + b for a, b in zip(other, self.values[model], strict=True)]
        kept["other"] = other
        return StackedDays(self.days, kept)


def model_colours(models: Sequence[str]) -> dict[str, QColor]:
    """A colour per model that does not depend on which other models a chart shows: each
    name hashes to a slot of the palette; on a clash the name first in alphabetical order
    keeps its slot and the other takes the next free one. "other" is always grey."""
    colours = {"other": QColor(OTHER_COLOUR)} if "other" in models else {}
    taken: set[int] = set()
    for name in sorted(set(models) - {"other"}):
        slot = zlib.crc32(name.encode()) % len(PALETTE)
        for step in range(len(PALETTE)):
            if (slot + step) % len(PALETTE) not in taken:
                slot = (slot + step) % len(PALETTE)
                break
        taken.add(slot)
        colours[name] = QColor(PALETTE[slot])
    return colours


# The axis is cut in quarters; a quarter is one of these times a power of ten.
QUARTER_STEPS = (1, 2, 2.5, 5)


SMALLEST_TOP_USD = 0.004


def _axis_step(value: float) -> tuple[int, int]:
    """The smallest quarter at or above `value / 4` that is a round number: (digits,
    exponent) such that the quarter is digits / 10 * 10**exponent (25, -3: 0.0025). Kept
    as integers, so the labels are worked out exactly, not from float sums."""
    if not value > 0 or not math.isfinite(value):
        return 25, -1  # a top of $1.00 for an empty chart
    # Days of a few cache-read tokens: an axis to $0.004 at least, in tenths of a cent, not
    # one labelled $0.000000025 and up.
    quarter = max(value, SMALLEST_TOP_USD) / 4
    exponent = math.floor(math.log10(quarter))
    for _ in range(2):  # log10 may land a hair off a power of ten
        for step in QUARTER_STEPS:
            digits = round(step * 10)
            if quarter <= digits * 10.0 ** (exponent - 1) * (1 + 1e-12):
                return digits, exponent
        exponent += 1
    return 10, exponent


def _nice_max(value: float) -> float:
    """The smallest top of the axis at or above `value` whose quarters are round numbers."""
    digits, exponent = _axis_step(value)
    shift = exponent - 1
    return float(4 * digits * 10**shift) if shift >= 0 else 4 * digits / 10**-shift


def _axis_labels(value: float) -> list[str]:
    """The five labels of an axis topping `_nice_max(value)`, from $0 up, each exact for
    its gridline and all in one format: as many decimals as the step needs, cents at least
    once it has any ($0.000, $0.025 … $0.100; $0.00, $2.50 … $10.00; $0, $5 … $20).
    `:,.2f` of each said $0.03 for 0.025 and $0.01 for 0.003, 0.006 and 0.009."""
    digits, exponent = _axis_step(value)
    # The step as a whole number times a power of ten: 25 * 10**-3, 5 * 10**0.
    whole, power = (digits, exponent - 1) if digits % 10 else (digits // 10, exponent)
    places = 0 if power >= 0 else max(2, -power)
    return [
        f"${(k * whole * 10**power if power >= 0 else k * whole / 10**-power):,.{places}f}"
        for k in range(5)
    ]


def _begin_chart(painter: QPainter) -> QFontMetrics:
    """Save the painter's state (the chart restores it) and set the charts' antialiasing
    and 11 px labels; returns the labels' metrics."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setPixelSize(11)
    painter.setFont(font)
    return QFontMetrics(font)


def paint_stacked_days(painter: QPainter, rect: QRectF, data: StackedDays) -> None:
    metrics = _begin_chart(painter)
    data = data.top_models()
    models = list(data.values)
    colours = model_colours(models)
    totals = [sum(data.values[m][i] for m in models) for i in range(len(data.days))]
    top = _nice_max(max(totals, default=0.0))

    ticks = _axis_labels(max(totals, default=0.0))
    legend_h = metrics.height() + 8 if models else 0
    # The widest label, not the top one: "$7.50" is wider than "$10" above it.
    left = max(metrics.horizontalAdvance(tick) for tick in ticks) + 10
    plot = QRectF(
        rect.left() + left,
        rect.top() + 6,
        rect.width() - left - 8,
        rect.height() - legend_h - metrics.height() - 14,
    )
    painter.setPen(QPen(AXIS_COLOUR, 1))
    for step, tick in enumerate(ticks):
        y = plot.bottom() - plot.height() * step / 4
        painter.setPen(QPen(QColor("#e0e0e0") if step else AXIS_COLOUR, 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(TEXT_COLOUR)
        painter.drawText(
            QRectF(rect.left(), y - 8, left - 6, 16),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            tick,
        )
    count = max(1, len(data.days))
    slot = plot.width() / count
    bar_w = max(1.0, slot * 0.72)
    painter.setPen(Qt.PenStyle.NoPen)
    for i in range(len(data.days)):
        base = plot.bottom()
        x = plot.left() + i * slot + (slot - bar_w) / 2
        for model in models:
            height = plot.height() * data.values[model][i] / top
            if height <= 0:
                continue
            painter.setBrush(colours[model])
            painter.drawRect(QRectF(x, base - height, bar_w, height))
            base -= height
    painter.setPen(TEXT_COLOUR)
    label_every = max(1, round(count / 6))
    for i, day in enumerate(data.days):
        if i % label_every and i != count - 1:
            continue
        x = plot.left() + i * slot + slot / 2
        painter.drawText(
            QRectF(x - 30, plot.bottom() + 2, 60, metrics.height() + 4),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            day[5:],
        )
    x = plot.left()
    y = rect.bottom() - legend_h + 4
    for model in models:
        painter.setBrush(colours[model])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRect(QRectF(x, y + 2, 10, 10))
        painter.setPen(TEXT_COLOUR)
        label = short_model(model)
        painter.drawText(QPointF(x + 14, y + metrics.ascent()), label)
        x += 14 + metrics.horizontalAdvance(label) + 14
    painter.restore()


def paint_bars(
    painter: QPainter, rect: QRectF, rows: Sequence[tuple[str, float]], colour: str = PALETTE[0]
) -> None:
    """Horizontal bars, one per (label, cost) row, labelled with the cost."""
    metrics = _begin_chart(painter)
    row_h = metrics.height() + 8
    shown = list(rows)[: max(1, int(rect.height() // row_h))]
    label_w = min(
        rect.width() * 0.4, max((metrics.horizontalAdvance(r[0]) for r in shown), default=0) + 8
    )
    value_w = metrics.horizontalAdvance("$00,000.00") + 6
    bar_area = rect.width() - label_w - value_w
    top = max((value for _, value in shown), default=0.0) or 1.0
    for i, (label, value) in enumerate(shown):
        y = rect.top() + i * row_h
        painter.setPen(TEXT_COLOUR)
        painter.drawText(
            QRectF(rect.left(), y, label_w - 6, row_h),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(label, Qt.TextElideMode.ElideLeft, int(label_w - 6)),
        )
        width = max(1.0, bar_area * value / top) if value > 0 else 0.0
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawRect(QRectF(rect.left() + label_w, y + 3, width, row_h - 6))
        painter.setPen(TEXT_COLOUR)
        painter.drawText(
            QRectF(rect.left() + label_w + width + 4, y, value_w, row_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            money(value),
        )
    painter.restore()


class ChartWidget(QWidget):
    """Shows one painter function; `set_painter` swaps the data and repaints."""

    def __init__(self, minimum: QSize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._paint: PaintFn | None = None
        self.setMinimumSize(minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_painter(self, paint: PaintFn | None) -> None:
        self._paint = paint
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor("#ffffff"))
            if self._paint is not None:
                self._paint(painter, QRectF(self.rect()).adjusted(4, 4, -4, -4))
        finally:
            painter.end()


def render_svg(paint: PaintFn, path: Path, size: QSize, title: str = "") -> Path:
    """The same chart as an SVG file (the weekly summary embeds these)."""
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        paint(painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()
    return path
