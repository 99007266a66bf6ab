"""The meter icon's pixels in each state, at 1x and HiDPI."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from tray_app.icons import (
    FACE_COLOUR,
    LEVEL_COLOURS,
    PAUSED_COLOUR,
    RUNNING_COLOUR,
    TRACK_COLOUR,
    MeterState,
    meter_icon,
    paint_meter,
    ring_point,
    running_dot_centre,
    short_cost,
)


def pixel(image: QImage, x: float, y: float) -> QColor:
    ratio = image.devicePixelRatio()
    return image.pixelColor(int(x * ratio), int(y * ratio))


def close(a: QColor, b: QColor, tolerance: int = 40) -> bool:
    return all(
        abs(x - y) <= tolerance
        for x, y in ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue()))
    )


@pytest.mark.parametrize("ratio", [1.0, 2.0])
@pytest.mark.parametrize(
    ("level", "fraction"), [("under", 0.5), ("warning", 0.9), ("over", 1.3), ("none", None)]
)
def test_ring_takes_the_budget_colour_up_to_the_share_used(
    qapp: object, level: str, fraction: float | None, ratio: float
) -> None:
    image = paint_meter(MeterState(3.2, fraction, level), 64, ratio)  # type: ignore[arg-type]
    assert image.width() == 64 * ratio
    colour = LEVEL_COLOURS[level]
    filled = 1.0 if fraction is None else min(fraction, 1.0)
    # Sample just inside the filled arc and, if any, just past it.
    inside = ring_point(64, filled * 0.5)
    assert close(pixel(image, inside.x(), inside.y()), colour)
    if filled < 1.0:
        past = ring_point(64, (filled + 1.0) / 2)
        assert close(pixel(image, past.x(), past.y()), TRACK_COLOUR)
    # The other budget colours are nowhere on the ring.
    for other, other_colour in LEVEL_COLOURS.items():
        if other != level:
            assert not close(pixel(image, inside.x(), inside.y()), other_colour, 20)


def test_states_differ_pixel_for_pixel(qapp: object) -> None:
    images = [
        paint_meter(MeterState(5.0, 0.5, "under"), 22),
        paint_meter(MeterState(5.0, 0.5, "warning"), 22),
        paint_meter(MeterState(5.0, 0.5, "under", running=True), 22),
        paint_meter(MeterState(5.0, 0.5, "under", paused=True), 22),
    ]
    for i, a in enumerate(images):
        for b in images[i + 1 :]:
            assert a != b


def test_running_session_shows_a_dot(qapp: object) -> None:
    centre = running_dot_centre(32)
    idle = paint_meter(MeterState(1.0, 0.2, "under"), 32, 2.0)
    running = paint_meter(MeterState(1.0, 0.2, "under", running=True), 32, 2.0)
    assert close(pixel(running, centre.x(), centre.y()), RUNNING_COLOUR)
    assert not close(pixel(idle, centre.x(), centre.y()), RUNNING_COLOUR)


def test_paused_meter_is_grey_with_pause_bars(qapp: object) -> None:
    image = paint_meter(MeterState(9.0, 0.95, "warning", paused=True), 64)
    on_ring = ring_point(64, 0.4)
    assert close(pixel(image, on_ring.x(), on_ring.y()), PAUSED_COLOUR)
    # The left pause bar sits left of the centre, at mid height.
    bar = pixel(image, 64 / 2 - 64 * 0.1, 32)
    assert close(bar, QColor("#ffffff"))
    assert close(pixel(image, 32, 32), FACE_COLOUR)


def test_cost_text_is_drawn_in_white(qapp: object) -> None:
    blank = paint_meter(MeterState(0.0, 0.5, "under"), 48)
    costly = paint_meter(MeterState(123.0, 0.5, "under"), 48)
    white = QColor("#ffffff")

    def white_pixels(image: QImage) -> int:
        return sum(
            close(image.pixelColor(x, y), white, 60) for x in range(12, 36) for y in range(12, 36)
        )

    assert white_pixels(costly) > white_pixels(blank) > 0


def test_icon_has_pixmaps_for_panel_sizes_at_hidpi(qapp: object) -> None:
    icon = meter_icon(MeterState(2.0, 0.3, "under"), 2.0)
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert (22, 22) in sizes
    assert (44, 44) in sizes  # 22 logical pixels at 2x
    assert icon.pixmap(22, 22).devicePixelRatio() in (1.0, 2.0)


@pytest.mark.parametrize(
    ("cost", "text"),
    [
        (0.0, "0"),
        (0.04, "0"),
        (4.25, "4.2"),
        (9.94, "9.9"),
        (9.95, "10"),  # not "10.0": one decimal rounded up past the <10 branch
        (9.99, "10"),
        (37.4, "37"),
        (512, "512"),
        (1234, "1.2k"),
        (25_000, "25k"),
        (999_499, "999k"),
        # From $999.5k the label grew past four characters ("1000k", "12346k").
        (999_500, "1.0M"),
        (1e6, "1.0M"),
        (9_949_999, "9.9M"),
        (9_950_000, "10M"),
        (12_345_678, "12M"),
        (999_499_999, "999M"),
        (999_500_000, "1.0G"),
        (1e15, "999G"),
    ],
)
def test_short_cost_fits_four_characters(cost: float, text: str) -> None:
    assert short_cost(cost) == text
    assert len(short_cost(cost)) <= 4
