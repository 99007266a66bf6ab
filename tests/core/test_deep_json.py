"""A line whose JSON nests deeper than the parsers go (1,000+ levels, e.g. in a tool's
input) is a malformed line like any other: skipped and counted, never a crash, whichever
reader meets it first (the typed fast path, the lenient reader, the stdlib fallback for
escapes) and whether the first import reads in one process or in parser workers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import shared.ingest.run
from shared.ingest import ingest
from shared.ledger import open_ledger
from tests.core.helpers import roots_for, run_cli
from tests.core.logwriters import claude_project_dir

CWD = "/home/dev/app"
DEPTH = 1_100


def _claude_line(n: int, output_tokens: int, extra: bytes = b"") -> bytes:
    head = (
        f'{{"type":"assistant","sessionId":"s-deep","cwd":"{CWD}",'
        f'"timestamp":"2026-02-16T18:4{n}:00.000Z","requestId":"r{n}",'
        f'"message":{{"id":"m{n}","model":"claude-sonnet-4-5",'
        f'"usage":{{"input_tokens":100,"output_tokens":{output_tokens}}}'
    ).encode()
    if not extra:
        return head + b"}}\n"
    return (
        head
        + b',"content":[{"type":"tool_use","id":"t","name":"mcp__x","input":{"q":'
        + (extra + b"}}]}}\n")
    )


def _deep(escape: bool) -> bytes:
    inner = b'"caf\\u00e9"' if escape else b"1"
    return b"[" * DEPTH + inner + b"]" * DEPTH


@pytest.mark.parametrize("escape", [False, True], ids=["plain", "with-escape"])
@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "workers"])
def test_a_deeply_nested_claude_line_is_malformed_not_a_crash(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, escape: bool, workers: int
) -> None:
    path = claude_project_dir(isolated_home / ".claude", CWD) / "s-deep.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(_claude_line(1, 10) + _claude_line(2, 20, _deep(escape)) + _claude_line(3, 30))
    # Parser workers from the first byte (the real threshold is a first import of 32 MB).
    monkeypatch.setattr(shared.ingest.run, "PARALLEL_THRESHOLD_BYTES", 0)
    ledger = open_ledger(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    ingest(ledger, roots_for(os.environ), workers=workers)
    ledger.close()
    for command in (("ingest",), ("report", "daily", "--json"), ("doctor", "--json")):
        done = run_cli(*command)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 40
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert doctor["agents"]["claude-code"]["rejected_lines"] == 1


def test_a_deeply_nested_codex_line_is_malformed_not_a_crash(isolated_home: Path) -> None:
    path = isolated_home / ".codex" / "sessions" / "2026" / "02" / "16" / "rollout-deep.jsonl"
    path.parent.mkdir(parents=True)
    turn = {"timestamp": "2026-02-16T18:40:00.000Z", "type": "turn_context"}
    line = json.dumps({**turn, "payload": {"model": "gpt-5", "cwd": CWD}}).encode()
    deep = line[:-2] + b',"x":' + _deep(escape=True) + b"}}"
    path.write_bytes(line + b"\n" + deep + b"\n")
    done = run_cli("ingest")
    assert done.returncode == 0, done.stderr
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert doctor["agents"]["codex"]["rejected_lines"] == 1
