"""Property: however the logs grow between ingests (cut at any byte, half-written lines
included), the ledger ends exactly where one ingest of the finished files ends."""

from __future__ import annotations

import shutil
import tempfile
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.ledger import open_ledger
from shared.sources import claude
from shared.sources.claude_typed import read_usage_line
from tests.core.helpers import ingest_env, snapshot
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    apply_patch_text,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    text_block,
    thinking_block,
    tool_use_block,
)

CWD = "/home/dev/prop"


def _logs(home: Path) -> dict[Path, bytes]:
    main = ClaudeSession("s-prop", cwd=CWD)
    for turn in range(5):
        at = turn * 30
        main.prompt(f"step {turn}", at)
        main.reply(
            at + 1,
            [
                thinking_block("think"),
                text_block("say"),
                tool_use_block(f"toolu_{turn}", "Edit", {"file_path": f"f{turn}.py"}),
            ],
            claude_usage(3 + turn, 100 * (turn + 1), cache_read=1000 * turn, write_1h=20 * turn),
        )
        main.tool_result(f"toolu_{turn}", "ok", at + 2, is_error=turn == 3)
    main.lines.insert(4, b'{"type":"assistant","message":{"usage":broken\n')
    sub = ClaudeSession("s-prop", cwd=CWD, agent_id="a1b2c3")
    sub.lines.extend(main.lines[1:3])
    sub.reply(
        200, [text_block("sub")], claude_usage(2, 70, cache_read=500), model="claude-haiku-4-5"
    )
    parent = CodexRollout("019c-prop", started=0, cwd=CWD)
    parent.turn(1)
    for turn in range(4):
        at = 10 + turn * 20
        parent.function_call(at, "exec_command", {"cmd": f"make {turn}"}, f"call_{turn}")
        parent.exec_output(at + 1, f"call_{turn}", "out", turn % 2)
        parent.call(at + 2, 5000 + turn, 50 + turn, cached=4000, reasoning=turn, reemit=turn % 3)
    parent.custom_tool_call(95, "apply_patch", apply_patch_text(("Update", "a.py")), "call_p")
    parent.call(96, 9000, 9, cached=8000)
    child = CodexRollout("019c-prop-child", started=500, cwd=CWD, forked_from_id="019c-prop")
    child.copy_history_from(parent, 500.001)
    child.turn(500.05)
    child.call(510, 20000, 30, cached=19000)
    child.call(520, 21000, 40, cached=20000, reemit=2)
    project = claude_project_dir(home / ".claude", CWD)
    codex = home / ".codex"
    return {
        project / "s-prop.jsonl": b"".join(main.lines),
        project / "s-prop" / "subagents" / "agent-a1b2c3.jsonl": b"".join(sub.lines),
        codex_rollout_path(codex, parent): b"".join(parent.lines),
        codex_rollout_path(codex, child): b"".join(child.lines),
    }


def _reset(home: Path) -> None:
    for folder in (".claude", ".codex"):
        shutil.rmtree(home / folder, ignore_errors=True)


def _cuts(size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(min_value=0, max_value=size), max_size=6).map(sorted)


class _Fixture:
    """One home and one reference snapshot shared by all examples (paths must match)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.logs = _logs(home)
        for path, data in self.logs.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        ledger = open_ledger(home / "reference.sqlite")
        before, claude._typed = claude._typed, None
        try:
            ingest_env(ledger, self.env)
        finally:
            claude._typed = before
        self.reference = snapshot(ledger)
        ledger.close()

    @property
    def env(self) -> dict[str, str]:
        return {"HOME": str(self.home)}


@pytest.fixture(scope="module")
def prop(tmp_path_factory: pytest.TempPathFactory) -> _Fixture:
    return _Fixture(tmp_path_factory.mktemp("prop-home"))


def _sizes() -> list[int]:
    with tempfile.TemporaryDirectory() as folder:
        return [len(data) for data in _logs(Path(folder)).values()]


SIZES = _sizes()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(cuts=st.tuples(*(_cuts(size) for size in SIZES)), typed=st.booleans())
def test_any_split_across_ingests_gives_the_one_shot_totals(
    prop: _Fixture, cuts: tuple[list[int], ...], typed: bool
) -> None:
    """`typed`: the Claude usage lines go through the typed reader first, as in the
    parser workers of a big ingest (the reference was read the lenient way only)."""
    before = claude._typed
    claude._typed = read_usage_line if typed else None
    try:
        _split_ingests(prop, cuts)
    finally:
        claude._typed = before


def _split_ingests(prop: _Fixture, cuts: tuple[list[int], ...]) -> None:
    fixture = prop
    _reset(fixture.home)
    ledger_file = fixture.home / "split.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger_file}{suffix}").unlink(missing_ok=True)
    ledger = open_ledger(ledger_file)
    pieces = []
    for (path, data), points in zip(fixture.logs.items(), cuts, strict=True):
        bounds = [0, *points, len(data)]
        pieces.append([(path, data[a:b]) for a, b in pairwise(bounds)])
    for round_index in range(max(len(p) for p in pieces)):
        for file_pieces in pieces:
            if round_index < len(file_pieces):
                path, piece = file_pieces[round_index]
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "ab") as handle:
                    handle.write(piece)
        ingest_env(ledger, fixture.env)
    assert snapshot(ledger) == fixture.reference
    ledger.close()


def test_reference_counts_what_the_logs_hold(prop: _Fixture) -> None:
    """Guards the property above against a vacuous reference."""
    reference = prop.reference
    assert len(reference["events"]) == 5 + 1 + 5 + 2
    assert (
        sum(row[7] for row in reference["events"])
        == sum(100 * (t + 1) for t in range(5)) + 70 + sum(50 + t for t in range(4)) + 9 + 30 + 40
    )
    assert sorted(row[5] for row in reference["sources"]) == [0, 0, 0, 1]
    assert len(reference["tool_errors"]) == 3


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    cuts=st.tuples(*(_cuts(size) for size in SIZES)),
    replacements=st.lists(st.booleans(), min_size=28, max_size=28),
)
def test_splits_with_files_replaced_between_ingests_give_the_one_shot_totals(
    prop: _Fixture, cuts: tuple[list[int], ...], replacements: list[bool]
) -> None:
    """As above, and some files are also saved anew (new inode, same bytes so far) between
    ingests, as editors and sync tools do: they are read again without double counting."""
    fixture = prop
    _reset(fixture.home)
    ledger_file = fixture.home / "replaced.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger_file}{suffix}").unlink(missing_ok=True)
    ledger = open_ledger(ledger_file)
    pieces = []
    for (path, data), points in zip(fixture.logs.items(), cuts, strict=True):
        bounds = [0, *points, len(data)]
        pieces.append([(path, data[a:b]) for a, b in pairwise(bounds)])
    flips = iter(replacements)
    for round_index in range(max(len(p) for p in pieces)):
        for file_pieces in pieces:
            if round_index >= len(file_pieces):
                continue
            path, piece = file_pieces[round_index]
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and next(flips, False):
                copy = path.with_name(path.name + ".save")
                copy.write_bytes(path.read_bytes())
                copy.replace(path)
            with open(path, "ab") as handle:
                handle.write(piece)
        ingest_env(ledger, fixture.env)
    assert snapshot(ledger) == fixture.reference
    ledger.close()
