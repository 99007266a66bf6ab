"""burnmeter against ccusage 20.0.24 on the same ~1 GB, ~4,000-file synthetic history.

    python -m bench.ingest_vs_ccusage                 # generate (once) and measure, 3 runs
    python -m bench.ingest_vs_ccusage --write bench/RESULTS.md

What it measures, each run on the same tree (HOME pointed at it, page cache warm for both):
- ccusage: `ccusage daily --json --offline -z UTC` (it reads Claude Code and Codex logs
  in one run since 20.x);
- burnmeter cold: `burnmeter ingest` into an empty BURNMETER_DATA_DIR;
- burnmeter warm: `burnmeter report daily --json --tz UTC` right after (nothing new to read);
- memory: `burnmeter ingest` of one 700 MB Claude Code session file, peak RSS.
burnmeter runs from a regular (non-editable) install of this checkout in a venv of its
own, as a user who installs the package gets it; the warm report is also timed from the
repository's editable `.venv`, as a developer runs it.
Wall time, CPU time (user + sys, children included) and peak RSS come from
`/usr/bin/time`; the median of the runs is reported. It also checks that burnmeter's daily
totals equal the generator's expected.json, day by day and model by model, and compares
ccusage's totals with them. Nothing here is a unit test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate_corpus import generate, generate_single_file, parse_size

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("BURNMETER_BENCH_DATA", "/work/bench-data"))
DEFAULT_CCUSAGE = Path("/work/ccusage/node_modules/.bin/ccusage")
FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "total_tokens",
)


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    stdout: str


def timed(command: list[str], env: dict[str, str]) -> Run:
    """Run `command` under /usr/bin/time; wall s, user+sys s, peak RSS MB, stdout."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        completed = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%e %U %S %M", *command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
        wall, user, system, rss_kb = report.read().split()[-4:]
    return Run(float(wall), float(user) + float(system), int(rss_kb) / 1024, completed.stdout)


