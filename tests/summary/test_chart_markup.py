"""The HTML summary's charts as markup: valid SVG with ids of their own, each agent in
the same colour every week, and bar values written as the tables write them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import Settings
from shared.ledger import Ledger
from shared.summary import build_summary, parse_week, render
from shared.summary.charts import PALETTE
from shared.summary.html import chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_charts_are_valid_svg_with_ids_no_other_chart_has(
    ledger: Ledger, settings: Settings
) -> None:
    """The values moved past their bars moved the <desc> holding the same value too,
    giving it `x` and `text-anchor` (not allowed there, said the validator); and every
    chart's legend had ids `activate-serie-0`, … (six of them on one page)."""
    summary = build_summary(ledger, settings, parse_week("2026-W46"), ZoneInfo("Europe/Berlin"))
    html = render(summary, "html")
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) >= 8
    ids: Counter[str] = Counter()
    for svg in svgs:
        tree = ET.fromstring(svg)
        for desc in tree.iter(f"{SVG}desc"):
            assert set(desc.attrib) <= {"class"}, desc.attrib
        ids.update(element.get("id") for element in tree.iter() if element.get("id"))
    assert ids and max(ids.values()) == 1, [name for name, n in ids.items() if n > 1]
    assert len(set(re.findall(r'\bid="([^"]+)"', html))) == len(re.findall(r'\bid="', html))


def _colours(svg: str) -> dict[int, str]:
    """Each series' colour, from the chart's own stylesheet."""
    found = re.findall(r"\.color-(\d+)[^{]*\{stroke:(#[0-9a-f]{6});fill:", svg)
    return {int(index): colour for index, colour in found}


def _daily(agents_by_day: list[list[tuple[str, float]]]) -> dict[str, Any]:
    dates = [f"2026-11-{9 + index:02d}" for index in range(len(agents_by_day))]
    return {
        "days": [{"date": date, "weekday": "Mon"} for date in dates],
        "usage": [
            {"date": date, "agent": agent, "cost_usd": cost}
            for date, day in zip(dates, agents_by_day, strict=True)
            for agent, cost in day
        ],
    }


def test_each_agent_has_the_same_colour_every_week() -> None:
    """Colours went by first appearance: a week that began with Codex drew Codex blue and
    Claude Code orange, the week before the other way round."""
    claude_first = _daily([[("claude-code", 2.0)], [("codex", 1.0)]])
    codex_first = _daily([[("codex", 1.0)], [("claude-code", 2.0)]])
    codex_only = _daily([[("codex", 1.0)]])
    for narrow in (False, True):
        for summary in (claude_first, codex_first):
            svg = chart_svg(summary, "daily", narrow=narrow)
            legend = re.findall(r'class="color-(\d)[^"]*"[^>]*/><text[^>]*>([a-z-]+)<', svg)
            colours = _colours(svg)
            by_agent = {agent: colours[int(index)] for index, agent in legend}
            assert by_agent == {"claude-code": PALETTE[0], "codex": PALETTE[1]}, legend
        assert _colours(chart_svg(codex_only, "daily", narrow=narrow))[0] == PALETTE[1]


def test_an_unpriced_model_is_not_drawn_at_zero_dollars() -> None:
    """The model chart wrote `$0.00` beside a model with no price, where its table says
    `unpriced (1 call)`."""
    summary = {
        "models": [
            {"model": "claude-opus-4-5", "cost_usd": 20.0, "calls": 3},
            {"model": "my-local-llm", "cost_usd": 0.0, "calls": 1, "unpriced_calls": 1},
            {"model": "mixed", "cost_usd": 2.5, "calls": 4, "unpriced_calls": 2},
        ]
    }
    for narrow in (False, True):
        tree = ET.fromstring(chart_svg(summary, "models", narrow=narrow))
        values = [
            t.text for t in tree.iter(f"{SVG}text") if "value" in (t.get("class") or "").split()
        ]
        assert values == ["$2.50 (+2 unpriced)", "unpriced (1 call)", "$20.00"]
        # Its bar is there, 0 wide (pygal left the width out, which a <rect> must have).
        for rect in tree.iter(f"{SVG}rect"):
            assert rect.get("width") is not None, rect.attrib
