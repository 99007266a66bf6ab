"""A Python process of the tray's, run to the end on Qt's offscreen platform."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_offscreen(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python ARGS` from the checkout, with the test's environment and no screen."""
    return subprocess.run(
        [sys.executable, *args],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
