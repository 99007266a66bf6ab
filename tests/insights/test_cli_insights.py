"""The insight commands through the real CLI process: statusline, report blocks, sessions,
repos, budgets."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.insights.agent_logs import ClaudeSession
from tests.insights.gitrepo import GitRepo

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def _run(args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "shared", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def _earlier_today(minutes: int) -> int:
    """`minutes` ago, but never before today's midnight (UTC: tests run with TZ=UTC), so a
    run just after midnight still finds the call in today's cost, nor in the future. The
    test then checks "today" a few seconds later: in a day's last 2 minutes this first
    waits for the next day to begin, so that the call and the check share a day."""
    now = int(time.time() * 1000)
    left_today = DAY - now % DAY
    if left_today < 2 * MINUTE:
        time.sleep(left_today / 1000 + 0.05)
        now = int(time.time() * 1000)
    midnight = now - now % DAY
    return max(now - minutes * MINUTE, min(now, midnight + 1000))


def _ledger_file() -> Path:
    return Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"


STATUS = {
    "session_id": "0b6c5d0e-1111-4222-8333-444455556666",
    "transcript_path": "/home/dev/.claude/projects/-home-dev-shop/0b6c5d0e.jsonl",
    "cwd": "/home/dev/shop",
    "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"},
    "workspace": {"current_dir": "/home/dev/shop", "project_dir": "/home/dev/shop"},
    "version": "2.1.17",
    "output_style": {"name": "default"},
    "cost": {
        "total_cost_usd": 1.2345,
        "total_duration_ms": 600000,
        "total_api_duration_ms": 120000,
        "total_lines_added": 40,
        "total_lines_removed": 3,
    },
    "context_window": {
        "total_input_tokens": 261000,
        "total_output_tokens": 18000,
        "context_window_size": 200000,
        "used_percentage": 41,
        "current_usage": {
            "input_tokens": 12,
            "output_tokens": 300,
            "cache_creation_input_tokens": 2000,
            "cache_read_input_tokens": 80000,
        },
    },
    "exceeds_200k_tokens": False,
    "rate_limits": {
        "five_hour": {"used_percentage": 39.4, "resets_at": 4_000_000_000},
        "seven_day": {"used_percentage": 15.0, "resets_at": 4_000_500_000},
    },
}


def test_statusline_records_and_prints(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, STATUS["session_id"], "/home/dev/shop")
    session.assistant(_earlier_today(30), output_tokens=40_000)  # $1.00 at Opus 4.5
    session.write()
    assert _run(["ingest"], env={"CLAUDE_CONFIG_DIR": str(claude)}).returncode == 0

    done = _run(["statusline"], stdin=json.dumps(STATUS))
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("Opus 4.5 │ session $1.23 │ today $1.00 │ block ")
    assert line.endswith(" left │ 5h 39% · 7d 15%")

    conn = sqlite3.connect(_ledger_file())
    row = conn.execute(
        "SELECT model_id, session_cost_usd, lines_added, context_used_tokens, "
        "context_window_tokens, five_hour_used_percent FROM statusline"
    ).fetchone()
    assert row == ("claude-opus-4-5-20251101", 1.2345, 40, 82012, 200000, 39.4)
    readings = "SELECT primary_used_percent, secondary_used_percent FROM rate_limits"
    assert conn.execute(readings).fetchall() == [(39.4, 15.0)]
    # An unchanged reading is not stored twice; a changed one is.
    _run(["statusline"], stdin=json.dumps(STATUS))
    assert len(conn.execute(readings).fetchall()) == 1
    changed = json.loads(json.dumps(STATUS))
    changed["rate_limits"]["five_hour"]["used_percentage"] = 41.0
    _run(["statusline"], stdin=json.dumps(changed))
    assert len(conn.execute(readings).fetchall()) == 2
    # Without rate_limits on stdin, the last stored Claude reading is shown.
    bare = {k: v for k, v in STATUS.items() if k != "rate_limits"}
    assert _run(["statusline"], stdin=json.dumps(bare)).stdout.strip().endswith("5h 41% · 7d 15%")


def test_statusline_survives_bad_input_and_a_busy_ledger() -> None:
    done = _run(["statusline"], stdin="{not json")
    assert (done.returncode, done.stdout.strip()) == (0, "Claude │ today $0.00")
    writer = sqlite3.connect(_ledger_file(), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        busy = _run(["statusline"], stdin=json.dumps(STATUS))
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
    assert busy.returncode == 0
    assert busy.stdout.startswith("Opus 4.5 │ session $1.23")
    assert "not recorded (another burnmeter process is writing the ledger)" in busy.stderr
    assert elapsed < 20  # gave up on the write instead of waiting for the writer


def test_statusline_writes_utf8_to_a_stream_that_cannot_encode_its_line() -> None:
    """Claude Code on Windows reads the line through a pipe Python encodes in cp1252,
    which has no `│` or `·`: the command raised and the status bar stayed empty."""
    done = subprocess.run(
        [sys.executable, "-m", "shared", "statusline"],
        input=json.dumps(STATUS).encode(),
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "cp1252"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").startswith("Opus 4.5 │ session $1.23 │ today ")


def test_statusline_reads_but_never_writes_a_ledger_newer_than_it_knows() -> None:
    assert _run(["statusline"], stdin="{}").returncode == 0  # creates the ledger
    conn = sqlite3.connect(_ledger_file(), isolation_level=None)
    from shared.schema import SCHEMA_VERSION

    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    done = _run(["statusline"], stdin=json.dumps(STATUS))
    assert done.returncode == 0
    assert done.stdout.startswith("Opus 4.5 │ session $1.23")
    assert "not recorded" in done.stderr and "newer than this burnmeter" in done.stderr
    assert conn.execute("SELECT count(*) FROM statusline").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM rate_limits").fetchone() == (0,)
    conn.close()


def test_statusline_names_a_ledger_it_cannot_open() -> None:
    assert _run(["statusline"], stdin="{}").returncode == 0
    path = _ledger_file()
    path.unlink()
    path.mkdir()  # a folder where the ledger file should be: SQLite cannot open it
    done = _run(["statusline"], stdin="{}")
    assert (done.returncode, done.stdout.strip()) == (0, "Claude")
    assert f"cannot open the ledger at {path}" in done.stderr


def test_statusline_prints_sense_for_odd_values() -> None:
    """A model name that is not text printed as a Python dict, a cost of 1e308 as 300
    digits, NaN as `$nan`; and a value SQLite could not store dropped today and the block
    from the line."""
    cases = [
        ('{"model":{"display_name":{"a":1},"id":"opus"},"cost":{"total_cost_usd":1e308}}', "opus"),
        ('{"session_id":"s","cost":{"total_cost_usd":NaN}}', "Claude"),
    ]
    for raw, model in cases:
        done = _run(["statusline"], stdin=raw)
        assert done.returncode == 0
        assert done.stdout.strip() == f"{model} │ today $0.00", (raw, done.stdout)
    huge = json.dumps(
        {"session_id": "s", "rate_limits": {"five_hour": {"used_percentage": 9, "resets_at": 1e30}}}
    )
    done = _run(["statusline"], stdin=huge)
    assert done.stdout.strip() == "Claude │ today $0.00 │ 5h 9%", done.stderr


def test_statusline_refuses_an_argument_it_does_not_know() -> None:
    """The fast entry (no full parser) used to ignore anything but `--no-record`, so a typo
    such as `--norecord` still wrote to the ledger."""
    typo = _run(["statusline", "--norecord"], stdin=json.dumps(STATUS))
    assert typo.returncode == 2
    assert "unrecognized arguments: --norecord" in typo.stderr
    assert not _ledger_file().exists()
    quiet = _run(["statusline", "--no-record"], stdin=json.dumps(STATUS))
    assert quiet.returncode == 0 and quiet.stdout.startswith("Opus 4.5 │ session $1.23")


def test_report_blocks_json_shape(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-blocks", "/home/dev/shop")
    session.assistant(1_790_000_000_000, output_tokens=100)
    session.assistant(1_790_000_000_000 + 6 * HOUR, output_tokens=100)
    session.write()
    done = _run(["report", "blocks", "--json"], env={"CLAUDE_CONFIG_DIR": str(claude)})
    blocks = json.loads(done.stdout)["blocks"]
    assert [b["is_gap"] for b in blocks] == [False, True, False]
    assert set(blocks[0]) == {
        "start",
        "end",
        "is_gap",
        "is_active",
        "total_tokens",
        "cost_usd",
        "unpriced_calls",
        "models",
        "burn_rate_tokens_per_min",
        "projected_cost_usd",
    }
    assert blocks[0]["start"] == "2026-09-21T14:00:00.000Z"  # 14:13:20 floored
    table = _run(["report", "blocks", "--no-ingest"])
    assert "5-hour blocks" in table.stdout and "gap" in table.stdout


def test_report_sessions_and_repos_carry_insights(tmp_path: Path) -> None:
    t0 = 1_790_000_000_000
    repo = GitRepo(tmp_path / "shop")
    repo.commit(t0 - HOUR, {"app.py": "v0\n"})
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-cli", str(repo.root))
    for k in range(6):
        ids = session.assistant(t0 + k * MINUTE, tools=[("Bash", {"command": "pytest"})])
        session.tool_results(t0 + k * MINUTE + 500, ids, is_error=True)
    session.assistant(t0 + 10 * MINUTE, tools=[("Edit", {"file_path": str(repo.root / "app.py")})])
    session.write()
    sha = repo.commit(t0 + HOUR, {"app.py": "v1\n"})
    env = {"CLAUDE_CONFIG_DIR": str(claude)}

    row = json.loads(_run(["report", "sessions", "--json"], env=env).stdout)["sessions"][0]
    assert row["tier"] == "frontier"
    assert row["outcome"]["status"] == "committed" and row["outcome"]["commits"] == [sha]
    assert [flag["kind"] for flag in row["flags"]] == ["loop"]
    assert row["hint"] is None
    table = _run(["report", "sessions", "--no-ingest"]).stdout
    assert "frontier · committed (1) · loop" in table
    plain = _run(["report", "sessions", "--json", "--no-ingest", "--no-insights"]).stdout
    assert "tier" not in json.loads(plain)["sessions"][0]

    repos = json.loads(_run(["report", "repos", "--json", "--no-ingest"]).stdout)["repos"]
    assert repos[0]["commits"] == 1 and repos[0]["committed_sessions"] == 1
    assert repos[0]["cost_per_commit_usd"] == round(repos[0]["cost_usd"], 6)


def test_budgets_command(tmp_path: Path) -> None:
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        "[budgets]\ndaily_usd = 1\n\n[subscription]\nplan = 'Max'\nmonthly_price_usd = 100\n"
    )
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-budget", "/home/dev/shop")
    session.assistant(_earlier_today(1), output_tokens=60_000)  # $1.50
    session.write()
    done = _run(["budgets", "--json", "--tz", "UTC"], env={"CLAUDE_CONFIG_DIR": str(claude)})
    report = json.loads(done.stdout)
    (daily,) = report["budgets"]
    assert daily["state"] == "over" and round(daily["spent_usd"], 2) == 1.5
    assert report["active_block"]["is_active"] is True
    assert report["leverage"]["plan_price_usd"] == 100
    text = _run(["budgets", "--no-ingest", "--tz", "UTC"]).stdout
    assert "150%  over" in text and "5-hour block: $1.50 so far" in text


@pytest.mark.parametrize(("first_minutes_ago", "settled"), [(2, False), (20, True)])
def test_budgets_projects_the_block_once_its_calls_span_15_minutes(
    tmp_path: Path, first_minutes_ago: int, settled: bool
) -> None:
    """Two calls a minute apart read "projected $…" at ~300 times their cost: the rate of
    one burst of calls over the block's hours left. The text waits for 15 minutes of calls,
    as the tray's menu does; the JSON keeps ccusage's figure and says whether it settled."""
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-projection", "/home/dev/shop")
    now = int(time.time() * 1000)
    session.assistant(now - first_minutes_ago * MINUTE, output_tokens=20_000)
    session.assistant(now - MINUTE, output_tokens=20_000)
    session.write()
    env = {"CLAUDE_CONFIG_DIR": str(claude)}
    block = json.loads(_run(["budgets", "--json"], env=env).stdout)["active_block"]
    assert block["projected_cost_usd"] > block["cost_usd"] > 0
    assert block["projection_settled"] is settled
    (line,) = [
        line for line in _run(["budgets", "--no-ingest"]).stdout.splitlines()
        if line.startswith("5-hour block:")
    ]  # fmt: skip
    if settled:
        assert line.endswith(f"projected ${block['projected_cost_usd']:,.2f}"), line
    else:
        assert line.endswith("projected once its calls span 15 min"), line


def test_a_zero_budget_shows_no_share(tmp_path: Path) -> None:
    """A $0 limit (allowed: nothing may be spent) printed "inf%" beside the spend."""
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text("[budgets]\ndaily_usd = 0\n")
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-zero", "/home/dev/shop")
    session.assistant(_earlier_today(1), output_tokens=60_000)  # $1.50
    session.write()
    text = _run(["budgets", "--tz", "UTC"], env={"CLAUDE_CONFIG_DIR": str(claude)}).stdout
    (line,) = [line for line in text.splitlines() if line.startswith("daily")]
    assert "inf" not in line
    assert line.split()[-4:] == ["of", "$0.00", "-", "over"]


def test_reports_count_days_in_the_configured_zone_as_budgets_and_the_status_line_do(
    tmp_path: Path,
) -> None:
    """`report` used the machine's zone whatever the config's `timezone` said, while the
    status line, budgets, the summary and the tray used the config's: a call at 19:00 in
    Los Angeles on Nov 30 was the status line's "today" and the report's Dec 1."""
    from datetime import datetime

    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('timezone = "America/Los_Angeles"\n')
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-la", "/home/dev/shop")
    asked = int(datetime.fromisoformat("2026-12-01T03:00:00+00:00").timestamp() * 1000)
    session.assistant(asked, output_tokens=40_000)
    session.write()
    env = {"CLAUDE_CONFIG_DIR": str(claude)}

    def dates(*flags: str) -> list[str]:
        done = _run(["report", "daily", "--json", *flags], env=env)
        assert done.returncode == 0, done.stderr
        return [row["date"] for row in json.loads(done.stdout)["daily"]]

    assert dates() == ["2026-11-30"]
    assert dates("--tz", "UTC") == ["2026-12-01"]  # the flag still wins
    table = _run(["report", "daily", "--no-ingest"], env={**env, "COLUMNS": "160"}).stdout
    assert "daily (America/Los_Angeles)" in table
    # A zone nothing knows is said once, and the machine's zone (UTC here) is used.
    (config / "config.toml").write_text('timezone = "Mars/Olympus"\n')
    done = _run(["report", "daily", "--json", "--no-ingest"], env=env)
    assert [row["date"] for row in json.loads(done.stdout)["daily"]] == ["2026-12-01"]
    assert done.stderr.count("Mars/Olympus") == 1, done.stderr


def test_the_demo_reads_none_of_the_users_settings_not_even_its_zone() -> None:
    """`--demo` is the bundled history on a throwaway ledger: its days do not move with the
    user's configured `timezone`."""
    plain = _run(["report", "daily", "--json", "--demo"])
    assert plain.returncode == 0, plain.stderr
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('timezone = "Pacific/Kiritimati"\n')
    configured = _run(["report", "daily", "--json", "--demo"])
    assert configured.returncode == 0, configured.stderr
    days = [row["date"] for row in json.loads(configured.stdout)["daily"]]
    assert days == [row["date"] for row in json.loads(plain.stdout)["daily"]]
    # The zone does move them when asked for (14 hours east of the machine's UTC).
    assert (
        _run(["report", "daily", "--json", "--tz", "Pacific/Kiritimati", "--demo"]).stdout
        != plain.stdout
    )


