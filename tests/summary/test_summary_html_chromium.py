"""The HTML summary rendered by headless Chromium (Debian's `chromium`) to PNG, in light
and dark mode, and the pictures checked: not blank, the chart colours present, and the
page background following the colour scheme."""

from __future__ import annotations

import os
import re
import subprocess
from array import array
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import Settings
from shared.ledger import Ledger
from shared.summary import build_summary, parse_week, render
from shared.summary.charts import PALETTE
from tests.summary.chromium import CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

FLAGS = [*CHROMIUM_FLAGS, "--window-size=1000,2400"]


def screenshot(page: Path, png: Path, profile: Path, *, dark: bool) -> None:
    scheme = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            *scheme,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.exists(), done.stderr[-2000:]


def pixel_counts(png: Path) -> tuple[dict[str, int], tuple[int, int, int], int]:
    """How many pixels are close to each palette colour, the top-left (background)
    colour, and how many distinct colours the picture has."""
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull()
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = array("I", bytes(image.constBits()))
    histogram = Counter(pixel & 0xFFFFFF for pixel in pixels)
    counts = dict.fromkeys(PALETTE, 0)
    for colour in PALETTE:
        tr, tg, tb = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        for rgb, count in histogram.items():
            r, g, b = rgb >> 16, (rgb >> 8) & 0xFF, rgb & 0xFF
            if abs(r - tr) + abs(g - tg) + abs(b - tb) <= 12:
                counts[colour] += count
    corner = pixels[2 * image.width() + 2] & 0xFFFFFF
    return counts, (corner >> 16, (corner >> 8) & 0xFF, corner & 0xFF), len(histogram)


def test_html_summary_renders_in_chromium_light_and_dark(
    ledger: Ledger, settings: Settings, tmp_path: Path
) -> None:
    summary = build_summary(ledger, settings, parse_week("2026-W46"), ZoneInfo("Europe/Berlin"))
    html = render(summary, "html")
    # Self-contained: no scripts, nothing fetched; the CSP would block both anyway.
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "default-src 'none'" in html
    page = tmp_path / "summary.html"
    page.write_text(html, encoding="utf-8")
    # Keep the screenshots next to the test output for a person to look at.
    shots = Path(os.environ.get("BURNMETER_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    results = {}
    for dark in (False, True):
        png = shots / f"summary-{'dark' if dark else 'light'}.png"
        screenshot(page, png, tmp_path / f"profile-{dark}", dark=dark)
        results[dark] = pixel_counts(png)

    for dark, (counts, background, distinct) in results.items():
        assert distinct > 50, "the page looks blank"
        # Two agents in the daily chart and three models/repos: the first colours appear
        # as solid bars, not a stray pixel or two.
        for colour, least in zip(PALETTE[:3], (2000, 2000, 500), strict=True):
            assert counts[colour] > least, (dark, colour, counts)
        brightness = sum(background)
        assert brightness < 150 if dark else brightness > 700, (dark, background)
