"""A process's memory figures from /proc/PID/status (Linux), for the tests that check a
long-running front end keeps none of what each request or repaint allocates. Also imported
by the helper processes those tests start (PYTHONPATH is the repository)."""

from __future__ import annotations

from pathlib import Path


def status_kib(field: str, pid: int | str = "self") -> int:
    """`VmRSS`, `RssAnon`, … of process `pid`, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")