def test_budgets_reads_periods_in_the_configured_zone_and_checks_its_flags() -> None:
    """`budgets` used the machine's zone whatever the config's `timezone` said (the tray
    and the summary used the config's), took no `-z`, and a bad `--month` ended in a
    traceback."""
    from datetime import datetime

    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    # 26 hours apart: their dates always differ.
    (config / "config.toml").write_text('timezone = "Etc/GMT+12"\n[budgets]\ndaily_usd = 5\n')

    def daily_label(*flags: str, env: dict[str, str] | None = None) -> str:
        done = _run(["budgets", "--json", "--no-ingest", *flags], env=env)
        assert done.returncode == 0, done.stderr
        (daily,) = json.loads(done.stdout)["budgets"]
        return str(daily["label"])

    def today_in(zone: str) -> str:
        return str(datetime.now(ZoneInfo(zone)).date())

    def assert_day_of(zone: str, *flags: str, env: dict[str, str] | None = None) -> None:
        # The zone's day when the command started or when it ended: a day may begin
        # while it runs.
        before = today_in(zone)
        label = daily_label(*flags, env=env)
        assert label in {before, today_in(zone)}, (label, before)

    # The machine's zone 26 hours from the config's, so that their days always differ.
    assert_day_of("Etc/GMT+12", env={"TZ": "Etc/GMT-14"})
    assert_day_of("Etc/GMT-14", "-z", "Etc/GMT-14")
    assert daily_label("--timezone", "etc/gmt-14") == daily_label("--tz", "Etc/GMT-14")
    for bad in ("2026-13", "foo"):
        done = _run(["budgets", "--no-ingest", "--month", bad])
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"expected a month as YYYY-MM or YYYYMM, got '{bad}'" in done.stderr
    leverage = json.loads(_run(["budgets", "--json", "--no-ingest", "--month", "202611"]).stdout)
    assert leverage["leverage"]["month"] == "2026-11"


