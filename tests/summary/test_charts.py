"""The HTML summary's charts: value labels sit past their bars, not half on them, and an
axis writes all its ticks the same way."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from shared.summary.charts import Bar, daily_cost_chart, ranked_cost_chart

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str, cls: str) -> list[ET.Element]:
    tree = ET.fromstring(svg)
    return [t for t in tree.iter(f"{SVG}text") if cls in (t.get("class") or "").split()]


def test_bar_values_start_past_the_end_of_their_bar() -> None:
    svg = ranked_cost_chart([Bar("opus-4-5", 3.83), Bar("sonnet-4-5", 1.2), Bar("haiku-4-5", 0.3)])
    tree = ET.fromstring(svg)
    bars = [r for r in tree.iter(f"{SVG}rect") if "rect" in (r.get("class") or "").split()]
    ends = sorted(float(r.get("x", 0)) + float(r.get("width", 0)) for r in bars)
    values = _texts(svg, "value")
    assert [v.text for v in values] == ["$0.30", "$1.20", "$3.83"]
    for value, end in zip(values, ends, strict=True):
        assert value.get("text-anchor") == "start"
        assert float(value.get("x", 0)) > end  # it used to be centred on `end`
    width = float(tree.get("width") or 760)
    assert float(values[-1].get("x", 0)) + 8 * len("$3.83") < width  # room for the largest


def test_an_axis_writes_every_tick_alike() -> None:
    svg = daily_cost_chart(["Mon", "Tue", "Wed"], {"claude-code": [11.5, 2.0, 0.5]})
    ticks = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]
    money_ticks = [t for t in ticks if re.fullmatch(r"\$[\d,.]+", t)]
    assert money_ticks
    assert all("." in t for t in money_ticks) or all("." not in t for t in money_ticks), ticks
