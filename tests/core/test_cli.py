"""The `burnmeter` CLI through real subprocesses: report shapes and the JSON contract,
CSV, date/zone/agent filters, reprice, unpriced models, no logs, the ingest summary."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.core.helpers import REPO_ROOT, run_cli
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    apply_patch_text,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    text_block,
    tool_use_block,
)

TOKENS = {
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_usd",
}
SESSION_FIELDS = {
    "session_id",
    "agent",
    "project_path",
    "repo",
    "git_branch",
    "first_activity",
    "last_activity",
    "models",
    *TOKENS,
    "tool_calls",
    "tool_errors",
    "files_touched",
}
DAY = 86400


def _git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def _write_history(home: Path, repo: Path) -> None:
    """Claude Code on two days with two models and a subagent; Codex on one day."""
    cwd = str(repo)
    main = ClaudeSession("s-cli", cwd=cwd, git_branch="feature/x")
    main.reply(
        0,
        [tool_use_block("toolu_1", "Edit", {"file_path": f"{cwd}/app.py"})],
        claude_usage(10, 100, cache_read=1000, write_5m=200, write_1h=50),
    )
    main.tool_result("toolu_1", "failed", 1, is_error=True)
    main.reply(
        DAY,
        [text_block("x")],
        claude_usage(20, 300, cache_read=3000, write_5m=100),
        model="claude-sonnet-4-5",
    )
    project = claude_project_dir(home / ".claude", cwd)
    main.write(project / "s-cli.jsonl")
    # The subagent worked in a worktree of its own, on its own branch.
    sub = ClaudeSession(
        "s-cli",
        cwd=f"{cwd}/.claude/worktrees/agent-a77",
        git_branch="worktree-agent-a77",
        agent_id="a77",
    )
    sub.reply(60, [text_block("sub")], claude_usage(5, 40), model="claude-haiku-4-5")
    sub.write(project / "s-cli" / "subagents" / "agent-a77.jsonl")
    rollout = CodexRollout("019c-cli", started=120, cwd=cwd)
    rollout.turn(121)
    rollout.custom_tool_call(122, "apply_patch", apply_patch_text(("Update", "lib.py")), "call_1")
    rollout.call(123, 5000, 400, cached=3000, reasoning=150)
    rollout.write(codex_rollout_path(home / ".codex", rollout))


@pytest.fixture
def history(isolated_home: Path) -> Path:
    repo = _git_repo(isolated_home / "work" / "shop")
    _write_history(isolated_home, repo)
    return repo


def _json(*args: str) -> Any:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _check_token_fields(values: dict[str, Any]) -> None:
    assert set(values) == TOKENS, set(values) ^ TOKENS
    assert values["total_tokens"] == (
        values["input_tokens"]
        + values["output_tokens"]
        + values["cache_write_tokens"]
        + values["cache_read_tokens"]
    )


@pytest.mark.parametrize(
    ("kind", "label"), [("daily", "date"), ("weekly", "week"), ("monthly", "month")]
)
def test_period_reports_follow_the_json_contract(history: Path, kind: str, label: str) -> None:
    report = _json("report", kind, "--json")
    assert set(report) == {kind, "totals"}
    _check_token_fields(report["totals"])
    summed = dict.fromkeys(TOKENS, 0)
    for full_row in report[kind]:
        assert set(full_row) == {label} | TOKENS | {"models"}
        row = dict(full_row)
        models = row.pop("models")
        period = row.pop(label)
        _check_token_fields(row)
        for model, values in models.items():
            _check_token_fields(values)
            assert model in {
                "claude-opus-4-7",
                "claude-sonnet-4-5",
                "claude-haiku-4-5",
                "gpt-5.3-codex",
            }
        for name in TOKENS:
            assert row[name] == pytest.approx(sum(m[name] for m in models.values()))
            summed[name] += row[name]
        assert isinstance(period, str)
    for name in TOKENS:
        assert report["totals"][name] == pytest.approx(summed[name])
    totals = report["totals"]
    # Codex: input is non-cached (5000 - 3000), cached input is cache read, reasoning in output.
    assert totals["input_tokens"] == 10 + 20 + 5 + 2000
    assert totals["cache_read_tokens"] == 1000 + 3000 + 3000
    assert totals["cache_write_tokens"] == 250 + 100
    assert totals["output_tokens"] == 100 + 300 + 40 + 400
    assert totals["reasoning_tokens"] == 150
    if kind == "daily":
        assert [row["date"] for row in report["daily"]] == ["2026-03-10", "2026-03-11"]
        first = _json("report", "daily", "--json", "--no-ingest")["daily"][0]["models"]
        assert sorted(first) == ["claude-haiku-4-5", "claude-opus-4-7", "gpt-5.3-codex"]
    if kind == "weekly":
        assert [row["week"] for row in report["weekly"]] == ["2026-W11"]
    if kind == "monthly":
        assert [row["month"] for row in report["monthly"]] == ["2026-03"]


def test_sessions_report_follows_the_json_contract(history: Path) -> None:
    report = _json("report", "sessions", "--json")
    assert set(report) == {"sessions", "totals"}
    _check_token_fields(report["totals"])
    by_id = {row["session_id"]: row for row in report["sessions"]}
    assert set(by_id) == {"s-cli", "019c-cli"}
    for row in by_id.values():
        assert set(row) >= SESSION_FIELDS, SESSION_FIELDS - set(row)
    claude = by_id["s-cli"]
    assert claude["agent"] == "claude-code"
    assert claude["project_path"] == str(history) and claude["repo"] == str(history)
    assert claude["git_branch"] == "feature/x"
    assert claude["models"] == ["claude-haiku-4-5", "claude-opus-4-7", "claude-sonnet-4-5"]
    assert claude["output_tokens"] == 440  # the subagent's calls belong to the parent
    assert (claude["tool_calls"], claude["tool_errors"]) == (1, 1)
    assert claude["files_touched"] == [f"{history}/app.py"]
    assert claude["first_activity"] == "2026-03-10T09:00:00.000Z"  # always milliseconds
    assert claude["last_activity"] == "2026-03-11T09:00:00.000Z"
    codex = by_id["019c-cli"]
    assert codex["agent"] == "codex" and codex["files_touched"] == [f"{history}/lib.py"]


def test_models_repos_and_files_reports(history: Path) -> None:
    models = _json("report", "models", "--json")
    names = [row["model"] for row in models["models"]]
    assert sorted(names) == [
        "claude-haiku-4-5",
        "claude-opus-4-7",
        "claude-sonnet-4-5",
        "gpt-5.3-codex",
    ]
    repos = _json("report", "repos", "--json")
    assert [row["repo"] for row in repos["repos"]] == [str(history)]
    assert repos["repos"][0]["sessions"] == 2
    assert repos["repos"][0]["total_tokens"] == models["totals"]["total_tokens"]
    files = _json("report", "files", "--json")
    assert sorted(row["path"] for row in files["files"]) == [
        f"{history}/app.py",
        f"{history}/lib.py",
    ]
    assert all(row["cost_usd"] > 0 for row in files["files"])
    for kind in ("daily", "weekly", "monthly", "sessions", "models", "repos", "files"):
        table = run_cli("report", kind)
        assert table.returncode == 0, table.stderr
        assert "Total" in table.stdout or kind == "files"


def test_csv_reports_have_a_header_and_one_row_per_item(history: Path) -> None:
    daily = run_cli("report", "daily", "--csv")
    rows = list(csv.DictReader(io.StringIO(daily.stdout)))
    assert daily.stdout.splitlines()[0] == (
        "date,model,input_tokens,output_tokens,cache_write_tokens,cache_read_tokens,"
        "reasoning_tokens,total_tokens,cost_usd,unpriced_calls"
    )
    assert [(row["date"], row["model"]) for row in rows] == [
        ("2026-03-10", "claude-haiku-4-5"),
        ("2026-03-10", "claude-opus-4-7"),
        ("2026-03-10", "gpt-5.3-codex"),
        ("2026-03-11", "claude-sonnet-4-5"),
    ]
    assert sum(int(row["output_tokens"]) for row in rows) == 840
    sessions = list(csv.DictReader(io.StringIO(run_cli("report", "sessions", "--csv").stdout)))
    assert sorted(row["session_id"] for row in sessions) == ["019c-cli", "s-cli"]


def test_since_until_and_time_zone(isolated_home: Path) -> None:
    session = ClaudeSession("s-late", cwd="/home/dev/tz")
    late = 14.5 * 3600  # 2026-03-10 23:30 UTC, already 2026-03-11 00:30 in Berlin
    session.reply(late, [text_block("x")], claude_usage(1, 10))
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/tz") / "s-late.jsonl")

    def days(*args: str) -> list[str]:
        return [row["date"] for row in _json("report", "daily", "--json", *args)["daily"]]

    assert days("--tz", "UTC") == ["2026-03-10"]
    assert days("--tz", "Europe/Berlin") == ["2026-03-11"]
    assert days("--tz", "Europe/Berlin", "--since", "2026-03-11") == ["2026-03-11"]
    assert days("--tz", "Europe/Berlin", "--until", "2026-03-10") == []
    assert days("--tz", "UTC", "--until", "2026-03-10") == ["2026-03-10"]
    assert days("--tz", "UTC", "--since", "2026-03-11") == []
    # ccusage's spellings of a date (YYYYMMDD) and of the flags mean the same.
    assert days("--tz", "Europe/Berlin", "--since", "20260311") == ["2026-03-11"]
    assert days("--tz", "UTC", "--until", "20260309") == []
    assert days("-z", "Europe/Berlin", "-s", "20260311", "-u", "20260311") == ["2026-03-11"]
    assert days("--timezone", "UTC", "-u", "20260309") == []
    # Without --tz the local zone (here from TZ) decides.
    berlin = {**os.environ, "TZ": "Europe/Berlin"}
    local = json.loads(run_cli("report", "daily", "--json", env=berlin).stdout)
    assert [row["date"] for row in local["daily"]] == ["2026-03-11"]
    sessions = _json(
        "report", "sessions", "--json", "--tz", "Europe/Berlin", "--since", "2026-03-11"
    )
    assert [row["session_id"] for row in sessions["sessions"]] == ["s-late"]
    sessions = _json("report", "sessions", "--json", "--tz", "UTC", "--since", "2026-03-11")
    assert sessions["sessions"] == []
    bad = run_cli("report", "daily", "--tz", "Mars/Olympus")
    assert bad.returncode == 2 and "unknown time zone" in bad.stderr
    backwards = run_cli("report", "daily", "--since", "2026-03-12", "--until", "2026-03-10")
    assert backwards.returncode == 2 and "after --until" in backwards.stderr


def test_agent_filter(history: Path) -> None:
    codex = _json("report", "daily", "--json", "--agent", "codex")["totals"]
    claude = _json("report", "daily", "--json", "--agent", "claude-code")["totals"]
    both = _json("report", "daily", "--json")["totals"]
    assert codex["output_tokens"] == 400 and claude["output_tokens"] == 440
    assert codex["total_tokens"] + claude["total_tokens"] == both["total_tokens"]
    sessions = _json("report", "sessions", "--json", "--agent", "codex")["sessions"]
    assert [row["session_id"] for row in sessions] == ["019c-cli"]


def test_unpriced_model_is_shown_then_repriced_after_an_override(isolated_home: Path) -> None:
    session = ClaudeSession("s-new-model", cwd="/home/dev/np")
    session.reply(0, [text_block("x")], claude_usage(1_000_000, 2_000_000), model="claude-nova-9")
    session.reply(5, [text_block("y")], claude_usage(1_000_000, 0), model="claude-opus-4-7")
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/np") / "s.jsonl")
    report = _json("report", "daily", "--json")
    nova = report["daily"][0]["models"]["claude-nova-9"]
    assert nova["cost_usd"] == 0 and nova["unpriced_calls"] == 1
    assert report["totals"]["unpriced_calls"] == 1
    table = run_cli("report", "daily").stdout
    assert "unpriced" in table
    rows = list(csv.DictReader(io.StringIO(run_cli("report", "daily", "--csv").stdout)))
    unpriced = {row["model"]: row["unpriced_calls"] for row in rows}
    assert unpriced == {"claude-nova-9": "1", "claude-opus-4-7": "0"}
    models_csv = list(csv.DictReader(io.StringIO(run_cli("report", "models", "--csv").stdout)))
    assert {row["model"]: row["unpriced_calls"] for row in models_csv} == unpriced
    doctor = _json("doctor", "--json")
    assert doctor["unpriced_models"] == [
        {"model": "claude-nova-9", "calls": 1, "total_tokens": 3_000_000}
    ]
    assert "claude-nova-9" in run_cli("doctor").stdout

    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[prices."claude-nova-9"]\ninput_mtok = 2.0\noutput_mtok = 10.0\n'
        '[prices."claude-opus-4-7"]\ninput_mtok = 1.5\noutput_mtok = 7.5\n'
    )
    repriced = run_cli("reprice")
    assert repriced.returncode == 0, repriced.stderr
    assert "Repriced 2 model calls with " in repriced.stdout
    assert repriced.stdout.rstrip().endswith(": 2 costs changed")
    again = run_cli("reprice").stdout
    assert again.rstrip().endswith(": no cost changed: they were already at these prices")
    after = _json("report", "daily", "--json")
    models = after["daily"][0]["models"]
    assert models["claude-nova-9"]["cost_usd"] == pytest.approx(2.0 + 20.0)
    assert "unpriced_calls" not in models["claude-nova-9"]
    assert models["claude-opus-4-7"]["cost_usd"] == pytest.approx(1.5)
    assert after["totals"]["cost_usd"] == pytest.approx(23.5)
    assert _json("doctor", "--json")["unpriced_models"] == []
    assert "every model is priced" in run_cli("doctor").stdout


def test_an_empty_table_says_why(history: Path) -> None:
    held = len(_json("report", "sessions", "--json")["sessions"]) and sum(
        row["calls"] for row in _json("report", "models", "--json")["models"]
    )
    assert held > 0
    for args, scope in (
        (("--since", "2099-01-01", "--tz", "UTC"), "since 2099-01-01 (UTC)"),
        (("--until", "2000-01-31", "-z", "UTC"), "up to 2000-01-31 (UTC)"),
        (("-s", "20990101", "-u", "20990102", "-z", "UTC"), "from 2099-01-01 to 2099-01-02 (UTC)"),
        (("-s", "20990101", "-z", "UTC", "--agent", "codex"), "since 2099-01-01 (UTC) for codex"),
    ):
        for kind, what in (
            ("daily", "No model calls"),
            ("monthly", "No model calls"),
            ("sessions", "No model calls"),
            ("files", "No calls whose tools touched a file"),
        ):
            result = run_cli("report", kind, *args)
            assert result.returncode == 0, result.stderr
            assert f"{what} {scope}" in result.stderr, (kind, result.stderr)
            assert f"the ledger holds {held:,} model calls in all" in result.stderr
    # A table with rows, or machine output, gets no note.
    assert "No model calls" not in run_cli("report", "daily").stderr
    assert "No model calls" not in run_cli("report", "daily", "--json", "-s", "20990101").stderr


def test_an_empty_table_without_scope_or_ledger_says_why(
    isolated_home: Path, tmp_path: Path
) -> None:
    """`report files` on calls that touched no file said "No model calls ;" (a malformed
    line, and a false one), and an empty ledger read with --no-ingest said nothing."""
    session = ClaudeSession("s-talk", cwd="/home/dev/app")
    for n in range(3):
        session.reply(1 + n, [text_block("x")], claude_usage(10, 100))
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/app") / "s.jsonl")
    files = run_cli("report", "files")
    assert files.returncode == 0, files.stderr
    message = " ".join(files.stderr.split())
    assert "No calls whose tools touched a file; the ledger holds 3 model calls in all." in message
    # Blocks of the agent asked for (it said "No Claude Code calls for codex").
    blocks = " ".join(run_cli("report", "blocks", "--agent", "codex").stderr.split())
    assert "No Codex calls; the ledger holds 3 model calls in all." in blocks
    empty = run_cli(
        "report", "daily", "--no-ingest", env={**os.environ, "BURNMETER_DATA_DIR": str(tmp_path)}
    )
    assert empty.returncode == 0
    assert "holds no model calls yet; run without --no-ingest" in " ".join(empty.stderr.split())


def test_no_logs_says_where_it_looked_and_how_to_point_elsewhere(isolated_home: Path) -> None:
    every = (("ingest",), ("report", "daily"), ("report", "daily", "--json"), ("budgets",))
    for args in (*every, ("budgets", "--json")):  # budgets --json said nothing
        result = run_cli(*args)
        assert result.returncode == 0
        message = result.stderr
        assert "No Claude Code or Codex logs found" in message
        for place in ("~/.claude/projects", "~/.config/claude/projects", "~/.codex/sessions"):
            assert place in message, (args, message)
        assert "CLAUDE_CONFIG_DIR" in message and "CODEX_HOME" in message
        assert "No model calls" not in message  # where it looked says it all
        if args == ("report", "daily"):
            assert result.stdout == ""  # no empty table under it
        if args == ("budgets", "--json"):
            assert json.loads(result.stdout)["budgets"] == []
    # doctor lists the roots it looked in, and now also how to point it elsewhere.
    doctor = " ".join(run_cli("doctor").stdout.split())
    assert "~/.claude/projects missing" in doctor and "no log files found yet" in doctor
    assert "CLAUDE_CONFIG_DIR=/path/to/.claude or CODEX_HOME=/path/to/.codex" in doctor


def test_ingest_prints_a_one_line_summary(history: Path) -> None:
    first = run_cli("ingest")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Ingested 3 of 3 files")
    assert "new or updated calls" in lines[0]
    again = run_cli("ingest").stdout.splitlines()
    assert len(again) == 1 and again[0].startswith("Ingested 0 of 3 files")


def test_counts_of_one_are_said_in_the_singular(isolated_home: Path) -> None:
    """The ingest said "Ingested 1 of 1 files (… 1 usage records, 1 new or updated calls)"
    and "skipped 1 malformed lines"; doctor "my-model: 1 calls"."""
    session = ClaudeSession("s-one", cwd="/home/dev/one")
    session.reply(1, [text_block("x")], claude_usage(3_000, 0), model="my-unknown-model")
    path = claude_project_dir(isolated_home / ".claude", "/home/dev/one") / "s.jsonl"
    session.write(path)
    with path.open("a") as file:
        file.write("{not json\n")
    (line,) = run_cli("ingest").stdout.splitlines()
    assert line.startswith("Ingested 1 of 1 file (")
    assert ", 1 usage record, 1 new or updated call) in " in line
    assert line.endswith("; skipped 1 malformed line")
    doctor = run_cli("doctor").stdout
    assert "my-unknown-model: 1 call, 3,000 tokens" in doctor
    assert "1 file, 1 model call, 2 lines, 1 rejected" in doctor
    assert "1 malformed line[" not in doctor and "1 malformed line in" in doctor


def test_doctor_says_what_an_unpriced_models_override_lacks(isolated_home: Path) -> None:
    """With `[prices."my-private-model"] input_mtok = 2.0` (no output rate) the model stays
    unpriced, and doctor told the user to add prices there, which they had; piped, its
    sentences were broken at 80 columns."""
    session = ClaudeSession("s-private", cwd="/home/dev/private")
    session.reply(1, [text_block("x")], claude_usage(3_000, 500), model="my-private-model")
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/private") / "s.jsonl")
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[prices."my-private-model"]\ninput_mtok = 2.0\n')
    doctor = run_cli("doctor").stdout
    assert (
        '  my-private-model: 1 call, 3,500 tokens; its [prices."my-private-model"] has no '
        "output_mtok\n"
    ) in doctor
    assert 'add prices under [prices."MODEL"] in the config file)\n' in doctor  # one line
    (item,) = _json("doctor", "--json")["unpriced_models"]
    assert item["override"] == "my-private-model"
    assert item["override_lacks"] == ["output_mtok"]


def test_doctor_names_fast_calls_without_a_fast_price(isolated_home: Path) -> None:
    session = ClaudeSession("s-fast", cwd="/home/dev/fast")
    for index, model in enumerate(("claude-opus-4-5", "claude-opus-5", "claude-opus-4-7")):
        session.reply(
            index, [text_block("x")], claude_usage(1_000_000, 0, speed="fast"), model=model
        )
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/fast") / "s.jsonl")
    report = _json("doctor", "--json")
    # opus-5 has genai-prices' fast variant, opus-4-7 the bundled 6x (Anthropic's fast-mode
    # price, as ccusage applies it); opus-4-5 neither.
    assert report["fast_priced_as_standard"] == [{"model": "claude-opus-4-5", "calls": 1}]
    doctor = run_cli("doctor").stdout
    assert "fast calls priced at standard rates" in doctor
    # One call is "1 fast call", not "1 fast calls".
    assert "claude-opus-4-5: 1 fast call\n" in doctor
    from genai_prices import Usage, calc_price

    def input_rate(model: str) -> float:
        found = calc_price(Usage(input_tokens=1), model, provider_id="anthropic")
        return float(found.model_price.input_mtok)

    by_model = {
        row["model"]: row["cost_usd"] for row in _json("report", "models", "--json")["models"]
    }
    assert by_model["claude-opus-4-7"] == pytest.approx(6 * input_rate("claude-opus-4-7"))
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[prices."claude-opus-4-5"]\nfast_multiplier = 2.0\n')
    assert run_cli("reprice").returncode == 0
    assert _json("doctor", "--json")["fast_priced_as_standard"] == []
    by_model = {
        row["model"]: row["cost_usd"] for row in _json("report", "models", "--json")["models"]
    }
    assert by_model["claude-opus-4-5"] == pytest.approx(2 * input_rate("claude-opus-4-5"))


def test_reports_ingest_new_bytes_first(history: Path, isolated_home: Path) -> None:
    before = _json("report", "daily", "--json")["totals"]["output_tokens"]
    path = next((isolated_home / ".claude").rglob("s-cli.jsonl"))
    extra = ClaudeSession("s-cli", cwd=str(history))
    extra.reply(DAY + 60, [text_block("more")], claude_usage(1, 1234))
    with open(path, "ab") as handle:
        handle.write(b"".join(extra.lines))
    for kind in ("daily", "sessions", "models"):
        report = _json("report", kind, "--json")
        assert report["totals"]["output_tokens"] == before + 1234, kind
    stale = _json("report", "daily", "--json", "--no-ingest")
    assert stale["totals"]["output_tokens"] == before + 1234


def test_doctor_shows_roots_files_calls_and_ledger(history: Path, isolated_home: Path) -> None:
    report = _json("doctor", "--json")
    roots = {(r["agent"], r["path"]): r["exists"] for r in report["roots"]}
    assert roots[("claude-code", str(isolated_home / ".claude" / "projects"))] is True
    assert roots[("claude-code", str(isolated_home / ".config" / "claude" / "projects"))] is False
    assert roots[("codex", str(isolated_home / ".codex" / "sessions"))] is True
    assert report["agents"]["claude-code"]["files"] == 2
    assert report["agents"]["claude-code"]["calls"] == 3
    assert report["agents"]["codex"] == {
        "files": 1,
        "files_gone": 0,
        "lines": report["agents"]["codex"]["lines"],
        "rejected_lines": 0,
        "calls": 1,
    }
    ledger = report["ledger"]
    assert ledger["path"] == str(isolated_home / "burnmeter-data" / "ledger.sqlite")
    assert ledger["size_bytes"] > 0
    assert ledger["schema_version"] == ledger["schema_version_supported"]
    text = run_cli("doctor").stdout
    for expected in ("log roots", "ledger", "schema v", "claude-code", "codex", "prices"):
        assert expected in text


def _run_on_terminal(*args: str) -> str:
    """`burnmeter ARGS` with a pseudo-terminal as stdout and stderr; everything it wrote."""
    import pty
    import sys

    from tests.core.helpers import REPO_ROOT

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    process = subprocess.Popen(
        [sys.executable, "-m", "shared", *args], stdout=slave, stderr=slave, env=env, cwd=REPO_ROOT
    )
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    os.close(master)
    assert process.wait(timeout=120) == 0
    return output.decode("utf-8", "replace")


def test_ingest_shows_a_progress_bar_only_on_a_terminal(history: Path) -> None:
    on_terminal = _run_on_terminal("ingest")
    assert "Reading agent logs" in on_terminal
    assert "Ingested 3 of 3 files" in on_terminal
    piped = run_cli("ingest")
    assert "Reading agent logs" not in piped.stdout + piped.stderr


# What keeps a process alive after its main thread is done: a plain thread, joined at exit;
# an executor, whose exit hook (the one the parser pool registers, run before the main
# thread counts as finished) joins a worker thread.
_NEVER_ENDING = {
    "thread": "threading.Thread(target=threading.Event().wait).start()\n",
    "executor exit hook": (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "ThreadPoolExecutor(1).submit(threading.Event().wait)\n"
    ),
}


@pytest.mark.parametrize("keeper", sorted(_NEVER_ENDING))
def test_ctrl_c_ends_the_process_even_if_a_thread_would_keep_it(
    isolated_home: Path, keeper: str
) -> None:
    """After a Ctrl-C the parser pool's manager thread can stay blocked on a half-written
    result, and Python's exit hook for the pool joins it forever (seen about once in 150
    Ctrl-Cs of a big ingest). `burnmeter` then ends itself with 130 shortly after."""
    probe = (
        "import sys, threading, shared.commands.report_cmd as r\n"
        + _NEVER_ENDING[keeper]
        + "def interrupted(args): raise KeyboardInterrupt\n"
        "r.run = interrupted\n"
        "sys.argv[0] = 'burnmeter'\n"
        "from shared.cli import main\n"
        "sys.exit(main(['report', 'daily']))\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 15


def test_brackets_in_paths_and_hints_are_printed_as_written(isolated_home: Path) -> None:
    """Tables and doctor print with rich, whose console markup would swallow `[slug]` (a
    Next.js route folder), fail on a stray `[/y]`, and drop the `[prices."MODEL"]` of
    doctor's own hint."""
    cwds = ["/home/dev/app/[slug]", "/srv/x[/y]"]
    for index, cwd in enumerate(cwds):
        session = ClaudeSession(f"s-bracket-{index}", cwd=cwd)
        session.reply(index, [text_block("x")], claude_usage(10, 20), model="claude-nova-9")
        session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s.jsonl")
    path = claude_project_dir(isolated_home / ".claude", cwds[0]) / "s.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'{"type": "assistant", "message": {\n')
    env = {**os.environ, "COLUMNS": "200"}
    table = run_cli("report", "sessions", env=env)
    assert table.returncode == 0, table.stderr
    for cwd in cwds:
        assert cwd in table.stdout
    doctor = run_cli("doctor", env=env)
    assert doctor.returncode == 0, doctor.stderr
    assert 'add prices under [prices."MODEL"] in the config file' in doctor.stdout
    assert "claude-nova-9: 2 calls" in doctor.stdout
    (malformed,) = [line for line in doctor.stdout.splitlines() if "1 malformed line " in line]
    assert malformed.strip().endswith(str(path.relative_to(isolated_home)))
    assert "[slug]" in malformed