def test_statusline_counts_today_in_the_configured_zone(tmp_path: Path) -> None:
    """The status line's "today" was the machine's day while `budgets` and the tray use the
    config's `timezone`: the two disagreed on the same ledger."""
    from datetime import datetime

    from shared.commands.statusline_cmd import configured_zone_name, today_spend

    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-zone", "/home/dev/shop")
    for moment in ("2026-09-21T09:00:00+00:00", "2026-09-21T10:30:00+00:00"):
        ms = int(datetime.fromisoformat(moment).timestamp() * 1000)
        session.assistant(ms, output_tokens=40_000)  # $1.00 each
    session.write()
    assert _run(["ingest"], env={"CLAUDE_CONFIG_DIR": str(claude)}).returncode == 0
    now_ms = int(datetime.fromisoformat("2026-09-21T11:00:00+00:00").timestamp() * 1000)
    conn = sqlite3.connect(_ledger_file())
    try:
        # 01:00 on the 22nd at UTC+14: only the 10:30 call is today.
        assert today_spend(conn, now_ms, "Etc/GMT-14")[0] == pytest.approx(1.0, rel=0.01)
        # 23:00 on the 20th at UTC-12: both are.
        assert today_spend(conn, now_ms, "Etc/GMT+12")[0] == pytest.approx(2.0, rel=0.01)
        # The file is read as written, so any case of a zone name must work here too.
        assert today_spend(conn, now_ms, "etc/gmt-14")[0] == pytest.approx(1.0, rel=0.01)
    finally:
        conn.close()
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    assert configured_zone_name() == ""
    (config / "config.toml").write_text('timezone = "Etc/GMT-14"\n')
    assert configured_zone_name() == "Etc/GMT-14"
    (config / "config.toml").write_text("timezone = [broken\n")
    assert configured_zone_name() == ""


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="TZ is read by the C library on POSIX")
def test_a_posix_tz_rule_dates_reports_as_the_status_line_dates_today(tmp_path: Path) -> None:
    """With `TZ=JST-9` the status line (the C library's day) counted a call at 05:00 JST
    today while `report daily` dated it the day before and headed tables "(Etc/UTC)": a TZ
    value that is not an IANA name was taken for UTC."""
    from datetime import datetime

    from shared.commands.statusline_cmd import today_spend

    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-jst", "/home/dev/shop")
    # 20:00 UTC on the 21st is 05:00 on the 22nd in Japan.
    asked = int(datetime.fromisoformat("2026-09-21T20:00:00+00:00").timestamp() * 1000)
    session.assistant(asked, output_tokens=40_000)  # $1.00
    session.write()
    env = {"CLAUDE_CONFIG_DIR": str(claude), "TZ": "JST-9"}
    done = _run(["report", "daily", "--json"], env=env)
    assert done.returncode == 0, done.stderr
    assert [row["date"] for row in json.loads(done.stdout)["daily"]] == ["2026-09-22"]
    table = _run(["report", "sessions", "--no-ingest", "--no-insights"], env=env).stdout
    assert "(JST-9)" in table and "Etc/UTC" not in table
    os.environ["TZ"] = "JST-9"
    try:
        time.tzset()
        conn = sqlite3.connect(_ledger_file())
        try:
            # 06:00 on the 22nd in Japan: the call is today's for the status line too.
            assert today_spend(conn, asked + 3_600_000)[0] == pytest.approx(1.0, rel=0.01)
        finally:
            conn.close()
    finally:
        os.environ["TZ"] = "UTC"
        time.tzset()


