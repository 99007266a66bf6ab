"""The HTML summary on a narrow screen (a phone, 320-420 px; the page declares
width=device-width): no table or chart runs past its card, and chart text keeps a legible
size. A table used to spill past its card and the screen's edge, cutting off its last
columns, and a chart scaled down with its card until its text was ~4 px."""

from __future__ import annotations

import os
import re
import subprocess
from array import array
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.ledger import Ledger
from shared.summary import build_summary, parse_week, render
from tests.summary.chromium import CHROMIUM, CHROMIUM_FLAGS

SMALLEST_LEGIBLE_PX = 10
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "wbr", "source"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.text = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def ancestors(self) -> list[Element]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class Page(HTMLParser):
    """Every element of the page with its parent, and the text of each <style>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.styles: list[str] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()
        assert [e.tag for e in self._open] == [], "unbalanced tags"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1] if self._open else None
        element = Element(tag, {k: v or "" for k, v in attrs}, parent)
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1] if self._open else None
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}, parent))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self._open and self._open[-1].tag == tag, (tag, [e.tag for e in self._open])
        element = self._open.pop()
        if tag == "style":
            self.styles.append(element.text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text += data

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]


def css_blocks(css: str) -> list[tuple[str, str, str]]:
    """(media condition or "", selector, declarations) of each rule, one level of @media."""
    rules: list[tuple[str, str, str]] = []
    position = 0
    while (brace := css.find("{", position)) != -1:
        head = css[position:brace].strip()
        if head.startswith("@media"):
            depth, end = 1, brace + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(css[end], 0)
                end += 1
            rules += [
                (" ".join(head.split()), s, d) for _, s, d in css_blocks(css[brace + 1 : end - 1])
            ]
            position = end
        else:
            end = css.index("}", brace)
            rules.append(("", head, css[brace + 1 : end]))
            position = end + 1
    return rules


def declaration(
    rules: list[tuple[str, str, str]], media: str, selector: str, name: str
) -> str | None:
    found = None
    for condition, selectors, body in rules:
        if condition == media and selector in [s.strip() for s in selectors.split(",")]:
            for part in body.split(";"):
                key, _, value = part.partition(":")
                if key.strip() == name:
                    found = value.strip()
    return found


@pytest.fixture
def html(ledger: Ledger, settings: Settings) -> str:
    summary = build_summary(ledger, settings, parse_week("2026-W46"), ZoneInfo("Europe/Berlin"))
    return render(summary, "html")


def test_every_table_scrolls_sideways_inside_its_card(html: str) -> None:
    page = Page(html)
    rules = css_blocks(page.styles[0])
    tables = page.all("table")
    assert len(tables) >= 5
    for table in tables:
        wrapper = table.parent
        assert wrapper is not None and wrapper.tag == "div", "a <table> outside a scrolling box"
        assert "scroll" in wrapper.classes
        assert any(a.tag == "section" for a in wrapper.ancestors())
    assert declaration(rules, "", ".scroll", "overflow-x") == "auto"
    # Printed, nothing scrolls: the box lets its table show.
    assert declaration(rules, "@media print", ".scroll", "overflow") == "visible"


def test_charts_keep_legible_text_on_any_screen(html: str) -> None:
    page = Page(html)
    rules = css_blocks(page.styles[0])
    svgs = [s for s in page.all("svg") if "pygal-chart" in s.classes]
    layouts: Counter[str] = Counter()
    for svg in svgs:
        box = svg.parent
        assert box is not None and "scroll" in box.classes, "a chart outside a scrolling box"
        (layout,) = box.classes & {"chart-wide", "chart-narrow"}
        layouts[layout] += 1
        # It scales with its card (a viewBox, no fixed size) ...
        view_box = [float(n) for n in svg.attrs["viewbox"].split()]
        assert "width" not in svg.attrs and "height" not in svg.attrs
        # ... but never below a width where its smallest text is still legible.
        min_width = declaration(rules, "", f".{layout} svg.pygal-chart", "min-width")
        assert min_width is not None and min_width.endswith("px"), layout
        own_style = next(e for e in page.elements if e.tag == "style" and svg in e.ancestors())
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", own_style.text)]
        smallest = min(s for s in sizes if s < 64)  # 64: the "no data" text
        assert smallest * float(min_width[:-2]) / view_box[2] >= SMALLEST_LEGIBLE_PX - 0.05
        if layout == "chart-narrow":
            # A 360 px phone (12 px page and card paddings) draws it without scrolling.
            assert float(min_width[:-2]) <= 360 - 4 * 12
    # Each chart in both layouts: a narrow one for a phone, shown by a media query.
    assert layouts["chart-wide"] == layouts["chart-narrow"] >= 4
    assert declaration(rules, "", ".chart-narrow", "display") == "none"
    (phone,) = {m for m, s, _ in rules if s == ".chart-narrow" and "max-width" in m}
    assert declaration(rules, phone, ".chart-narrow", "display") == "block"
    assert declaration(rules, phone, ".chart-wide", "display") == "none"
    # Printed, the wide charts show, at the paper's width.
    assert declaration(rules, "@media print", ".chart-narrow", "display") == "none"
    assert declaration(rules, "@media print", ".chart-wide", "display") == "block"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_nothing_spills_past_the_cards_on_a_420px_screen(
    html: str, tmp_path: Path, dark: bool
) -> None:
    """Rendered 420 px wide (in an iframe, so the width is exact), the page's right margin
    holds nothing but the page background: no table or chart runs over it."""
    from PySide6.QtGui import QImage

    assert CHROMIUM is not None
    page = tmp_path / "summary.html"
    page.write_text(html, encoding="utf-8")
    frame = tmp_path / "frame.html"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0;background:#ff00ff">'
        f'<iframe src="{page.as_uri()}" width="420" height="7000" scrolling="no" '
        'style="border:0;display:block"></iframe></body></html>',
        encoding="utf-8",
    )
    png = Path(os.environ.get("BURNMETER_SCREENSHOT_DIR", tmp_path)) / (
        f"summary-420-{'dark' if dark else 'light'}.png"
    )
    png.parent.mkdir(parents=True, exist_ok=True)
    scheme = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    done = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            "--window-size=600,7000",
            *scheme,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            frame.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]

    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB32)
    width = image.width()
    pixels = array("I", bytes(image.constBits()))
    background = pixels[2 * width + 2] & 0xFFFFFF
    assert background != 0xFF00FF
    # The page ends where its last card does; below it the iframe shows the page colour.
    rows = range(image.height())
    margin = range(420 - 8, 420)  # the page's side padding on a phone is 12 px
    stray = Counter(
        y for y in rows for x in margin if pixels[y * width + x] & 0xFFFFFF != background
    )
    assert not stray, (
        f"{sum(stray.values())} pixels in the right margin, rows {min(stray)}-{max(stray)}"
    )
    # And the page was drawn: its cards and charts are there.
    assert (
        len(
            Counter(
                pixels[y * width + x] & 0xFFFFFF
                for y in range(0, 3000, 3)
                for x in range(0, 420, 3)
            )
        )
        > 50
    )
