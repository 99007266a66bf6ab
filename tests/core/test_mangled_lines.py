"""Lines that are valid JSON but not what the agents write (a value of the wrong type, a key
missing, a line cut short) never stop an ingest: each is read as far as it makes sense or
counted as malformed, and every report still runs on what was stored."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from shared.sources.claude import parse_claude_lines
from shared.sources.codex import CodexState, parse_codex_lines
from tests.core.helpers import run_cli
from tests.core.logwriters import write_history

ODD_VALUES: list[Any] = [
    None, True, 0, -1, 2**70, -(2**70), 1.5, 1e308, "", "x",
    "2026-13-45T99:99:99.999Z", [], {}, [1, "a"], {"a": 1},
]  # fmt: skip


def _mangle(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll < 0.04:
                continue  # the key is missing
            out[key] = rng.choice(ODD_VALUES) if roll < 0.12 else _mangle(item, rng)
        return out
    if isinstance(value, list):
        return [_mangle(item, rng) for item in value if rng.random() > 0.05]
    return value


def _damage_byte(line: bytearray, rng: random.Random) -> None:
    """One byte of `line` flipped, replaced by a JSON character, dropped, or one inserted."""
    pos = rng.randrange(len(line))
    roll = rng.random()
    if roll < 0.4:
        line[pos] = rng.randrange(256)
    elif roll < 0.6:
        line[pos] = rng.choice(b'{}[]",:0123456789-eE.\\tfu ')
    elif roll < 0.8:
        del line[pos]
    else:
        line.insert(pos, rng.choice(b'{}[]",:0\\ \xff'))


def _mangled_history(home: Path, seed: int) -> tuple[int, int]:
    """The files of a generated history with every line mangled (seeded); returns the
    number of lines and of lines cut short."""
    rng = random.Random(seed)
    lines = cut = 0
    for path in sorted(home.rglob("*.jsonl")):
        out = []
        for raw in path.read_bytes().splitlines():
            text = json.dumps(_mangle(json.loads(raw), rng)).encode()
            if rng.random() < 0.03:
                text, cut = text[: rng.randrange(len(text))], cut + 1
            out.append(text)
            lines += 1
        path.write_bytes(b"\n".join(out) + b"\n")
    return lines, cut


def test_mangled_lines_are_read_or_counted_and_never_stop_anything(isolated_home: Path) -> None:
    write_history(isolated_home, claude_sessions=12, codex_rollouts=12, turns=12)
    lines, cut = _mangled_history(isolated_home, seed=20261123)
    assert cut > 0
    for path in isolated_home.rglob("*.jsonl"):  # the parsers alone
        data = path.read_bytes()
        parsed = (
            parse_claude_lines(data, "f")
            if ".claude" in path.parts
            else parse_codex_lines(data, CodexState(), "f")
        )
        assert parsed.rejected_lines <= parsed.lines
    ingested = run_cli("ingest")
    assert ingested.returncode == 0, ingested.stderr
    assert "Traceback" not in ingested.stderr and "malformed lines" in ingested.stdout
    for command in (
        ["report", "daily", "--json"],
        ["report", "sessions", "--json"],
        ["report", "blocks", "--json"],
        ["report", "files", "--json"],
        ["report", "models", "--json"],
        ["doctor", "--json"],
    ):
        result = run_cli(*command)
        assert result.returncode == 0, (command, result.stderr)
        json.loads(result.stdout)
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    counted = sum(agent["lines"] for agent in doctor["agents"].values())
    assert counted == lines
    assert sum(agent["calls"] for agent in doctor["agents"].values()) > 0