def test_statusline_no_record_leaves_an_older_ledger_as_it_is() -> None:
    """`--no-record` ("prints without writing") opened a ledger older than its fast path
    reads through `open_ledger`, which upgraded it in place: a write, and one an older tray
    or `watch` still running could then no longer use."""
    from shared.commands import statusline_cmd
    from shared.ledger import APPLICATION_ID
    from shared.schema import MIGRATIONS

    path = _ledger_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[: statusline_cmd.STATUSLINE_SCHEMA - 1]):
        conn.executescript(f"BEGIN;{script}PRAGMA user_version = {version + 1};COMMIT;")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.close()
    before = path.read_bytes()
    done = _run(["statusline", "--no-record"], stdin=json.dumps(STATUS))
    assert done.returncode == 0
    assert done.stdout.startswith("Opus 4.5 │ session $1.23")
    assert path.read_bytes() == before
    assert f"not read (the ledger at {path} is older" in done.stderr
    assert "any other burnmeter command does" in done.stderr
    # A database burnmeter did not write is no older ledger: nothing upgrades it.
    path.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    done = _run(["statusline", "--no-record"], stdin=json.dumps(STATUS))
    assert done.returncode == 0
    assert f"not read (the file at {path} is not a burnmeter ledger" in done.stderr
    assert "upgrade" not in done.stderr