def clean_env(home: Path, data: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BURNMETER")}
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        env.pop(key, None)
    env.update(
        HOME=str(home),
        BURNMETER_DATA_DIR=str(data),
        BURNMETER_CONFIG_DIR=str(data / "config"),
        TZ="UTC",
    )
    return env


def regular_install(venv: Path) -> Path:
    """`burnmeter` from a regular install of this checkout into `venv` (created on first
    use; dependencies brought up to date and the package itself reinstalled every time, so
    it is the code as it is now). pip compiles the bytecode at install time, as for any user; an
    editable install reads the source tree instead (and where PYTHONDONTWRITEBYTECODE is
    set, as on the project's build machine, compiles it again on every start)."""
    python = venv / "bin" / "python"
    # The first step brings dependencies the checkout gained since the venv was made (a
    # no-op otherwise); the second replaces the package even when its version is the same.
    steps = [
        [str(python), "-m", "pip", "install", "-q"],
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall"],
    ]
    if not python.exists():
        print(f"creating {venv} …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for step in steps:
        done = subprocess.run([*step, str(REPO)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(step)} {REPO} failed:\n{done.stderr[-2000:]}")
    return venv / "bin" / "burnmeter"


def ensure_history(folder: Path, size: int, files: int, seed: int) -> Path:
    home = folder / "home"
    if not (folder / "expected.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {size / 1e9:.1f} GB, {files} files into {home} …", file=sys.stderr)
        generate(home, size, files, seed, days=60)
    return home


def ensure_single(folder: Path, size: int, seed: int) -> Path:
    home = folder / "home"
    if not (folder / "expected.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating one {size / 1e6:.0f} MB session into {home} …", file=sys.stderr)
        generate_single_file(home, size, seed)
    return home


def check_against_expected(report: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Differences between a `report daily --json` and the generator's expected totals."""
    problems = []
    ours = {row["date"]: row for row in report["daily"]}
    if sorted(ours) != [row["date"] for row in expected["daily"]]:
        problems.append("days differ")
    for row in expected["daily"]:
        got = ours.get(row["date"], {})
        for field in FIELDS:
            if got.get(field) != row[field]:
                problems.append(f"{row['date']} {field}: {got.get(field)} != {row[field]}")
        for model, counts in row["models"].items():
            got_model = got.get("models", {}).get(model, {})
            for field in FIELDS:
                if got_model.get(field, 0) != counts[field]:
                    problems.append(f"{row['date']} {model} {field}")
    return problems


def ccusage_totals(output: str) -> dict[str, int]:
    totals = json.loads(output)["totals"]
    return {
        "input_tokens": totals["inputTokens"],
        "output_tokens": totals["outputTokens"],
        "cache_write_tokens": totals["cacheCreationTokens"],
        "cache_read_tokens": totals["cacheReadTokens"],
        "total_tokens": totals["totalTokens"],
    }


def median(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_vs_ccusage")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where corpora live")
    parser.add_argument("--ccusage", type=Path, default=DEFAULT_CCUSAGE)
    parser.add_argument(
        "--burnmeter",
        type=Path,
        help="the burnmeter to measure (default: a regular install of this checkout into "
        "DATA/venv, made or refreshed first)",
    )
    parser.add_argument(
        "--editable-burnmeter",
        type=Path,
        default=REPO / ".venv" / "bin" / "burnmeter",
        help="also time the warm report with this one (default: the repository's .venv)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=parse_size, default=parse_size("1GB"))
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--single", type=parse_size, default=parse_size("700MB"))
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--write", type=Path, help="also write the results as Markdown here")
    args = parser.parse_args(argv)

    history = ensure_history(args.data / "history", args.size, args.files, seed=1)
    if args.burnmeter is None:
        args.burnmeter = regular_install(args.data / "venv")
    editable = args.editable_burnmeter if args.editable_burnmeter.exists() else None
    args.load_before = os.getloadavg()
    expected = json.loads((history.parent / "expected.json").read_text())
    work = args.data / "runs"
    ccusage, cold, warm, warm_editable = [], [], [], []
    problems: list[str] = []
    cc_totals: dict[str, int] = {}
    for number in range(args.runs):
        print(f"run {number + 1}/{args.runs}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        env = clean_env(history, work / "ledger")
        run = timed([str(args.ccusage), "daily", "--json", "--offline", "-z", "UTC"], env)
        cc_totals = ccusage_totals(run.stdout)
        ccusage.append(run)
        cold.append(timed([str(args.burnmeter), "ingest"], env))
        warm_runs = [
            timed([str(args.burnmeter), "report", "daily", "--json", "--tz", "UTC"], env)
            for _ in range(3)
        ]
        warm.append(min(warm_runs, key=lambda r: r.wall))
        if editable is not None:
            editable_runs = [
                timed([str(editable), "report", "daily", "--json", "--tz", "UTC"], env)
                for _ in range(3)
            ]
            warm_editable.append(min(editable_runs, key=lambda r: r.wall))
        problems = check_against_expected(json.loads(warm[-1].stdout), expected)
    single: Run | None = None
    if not args.skip_single:
        single_home = ensure_single(args.data / "single", args.single, seed=1)
        singles = []
        for _ in range(args.runs):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            singles.append(timed([str(args.burnmeter), "ingest"], clean_env(single_home, work)))
        single = sorted(singles, key=lambda r: r.rss_mb)[len(singles) // 2]
    shutil.rmtree(work, ignore_errors=True)
    args.load_after = os.getloadavg()

    markdown = render(
        args, expected, ccusage, cold, warm, warm_editable, single, problems, cc_totals
    )
    print(markdown)
    if args.write:
        existing = args.write.read_text() if args.write.exists() else None
        try:
            args.write.write_text(splice_latest(existing, markdown))
        except ValueError as exc:
            raise SystemExit(f"{args.write}: {exc}") from exc
    return 1 if problems else 0


LATEST_BEGIN = "<!-- latest measurement: begin (bench.ingest_vs_ccusage --write) -->"
LATEST_END = "<!-- latest measurement: end -->"


def splice_latest(existing: str | None, block: str) -> str:
    """The results file with `block` as its latest measurement: between the two markers of
    an existing file (the rest, written by hand, is kept), or a new file of its own."""
    section = f"{LATEST_BEGIN}\n{block.strip()}\n{LATEST_END}"
    if existing is None:
        return section + "\n"
    begin, end = existing.find(LATEST_BEGIN), existing.find(LATEST_END)
    if begin < 0 or end < begin:
        raise ValueError(
            f"the file has no '{LATEST_BEGIN}' … '{LATEST_END}' section to replace; "
            "add the two lines where the latest measurement goes, or write to a new file"
        )
    return existing[:begin] + section + existing[end + len(LATEST_END) :]


def render(
    args: argparse.Namespace,
    expected: dict[str, Any],
    ccusage: list[Run],
    cold: list[Run],
    warm: list[Run],
    warm_editable: list[Run],
    single: Run | None,
    problems: list[str],
    cc_totals: dict[str, int],
) -> str:
    cc_wall = median(ccusage, "wall")
    cc_cpu = median(ccusage, "cpu")
    lines = [
        f"History: {expected['files']} files, {expected['bytes'] / 1e6:,.0f} MB, "
        f"{expected['totals']['calls']:,} model calls, both agents "
        f"(`python -m bench.generate_corpus HOME --size {args.size} --files {args.files} "
        "--seed 1`).",
        f"Median of {len(ccusage)} runs; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on "
        f"{os.cpu_count()} cores shared with other work: load average (1/5/15 min) "
        f"{'/'.join(f'{x:.2f}' for x in args.load_before)} before the runs, "
        f"{'/'.join(f'{x:.2f}' for x in args.load_after)} after.",
        "",
        "| what | wall s | CPU s | peak RSS MB | ratio to ccusage: wall (CPU) | target |",
        "|---|---:|---:|---:|---:|---|",
        f"| ccusage 20.0.24 `daily --json --offline` | {cc_wall:.2f} | "
        f"{cc_cpu:.2f} | {median(ccusage, 'rss_mb'):.0f} | 1.00 | |",
        f"| burnmeter cold `ingest` (empty ledger) | {median(cold, 'wall'):.2f} | "
        f"{median(cold, 'cpu'):.2f} | {median(cold, 'rss_mb'):.0f} | "
        f"{median(cold, 'wall') / cc_wall:.2f} ({median(cold, 'cpu') / cc_cpu:.2f}) "
        "| ≤ 1.00 |",
        f"| burnmeter warm `report daily --json` | {median(warm, 'wall'):.3f} | "
        f"{median(warm, 'cpu'):.3f} | {median(warm, 'rss_mb'):.0f} | "
        f"{median(warm, 'wall') / cc_wall:.3f} ({median(warm, 'cpu') / cc_cpu:.3f}) "
        "| ≤ 0.05 |",
    ]
    if warm_editable:
        e_wall, e_cpu = median(warm_editable, "wall"), median(warm_editable, "cpu")
        lines.append(
            f"| same, from the repository's editable `.venv` | {e_wall:.3f} | {e_cpu:.3f} | "
            f"{median(warm_editable, 'rss_mb'):.0f} | {e_wall / cc_wall:.3f} "
            f"({e_cpu / cc_cpu:.3f}) | |"
        )
    if single is not None:
        lines.append(
            f"| burnmeter `ingest` of one {args.single / 1e6:.0f} MB file | {single.wall:.2f} | "
            f"{single.cpu:.2f} | {single.rss_mb:.0f} | | ≤ 200 MB RSS |"
        )
    lines += [
        "",
        "Ratios of the medians. Per run (the three tools back to back), cold/ccusage wall: "
        + ", ".join(f"{b.wall / a.wall:.2f}" for a, b in zip(ccusage, cold, strict=True))
        + "; warm/ccusage wall: "
        + ", ".join(f"{b.wall / a.wall:.3f}" for a, b in zip(ccusage, warm, strict=True))
        + ".",
        "",
        "Per-run wall seconds: ccusage "
        + ", ".join(f"{r.wall:.2f}" for r in ccusage)
        + "; burnmeter cold "
        + ", ".join(f"{r.wall:.2f}" for r in cold)
        + "; warm "
        + ", ".join(f"{r.wall:.3f}" for r in warm)
        + (
            "; warm from the editable .venv " + ", ".join(f"{r.wall:.3f}" for r in warm_editable)
            if warm_editable
            else ""
        )
        + ".",
        "",
        "Totals: burnmeter's daily report equals the generator's expected.json day by day and "
        "model by model: " + ("yes." if not problems else f"NO ({len(problems)} differences)."),
        "ccusage's totals equal expected.json: "
        + (
            "yes."
            if all(cc_totals.get(f) == expected["totals"][f] for f in FIELDS)
            else f"no ({cc_totals} vs {expected['totals']})."
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
