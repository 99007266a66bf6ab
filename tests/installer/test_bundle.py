"""Smoke test of the PyInstaller bundle: build it, then run the frozen programs.

A build takes about a minute and a half on two cores (bench/RESULTS-installer.md), so it
runs only when asked: BURNMETER_BUILD_TEST=1 builds the bundle into a temp folder, or
BURNMETER_BUNDLE=dist/burnmeter tests one already built. Otherwise these tests are
skipped (and a skipped test proves nothing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import build_installer as plan
from bench.generate_corpus import generate
from shared.ingest.run import PARALLEL_THRESHOLD_BYTES
from shared.reports import TOKEN_FIELDS
from tests.logfixtures import claude_call, session_file

BUILD_REQUESTED = os.environ.get("BURNMETER_BUILD_TEST") == "1"
PREBUILT = os.environ.get("BURNMETER_BUNDLE")

pytestmark = pytest.mark.skipif(
    not (BUILD_REQUESTED or PREBUILT),
    reason="bundle build is slow: set BURNMETER_BUILD_TEST=1 (or BURNMETER_BUNDLE=dist/burnmeter)",
)

DAY_MS = 86_400_000
MARCH_2_2026_NOON_MS = 1_772_452_800_000


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if PREBUILT:
        yield Path(PREBUILT).resolve()
        return
    out = tmp_path_factory.mktemp("bundle")
    result = subprocess.run(
        [
            sys.executable,
            str(plan.ROOT / "build_installer.py"),
            f"--dist={out / 'dist'}",
            f"--work={out / 'work'}",
        ],
        capture_output=True,
        text=True,
        # PyInstaller's cache stays in the temp folder, not the developer's ~/.cache.
        env={**os.environ, "PYINSTALLER_CONFIG_DIR": str(out / "pyinstaller-cache")},
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield out / "dist" / plan.BUNDLE_NAME


def write_history(home: Path) -> None:
    projects = home / ".claude" / "projects"
    first = session_file(projects, "/work/demo-repo", "session-a")
    first.write_text(
        claude_call(
            message_id="m1",
            session_id="session-a",
            cwd="/work/demo-repo",
            ts_ms=MARCH_2_2026_NOON_MS,
            model="claude-sonnet-4-5-20250929",
            input_tokens=1200,
            output_tokens=300,
            cache_read=5000,
        )
        + claude_call(
            message_id="m2",
            session_id="session-a",
            cwd="/work/demo-repo",
            ts_ms=MARCH_2_2026_NOON_MS + DAY_MS,
            model="claude-opus-4-7",
            input_tokens=800,
            output_tokens=100,
        )
    )


def run(program: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program), *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=timeout,
    )


def assert_help_works(bundle: Path, command: str) -> None:
    """`burnmeter COMMAND --help` from the bundle exits 0: a failure is a broken bundle
    (a module or data file left out), never a reason to skip."""
    result = run(plan.bundle_executable(bundle), command, "--help")
    assert result.returncode == 0, (
        f"bundled `burnmeter {command} --help` exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def test_bundle_version_names_the_bundle(bundle: Path) -> None:
    result = run(plan.bundle_executable(bundle), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"burnmeter {plan.version()} (bundle: {bundle})"


def test_bundle_runs_through_a_symlink_on_path(bundle: Path, tmp_path: Path) -> None:
    """The README's install puts a symlink in ~/.local/bin; the bundle still finds itself."""
    link = tmp_path / "bin" / "burnmeter"
    link.parent.mkdir()
    link.symlink_to(plan.bundle_executable(bundle))
    result = run(link, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"burnmeter {plan.version()} (bundle: {bundle})"


def test_bundle_daily_report_matches_the_source_tree(bundle: Path, isolated_home: Path) -> None:
    write_history(isolated_home)
    frozen = run(plan.bundle_executable(bundle), "report", "daily", "--json")
    assert frozen.returncode == 0, frozen.stderr
    report = json.loads(frozen.stdout)

    assert [row["date"] for row in report["daily"]] == ["2026-03-02", "2026-03-03"]
    first, second = report["daily"]
    assert (first["input_tokens"], first["output_tokens"], first["cache_read_tokens"]) == (
        1200,
        300,
        5000,
    )
    assert list(first["models"]) == ["claude-sonnet-4-5-20250929"]
    # Priced from genai-prices' data inside the bundle, not shown as unpriced.
    assert first["cost_usd"] > 0 and "unpriced_calls" not in first
    assert second["cost_usd"] > 0 and "unpriced_calls" not in second

    # The same ledger read by the unfrozen code gives the same numbers.
    source = subprocess.run(
        [sys.executable, "-m", "shared", "report", "daily", "--json", "--no-ingest"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert source.returncode == 0, source.stderr
    assert json.loads(source.stdout) == report


def test_bundle_weekly_summary_draws_its_charts(
    bundle: Path, isolated_home: Path, tmp_path: Path
) -> None:
    write_history(isolated_home)
    page = tmp_path / "week.html"
    result = run(plan.bundle_executable(bundle), "summary", "--week", "2026-W10", "-o", str(page))
    assert result.returncode == 0, result.stderr
    html = page.read_text()
    assert "<svg" in html
    assert "week 2026-W10" in html and "sonnet-4-5" in html


def test_bundle_doctor_shows_bundle_resources_and_ledger(bundle: Path, isolated_home: Path) -> None:
    result = run(plan.bundle_executable(bundle), "doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frozen"] is True
    assert report["executable"] == str(plan.bundle_executable(bundle))
    resources = Path(report["resources"])
    assert resources.is_relative_to(bundle)
    assert report["resources_ok"] is True
    # Every file of resources/ that the build takes (price overrides, tier policy, icons,
    # the demo history, editor files) is where frozen code looks for it.
    wanted = {
        (Path(dest) / Path(src).name).relative_to("resources").as_posix()
        for src, dest in plan.resource_datas()
    }
    bundled = {p.relative_to(resources).as_posix() for p in resources.rglob("*") if p.is_file()}
    assert wanted <= bundled
    assert {"burnmeter.desktop", "icons/burnmeter.svg", "tier_policy.json"} <= bundled
    data_dir = Path(os.environ["BURNMETER_DATA_DIR"])
    assert report["data_dir"] == str(data_dir)
    assert report["ledger"]["path"] == str(data_dir / "ledger.sqlite")
    assert (data_dir / "ledger.sqlite").is_file()


def test_bundle_install_desktop_points_at_the_bundled_tray(
    bundle: Path, isolated_home: Path
) -> None:
    result = run(plan.bundle_executable(bundle), "install-desktop")
    assert result.returncode == 0, result.stderr
    entry = isolated_home / ".local/share/applications/burnmeter.desktop"
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    assert exec_line == f"Exec={plan.bundle_executable(bundle, plan.TRAY_EXECUTABLE)}"


@pytest.fixture
def x_display() -> Iterator[str]:
    """A private Xvfb display with a tray host (trayer) on it."""
    for tool in ("Xvfb", "trayer", "xdotool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: xvfb, trayer, xdotool)")
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        display = ":" + numbers.readline().strip()
    env = {**os.environ, "DISPLAY": display}
    trayer = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield display
    finally:
        for process in (trayer, xvfb):
            process.terminate()
            process.wait(timeout=10)


def burnmeter_windows(display: str) -> list[str]:
    found = subprocess.run(
        ["xdotool", "search", "--class", "burnmeter"],
        capture_output=True,
        text=True,
        env={**os.environ, "DISPLAY": display},
    )
    return found.stdout.split()


def start_bundled_tray(bundle: Path, home: Path, display: str) -> subprocess.Popen[str]:
    """The bundled tray on a real X display (Qt's offscreen platform switched off)."""
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "DISPLAY": display, "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.Popen(
        [str(plan.bundle_executable(bundle, plan.TRAY_EXECUTABLE))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_bundled_tray_runs_under_x(bundle: Path, isolated_home: Path, x_display: str) -> None:
    assert_help_works(bundle, "tray")
    write_history(isolated_home)
    tray = start_bundled_tray(bundle, isolated_home, x_display)
    try:
        deadline = time.monotonic() + 20
        while not burnmeter_windows(x_display) and time.monotonic() < deadline:
            assert tray.poll() is None, tray.communicate()[1]
            time.sleep(0.25)
        assert burnmeter_windows(x_display), "the tray showed no window within 20 s"
        time.sleep(3)  # a few seconds of running: the live engine, the first repaint
        assert tray.poll() is None, tray.communicate()[1]
    finally:
        tray.terminate()
        _, stderr = tray.communicate(timeout=20)
    assert tray.returncode == 0, stderr
    for sign_of_a_broken_bundle in (
        "ModuleNotFoundError",
        "ImportError",
        "qt.qpa.plugin",
        "Traceback",
    ):
        assert sign_of_a_broken_bundle not in stderr, stderr


def lsp_message(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_bundled_language_server_answers_initialize(bundle: Path, isolated_home: Path) -> None:
    assert_help_works(bundle, "lsp")
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": None, "rootUri": None, "capabilities": {}},
    }
    exit_notification = {"jsonrpc": "2.0", "method": "exit"}
    shutdown = {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}
    server = subprocess.run(
        [str(plan.bundle_executable(bundle)), "lsp"],
        input=lsp_message(initialize) + lsp_message(shutdown) + lsp_message(exit_notification),
        capture_output=True,
        env=os.environ.copy(),
        timeout=60,
    )
    first_body = server.stdout.split(b"\r\n\r\n", 1)[1]
    length = int(server.stdout.split(b"\r\n", 1)[0].split(b":")[1])
    answer = json.loads(first_body[:length])
    assert answer["id"] == 1, server.stderr.decode()
    assert answer["result"]["serverInfo"]["name"] == "burnmeter"
    assert "ModuleNotFoundError" not in server.stderr.decode()


def test_bundle_carries_the_metadata_that_libraries_read_at_run_time(bundle: Path) -> None:
    # genai-prices reads its version from it; keyring finds its OS backends through its
    # entry points (without them a frozen keyring can only fail).
    internal = bundle / "_internal"
    assert list(internal.glob("genai_prices-*.dist-info/METADATA"))
    entry_points = list(internal.glob("keyring-*.dist-info/entry_points.txt"))
    assert entry_points and "keyring.backends.SecretService" in entry_points[0].read_text()


def test_bundled_demo_history_reports(bundle: Path) -> None:
    if not (plan.RESOURCES / "demo").is_dir():
        pytest.skip("no resources/demo in this checkout")
    result = run(plan.bundle_executable(bundle), "report", "daily", "--demo", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["daily"], "the bundled demo history gave no rows"
    assert report["totals"]["cost_usd"] > 0


def big_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A generated history just over PARALLEL_THRESHOLD_BYTES as HOME: its ingest parses in
    a process pool. Returns what a correct reader finds (bench.generate_corpus)."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the ingest parses in-process, no pool to spawn")
    home = tmp_path / "big" / "home"
    expected = generate(home, PARALLEL_THRESHOLD_BYTES * 21 // 20, 40, seed=3, days=4)
    assert expected["bytes"] > PARALLEL_THRESHOLD_BYTES
    monkeypatch.setenv("HOME", str(home))
    return expected


def ledger_totals(bundle: Path) -> dict[str, Any]:
    report = run(plan.bundle_executable(bundle), "report", "daily", "--json", "--no-ingest")
    assert report.returncode == 0, report.stderr
    return dict(json.loads(report.stdout))


def assert_holds_the_whole_history(daily: dict[str, Any], expected: dict[str, Any]) -> None:
    assert [row["date"] for row in daily["daily"]] == [row["date"] for row in expected["daily"]]
    for field in TOKEN_FIELDS:
        assert daily["totals"][field] == expected["totals"][field], field


def test_bundled_watch_ingests_a_big_history_in_spawned_workers(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big ingest parses in a process pool, and `watch` (like `lsp` and the tray) has
    threads running, so the pool spawns its workers: each is the bundle's executable
    started with `--multiprocessing-fork ...`. Without multiprocessing.freeze_support() in
    freeze/entry.py the command line parser refused that ("invalid choice:
    'tracker_fd=17'"), the pool broke, watch retried forever and the ledger stayed empty."""
    expected = big_history(tmp_path, monkeypatch)
    watch = subprocess.Popen(
        [str(plan.bundle_executable(bundle)), "watch", "--verbose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    # --verbose prints a line after each ingest that changed the ledger: the first one
    # comes when the whole history is in. A broken pool never gets there.
    give_up = threading.Timer(90, watch.kill)
    give_up.start()
    try:
        assert watch.stdout is not None
        first_change = watch.stdout.readline()
    finally:
        give_up.cancel()
        watch.terminate()
        _, stderr = watch.communicate(timeout=20)
    assert "ledger updated" in first_change, stderr[-4000:]
    for sign_of_a_broken_pool in ("invalid choice", "BrokenProcessPool", "Traceback"):
        assert sign_of_a_broken_pool not in stderr, stderr[-4000:]
    assert watch.returncode == 0, stderr[-4000:]
    assert_holds_the_whole_history(ledger_totals(bundle), expected)


def test_bundled_tray_imports_a_big_history_in_spawned_workers(
    bundle: Path,
    isolated_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    x_display: str,
) -> None:
    """The tray's first import spawns its parser workers (Qt runs threads of its own): each
    is `burnmeter-tray --multiprocessing-fork ...`, which without freeze_support() was
    taken for `burnmeter tray --multiprocessing-fork ...` and refused; the import failed
    and the ledger stayed empty."""
    expected = big_history(tmp_path, monkeypatch)
    tray = start_bundled_tray(bundle, isolated_home, x_display)
    try:
        # The first import is one transaction: the totals appear all at once.
        deadline = time.monotonic() + 90
        daily: dict[str, Any] = {}
        while time.monotonic() < deadline:
            assert tray.poll() is None, tray.communicate()[1][-4000:]
            time.sleep(1)
            report = run(plan.bundle_executable(bundle), "report", "daily", "--json", "--no-ingest")
            if report.returncode == 0:  # (not while the tray creates the ledger)
                daily = json.loads(report.stdout)
                if daily["totals"]["total_tokens"]:
                    break
        assert tray.poll() is None, tray.communicate()[1][-4000:]
    finally:
        tray.terminate()
        _, stderr = tray.communicate(timeout=20)
    assert daily and daily["totals"]["total_tokens"], "nothing imported in 90 s: " + stderr[-4000:]
    for sign_of_a_broken_pool in ("unrecognized arguments", "BrokenProcessPool", "Traceback"):
        assert sign_of_a_broken_pool not in stderr, stderr[-4000:]
    assert tray.returncode == 0, stderr[-4000:]
    assert_holds_the_whole_history(daily, expected)