def test_statusline_names_a_ledger_that_is_not_a_database() -> None:
    """The error "file is not a database" named no file."""
    path = _ledger_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not sqlite\n" * 100)
    done = _run(["statusline"], stdin=json.dumps(STATUS))
    assert done.returncode == 0 and done.stdout.startswith("Opus 4.5 │ session $1.23")
    assert f"cannot open the ledger at {path} (file is not a database)" in done.stderr
    assert path.read_bytes() == b"not sqlite\n" * 100


def test_statusline_constants_match_the_ledger() -> None:
    from shared.commands import statusline_cmd
    from shared.ledger import APPLICATION_ID
    from shared.schema import BUCKET_MS, MIGRATIONS

    assert statusline_cmd.BUCKET_MS == BUCKET_MS
    assert statusline_cmd.APPLICATION_ID == APPLICATION_ID
    assert len(MIGRATIONS) >= statusline_cmd.STATUSLINE_SCHEMA
    assert len(MIGRATIONS) == statusline_cmd.NEWEST_SCHEMA
    needed = "".join(MIGRATIONS[: statusline_cmd.STATUSLINE_SCHEMA])
    assert "CREATE TABLE statusline" in needed and "usage_events_agent_ts" in needed


def test_statusline_import_path_stays_small() -> None:
    assert _run(["statusline"], stdin="{}").returncode == 0  # creates the ledger first
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from shared.cli import main; sys.argv = ['burnmeter', 'statusline'];"
            "main(); print(sorted(m for m in sys.modules))",
        ],
        input="{}",
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    loaded = done.stdout.splitlines()[-1]
    heavy_modules = (
        "dataclasses",
        "pydantic",
        "orjson",
        "argparse",
        "genai_prices",
        "platformdirs",
    )
    for heavy in (f"'{name}'" for name in heavy_modules):
        assert heavy not in loaded


