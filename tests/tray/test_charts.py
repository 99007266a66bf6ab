"""The QPainter charts: bars where the data says, and the same drawing as an SVG file."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from tray_app.charts import (
    PALETTE,
    StackedDays,
    model_colours,
    paint_bars,
    paint_stacked_days,
    render_svg,
)


def painted(paint: object, width: int = 600, height: int = 300) -> QImage:
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    paint(painter, QRectF(0, 0, width, height))  # type: ignore[operator]
    painter.end()
    return image


def columns_with(image: QImage, colour: QColor) -> set[int]:
    found = set()
    for x in range(image.width()):
        for y in range(0, image.height() - 40, 3):  # above the legend
            if image.pixelColor(x, y) == colour:
                found.add(x)
                break
    return found


def test_stacked_days_draw_each_model_on_its_days(qapp: object) -> None:
    days = [f"2026-11-{d:02d}" for d in range(1, 11)]
    data = StackedDays(
        days,
        {
            "claude-opus-4-5": [5.0 if i < 5 else 0.0 for i in range(10)],
            "claude-haiku-4-5": [0.0 if i < 5 else 1.0 for i in range(10)],
        },
    )
    image = painted(partial(paint_stacked_days, data=data))
    colours = model_colours(list(data.values))
    first = columns_with(image, colours["claude-opus-4-5"])
    second = columns_with(image, colours["claude-haiku-4-5"])
    assert first and second
    # Opus on the first half, haiku on the second.
    assert max(first) < min(second)


def test_top_models_fold_the_rest_into_other() -> None:
    days = ["2026-11-01"]
    data = StackedDays(days, {f"model-{i}": [float(i)] for i in range(10)})
    folded = data.top_models(keep=3)
    assert list(folded.values) == ["model-9", "model-8", "model-7", "other"]
    assert folded.values["other"] == [sum(range(7))]


def test_bars_are_as_long_as_their_values(qapp: object) -> None:
    image = painted(partial(paint_bars, rows=[("a", 10.0), ("b", 5.0)]))
    colour = QColor(PALETTE[0])
    rows = {}
    for y in range(image.height()):
        xs = [x for x in range(image.width()) if image.pixelColor(x, y) == colour]
        if xs:
            rows.setdefault(len(xs), y)
    lengths = sorted(rows, reverse=True)
    assert len(lengths) >= 2
    assert abs(lengths[0] / lengths[-1] - 2.0) < 0.1


def test_the_same_chart_renders_to_svg(qapp: object, tmp_path: Path) -> None:
    data = StackedDays(["2026-11-01", "2026-11-02"], {"claude-sonnet-4-5": [1.0, 2.0]})
    path = render_svg(
        partial(paint_stacked_days, data=data), tmp_path / "chart.svg", QSize(400, 200), "Cost"
    )
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = path.read_text(encoding="utf-8")
    assert "sonnet-4-5" in text
    assert model_colours(["claude-sonnet-4-5"])["claude-sonnet-4-5"].name() in text.lower()


def test_the_legend_names_models_as_the_cli_does(qapp: object, tmp_path: Path) -> None:
    """The legend said "opus-4-5-20251101" where `burnmeter report` says "opus-4-5"."""
    data = StackedDays(["2026-11-01"], {"claude-opus-4-5-20251101": [1.0]})
    path = render_svg(partial(paint_stacked_days, data=data), tmp_path / "c.svg", QSize(400, 200))
    text = path.read_text(encoding="utf-8")
    assert "opus-4-5" in text
    assert "20251101" not in text


def test_a_models_colour_stays_when_other_models_appear() -> None:
    """Colours went by cost rank, so a new costlier model repainted every other one."""
    opus, sonnet = "claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929"
    alone = model_colours([opus, sonnet])
    shown = model_colours(["gpt-5-codex", sonnet, opus, "other"])
    assert shown[opus] == alone[opus]
    assert shown[sonnet] == alone[sonnet]
    assert shown["other"] != shown[opus]
    many = [f"model-{i}" for i in range(len(PALETTE))]
    assert len({colour.name() for colour in model_colours(many).values()}) == len(PALETTE)


def label_bands(image: QImage) -> list[tuple[int, int]]:
    """The (left, right) ink columns of each y-axis label, top to bottom: the text left of
    the gridlines, in bands of rows."""
    white = QColor("#ffffff")

    def inked(x: int, y: int) -> bool:
        return image.pixelColor(x, y) != white

    # The gridlines are the only long runs of ink; the plot starts where they do.
    plot_left = min(
        x
        for y in range(image.height())
        for x in range(image.width() // 2)
        if all(inked(x + dx, y) for dx in range(image.width() // 3))
    )
    bands: list[tuple[int, int]] = []
    in_band = False
    for y in range(image.height()):
        xs = [x for x in range(plot_left - 1) if inked(x, y)]
        if xs and in_band:
            left, right = bands[-1]
            bands[-1] = (min(left, xs[0]), max(right, xs[-1]))
        elif xs:
            bands.append((xs[0], xs[-1]))
        in_band = bool(xs)
    return bands


@pytest.mark.parametrize(
    ("cost", "labels"),
    [
        (8.67, ["$10.00", "$7.50", "$5.00", "$2.50", "$0.00"]),
        (18.0, ["$20", "$15", "$10", "$5", "$0"]),
    ],
)
def test_every_axis_label_fits_left_of_the_plot(
    qapp: object, cost: float, labels: list[str]
) -> None:
    """The margin was as wide as the top label: under a top of "$10", "$7.50" lost its "$"."""
    data = StackedDays(["2026-11-01", "2026-11-02"], {"claude-opus-4-7": [0.0, cost]})
    image = painted(partial(paint_stacked_days, data=data), 400, 260)
    font = QFont()
    font.setPixelSize(11)
    metrics = QFontMetrics(font)
    bands = label_bands(image)
    assert len(bands) == len(labels)
    for (left, right), label in zip(bands, labels, strict=True):
        assert right - left + 1 >= metrics.tightBoundingRect(label).width() - 1, label


@pytest.mark.parametrize(
    ("cost", "labels"),
    [
        (0.09, ["$0.000", "$0.025", "$0.050", "$0.075", "$0.100"]),
        (0.012, ["$0.000", "$0.005", "$0.010", "$0.015", "$0.020"]),
        (0.004, ["$0.000", "$0.001", "$0.002", "$0.003", "$0.004"]),
        # A day of a few cache reads: not $0.000000000, $0.000000025 …
        (1e-7, ["$0.000", "$0.001", "$0.002", "$0.003", "$0.004"]),
        (0.6, ["$0.00", "$0.20", "$0.40", "$0.60", "$0.80"]),
        (8.67, ["$0.00", "$2.50", "$5.00", "$7.50", "$10.00"]),
        (18.0, ["$0", "$5", "$10", "$15", "$20"]),
        (1001, ["$0", "$500", "$1,000", "$1,500", "$2,000"]),
        (0.0, ["$0.00", "$0.25", "$0.50", "$0.75", "$1.00"]),
    ],
)
def test_axis_labels_are_exact_distinct_and_in_one_format(
    qapp: object, tmp_path: Path, cost: float, labels: list[str]
) -> None:
    """Quarters of $0.10 were labelled $0, $0.03, $0.05, $0.08, $0.10; of $0.02, $0, $0.01,
    $0.01, $0.01, $0.02; of $0.004, $0, $0.00, $0.00 …; of $20, $5.00 beside $10."""
    data = StackedDays(["2026-11-01", "2026-11-02"], {"claude-opus-4-7": [0.0, cost]})
    path = render_svg(partial(paint_stacked_days, data=data), tmp_path / "c.svg", QSize(400, 200))
    text = path.read_text(encoding="utf-8")
    assert all(f">{label}<" in text for label in labels)  # as drawn

    from decimal import Decimal

    from tray_app.charts import _axis_labels, _nice_max

    assert _axis_labels(cost) == labels
    top = _nice_max(cost)
    assert top >= cost
    values = [Decimal(label[1:].replace(",", "")) for label in labels]
    assert values == [Decimal(str(top)) * k / 4 for k in range(5)]  # exact for its line
    assert len({len(label.partition(".")[2]) for label in labels}) == 1  # one format