def test_a_model_name_with_a_comma_stays_whole_in_the_repos_report(isolated_home: Path) -> None:
    """The repos report joined its models with commas in SQL and split them again."""
    session = ClaudeSession("s-odd", cwd="/home/dev/app")
    session.reply(1, [text_block("x")], claude_usage(10, 100), model='my,weird "model"')
    session.reply(2, [text_block("x")], claude_usage(10, 100), model="claude-haiku-4-5")
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/app") / "s.jsonl")
    (repo,) = _json("report", "repos", "--json", "--no-insights")["repos"]
    assert repo["models"] == ["claude-haiku-4-5", 'my,weird "model"']


def test_report_files_says_which_entries_are_folders(isolated_home: Path) -> None:
    """Search tools name the folder they searched (Grep's and LS's `path`): the files report
    listed a project folder as its costliest "file"."""
    project = isolated_home / "work" / "app"
    (project / "src").mkdir(parents=True)
    edited = project / "src" / "main.py"
    edited.write_text("print()\n")
    session = ClaudeSession("s-files", cwd=str(project))
    session.reply(
        1,
        [
            tool_use_block("toolu_grep", "Grep", {"pattern": "x", "path": str(project)}),
            tool_use_block("toolu_edit", "Edit", {"file_path": str(edited)}),
        ],
        claude_usage(10, 100),
    )
    session.write(claude_project_dir(isolated_home / ".claude", str(project)) / "s.jsonl")
    rows = {row["path"]: row["folder"] for row in _json("report", "files", "--json")["files"]}
    assert rows == {str(project): True, str(edited): False}
    table = run_cli("report", "files", env={**os.environ, "COLUMNS": "160"}).stdout
    assert f"{project}/ (folder)" in table and f"{edited}/" not in table


