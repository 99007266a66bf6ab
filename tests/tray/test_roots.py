"""The config file's `[roots]` mean the same folders to the tray as to the command line: a
Claude entry is a config dir (or its `projects/`), a Codex entry a Codex home (its
`sessions/` and `archived_sessions/`). The tray used to watch each entry whole, so after
its settings were saved it also read files the command line never reads, such as a config
dir's `history.jsonl`."""

from __future__ import annotations

import argparse
from pathlib import Path

from pytestqt.qtbot import QtBot

from shared.commands.context import make_context
from shared.config import LoadedSettings, Roots, load_settings
from shared.sources.agents import CLAUDE, CODEX
from shared.sources.roots import LogRoot, configured_roots, find_log_files
from tray_app.app import BurnmeterApp, roots_for

CONFIG = """
[roots]
claude = ["~/laptop/.claude", "{other}/projects"]
codex = "~/laptop/.codex"
"""


def _write_config(home: Path) -> None:
    folder = home / "burnmeter-config"  # BURNMETER_CONFIG_DIR (tests/conftest.py)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(CONFIG.format(other=home / "other"), encoding="utf-8")


def _touch(path: Path, text: str = "{}\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_tray_watches_the_folders_the_command_line_reads(isolated_home: Path) -> None:
    _write_config(isolated_home)
    laptop = isolated_home / "laptop"
    wanted = {
        _touch(laptop / ".claude" / "projects" / "-repo" / "s1.jsonl"),
        _touch(isolated_home / "other" / "projects" / "-repo" / "s2.jsonl"),
        _touch(laptop / ".codex" / "sessions" / "2026" / "01" / "02" / "rollout-a.jsonl"),
        _touch(laptop / ".codex" / "archived_sessions" / "rollout-b.jsonl"),
    }
    # Beside the logs, not logs: the command line never reads these.
    _touch(laptop / ".claude" / "history.jsonl")
    _touch(laptop / ".claude" / "local" / "node_modules" / "pkg" / "fixture.jsonl")
    _touch(laptop / ".codex" / "backup" / "rollout-old.jsonl")

    command_line = make_context(argparse.Namespace(demo=False)).roots
    tray = roots_for(load_settings().settings)
    assert tray == command_line
    found = {Path(path) for _, path, _ in find_log_files(tray)}
    assert found == {path.resolve() for path in wanted}


def test_configured_roots_read_entries_like_the_agents_variables(tmp_path: Path) -> None:
    odd = tmp_path / "a, b"  # a comma is part of a folder name here, not a separator
    roots = configured_roots([str(odd), f"  {tmp_path}/x/projects ", ""], [str(tmp_path / "cx")])
    assert roots == [
        LogRoot(CLAUDE, odd / "projects"),
        LogRoot(CLAUDE, tmp_path / "x" / "projects"),
        LogRoot(CODEX, tmp_path / "cx" / "sessions"),
        LogRoot(CODEX, tmp_path / "cx" / "archived_sessions"),
    ]


def test_saving_settings_keeps_the_roots_unless_they_changed(
    qtbot: QtBot, isolated_home: Path
) -> None:
    _write_config(isolated_home)
    settings = load_settings().settings
    roots = make_context(argparse.Namespace(demo=False)).roots
    ledger_file = isolated_home / "burnmeter-data" / "ledger.sqlite"
    app = BurnmeterApp(
        roots=roots,
        ledger_file=ledger_file,
        loaded=LoadedSettings(settings, isolated_home / "burnmeter-config" / "config.toml"),
        tray_available=False,
        live=False,
    )
    app.dashboard.quit_on_close = False
    app.apply_settings(settings.model_copy(update={"meter_mode": "session"}))
    assert app.roots is roots  # same folders: the watcher is left running

    more = settings.model_copy(
        update={
            "roots": Roots(
                claude=[*settings.roots.claude, "~/desk/.claude"], codex=settings.roots.codex
            )
        }
    )
    app.apply_settings(more)
    desk = LogRoot(CLAUDE, isolated_home / "desk" / ".claude" / "projects")
    assert app.roots is not roots
    assert sorted(map(repr, app.roots)) == sorted(map(repr, [*roots, desk]))
