"""How long the warm reports over every session take: `report sessions` (table and JSON),
`report repos` and the weekly `summary`, on a ledger already built, for one source tree
or several compared run by run.

    .venv/bin/python -m bench.report_sessions --home HOME --data DATA_DIR \\
        [--tree NAME=PATH ...] [--runs 5] [--week 2026-W05] [--ccusage DIR] [--only TEXT]

`--home` and `--data` are the HOME and BURNMETER_DATA_DIR the reports read (build the
ledger once with `burnmeter ingest`; the reports run with `--no-ingest`). Each `--tree`
is a checkout whose `shared` package runs the reports (`PYTHONPATH=PATH python -m
shared`, with this interpreter; default: this checkout): e.g. `git archive <commit> | tar
-x -C /tmp/before` and `--tree before=/tmp/before --tree after=.`. Every run times each
command once per tree, the trees' order rotating from run to run, so a slow spell of the
machine falls on all of them. Prints the median wall and CPU seconds of each, and whether
every tree printed the same bytes (the summary's `generated_at` line left out), and the
median peak resident size of each.
`--only TEXT` (repeatable) runs only the commands whose name holds TEXT.
`--ccusage DIR` adds ccusage's `session --offline` (DIR/node_modules/.bin/ccusage) on the
same HOME, for scale: it parses every log cold. Results go in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands(week: str) -> dict[str, list[str]]:
    return {
        "report sessions (table, piped)": ["report", "sessions", "--no-ingest"],
        "report sessions --json": ["report", "sessions", "--json", "--no-ingest"],
        "report repos (table, piped)": ["report", "repos", "--no-ingest"],
        "report repos --json": ["report", "repos", "--json", "--no-ingest"],
        "report sessions --json --no-insights": [
            "report",
            "sessions",
            "--json",
            "--no-insights",
            "--no-ingest",
        ],
        f"summary --week {week} --format json": [
            "summary",
            "--week",
            week,
            "--format",
            "json",
            "--no-ingest",
            "--tz",
            "UTC",
        ],
    }


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str, float]:
    """Wall and CPU seconds of one run, a digest of what it printed, and its peak resident
    size in MB (its own, from `wait4`)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stderr.close()
        wall = time.perf_counter() - start
        if child.returncode != 0:
            raise subprocess.CalledProcessError(child.returncode, argv, stderr=errors)
        out.seek(0)
        stdout = out.read()
    cpu = usage.ru_utime + usage.ru_stime
    printed = b"\n".join(
        line for line in stdout.split(b"\n") if not line.strip().startswith(b'"generated_at"')
    )
    return wall, cpu, hashlib.sha256(printed).hexdigest()[:12], usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--week", default="2026-W05")
    parser.add_argument("--ccusage", type=Path)
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT", help="commands whose name holds TEXT"
    )
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.tree) or {"this": str(ROOT)}
    env = {**os.environ, "HOME": str(args.home), "BURNMETER_DATA_DIR": str(args.data)}
    runs: dict[tuple[str, str], list[tuple[float, float, str, float]]] = {}
    names = list(trees)
    load_before = os.getloadavg()[0]
    for run in range(args.runs):
        order = names[run % len(names) :] + names[: run % len(names)]
        chosen = {
            label: argv
            for label, argv in commands(args.week).items()
            if not args.only or any(text in label for text in args.only)
        }
        for label, argv in chosen.items():
            for name in order:
                tree_env = {**env, "PYTHONPATH": str(Path(trees[name]).resolve())}
                argv_full = [sys.executable, "-m", "shared", *argv]
                runs.setdefault((label, name), []).append(timed(argv_full, tree_env, Path("/")))
        if args.ccusage is not None:
            ccusage = [str(args.ccusage / "node_modules" / ".bin" / "ccusage"), "session"]
            runs.setdefault(("ccusage session --offline", "ccusage"), []).append(
                timed([*ccusage, "--offline"], env, args.ccusage)
            )
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print("| command | tree | median wall s | median CPU s | peak RSS MB | runs | output |")
    print("|---|---|---:|---:|---:|---:|---|")
    for (label, name), results in runs.items():
        digests = {
            digest
            for (other_label, _), rs in runs.items()
            if other_label == label
            for _, _, digest, _ in rs
        }
        same = "same in every tree" if len(digests) == 1 else f"{len(digests)} different"
        if name == "ccusage":
            same = ""
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        rss = statistics.median(r[3] for r in results)
        figures = f"{wall:.2f} | {cpu:.2f} | {rss:.0f} | {len(results)}"
        print(f"| {label} | {name} | {figures} | {same} |")


if __name__ == "__main__":
    main()
