"""Tray benchmarks: RSS after the first import of a large history, idle CPU with the
watcher running, and appended log line → repainted meter latency.

    python -m bench.generate_corpus /tmp/home1g --size 1GB --files 4000
    python -m bench.tray_bench /tmp/home1g --idle-seconds 60 --appends 30

`HOME` of the tray is the history folder (so it reads that history and nothing of yours)
and the ledger goes to a fresh temporary folder. With `DISPLAY` set (e.g. Xvfb with
trayer) the tray runs on the real X11 platform, otherwise on Qt's offscreen platform.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tray_env(home: Path, data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
    }
    env.update(
        HOME=str(home),
        BURNMETER_DATA_DIR=str(data_dir),
        BURNMETER_CONFIG_DIR=str(data_dir / "config"),
        QT_QPA_PLATFORM="xcb" if os.environ.get("DISPLAY") else "offscreen",
    )
    return env


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def memory_kb(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def wait_for_line(log: Path, needle: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if needle in log.read_text(errors="replace"):
            return time.monotonic() - start
        time.sleep(0.1)
    raise TimeoutError(f"no {needle!r} in {log} after {timeout:.0f} s")


def measure_import_and_idle(home: Path, data_dir: Path, idle_seconds: float) -> dict[str, float]:
    log = data_dir / "tray.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        tray = subprocess.Popen(
            [sys.executable, "-m", "shared", "tray"],
            env=tray_env(home, data_dir),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        import_s = wait_for_line(log, "watching", timeout=3600)
        after_import = memory_kb(tray.pid)
        time.sleep(5)  # let the first refreshes and the engine's first scan settle
        cpu_before, wall_before = cpu_seconds(tray.pid), time.monotonic()
        time.sleep(idle_seconds)
        cpu_used = cpu_seconds(tray.pid) - cpu_before
        wall = time.monotonic() - wall_before
        after_idle = memory_kb(tray.pid)
    finally:
        tray.send_signal(signal.SIGTERM)
        tray.wait(timeout=60)
    return {
        "import_s": import_s,
        "rss_after_import_mb": after_import["VmRSS"] / 1024,
        "peak_rss_mb": after_idle["VmHWM"] / 1024,
        "rss_after_idle_mb": after_idle["VmRSS"] / 1024,
        "idle_cpu_percent": 100 * cpu_used / wall,
        "idle_seconds": wall,
    }


def measure_latency(home: Path, data_dir: Path, appends: int) -> dict[str, float]:
    """Runs `latency_driver` in a child with the tray's environment; returns its figures."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.tray_bench", "--latency-driver", str(appends), str(home)],
        env=tray_env(home, data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def latency_driver(appends: int) -> None:
    """In the tray's own process set-up: the real app, live engine and worker; append a
    model call to a running session every 400 ms and time it until the icon is repainted
    (the app's `snapshot_applied`, emitted right after the tray icon is set)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from shared.commands.context import make_context
    from shared.config import load_settings
    from tray_app.app import BurnmeterApp

    qapp = QApplication([])
    context = make_context(argparse.Namespace(demo=False))
    app = BurnmeterApp(roots=context.roots, ledger_file=context.ledger_file, loaded=load_settings())
    projects = Path(os.environ["HOME"]) / ".claude" / "projects" / "-bench-latency"
    projects.mkdir(parents=True, exist_ok=True)
    session = projects / "bench-latency.jsonl"
    samples: list[float] = []
    pending: dict[str, float] = {}
    state = {"sent": 0}

    def line(n: int) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        record = {
            "type": "assistant",
            "sessionId": "bench-latency",
            "cwd": "/bench/latency",
            "timestamp": ts,
            "requestId": f"req_bench_{n}",
            "message": {
                "id": f"msg_bench_{n}",
                "model": "claude-sonnet-4-5",
                "role": "assistant",
                "content": [],
                "usage": {"input_tokens": 1000 + n, "output_tokens": 100},
            },
        }
        return json.dumps(record) + "\n"

    def append_next() -> None:
        if state["sent"] >= appends:
            return
        n = state["sent"]
        state["sent"] += 1
        pending["t0"] = time.monotonic()
        pending["spent"] = app.snapshot.today_usd if app.snapshot else 0.0
        with session.open("a", encoding="utf-8") as handle:
            handle.write(line(n))

    def applied(snap: object) -> None:
        # Every appended call is priced, so today's spend moves with each one.
        if "t0" in pending and getattr(snap, "today_usd", 0.0) > pending["spent"]:
            samples.append(time.monotonic() - pending.pop("t0"))
            if len(samples) >= appends:
                qapp.quit()
            else:
                QTimer.singleShot(400, append_next)

    app.snapshot_applied.connect(applied)

    def begin() -> None:
        if app.engine is None or app.snapshot is None:
            QTimer.singleShot(200, begin)
            return
        QTimer.singleShot(1000, append_next)

    app.start()
    QTimer.singleShot(200, begin)
    QTimer.singleShot(300_000, qapp.quit)
    qapp.exec()
    app.shutdown()
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))] if ms else float("nan")
    print(
        json.dumps(
            {
                "appends": len(ms),
                "p50_ms": statistics.median(ms) if ms else float("nan"),
                "p95_ms": p95,
                "max_ms": ms[-1] if ms else float("nan"),
            }
        )
    )


def responsiveness_driver() -> None:
    """The first import of the whole history, in the real app, while a 50 ms timer on the
    GUI thread records how late it fires: the longest gap is the longest the window could
    not react (a frozen window would show seconds)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from shared.commands.context import make_context
    from shared.config import load_settings
    from tray_app.app import BurnmeterApp

    qapp = QApplication([])
    context = make_context(argparse.Namespace(demo=False))
    app = BurnmeterApp(roots=context.roots, ledger_file=context.ledger_file, loaded=load_settings())
    gaps: list[float] = []
    last = [time.monotonic()]
    progress_events = [0]

    def beat() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now
        if app.engine is not None:
            qapp.quit()

    app.import_progress.connect(lambda *_: progress_events.__setitem__(0, progress_events[0] + 1))
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(beat)
    app.start()
    last[0] = time.monotonic()
    timer.start()
    started = time.monotonic()
    qapp.exec()
    elapsed = time.monotonic() - started
    app.shutdown()
    ms = sorted(g * 1000 for g in gaps)
    print(
        json.dumps(
            {
                "import_s": elapsed,
                "beats": len(ms),
                "progress_updates": progress_events[0],
                "p99_gap_ms": ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))],
                "max_gap_ms": ms[-1],
            }
        )
    )


