"""Inline SVG charts for the HTML summary, drawn with pygal.

Why pygal: it is a maintained, pure-Python charting library (no numpy, ~1 MB) whose
output is SVG styled by CSS, so chart text and grid lines can follow the page's light or
dark colours through CSS variables, and the charts print crisply. Qt's QSvgGenerator is
not an option here (the core never imports Qt), and matplotlib would add tens of MB and
fixed colours. pygal adds a small configuration <script> for its optional tooltips; we
drop it, so the file needs no scripts and the page's Content-Security-Policy forbids them.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.sources.agents import AGENTS
from shared.summary.formatting import cost_text

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
MARGIN = 12
# The longest name a bar chart writes beside its bars, in characters: longer ones are
# shortened in the middle (the whole name is the label's tooltip), so that the names leave
# the bars most of the width.
LABEL_CHARS = {False: 36, True: 18}
# What a character of chart text is at most wide, in em, for laying text out: DejaVu
# Sans's digits and "$" are 0.636 em, its punctuation narrower and most letters less than
# CHAR_EM.
CHAR_EM = 0.65
NARROW_CHARS = {",": 0.318, ".": 0.318, " ": 0.318, "(": 0.39, ")": 0.39}
DIGIT_EM = 0.636
# pygal's estimate of a label's width (pygal.util.text_len), which sizes the label column.
PYGAL_CHAR_EM = 0.6
PYGAL_SPACING = 10  # pygal's default `spacing`, between the label column and the plot
# pygal's view leaves this share of the value range empty at either end of an axis.
VIEW_MARGIN = 0.02
VALUE_GAP = 5  # between a bar's end and its value


def min_width_px(*, narrow: bool = False) -> int:
    """The narrowest a chart of this layout is drawn, in CSS px: its smallest text is
    then MIN_TEXT_PX."""
    width = NARROW_WIDTH if narrow else WIDTH
    return round(width * MIN_TEXT_PX / SMALLEST_FONT)


def text_width(text: str) -> float:
    """At most how wide `text` is drawn at SMALLEST_FONT, in SVG units."""
    ems = sum(
        DIGIT_EM if char.isdigit() or char == "$" else NARROW_CHARS.get(char, CHAR_EM)
        for char in text
    )
    return ems * SMALLEST_FONT


def series_colour(name: str) -> str:
    """An agent's colour, the same every week: Claude Code's is always blue and Codex's
    always orange, whoever spent first; any other name gets one of the rest by its hash."""
    if name in AGENTS:
        return PALETTE[AGENTS.index(name)]
    rest = PALETTE[len(AGENTS) : -1]
    return rest[zlib.crc32(name.encode()) % len(rest)]


def _style(colors: Sequence[str] = PALETTE) -> Any:
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
        colors=tuple(colors),
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


# Tick steps, from a cent up: 1, 2, 2.5 and 5 times a power of ten, but not $2.50 (an
# axis of whole dollars would write it $2).
STEPS = [
    mantissa * 10.0**exponent
    for exponent in range(-2, 10)
    for mantissa in (1, 2, 2.5, 5)
    if mantissa * 10**exponent != 2.5
]


def tick_format(step: float, top: float) -> Callable[[float], str]:
    """One way of writing every tick of an axis: cents when the step is under a dollar,
    whole dollars up to $1,000, and from there thousands and millions written short
    (`$500`, `$1k`, `$1.5k`, `$2M`), so that an axis keeps room for its ticks."""
    if step < 1:
        return lambda value: f"${value:,.2f}"
    if top < 1000:
        return lambda value: f"${value:,.0f}"

    def short(value: float) -> str:
        value = round(value, 2)
        if value >= 1e6:
            return f"${value / 1e6:g}M"
        if value >= 1000:
            return f"${value / 1000:g}k"
        return f"${value:g}"

    return short


def _ticks(
    top: float, fits: Callable[[float, list[str], bool], bool], *, above: bool = False
) -> tuple[list[dict[str, Any]], Callable[[float], str]]:
    """The axis ticks from $0 up to `top` (or, `above`, to the first tick at or past it),
    by the smallest step whose labels `fits(step, labels, roomy)` accepts roomy, else
    accepts at all, with three ticks or more; else by the smallest step with fewer. And how
    the axis writes money."""

    def by(step: float) -> tuple[list[dict[str, Any]], Callable[[float], str]]:
        count = math.ceil(top / step - 1e-9) if above else math.floor(top / step + 1e-9)
        values = [index * step for index in range(max(count, 0) + 1)]
        write = tick_format(step, values[-1])
        return [{"value": value, "label": write(value)} for value in values], write

    steps = [step for step in STEPS if top / step <= 100]
    for roomy in (True, False):
        for step in steps:
            ticks, write = by(step)
            if len(ticks) < 3:
                break
            if fits(step, [tick["label"] for tick in ticks], roomy):
                return ticks, write
    return by(next((s for s in steps if top / s <= 2), STEPS[-1]))


def _shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: its start and its end, "…" between them."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def _classes(element: ET.Element) -> list[str]:
    return (element.get("class") or "").split()


def _svg(chart: Any) -> ET.Element:
    """The chart's SVG tree without pygal's script and comments, its ids made its own (pygal
    numbers its legend entries `activate-serie-0` in every chart: one page held each id
    several times)."""
    tree: ET.Element = chart.render_tree()
    own = tree.get("id", "chart")
    for parent in tree.iter():
        for child in list(parent):
            tag: Any = child.tag  # a function for a comment
            if tag is ET.Comment or (isinstance(tag, str) and tag.endswith("script")):
                parent.remove(child)
            elif child.get("id", "").startswith("activate-serie-"):
                child.set("id", own + child.get("id", "").removeprefix("activate"))
    return tree


def _text(tree: ET.Element) -> str:
    svg: str = ET.tostring(tree, encoding="unicode")
    return svg


def _config(narrow: bool, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "style": _style(),
        "js": [],
        "width": NARROW_WIDTH if narrow else WIDTH,
        "height": 320,
        "margin": MARGIN,
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


# The daily chart's plot is about this tall (its 320 units less the margins, the day
# labels and the legend); ticks are at least TICK_ROWS units apart on it.
DAILY_PLOT_HEIGHT = 220
TICK_ROWS = 2 * SMALLEST_FONT


def daily_cost_chart(
    days: Sequence[str], per_series: dict[str, list[float]], *, narrow: bool = False
) -> str:
    """Cost per day, stacked by agent (or any series), each agent in its own colour."""
    import pygal

    names = sorted(per_series, key=lambda name: (name not in AGENTS, _agent_rank(name), name))
    top = max((sum(day) for day in zip(*per_series.values(), strict=True)), default=0.0)
    ticks, write = _ticks(
        top,
        lambda _, labels, roomy: (
            DAILY_PLOT_HEIGHT / (len(labels) - 1) >= (TICK_ROWS if roomy else 1.5 * SMALLEST_FONT)
        ),
        above=True,
    )
    chart = pygal.StackedBar(
        **_config(
            narrow,
            style=_style([series_colour(name) for name in names]),
            margin_bottom=34,
            value_formatter=write,
            y_labels=ticks,
        )
    )
    chart.x_labels = list(days)
    for name in names:
        chart.add(name, [value or None for value in per_series[name]])
    return _text(_svg(chart))


def _agent_rank(name: str) -> int:
    return AGENTS.index(name) if name in AGENTS else len(AGENTS)


@dataclass(frozen=True)
class Bar:
    """One bar of a ranked chart: a name (the label's tooltip, whole), the labels to show
    for it from the longest (the first that fits is shown; else the last, shortened in the
    middle), and its cost with the calls no price was known for."""

    name: str
    cost_usd: float
    calls: int = 0
    unpriced_calls: int = 0
    labels: tuple[str, ...] = ()

    def label(self, limit: int) -> str:
        labels = self.labels or (self.name,)
        return next((label for label in labels if len(label) <= limit), None) or _shorten(
            labels[-1], limit
        )

    @property
    def text(self) -> str:
        """The value written past the bar, as the tables write it (`unpriced (2 calls)`)."""
        return cost_text(
            {"cost_usd": self.cost_usd, "calls": self.calls, "unpriced_calls": self.unpriced_calls}
        )


def _top_bars(rows: Sequence[Bar]) -> list[Bar]:
    """The first MAX_BARS - 1 rows and, beyond MAX_BARS of them, the rest as "other"."""
    if len(rows) <= MAX_BARS:
        return list(rows)
    shown, rest = list(rows[: MAX_BARS - 1]), rows[MAX_BARS - 1 :]
    other = Bar(
        "other: " + ", ".join(bar.name for bar in rest),
        sum(bar.cost_usd for bar in rest),
        sum(bar.calls for bar in rest),
        sum(bar.unpriced_calls for bar in rest),
        labels=("other",),
    )
    return [*shown, other]


def ranked_cost_chart(rows: Sequence[Bar], *, narrow: bool = False) -> str:
    """Horizontal bars, most expensive on top, each with its cost written past its end
    (`unpriced (2 calls)` for a model with no price); beyond MAX_BARS the rest become
    "other". Long names are shortened in the middle, whole in their tooltips; the axis has
    as many ticks as its width holds apart."""
    import pygal

    bars = _top_bars(rows)
    limit = LABEL_CHARS[narrow]
    # HorizontalBar draws the first label at the bottom; reverse so the largest is on top.
    ordered = list(reversed(bars))
    labels = [bar.label(limit) for bar in ordered]
    width = NARROW_WIDTH if narrow else WIDTH
    # The plot's width: what pygal leaves beside its label column.
    plot = (
        width
        - 2 * MARGIN
        - PYGAL_SPACING
        - PYGAL_CHAR_EM * SMALLEST_FONT * max(map(len, labels), default=0)
    )
    top = _value_room(ordered, plot)

    def px(value: float) -> float:
        return plot * (value / top + VIEW_MARGIN) / (1 + 2 * VIEW_MARGIN)

    def fits(step: float, ticks: list[str], roomy: bool) -> bool:
        # Apart by the widest tick and a gap (roomy: a wider one, and never crowded), and
        # the last one inside the chart.
        widest = max(map(text_width, ticks))
        spacing = px(step) - px(0)
        least = max(widest + SMALLEST_FONT, 6 * SMALLEST_FONT) if roomy else widest + 6
        last = px(step * (len(ticks) - 1)) + text_width(ticks[-1]) / 2
        return spacing >= least and last <= plot + MARGIN

    ticks, write = _ticks(top, fits)
    chart = pygal.HorizontalBar(
        **_config(
            narrow,
            height=60 + 32 * max(1, len(bars)),
            range=(0, top),
            y_labels=ticks,
            value_formatter=write,
            print_values=True,
            print_values_position="center",
            show_legend=False,
            show_y_labels=True,
        )
    )
    chart.x_labels = labels
    chart.add(
        "cost",
        [
            {"value": bar.cost_usd, "color": PALETTE[(len(ordered) - 1 - index) % len(PALETTE)]}
            for index, bar in enumerate(ordered)
        ],
    )
    tree = _svg(chart)
    _label_tooltips(tree, ordered)
    _values_past_bars(tree, ordered)
    return _text(tree)


def _value_room(bars: Sequence[Bar], plot: float) -> float:
    """The top of the value axis: far enough past the largest cost that every bar's value,
    written just past its end, ends inside the plot."""
    top = max((bar.cost_usd for bar in bars), default=0.0)
    for bar in bars:
        room = plot - VALUE_GAP - text_width(bar.text) - 2
        # px(cost) <= room, px as in ranked_cost_chart; at least a twentieth for the bar.
        share = max(0.05, room / plot * (1 + 2 * VIEW_MARGIN) - VIEW_MARGIN)
        top = max(top, bar.cost_usd / share)
    return top or 1.0


def _label_tooltips(tree: ET.Element, bars: Sequence[Bar]) -> None:
    """Each label's tooltip is its bar's whole name (pygal gave it the bar's index as money,
    `$0`, `$1`), and each bar's is the name and the cost."""
    axis = next(g for g in tree.iter() if {"axis", "y"} <= set(_classes(g)))
    guides = [g for g in axis if "guides" in _classes(g)]
    assert len(guides) == len(bars)
    for guide, bar in zip(guides, bars, strict=True):
        title = guide.find("title")
        if title is None:
            title = ET.SubElement(guide, "title")
        title.text = bar.name
    drawn = [g for g in tree.iter() if "bar" in _classes(g)]
    for group, bar in zip(drawn, bars, strict=True):
        title = ET.Element("title")
        title.text = f"{bar.name}: {bar.text}"
        group.insert(0, title)


def _values_past_bars(tree: ET.Element, bars: Sequence[Bar]) -> None:
    """Each value starts just past its bar's end (pygal centres it on the bar, half of it
    on the bar's colour) and reads as the tables write it (`unpriced (2 calls)`, where pygal
    wrote $0.00)."""
    ends = []
    for group, bar in zip((g for g in tree.iter() if "bar" in _classes(g)), bars, strict=True):
        rect = group.find("rect")
        assert rect is not None
        # pygal leaves out a width of 0 (a model with no price), which a <rect> requires.
        rect.set("width", rect.get("width") or "0")
        ends.append(float(rect.get("x", "0")) + float(rect.get("width", "0")))
        for desc in group.iter("desc"):
            if "value" in _classes(desc):
                desc.text = bar.text
    overlay = next(g for g in tree.iter() if "text-overlay" in _classes(g))
    values = [t for t in overlay.iter("text") if "value" in _classes(t)]
    assert len(values) == len(ends)
    for value, end, bar in zip(values, ends, bars, strict=True):
        value.set("text-anchor", "start")
        value.set("x", f"{end + VALUE_GAP:.2f}")
        value.text = bar.text


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
    return _text(_svg(chart))