def test_bad_tier_policy_is_reported_and_defaults_kept(tmp_path: Path) -> None:
    config = Path(os.environ["BURNMETER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        '[tier_policy]\nrules = [{ match = "x*", tier = "gold" }]\n'
    )
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-policy", "/home/dev/shop")
    session.assistant(1_790_000_000_000)
    session.write()
    done = _run(["report", "sessions", "--json"], env={"CLAUDE_CONFIG_DIR": str(claude)})
    assert done.returncode == 0
    assert "needs a `match` pattern and a tier" in done.stderr
    assert json.loads(done.stdout)["sessions"][0]["tier"] == "frontier"


def test_quick_ledger_path_agrees_with_shared_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.commands.statusline_cmd import quick_ledger_path
    from shared.paths import ledger_path

    assert quick_ledger_path() == str(ledger_path())  # BURNMETER_DATA_DIR, as tests set it
    monkeypatch.delenv("BURNMETER_DATA_DIR")
    assert quick_ledger_path() == str(ledger_path())  # XDG_DATA_HOME, as tests set it
    monkeypatch.delenv("XDG_DATA_HOME")
    assert quick_ledger_path() == str(ledger_path())  # ~/.local/share
    # Values platformdirs releases read differently (blank, relative): left to shared.paths,
    # which the statusline then asks (tests/core/test_userdirs.py has every case).
    for unclear in ("  ", "relative/data"):
        monkeypatch.setenv("XDG_DATA_HOME", unclear)
        assert quick_ledger_path() is None


def test_report_blocks_table_dates_both_ends_of_a_long_gap_in_the_given_zone(
    tmp_path: Path,
) -> None:
    from shared.commands.report_cmd import block_span

    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, "sess-gap", "/home/dev/shop")
    session.assistant(1_790_000_000_000, output_tokens=100)  # 2026-09-21 14:13 UTC
    session.assistant(1_790_000_000_000 + 50 * HOUR, output_tokens=100)
    session.write()
    env = {"CLAUDE_CONFIG_DIR": str(claude)}
    table = _run(["report", "blocks", "--tz", "Asia/Tokyo"], env=env).stdout
    # The gap runs from 19:13 UTC on the 21st to 16:13 UTC on the 23rd: in Tokyo, from
    # 04:13 on the 22nd to 01:13 on the 24th, both dates shown.
    assert "2026-09-22 04:13 – 2026-09-24 01:13" in table
    assert "2026-09-21 23:00 – 2026-09-22 04:00" in table
    assert "Block (Asia/Tokyo)" in table
    total = json.loads(_run(["report", "blocks", "--json"], env=env).stdout)["blocks"]
    assert f"{sum(b['total_tokens'] for b in total):,}" in table.splitlines()[-2]
    tokyo = ZoneInfo("Asia/Tokyo")
    assert block_span("2026-09-21T14:00:00.000Z", "2026-09-21T19:00:00.000Z", tokyo) == (
        "2026-09-21 23:00 – 2026-09-22 04:00"
    )


