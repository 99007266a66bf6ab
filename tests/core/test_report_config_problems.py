"""Every report says what is wrong with the config file, once, on stderr (as the README's
Configuration section promises), whichever report, format and flags: `report daily`,
`weekly`, `monthly`, `models`, `blocks` and `files` said nothing (only the zone was read, by
a quick reader that skipped a `timezone` TOML filed under [budgets], or one that was not a
string), and days were silently counted in the machine's zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.core.helpers import REPO_ROOT, run_cli
from tests.insights.agent_logs import ClaudeSession

# TOML files a `timezone` written after a table's entries under that table.
MISPLACED = '[budgets]\ndaily_usd = 20\n\ntimezone = "America/New_York"\n'
KINDS = ("daily", "weekly", "monthly", "models", "blocks", "files", "sessions", "repos")


def _config(home: Path, text: str) -> Path:
    path = home / "burnmeter-config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _said(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("burnmeter: ")]


@pytest.fixture
def claude(isolated_home: Path) -> dict[str, str]:
    """A call at 03:00 UTC on Dec 1: Nov 30 in New York."""
    folder = isolated_home / ".claude"
    session = ClaudeSession(folder, "sess-ny", "/home/dev/shop")
    asked = int(datetime.fromisoformat("2026-12-01T03:00:00+00:00").timestamp() * 1000)
    session.assistant(asked, output_tokens=40_000, tools=[("Read", {"file_path": "/a.py"})])
    session.write()
    return {**os.environ, "CLAUDE_CONFIG_DIR": str(folder)}


def test_every_report_names_a_misplaced_timezone_each_time(
    isolated_home: Path, claude: dict[str, str]
) -> None:
    config = _config(isolated_home, MISPLACED)
    problem = f"burnmeter: {config}: budgets.timezone: unknown setting (a typo?); ignored."
    # The first command finds no data dir yet (nothing is kept); the ingest then makes it.
    first = run_cli("report", "daily", "--json", env=claude)
    assert first.returncode == 0, first.stderr
    assert _said(first.stderr) == [problem]
    for kind in KINDS:
        for flags in ((), ("--json",), ("--csv",), ("--tz", "Asia/Tokyo")):
            # Twice: once validated, once from what was kept of that validation.
            for _ in range(2):
                done = run_cli("report", kind, "--no-ingest", *flags, env=claude)
                assert done.returncode == 0, (kind, flags, done.stderr)
                assert _said(done.stderr) == [problem], (kind, flags, done.stderr)
    # Days in the machine's zone (UTC in the tests), as the problem says.
    daily = json.loads(run_cli("report", "daily", "--json", "--no-ingest", env=claude).stdout)
    assert [row["date"] for row in daily["daily"]] == ["2026-12-01"]


def test_a_timezone_of_the_wrong_type_is_named_then_a_fixed_file_is_used(
    isolated_home: Path, claude: dict[str, str]
) -> None:
    config = _config(isolated_home, "timezone = 5\n")
    assert run_cli("ingest", env=claude).returncode == 0
    wrong_type = f"burnmeter: {config}: timezone: Input should be a valid string; ignored"
    for _ in range(2):
        done = run_cli("report", "monthly", "--json", "--no-ingest", env=claude)
        assert done.returncode == 0, done.stderr
        said = _said(done.stderr)
        assert len(said) == 1 and said[0].startswith(wrong_type), done.stderr
    # Fixed: no word, and the zone it names is used at once.
    _config(isolated_home, 'timezone = "America/New_York"\n')
    for _ in range(2):
        done = run_cli("report", "daily", "--json", "--no-ingest", env=claude)
        assert done.returncode == 0 and _said(done.stderr) == [], done.stderr
        assert [row["date"] for row in json.loads(done.stdout)["daily"]] == ["2026-11-30"]
    # Broken again, with the size and modification time of the valid file: still noticed.
    before = config.stat()
    _config(isolated_home, 'timezone = "America/New_Yorx"\n')
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert config.stat().st_size == before.st_size
    done = run_cli("report", "daily", "--json", "--no-ingest", env=claude)
    said = _said(done.stderr)
    assert len(said) == 1 and "unknown time zone 'America/New_Yorx'" in said[0], done.stderr
    assert [row["date"] for row in json.loads(done.stdout)["daily"]] == ["2026-12-01"]


def _imports_pydantic(env: dict[str, str]) -> bool:
    """Whether a warm `report daily --json --no-ingest` imports pydantic (~100 ms of a
    report that takes ~60)."""
    code = (
        "import sys\nfrom shared.cli import main\n"
        "main(['report', 'daily', '--json', '--no-ingest'])\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()[-1] == "True"


def test_a_warm_report_validates_the_file_only_once_it_changed(
    isolated_home: Path, claude: dict[str, str]
) -> None:
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    assert run_cli("ingest", env=claude).returncode == 0
    assert not _imports_pydantic(claude)  # no config file: nothing to validate
    assert not (data / "config-check").exists()
    config = _config(isolated_home, '[budgets]\ndaily_usd = 20\ntimezone = "UTC"\n')
    assert _imports_pydantic(claude)  # changed: validated
    assert not _imports_pydantic(claude)  # unchanged: what was found is kept
    done = run_cli("report", "daily", "--no-ingest", env=claude)
    assert _said(done.stderr) == [
        f"burnmeter: {config}: budgets.timezone: unknown setting (a typo?); ignored."
    ]
    config.write_text('timezone = "UTC"\n[budgets]\ndaily_usd = 20\n', encoding="utf-8")
    assert _imports_pydantic(claude)
    assert not _imports_pydantic(claude)
    done = run_cli("report", "daily", "--no-ingest", env=claude)
    assert done.returncode == 0 and _said(done.stderr) == [], done.stderr
