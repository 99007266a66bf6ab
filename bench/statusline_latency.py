"""How long `burnmeter statusline` takes, as Claude Code runs it on every refresh.

    .venv/bin/python -m bench.statusline_latency [runs] [calls] [path/to/burnmeter]

Builds a throwaway ledger holding `calls` Claude Code model calls spread over the last 30
days (written as transcripts and read by the real ingest), then runs the installed
`burnmeter statusline` `runs` times with a statusLine JSON on stdin, as a fresh process
each time, and prints min / median / p95 wall and CPU time next to a bare `python -c pass`
of the same environment. Give the `burnmeter` of a regular (non-editable) install to
leave out the editable install's import hook, which slows every start.
Results go in bench/RESULTS-insights.md.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.insights.agent_logs import ClaudeSession

STATUS = {
    "session_id": "bench-session",
    "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"},
    "workspace": {"current_dir": "/home/dev/shop"},
    "cost": {"total_cost_usd": 3.21, "total_lines_added": 10},
    "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": int(time.time()) + 3600}},
}


def build_history(claude_dir: Path, calls: int) -> None:
    rng = random.Random(1)
    now = int(time.time() * 1000)
    sessions = [
        ClaudeSession(claude_dir, f"bench-{k:04d}", f"/home/dev/p{k % 7}") for k in range(60)
    ]
    for _ in range(calls):
        ts = now - rng.randrange(0, 30 * 86_400_000)
        rng.choice(sessions).assistant(
            ts, input_tokens=50, output_tokens=800, cache_write=3000, cache_read=60_000
        )
    for session in sessions:
        session.lines.sort(key=lambda line: line["timestamp"])
        session.write()


CPU_MS: list[float] = []


def timed(command: list[str], stdin: bytes, env: dict[str, str]) -> float:
    """Wall time of one run (ms); its CPU time (user + system) goes to CPU_MS, which a
    busy machine inflates far less than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, input=stdin, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_MS.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return wall


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return f"min {ordered[0]:.1f} ms, median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms"


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    load = os.getloadavg()[0]
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    burnmeter = (
        sys.argv[3] if len(sys.argv) > 3 else str(Path(sys.executable).with_name("burnmeter"))
    )
    python = str(Path(burnmeter).with_name("python"))
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        build_history(home / ".claude", calls)
        env = {
            **os.environ,
            "HOME": folder,
            "BURNMETER_DATA_DIR": str(home / "data"),
            "BURNMETER_CONFIG_DIR": str(home / "config"),
        }
        ledger = open_ledger(home / "data" / "ledger.sqlite")
        ingest(ledger, [LogRoot(CLAUDE, home / ".claude" / "projects")])
        ledger.close()
        stdin = json.dumps(STATUS).encode()
        timed([burnmeter, "statusline"], stdin, env)  # warm the page cache
        line = (
            subprocess.run(
                [burnmeter, "statusline"], input=stdin, env=env, capture_output=True, check=True
            )
            .stdout.decode()
            .strip()
        )
        CPU_MS.clear()
        base = [timed([python, "-c", "pass"], b"", env) for _ in range(runs)]
        base_cpu = list(CPU_MS)
        CPU_MS.clear()
        status = [timed([burnmeter, "statusline"], stdin, env) for _ in range(runs)]
        status_cpu = list(CPU_MS)
        # As when the tray, `watch` or the language server runs: another connection holds
        # the ledger open, so a statusline run is not the last one out and skips the
        # WAL checkpoint SQLite does when the last connection closes.
        holder = open_ledger(home / "data" / "ledger.sqlite")
        CPU_MS.clear()
        held = [timed([burnmeter, "statusline"], stdin, env) for _ in range(runs)]
        held_cpu = list(CPU_MS)
        holder.close()
    print(f"ledger: {calls} calls; {runs} runs each; {os.cpu_count()} CPUs; {burnmeter}")
    print(f"output: {line}")
    print(f"load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
    print(f"python -c pass:        wall {summary(base)}; CPU {summary(base_cpu)}")
    print(f"burnmeter statusline:  wall {summary(status)}; CPU {summary(status_cpu)}")
    print(f"  ledger held open:    wall {summary(held)}; CPU {summary(held_cpu)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