def test_dates_at_the_ends_of_the_calendar(history: Path) -> None:
    """`--until 9999-12-31` (a "no upper bound" habit) and `--since 0001-01-01` ended in an
    OverflowError traceback; summary weeks and budget months there are refused."""
    everything = _json("report", "daily", "--json")["totals"]
    for args in (("--until", "9999-12-31"), ("--since", "0001-01-01"), ("-u", "99991231")):
        assert _json("report", "daily", "--json", *args)["totals"] == everything
    for args, message in (
        (("summary", "--week", "9999-W52"), "expected a week from 1971 to 9998"),
        (("budgets", "--month", "9999-12"), "expected a month as YYYY-MM"),
    ):
        done = run_cli(*args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_every_command_describes_itself_in_its_help(isolated_home: Path) -> None:
    """ingest, watch and lsp printed their source's "`burnmeter ingest`:" literally, and
    doctor and reprice had no description; summary took no -z like report and budgets."""
    for command in ("ingest", "watch", "lsp", "doctor", "reprice", "summary", "budgets"):
        text = run_cli(command, "--help").stdout
        description = text.split("\n\n", 2)[1]
        assert description.strip() and "`burnmeter" not in description, (command, description)
    assert run_cli("summary", "-z", "utc", "--no-ingest").returncode == 0


def test_web_searches_cost_their_fee_and_a_config_fee_applies_after_reprice(
    isolated_home: Path,
) -> None:
    session = ClaudeSession("s-web", cwd="/home/dev/web")
    session.reply(0, [text_block("x")], claude_usage(1_000_000, 0, web_searches=40))
    session.reply(60, [text_block("y")], claude_usage(1_000_000, 0))
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/web") / "s.jsonl")
    from genai_prices import Usage, calc_price

    input_cost = float(
        calc_price(
            Usage(input_tokens=1_000_000), "claude-opus-4-7", provider_id="anthropic"
        ).total_price
    )
    sessions = _json("report", "sessions", "--json")["sessions"]
    assert [row["cost_usd"] for row in sessions] == [pytest.approx(2 * input_cost + 0.40)]
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[prices."claude-opus-4-7"]\nweb_searches_kcount = 5\n')
    assert run_cli("reprice").returncode == 0
    doctor = run_cli("doctor")
    assert "web_searches_kcount" not in doctor.stderr  # a known setting, not a typo
    sessions = _json("report", "sessions", "--json")["sessions"]
    assert [row["cost_usd"] for row in sessions] == [pytest.approx(2 * input_cost + 0.20)]


def test_costs_left_at_older_prices_are_named_until_reprice(isolated_home: Path) -> None:
    """After a price change (here a config override; an upgrade of genai-prices or of
    burnmeter's rules alike) stored costs keep the old prices until `reprice`, and the
    first new call moved `price_version` on, so nothing said they were stale."""
    project = claude_project_dir(isolated_home / ".claude", "/home/dev/stale")
    session = ClaudeSession("s-stale", cwd="/home/dev/stale")
    session.reply(0, [text_block("x")], claude_usage(1_000_000, 0))
    session.write(project / "s.jsonl")
    first = run_cli("ingest")
    assert "note:" not in first.stderr
    assert _json("doctor", "--json")["ledger"]["prices_stale"] is None
    before = _json("doctor", "--json")["ledger"]["price_version"]
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[prices."claude-opus-4-7"]\ninput_mtok = 1.0\noutput_mtok = 1.0\n')
    more = ClaudeSession("s-stale-2", cwd="/home/dev/stale")
    more.reply(60, [text_block("y")], claude_usage(1_000_000, 0))
    more.write(project / "s2.jsonl")
    second = run_cli("ingest")
    assert "run `burnmeter reprice`" in second.stderr
    doctor = _json("doctor", "--json")["ledger"]
    assert doctor["price_version"] == before != doctor["prices_current"]
    assert before in doctor["prices_stale"]
    assert "run `burnmeter reprice`" in run_cli("doctor").stdout
    assert run_cli("reprice").returncode == 0
    doctor = _json("doctor", "--json")["ledger"]
    assert doctor["prices_stale"] is None and doctor["price_version"] == doctor["prices_current"]
    assert "note:" not in run_cli("ingest").stderr
    costs = [row["cost_usd"] for row in _json("report", "sessions", "--json")["sessions"]]
    assert costs == [pytest.approx(1.0), pytest.approx(1.0)]


def test_files_report_names_unpriced_calls_instead_of_zero_cost(isolated_home: Path) -> None:
    """A file touched only by calls of a model without a price showed `$0.00` (the other
    reports say `(+N unpriced)`; README: never shown as $0)."""
    cwd = "/home/dev/odd"
    session = ClaudeSession("s-odd", cwd=cwd)
    edit = tool_use_block("t-odd", "Edit", {"file_path": f"{cwd}/odd.py"})
    session.reply(0, [edit], claude_usage(1_000, 10), model="odd-model-x")
    both = [
        tool_use_block("t-two-a", "Edit", {"file_path": f"{cwd}/odd.py"}),
        tool_use_block("t-two-b", "Edit", {"file_path": f"{cwd}/priced.py"}),
    ]
    session.reply(30, both, claude_usage(1_000, 10), model="odd-model-x")
    priced = tool_use_block("t-priced", "Edit", {"file_path": f"{cwd}/priced.py"})
    session.reply(60, [priced], claude_usage(1_000, 10))
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s.jsonl")
    report = _json("report", "files", "--json")
    rows = {row["path"]: row for row in report["files"]}
    assert rows[f"{cwd}/odd.py"]["unpriced_calls"] == 2
    assert rows[f"{cwd}/priced.py"]["unpriced_calls"] == 1
    assert report["unpriced_calls"] == 2  # each call once, whichever files it touched
    table = run_cli("report", "files").stdout
    assert "$0.00 (+2 unpriced)" in table
    csv_rows = list(csv.DictReader(io.StringIO(run_cli("report", "files", "--csv").stdout)))
    assert {row["path"]: row["unpriced_calls"] for row in csv_rows} == {
        f"{cwd}/odd.py": "2",
        f"{cwd}/priced.py": "1",
    }


def test_tables_show_control_and_bidi_characters_as_escapes(isolated_home: Path) -> None:
    """A path with a newline split its table row in two; one with U+202E (right-to-left
    override) reversed the rest of the row on screen, its cost included; a model name with
    a newline broke doctor's unpriced list."""
    cwd = "/home/dev/odd"
    session = ClaudeSession("s-ctl", cwd=cwd)
    for n, name in enumerate(("new\nline.py", "\u202etxt.exe.py")):
        edit = tool_use_block(f"t-ctl-{n}", "Edit", {"file_path": f"{cwd}/{name}"})
        session.reply(n, [edit], claude_usage(1_000, 10))
    session.reply(9, [text_block("x")], claude_usage(1_000, 10), model="odd\nmodel")
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s.jsonl")
    table = run_cli("report", "files").stdout
    assert f"{cwd}/new\\nline.py" in table and f"{cwd}/\\u202etxt.exe.py" in table
    assert "\u202e" not in table
    models = run_cli("report", "models").stdout
    assert "odd\\nmodel" in models
    doctor = run_cli("doctor").stdout
    assert "odd\\nmodel: 1 call," in doctor
    # JSON keeps the names as logged.
    paths = {row["path"] for row in _json("report", "files", "--json")["files"]}
    assert f"{cwd}/new\nline.py" in paths


def test_blocks_budgets_and_the_status_line_name_unpriced_calls(isolated_home: Path) -> None:
    """Calls of a model with no price were silently $0 in `report blocks`, `budgets` and
    the status line's "today", while every other report said `(+N unpriced)`."""
    import time as clock

    now_s = clock.time()
    # Two minutes ago, but today (tests run with TZ=UTC) even just after midnight.
    at = datetime.fromtimestamp(max(now_s - 120, now_s - now_s % 86_400 + 1), tz=UTC)
    cwd = "/home/dev/odd"
    session = ClaudeSession("s-odd-now", cwd=cwd)
    session.reply(at, [text_block("x")], claude_usage(1_000, 10), model="odd-model-x")
    session.reply(at, [text_block("y")], claude_usage(1_000_000, 0))
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s.jsonl")
    blocks = _json("report", "blocks", "--json")["blocks"]
    assert [block["unpriced_calls"] for block in blocks] == [1]
    assert "(+1 unpriced)" in run_cli("report", "blocks").stdout
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[budgets]\ndaily_usd = 100\n")
    budgets = _json("budgets", "--json")
    assert budgets["budgets"][0]["unpriced_calls"] == 1
    assert budgets["active_block"]["unpriced_calls"] == 1
    text = run_cli("budgets").stdout
    assert "(+1 unpriced calls, not in the sum)" in text and "(+1 unpriced) so far" in text
    line = run_cli("statusline", "--no-record").stdout
    assert "(+1 unpriced)" in line, line


def test_session_tool_counts_and_files_keep_to_the_report_range(isolated_home: Path) -> None:
    """With --since/--until a session's tokens and cost were the range's but its tool calls
    and touched files the whole session's (and every session's tool calls were read)."""
    cwd = "/home/dev/range"
    session = ClaudeSession("s-range", cwd=cwd)
    day_one = datetime(2026, 3, 10, 12, tzinfo=UTC)
    day_two = datetime(2026, 3, 11, 12, tzinfo=UTC)
    for n, (at, name) in enumerate([(day_one, "a.py"), (day_one, "b.py"), (day_two, "c.py")]):
        edit = tool_use_block(f"t-range-{n}", "Edit", {"file_path": f"{cwd}/{name}"})
        session.reply(at, [edit], claude_usage(1_000, 10))
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s.jsonl")
    whole = _json("report", "sessions", "--json", "--no-insights")["sessions"][0]
    assert (whole["tool_calls"], len(whole["files_touched"])) == (3, 3)
    later = _json(
        "report", "sessions", "--json", "--no-insights", "--since", "2026-03-11", "--tz", "UTC"
    )["sessions"][0]
    assert later["tool_calls"] == 1
    assert later["files_touched"] == [f"{cwd}/c.py"]
    earlier = _json(
        "report", "sessions", "--json", "--no-insights", "--until", "2026-03-10", "--tz", "UTC"
    )["sessions"][0]
    assert (earlier["tool_calls"], earlier["files_touched"]) == (2, [f"{cwd}/a.py", f"{cwd}/b.py"])


def test_the_sessions_table_shows_when_where_and_what_tools(isolated_home: Path) -> None:
    """The table showed neither when a session ran nor its branch, tool calls, errors or
    files, which the README lists (the CSV lacked the files)."""
    cwd = "/home/dev/shop"
    session = ClaudeSession("s-table", cwd=cwd, git_branch="feature/cart")
    edit = tool_use_block("toolu_e", "Edit", {"file_path": f"{cwd}/cart.py"})
    read = tool_use_block("toolu_r", "Read", {"file_path": f"{cwd}/README.md"})
    session.reply(60, [edit, read], claude_usage(10, 100))
    session.tool_result("toolu_e", "no such string", 61, is_error=True)
    session.reply(3600 + 120, [text_block("done")], claude_usage(10, 50))  # 10:02 UTC
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s-table.jsonl")
    env = {**os.environ, "COLUMNS": "200"}
    table = run_cli("report", "sessions", "--tz", "Asia/Tokyo", env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert any("(Asia/Tokyo)" in line for line in lines)
    # An id of 8 characters or fewer is shown whole, with no "…" after it.
    (row,) = [at for at, line in enumerate(lines) if "│ s-table " in line]
    assert "s-table…" not in table.stdout
    first, second, third = lines[row : row + 3]
    assert f"{cwd} (feature/cart)" in first and "2 calls" in first
    assert "claude-code" in second and "1 failed" in second
    assert "2026-03-10 19:02" in third and "2 files" in third  # 10:02 UTC in Tokyo
    rows = list(csv.DictReader(io.StringIO(run_cli("report", "sessions", "--csv").stdout)))
    assert rows[0]["files_touched"] == f"{cwd}/README.md;{cwd}/cart.py"
    files = list(csv.DictReader(io.StringIO(run_cli("report", "files", "--csv").stdout)))
    assert {row["folder"] for row in files} == {"false"}  # as in the JSON, not Python's False


def test_the_tools_cell_says_one_call_not_one_calls() -> None:
    from shared.commands.report_cmd import _tool_cell

    assert _tool_cell(1, 0, 1).splitlines() == ["1 call", "0 failed", "1 file"]
    assert _tool_cell(1_200, 3, 0).splitlines() == ["1,200 calls", "3 failed", "0 files"]


def test_doctor_names_flex_calls_without_a_flex_price(isolated_home: Path) -> None:
    """A Codex call on the flex tier of a model with no flex price is costed at standard
    rates, more than it cost: doctor says so (gpt-5.5 has flex prices, gpt-5.3-codex not)."""
    from tests.core.test_codex_tiers_and_cache_writes import Rollout

    for index, model in enumerate(("gpt-5.5", "gpt-5.3-codex", "gpt-5.3-codex")):
        rollout = Rollout(f"019d-flex-{index}", started=index * 100.0, model=model)
        rollout.turn(index * 100 + 1)
        rollout.settings(index * 100 + 2, "flex")
        rollout.count(index * 100 + 3, 10_000, 1_000)
        rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    report = _json("doctor", "--json")
    assert report["flex_priced_as_standard"] == [{"model": "gpt-5.3-codex", "calls": 2}]
    assert report["fast_priced_as_standard"] == []
    doctor = run_cli("doctor").stdout
    assert "flex calls priced at standard rates" in doctor
    assert "gpt-5.3-codex: 2 flex calls\n" in doctor