def measure_responsiveness(home: Path) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="burnmeter-tray-bench-import-"))
    result = subprocess.run(
        [sys.executable, "-m", "bench.tray_bench", "--responsiveness-driver", str(home)],
        env=tray_env(home, data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    shutil.rmtree(data_dir, ignore_errors=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path, help="a history folder used as HOME")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--appends", type=int, default=30)
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="reuse this data dir (its ledger already imported) instead of a fresh one",
    )
    parser.add_argument(
        "--responsiveness",
        action="store_true",
        help="also time the GUI thread during a second first import (in a fresh ledger)",
    )
    parser.add_argument("--latency-driver", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--responsiveness-driver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.latency_driver:
        latency_driver(args.latency_driver)
        return 0
    if args.responsiveness_driver:
        responsiveness_driver()
        return 0
    size = sum(p.stat().st_size for p in args.home.rglob("*") if p.is_file())
    files = sum(1 for p in args.home.rglob("*.jsonl*"))
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="burnmeter-tray-bench-"))
    print(f"history: {args.home} ({size / 1e9:.2f} GB, {files} log files); ledger: {data_dir}")
    first = measure_import_and_idle(args.home, data_dir, args.idle_seconds)
    for key, value in first.items():
        print(f"{key}: {value:.2f}")
    try:
        latency = measure_latency(args.home, data_dir, args.appends)
    finally:
        # The driver's session lives in the history; leave the history as it was.
        shutil.rmtree(args.home / ".claude" / "projects" / "-bench-latency", ignore_errors=True)
    for key, value in latency.items():
        print(f"latency {key}: {value:.1f}")
    ledger = data_dir / "ledger.sqlite"
    print(f"ledger size: {ledger.stat().st_size / 1e6:.0f} MB")
    if args.responsiveness:
        for key, value in measure_responsiveness(args.home).items():
            print(f"during first import {key}: {value:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
