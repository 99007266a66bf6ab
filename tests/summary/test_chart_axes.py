"""The HTML summary's bar charts at any cost and with any label, in both layouts: the axis
ticks never run into each other, long names are shortened (the whole name in a tooltip)
instead of squeezing the plot, and every value printed past a bar stays inside the chart.

They used to keep pygal's ticks (up to 16 on the wide chart): from about $1,000 on, the
axis read `$0 $200$400…$1,0$1,2`, and a phone's chart gave four fifths of its width to
`acme-corp/payments-reconciliation-service`, cutting the values off at its edge."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise
from typing import Any

import pytest

from shared.summary.charts import SMALLEST_FONT
from shared.summary.html import chart_svg

SVG = "{http://www.w3.org/2000/svg}"
# Advance widths in DejaVu Sans (the page's font where no other sans is installed, and
# wider than most), in em: what a label is about as wide when drawn.
LETTERS = (
    "0.613 0.635 0.55 0.635 0.615 0.352 0.635 0.634 0.278 0.278 0.579 0.278 0.974 0.634 "
    "0.612 0.635 0.635 0.411 0.521 0.392 0.634 0.592 0.818 0.592 0.592 0.525"
)
EM = dict(zip("abcdefghijklmnopqrstuvwxyz", map(float, LETTERS.split()), strict=True))
EM.update({",": 0.318, ".": 0.318, " ": 0.318, "(": 0.39, ")": 0.39, "-": 0.361, "/": 0.337})
EM.update({"…": 1.0, "$": 0.636, "M": 0.863})
EM.update(dict.fromkeys("0123456789", 0.636))
GAP = 4  # SVG units between two tick labels, at the least

REPOS = [
    ("/Users/jane/Developer/github.com/acme-corp/payments-reconciliation-service", 2481.50),
    ("/Users/jane/Developer/github.com/acme-corp/web-dashboard", 1210.25),
    ("/Users/jane/Developer/github.com/acme-corp/infra-terraform-modules", 845.10),
    ("/Users/jane/Developer/oss/burnmeter", 312.40),
    ("/Users/jane/notes", 12.5),
]


def width(text: str, size: float = SMALLEST_FONT) -> float:
    return size * sum(EM.get(c, 0.75) for c in text)


def _repos_summary(rows: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "repos": [
            {"repo": repo, "cost_usd": cost, "sessions": 1, "calls": 1} for repo, cost in rows
        ]
    }


def _translate(element: ET.Element) -> float:
    match = re.match(r"translate\(([-\d.]+)", element.get("transform", ""))
    assert match, element.attrib
    return float(match.group(1))


def _classes(element: ET.Element) -> list[str]:
    return (element.get("class") or "").split()


def _plot(tree: ET.Element) -> tuple[float, float]:
    """The plot's left edge and width, in the chart's units."""
    plot = next(g for g in tree.iter(f"{SVG}g") if _classes(g) == ["plot"])
    background = plot.find(f"{SVG}rect")
    assert background is not None
    return _translate(plot), float(background.get("width", 0))


def _money_ticks(tree: ET.Element) -> list[tuple[float, str]]:
    axis = next(g for g in tree.iter(f"{SVG}g") if "axis" in _classes(g) and "x" in _classes(g))
    return [(float(t.get("x", 0)), t.text or "") for t in axis.iter(f"{SVG}text")]


# The largest cost from $2.48 to $992,600, in steps of about a third.
SCALES = [[(repo, cost * 1.37**power / 1000) for repo, cost in REPOS] for power in range(0, 41, 2)]


@pytest.mark.parametrize("narrow", [False, True], ids=["wide", "narrow"])
@pytest.mark.parametrize("rows", SCALES, ids=lambda rows: f"top{rows[0][1]:.2f}")
def test_axis_ticks_never_overlap(rows: list[tuple[str, float]], narrow: bool) -> None:
    tree = ET.fromstring(chart_svg(_repos_summary(rows), "repos", narrow=narrow))
    left, _ = _plot(tree)
    ticks = _money_ticks(tree)
    assert len(ticks) >= 3, ticks  # still an axis to read
    for (x1, text1), (x2, text2) in pairwise(ticks):
        assert x2 - x1 >= (width(text1) + width(text2)) / 2 + GAP, (text1, text2, ticks)
    # The last one is inside the drawing.
    x, text = ticks[-1]
    assert left + x + width(text) / 2 <= float(tree.get("viewBox", "").split()[2])
    # One way of writing money per axis: all in cents, or none.
    assert len({bool(re.fullmatch(r"\$[\d,]+\.\d\d", text)) for _, text in ticks}) == 1, ticks


@pytest.mark.parametrize("narrow", [False, True], ids=["wide", "narrow"])
def test_thousands_are_written_short_on_an_axis(narrow: bool) -> None:
    rows = [(repo, cost * 40) for repo, cost in REPOS]  # $99,260 at the top
    svg = chart_svg(_repos_summary(rows), "repos", narrow=narrow)
    ticks = [text for _, text in _money_ticks(ET.fromstring(svg))]
    assert all(re.fullmatch(r"\$\d+(\.\d+)?k|\$0", text) for text in ticks), ticks


@pytest.mark.parametrize("narrow", [False, True], ids=["wide", "narrow"])
@pytest.mark.parametrize("rows", SCALES, ids=lambda rows: f"top{rows[0][1]:.2f}")
def test_values_stay_inside_the_chart(rows: list[tuple[str, float]], narrow: bool) -> None:
    tree = ET.fromstring(chart_svg(_repos_summary(rows), "repos", narrow=narrow))
    chart_width = float(tree.get("viewBox", "").split()[2])
    overlay = next(g for g in tree.iter(f"{SVG}g") if "text-overlay" in _classes(g))
    values = [t for t in overlay.iter(f"{SVG}text") if "value" in _classes(t)]
    assert len(values) == len(rows)
    for value in values:
        assert value.get("text-anchor") == "start"
        end = _translate(overlay) + float(value.get("x", 0)) + width(value.text or "")
        assert end <= chart_width, (value.text, end, chart_width)


@pytest.mark.parametrize("narrow", [False, True], ids=["wide", "narrow"])
def test_long_names_are_shortened_in_the_middle_with_the_whole_in_a_tooltip(
    narrow: bool,
) -> None:
    long_name = "/srv/" + "a-very-long-repository-name-" * 3 + "end"
    rows = [*REPOS, (long_name, 1.0)]
    tree = ET.fromstring(chart_svg(_repos_summary(rows), "repos", narrow=narrow))
    chart_width = float(tree.get("viewBox", "").split()[2])
    left, plot_width = _plot(tree)
    # The names leave the bars most of the width.
    assert plot_width >= 0.5 * chart_width, (left, plot_width)
    axis = next(g for g in tree.iter(f"{SVG}g") if "axis" in _classes(g) and "y" in _classes(g))
    shown = {}
    for guide in axis.findall(f"{SVG}g"):
        text, title = guide.find(f"{SVG}text"), guide.find(f"{SVG}title")
        assert text is not None and title is not None
        shown[title.text] = text.text or ""
    assert set(shown) == {repo for repo, _ in rows}  # the whole path on hovering
    # The last two parts of a path; else its last; else that shortened in the middle.
    assert shown["/Users/jane/notes"] == "jane/notes"
    assert shown[long_name].startswith("a-very") and shown[long_name].endswith("name-end")
    assert "…" in shown[long_name]
    payments = shown[REPOS[0][0]]
    if narrow:
        assert payments.startswith("payments") and payments.endswith("service"), payments
        assert "…" in payments
    else:
        assert payments == "payments-reconciliation-service"
    for label in shown.values():
        assert left - 5 - width(label) >= 0, label  # the whole label is inside the chart
