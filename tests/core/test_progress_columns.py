"""The ingest's progress bar on an 80-column terminal, while it reads and while it waits."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.progress import Progress

from shared.commands.progress import progress_columns

WAITING = "Waiting for another burnmeter process to finish reading the logs"


def drawn(description: str, **task: object) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    with Progress(*progress_columns(), console=console, auto_refresh=False) as progress:
        progress.add_task(description, **task)  # type: ignore[arg-type]
        progress.refresh()
    # The text as the terminal shows it: without the cursor and line-clearing escapes.
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).replace("\r", "\n")
    return [line for line in text.splitlines() if line.strip()]


def test_waiting_shows_no_byte_count_speed_or_time_and_keeps_to_one_line() -> None:
    """It showed `0/? bytes ?` beside the wait, and at 80 columns `bytes` on a line of its
    own."""
    lines = drawn(WAITING, total=None, waiting=True)
    assert any(WAITING in line for line in lines)
    assert all("bytes" not in line and "?" not in line for line in lines), lines


def test_reading_shows_bytes_speed_and_time_left() -> None:
    lines = drawn("Reading agent logs", total=10_000_000, completed=2_500_000, waiting=False)
    assert any("2.5/10.0 MB" in line for line in lines), lines