def test_statusline_no_record_writes_nothing_and_budgets_remember_the_block(
    tmp_path: Path,
) -> None:
    """`--no-record` ("prints without writing") stored the block start it found; `budgets`
    and the tray searched a week back and further for it on every call (1.6 s on a busy
    1M-call ledger) instead of using and keeping the remembered one."""
    claude = tmp_path / ".claude"
    session = ClaudeSession(claude, STATUS["session_id"], "/home/dev/shop")
    session.assistant(_earlier_today(30), output_tokens=4_000)
    session.write()
    assert _run(["ingest"], env={"CLAUDE_CONFIG_DIR": str(claude)}).returncode == 0

    def anchors() -> list[tuple[str, str]]:
        conn = sqlite3.connect(_ledger_file())
        try:
            return conn.execute(
                "SELECT key, value FROM meta WHERE key LIKE 'blocks_anchor%'"
            ).fetchall()
        finally:
            conn.close()

    done = _run(["statusline", "--no-record"], stdin=json.dumps(STATUS))
    assert done.returncode == 0 and " left │" in done.stdout
    assert anchors() == []
    assert _run(["budgets", "--no-ingest"]).returncode == 0
    assert [key for key, _ in anchors()] == ["blocks_anchor:claude-code"]


def test_statusline_no_record_creates_no_ledger() -> None:
    """With no ledger yet, `--no-record` made the data folder and a whole new ledger."""
    data = Path(os.environ["BURNMETER_DATA_DIR"])
    assert not _ledger_file().exists()
    done = _run(["statusline", "--no-record"], stdin=json.dumps(STATUS))
    assert done.returncode == 0
    assert done.stdout.startswith("Opus 4.5 │ session $1.23")
    assert not _ledger_file().exists()
    assert not data.exists() or not any(data.iterdir())
