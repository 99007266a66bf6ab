"""Inline SVG charts for the HTML summary, drawn with pygal.

Why pygal: it is a maintained, pure-Python charting library (no numpy, ~1 MB) whose
output is SVG styled by CSS, so chart text and grid lines can follow the page's light or
dark colours through CSS variables, and the charts print crisply. Qt's QSvgGenerator is
not an option here (the core never imports Qt), and matplotlib would add tens of MB and
fixed colours. pygal adds a small configuration <script> for its optional tooltips; we
drop it, so the file needs no scripts and the page's Content-Security-Policy forbids them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

# Saturated colours that read on both a white and a near-black page.
PALETTE = (
    "#3b82f6",  # blue
    "#f97316",  # orange
    "#10b981",  # green
    "#a855f7",  # purple
    "#ef4444",  # red
    "#eab308",  # yellow
    "#14b8a6",  # teal
    "#64748b",  # slate, for "other"
)
MAX_BARS = 8
# A chart's SVG has a viewBox and no fixed size: it scales with its card, and its text
# with it (12-unit labels of a 760-unit chart read ~5 px in a phone's 340 px card). So each
# chart comes in two layouts, WIDTH units wide for a desktop card and NARROW_WIDTH for a
# phone's, and the page shows the one that fits; and min_width_px() is the narrowest a
# layout is ever drawn (below it the card scrolls the chart sideways), where its smallest
# text still reads MIN_TEXT_PX.
WIDTH = 760
NARROW_WIDTH = 372
SMALLEST_FONT = 12  # the axis, value and label font size below, in SVG units
MIN_TEXT_PX = 10


def min_width_px(*, narrow: bool = False) -> int:
    """The narrowest a chart of this layout is drawn, in CSS px: its smallest text is
    then MIN_TEXT_PX."""
    width = NARROW_WIDTH if narrow else WIDTH
    return round(width * MIN_TEXT_PX / SMALLEST_FONT)


def _style() -> Any:
    from pygal.style import Style

    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="var(--fg)",
        foreground_strong="var(--fg)",
        foreground_subtle="var(--grid)",
        guide_stroke_color="var(--grid)",
        major_guide_stroke_color="var(--grid)",
        opacity="1",
        opacity_hover="1",
        colors=PALETTE,
        font_family="inherit",
        label_font_size=SMALLEST_FONT,
        major_label_font_size=SMALLEST_FONT,
        legend_font_size=13,
        value_font_size=SMALLEST_FONT,
        value_label_font_size=SMALLEST_FONT,
        value_colors=("var(--fg)",),
        title_font_size=15,
    )


def _money(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def _axis_money(top: float) -> Any:
    """Axis ticks in one format per chart: whole dollars when the axis reaches $10 (wide
    axes stay legible), cents below; a mix read as `$9.00` under `$10`."""
    whole = top >= 10

    def tick(value: float | None) -> str:
        if value is None:
            return ""
        return f"${value:,.0f}" if whole else f"${value:,.2f}"

    return tick


def _svg(chart: Any, *, values_after_bars: bool = False) -> str:
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            tag = child.tag
            if tag is ET.Comment or (isinstance(tag, str) and tag.endswith("script")):
                parent.remove(child)
            elif values_after_bars and "value" in child.get("class", "").split():
                # pygal centres a value on the bar's end, half of it on the bar's colour:
                # start it just past the end instead.
                child.set("text-anchor", "start")
                child.set("x", f"{float(child.get('x', '0')) + 5:.2f}")
    svg: str = ET.tostring(tree, encoding="unicode")
    return svg


def _config(narrow: bool, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "style": _style(),
        "js": [],
        "width": NARROW_WIDTH if narrow else WIDTH,
        "height": 320,
        "margin": 12,
        "truncate_label": -1,
        "formatter": _money,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2 if narrow else 4,
        "show_y_guides": True,
        "print_zeroes": False,
        "truncate_legend": 40,
        "no_data_text": "No cost this week",
    }
    config.update(overrides)
    return config


def daily_cost_chart(
    days: Sequence[str], per_series: dict[str, list[float]], *, narrow: bool = False
) -> str:
    """Cost per day, stacked by agent (or any series)."""
    import pygal

    top = max((sum(day) for day in zip(*per_series.values(), strict=True)), default=0.0)
    chart = pygal.StackedBar(**_config(narrow, margin_bottom=34, value_formatter=_axis_money(top)))
    chart.x_labels = list(days)
    for name, values in per_series.items():
        chart.add(name, [value or None for value in values])
    return _svg(chart)


def ranked_cost_chart(rows: Sequence[tuple[str, float]], *, narrow: bool = False) -> str:
    """Horizontal bars, most expensive on top; beyond MAX_BARS the rest become "other"."""
    import pygal

    shown = list(rows[: MAX_BARS - 1]) if len(rows) > MAX_BARS else list(rows)
    rest = sum(cost for _, cost in rows[len(shown) :])
    if rest:
        shown.append(("other", rest))
    height = 60 + 32 * max(1, len(shown))
    # Room past the longest bar for its value (more of the axis in a narrow chart, where
    # the value's text is a larger part of it).
    top = max((cost for _, cost in shown), default=0.0) * (1.3 if narrow else 1.15)
    chart = pygal.HorizontalBar(
        **_config(
            narrow,
            height=height,
            range=(0, top) if top > 0 else None,
            value_formatter=_axis_money(top),
            print_values=True,
            print_values_position="top",
            show_legend=False,
            show_y_labels=True,
            # Few enough ticks that their labels don't run together in a narrow chart.
            max_scale=6 if narrow else 16,
        )
    )
    # HorizontalBar draws the first label at the bottom; reverse so the largest is on top.
    ordered = list(reversed(shown))
    chart.x_labels = [label for label, _ in ordered]
    chart.add(
        "cost",
        [
            {"value": cost, "color": PALETTE[(len(ordered) - 1 - index) % len(PALETTE)]}
            for index, (_, cost) in enumerate(ordered)
        ],
    )
    return _svg(chart, values_after_bars=True)


def share_chart(rows: Sequence[tuple[str, float]], *, narrow: bool = False) -> str:
    """A donut of cost shares (tiers); the narrow one has its legend below."""
    import pygal

    shares = [(label, cost) for label, cost in rows if cost > 0]
    chart = pygal.Pie(
        **_config(
            narrow,
            inner_radius=0.55,
            height=300 if narrow else 280,
            legend_at_bottom=narrow,
            # One row: pygal makes room for n // columns rows of legend, one too few
            # when the columns don't divide the entries.
            legend_at_bottom_columns=max(1, len(shares)),
        )
    )
    for label, cost in shares:
        chart.add(label, cost)
    return _svg(chart)
