"""Claude Desktop's Cowork (local agent mode) runs Claude Code under a config dir of its own
per task, in the app's data folder:
`local-agent-mode-sessions/<org>/<account>/[agent/]local_<id>/.claude/projects/...`. Those
transcripts are Claude Code's and are read as such by default; the app's other files beside
them (its record `local_<id>.json`, the Agent SDK's `audit.jsonl` with partial usage
snapshots of the same calls, the task's own files) are not."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from shared.ledger import Ledger, open_ledger
from shared.reports import Filters, period_report, sessions_report
from shared.sources.cowork import outside_sessions
from shared.sources.events import CLAUDE
from shared.sources.roots import COWORK_FOLDER, LogRoot, claude_roots, find_log_files
from tests.core.helpers import ingest_env, run_cli
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    line,
    text_block,
)

ORG = "0f6b1e2a-5c3d-4e8f-9a1b-2c3d4e5f6a7b"
ACCOUNT = "8d7c6b5a-4f3e-4d2c-8b1a-0f9e8d7c6b5a"
CWD = "/home/dev/.config/Claude/local-agent-mode-sessions/x/outputs"


def linux_cowork(home: Path) -> Path:
    """The Cowork folder on Linux (the tests' XDG_CONFIG_HOME is `home/.config`)."""
    return home / ".config" / "Claude" / COWORK_FOLDER


def transcripts(session_id: str, output: int) -> list[tuple[str, ClaudeSession]]:
    """A session's transcripts, by their path under its project folder: the main thread, a
    subagent in `<session>/subagents/` and an older one beside it."""
    main = ClaudeSession(session_id, cwd=CWD)
    main.reply(1, [text_block("x")], claude_usage(10, output, cache_read=100))
    main.reply(2, [text_block("y")], claude_usage(12, output + 1))
    sub = ClaudeSession(session_id, cwd=CWD, agent_id="a4ca7529")
    sub.reply(3, [text_block("s")], claude_usage(5, 7), model="claude-haiku-4-5")
    legacy = ClaudeSession(session_id, cwd=CWD, agent_id=f"ea{session_id}")
    legacy.reply(4, [text_block("l")], claude_usage(6, 8), model="claude-haiku-4-5")
    return [
        (f"{session_id}.jsonl", main),
        (f"{session_id}/subagents/agent-a4ca7529.jsonl", sub),
        (f"agent-ea{session_id}.jsonl", legacy),
    ]


def write_config_dir(config: Path, files: list[tuple[str, ClaudeSession]]) -> Path:
    project = claude_project_dir(config, CWD)
    for name, session in files:
        session.write(project / name)
    return project


def cowork_session(
    folder: Path,
    local_id: str,
    session_id: str,
    output: int,
    *,
    agent: bool = False,
) -> tuple[Path, list[tuple[str, ClaudeSession]]]:
    """A Cowork session as Claude Desktop leaves it: its record, its storage folder with the
    task's `.claude/` config dir, the Agent SDK's audit.jsonl and the task's own files. The
    audit stream and a JSONL file among the outputs look like transcripts on purpose: read,
    they would add usage."""
    account = folder / ORG / ACCOUNT
    parent = account / "agent" if agent else account
    storage = parent / f"local_{local_id}"
    files = transcripts(session_id, output)
    write_config_dir(storage / ".claude", files)
    record = {
        "sessionId": f"local_{local_id}",
        "cliSessionId": session_id,
        "processName": "quiet-falcon",
        "cwd": CWD,
        "createdAt": 1,
        "lastActivityAt": 2,
    }
    (parent / f"local_{local_id}.json").write_text(json.dumps(record))
    snapshot = ClaudeSession(session_id, cwd=CWD)
    snapshot.reply(1, [text_block("x")], claude_usage(10, 999_000))
    snapshot.write(storage / "audit.jsonl")
    snapshot.write(storage / "outputs" / "notes.jsonl")
    (storage / ".claude" / "history.jsonl").write_bytes(line({"display": "p", "project": CWD}))
    return storage, files


def _ledger(tmp_path: Path, name: str = "ledger.sqlite") -> Ledger:
    return open_ledger(tmp_path / name)


def _sessions(ledger: Ledger) -> dict[str, tuple[int, int, list[str]]]:
    return {
        row["session_id"]: (row["total_tokens"], row["output_tokens"], row["models"])
        for row in sessions_report(ledger, Filters())["sessions"]
    }


def test_cowork_transcripts_count_as_claude_code_as_under_dot_claude(
    isolated_home: Path, tmp_path: Path
) -> None:
    folder = linux_cowork(isolated_home)
    _, first = cowork_session(folder, "4f1c", "s-cowork", 40)
    _, second = cowork_session(folder, "ditto_9a2e", "s-agent", 60, agent=True)
    cowork = _ledger(tmp_path, "cowork.sqlite")
    summary = ingest_env(cowork)
    assert summary.files_seen == 6

    # The same transcripts under another home's ~/.claude, read the same way.
    elsewhere = tmp_path / "elsewhere"
    write_config_dir(elsewhere / ".claude", first + second)
    plain = _ledger(tmp_path, "plain.sqlite")
    ingest_env(plain, {"HOME": str(elsewhere), "XDG_CONFIG_HOME": str(elsewhere / ".config")})

    expected = period_report(plain, "daily", Filters())["totals"]
    assert expected["output_tokens"] == (40 + 41 + 7 + 8) + (60 + 61 + 7 + 8)
    assert period_report(cowork, "daily", Filters())["totals"] == expected
    # Subagents belong to their parent session, as in ~/.claude.
    assert _sessions(cowork) == _sessions(plain)
    assert set(_sessions(cowork)) == {"s-cowork", "s-agent"}
    sources = cowork.conn.execute("SELECT agent, path FROM sources").fetchall()
    assert {agent for agent, _ in sources} == {CLAUDE}
    for _, path in sources:
        assert "/.claude/projects/" in path, path  # never audit.jsonl, a record or outputs


def test_a_file_reached_through_two_roots_counts_once(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = linux_cowork(isolated_home)
    storage, _ = cowork_session(folder, "4f1c", "s-cowork", 40)
    once = _ledger(tmp_path, "once.sqlite")
    ingest_env(once)
    expected = period_report(once, "daily", Filters())["totals"]

    # The Cowork folder and the session's own config dir, both named.
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{folder},{storage / '.claude'}")
    assert [root.cowork for root in claude_roots()] == [True, False]
    twice = _ledger(tmp_path, "twice.sqlite")
    assert ingest_env(twice).files_seen == 3
    assert period_report(twice, "daily", Filters())["totals"] == expected

    # The defaults, with the session's project folder also linked into ~/.claude.
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    linked = isolated_home / ".claude" / "projects" / "linked"
    linked.parent.mkdir(parents=True)
    linked.symlink_to(claude_project_dir(storage / ".claude", CWD))
    link = _ledger(tmp_path, "link.sqlite")
    assert ingest_env(link).files_seen == 3
    assert period_report(link, "daily", Filters())["totals"] == expected


def test_a_new_cowork_session_is_read_by_the_next_ingest(
    isolated_home: Path, tmp_path: Path
) -> None:
    folder = linux_cowork(isolated_home)
    ledger = _ledger(tmp_path)
    # Nothing yet: the app has never run.
    assert ingest_env(ledger).files_seen == 0
    cowork_session(folder, "4f1c", "s-first", 40)
    assert ingest_env(ledger).files_seen == 3
    cowork_session(folder, "7b2d", "s-second", 50)
    assert ingest_env(ledger).files_seen == 6
    assert {session: outputs for session, (_, outputs, _) in _sessions(ledger).items()} == {
        "s-first": 40 + 41 + 7 + 8,
        "s-second": 50 + 51 + 7 + 8,
    }


def test_a_session_whose_transcripts_are_not_written_yet_is_no_trouble(
    isolated_home: Path, tmp_path: Path
) -> None:
    """The app writes the record and the storage folder first; `.claude/projects/` comes
    with Claude Code's first line."""
    folder = linux_cowork(isolated_home)
    storage = folder / ORG / ACCOUNT / "local_5e6f"
    (storage / "outputs").mkdir(parents=True)
    (storage.parent / "local_5e6f.json").write_text("{}")
    (folder / ORG / "skills-plugin" / "x").mkdir(parents=True)
    unlisted: list[str] = []
    assert find_log_files(claude_roots(), unlisted) == []
    assert unlisted == []


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {}, ["{home}/.config/Claude"]),
        ("linux", {"XDG_CONFIG_HOME": "/srv/xdg"}, ["/srv/xdg/Claude"]),
        ("linux", {"XDG_CONFIG_HOME": "rel/xdg"}, ["{home}/.config/Claude"]),
        ("darwin", {}, ["{home}/Library/Application Support/Claude"]),
        (
            "win32",
            {"APPDATA": "/w/Roaming", "LOCALAPPDATA": "/w/Local"},
            [
                "/w/Roaming/Claude",
                "/w/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude",
            ],
        ),
        (
            "win32",
            {},
            [
                "{home}/AppData/Roaming/Claude",
                "{home}/AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude",
            ],
        ),
    ],
)
def test_the_cowork_folder_of_each_system_is_a_default_root(
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    env: dict[str, str],
    expected: list[str],
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    home = "/home/dev"
    roots = claude_roots({"HOME": home, **env})
    assert roots[:2] == [
        LogRoot(CLAUDE, Path(home, ".config", "claude", "projects")),
        LogRoot(CLAUDE, Path(home, ".claude", "projects")),
    ]
    assert roots[2:] == [
        LogRoot(CLAUDE, Path(path.format(home=home), COWORK_FOLDER), cowork=True)
        for path in expected
    ]
    # CLAUDE_CONFIG_DIR replaces every default; naming a Cowork folder there reads it.
    assert not any(r.cowork for r in claude_roots({"HOME": home, "CLAUDE_CONFIG_DIR": "/c"}))
    named = claude_roots({"CLAUDE_CONFIG_DIR": f"/c,/mac/{COWORK_FOLDER}"})
    assert named == [
        LogRoot(CLAUDE, Path("/c/projects")),
        LogRoot(CLAUDE, Path("/mac", COWORK_FOLDER), cowork=True),
    ]


def test_both_windows_folders_are_read(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installer's %APPDATA%\\Claude and the Store install's copy of it."""
    monkeypatch.setattr(sys, "platform", "win32")
    roaming, local = isolated_home / "AppData" / "Roaming", isolated_home / "AppData" / "Local"
    monkeypatch.setenv("APPDATA", str(roaming))
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    store = local / "Packages" / "Claude_pzs8sxrjxfjjc" / "LocalCache" / "Roaming"
    cowork_session(roaming / "Claude" / COWORK_FOLDER, "4f1c", "s-installer", 40)
    cowork_session(store / "Claude" / COWORK_FOLDER, "7b2d", "s-store", 50)
    ledger = _ledger(tmp_path)
    assert ingest_env(ledger).files_seen == 6
    assert set(_sessions(ledger)) == {"s-installer", "s-store"}


def test_doctor_and_the_no_logs_message_name_the_cowork_folder(
    isolated_home: Path,
) -> None:
    folder = linux_cowork(isolated_home)
    empty = run_cli("report", "daily")
    assert "claude-code  ~/.config/Claude/local-agent-mode-sessions (missing)" in empty.stderr

    cowork_session(folder, "4f1c", "s-cowork", 40)
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    roots = {(r["agent"], r["path"]): r["exists"] for r in doctor["roots"]}
    assert roots[("claude-code", str(folder))] is True
    assert roots[("claude-code", str(isolated_home / ".claude" / "projects"))] is False
    assert doctor["agents"]["claude-code"]["files"] == 3
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 40 + 41 + 7 + 8


def test_a_cowork_folder_named_under_roots_in_the_config_is_read_as_one(
    isolated_home: Path,
) -> None:
    """A Cowork folder copied from a Mac, named in `[roots] claude`."""
    copied = isolated_home / "mnt" / "mac" / COWORK_FOLDER
    cowork_session(copied, "4f1c", "s-mac", 40)
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[roots]\nclaude = ["{copied}"]\n')
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 40 + 41 + 7 + 8
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert ("claude-code", str(copied)) in {(r["agent"], r["path"]) for r in doctor["roots"]}


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        (f"{ORG}", False),
        (f"{ORG}/{ACCOUNT}", False),
        (f"{ORG}/{ACCOUNT}/agent", False),
        (f"{ORG}/{ACCOUNT}/local_4f1c", False),
        (f"{ORG}/{ACCOUNT}/agent/local_ditto_9a2e", False),
        (f"{ORG}/{ACCOUNT}/local_4f1c/.claude", False),
        (f"{ORG}/{ACCOUNT}/local_4f1c/.claude/projects/-w/s.jsonl", False),
        (f"{ORG}/{ACCOUNT}/agent/local_ditto_9a2e/.claude/projects/-w/s/subagents", False),
        (f"{ORG}/{ACCOUNT}/local_4f1c.json", True),
        (f"{ORG}/{ACCOUNT}/agent/local_ditto_9a2e.json", True),
        (f"{ORG}/{ACCOUNT}/cowork_settings.json", True),
        (f"{ORG}/{ACCOUNT}/local_4f1c/audit.jsonl", True),
        (f"{ORG}/{ACCOUNT}/local_4f1c/outputs/repo/src/a.jsonl", True),
        (f"{ORG}/{ACCOUNT}/local_4f1c/.claude/debug/log.txt", True),
        (f"{ORG}/{ACCOUNT}/agent/local_ditto_9a2e/uploads/a.pdf", True),
    ],
)
def test_which_paths_in_a_cowork_folder_the_live_engine_leaves_alone(
    inside: str, outside: bool
) -> None:
    top = "/data/Claude/local-agent-mode-sessions"
    assert outside_sessions(top, f"{top}/{inside}") is outside
