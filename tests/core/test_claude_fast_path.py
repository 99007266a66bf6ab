"""The typed fast path for Claude usage lines (msgspec) gives exactly the rows of the lenient
reader (orjson and a look at each field), on real-shaped lines and on mangled ones; lines it
cannot take whole go to the lenient reader."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import shared.ingest.pool as ingest_module
from shared.sources import claude, claude_typed, codex, codex_typed
from shared.sources.claude import parse_claude_lines
from shared.sources.events import ParsedChunk
from tests.core.helpers import CountingReader
from tests.core.logwriters import write_history
from tests.core.test_mangled_lines import _damage_byte, _mangle

REAL_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"


@pytest.fixture(autouse=True)
def _lenient_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the typed reader off, as in a process that never forked parser
    workers (one that did, such as this test session after a parallel-ingest test, keeps
    it on)."""
    monkeypatch.setattr(claude, "_typed", None)


def _rows(chunk: ParsedChunk) -> tuple[object, ...]:
    return (
        chunk.calls.events,
        chunk.calls.sessions,
        chunk.calls.read,
        chunk.tool_rows,
        chunk.tool_file_rows,
        chunk.tool_errors,
        chunk.lines,
        chunk.rejected_lines,
    )


def _counting() -> CountingReader:
    return CountingReader(claude_typed.read_usage_line)


def _both_ways(
    line: bytes, monkeypatch: pytest.MonkeyPatch, counter: CountingReader
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    with monkeypatch.context() as patch:
        patch.setattr(claude, "_typed", counter)
        fast = _rows(parse_claude_lines(line + b"\n", "fallback"))
    # A process that has not switched the typed reader on reads the lenient way only.
    assert claude._typed is None
    lenient = _rows(parse_claude_lines(line + b"\n", "fallback"))
    return fast, lenient


def _generated_lines(home: Path) -> list[bytes]:
    write_history(home, claude_sessions=6, codex_rollouts=0, turns=10)
    return [
        line
        for path in sorted(home.rglob("*.jsonl"))
        for line in path.read_bytes().splitlines()
        if b'"usage"' in line
    ]


def test_fast_path_takes_ordinary_lines_and_matches_the_lenient_reader(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _counting()
    lines = _generated_lines(isolated_home)
    for line in lines:
        fast, lenient = _both_ways(line, monkeypatch, counter)
        assert fast == lenient, line
    # Every ordinary line went the fast way (else this test would compare nothing).
    assert counter.taken == len(lines) > 50 and counter.handed_on == 0


def test_fast_path_matches_the_lenient_reader_on_mangled_lines(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _counting()
    rng = random.Random(20261123)
    originals = [json.loads(line) for line in _generated_lines(isolated_home)]
    for _ in range(8):
        for record in originals:
            line = json.dumps(_mangle(record, rng)).encode()
            fast, lenient = _both_ways(line, monkeypatch, counter)
            assert fast == lenient, line
    assert counter.taken > 100 and counter.handed_on > 100


def _usage_line(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "type": "assistant",
        "timestamp": "2026-11-20T10:00:00.250Z",
        "sessionId": "s-1",
        "requestId": "req_1",
        "cwd": "/home/dev/shop",
        "gitBranch": "main",
        "isSidechain": False,
        "message": {
            "id": "msg_1",
            "model": "claude-sonnet-4-5",
            "content": [
                {"type": "text", "text": "done"},
                {"type": "tool_use", "id": "t1", "name": "Edit", "input": {"file_path": "a.py"}},
            ],
            "usage": {
                "input_tokens": 10,
                "output_tokens": 20,
                "cache_creation_input_tokens": 300,
                "cache_read_input_tokens": 4000,
                "cache_creation": {"ephemeral_1h_input_tokens": 100},
            },
        },
    }
    record.update(changes)
    return record


def _odd(usage: object, content: object = None, message_id: str | None = "m") -> str:
    message: dict[str, object] = {"usage": usage}
    if message_id is not None:
        message["id"] = message_id
    if content is not None:
        message["content"] = content
    return json.dumps(_usage_line(message=message))


ONE_TWO = {"input_tokens": 1, "output_tokens": 2}
BASH = {"type": "tool_use", "id": "t", "name": "Bash"}
ODD_LINES = [
    # Counts the lenient reader reads as 0, or that make the call out of range.
    _odd({"input_tokens": -5, "output_tokens": 1}),
    _odd({"input_tokens": None, "output_tokens": 1}),
    _odd({"input_tokens": True, "output_tokens": 1}),
    _odd({"input_tokens": 2**60, "output_tokens": 1}),
    _odd({"input_tokens": 2**70, "output_tokens": 1}),
    _odd({**ONE_TWO, "cache_creation": {"ephemeral_1h_input_tokens": -4}}),
    _odd({"input_tokens": 1}),
    # Web-search counts of every shape: in range, negative, a bool, a string, a float,
    # beyond any real one, beyond 64 bits; `server_tool_use` not an object.
    *(
        _odd({**ONE_TWO, "server_tool_use": {"web_search_requests": value}})
        for value in (3, -2, True, "3", 2.0, 99_999, 100_000, 2**63 + 5, 2**70, None)
    ),
    _odd({**ONE_TWO, "server_tool_use": [1]}),
    *(_odd({**ONE_TWO, "inference_geo": value}) for value in ("us", "global", "", None, 5)),
    _odd({**ONE_TWO, "server_tool_use": None}),
    # No message id: the key comes from the line's uuid or a hash of its usage.
    _odd(ONE_TWO, message_id=None),
    json.dumps(_usage_line(uuid="u-1", message={"id": "", "usage": ONE_TWO})),
    # Tool inputs of every shape; content as a string; odd timestamps and fields.
    _odd(ONE_TWO, [BASH]),
    _odd(ONE_TWO, [{**BASH, "input": "ls"}]),
    _odd(ONE_TWO, [{**BASH, "input": None}]),
    _odd(ONE_TWO, [{**BASH, "input": {"command": "ls", "n": 2**70}}]),
    _odd(ONE_TWO, "text"),
    json.dumps(_usage_line(timestamp=None)),
    json.dumps(_usage_line(timestamp="2026-11-20 10:00:00")),
    json.dumps(_usage_line(isApiErrorMessage=True)),
    json.dumps(_usage_line(sessionId="", gitBranch=None, cwd=5)),
    # Advisor iterations (their own calls) of every shape: named or not, with a 1h split,
    # next to entries that are not the advisor's, with counts the lenient reader reads as 0.
    *(
        _odd({**ONE_TWO, "iterations": iterations})
        for iterations in (
            [{"type": "advisor_message", "model": "claude-opus-4-7", **ONE_TWO}],
            [{"type": "advisor_message", **ONE_TWO, "cache_read_input_tokens": 7}],
            [
                {"type": "message", **ONE_TWO},
                {"type": "fallback_message", "model": "claude-fable-5-1", **ONE_TWO},
                {
                    "type": "advisor_message",
                    "model": "claude-opus-4-7",
                    "input_tokens": 3,
                    "output_tokens": 4,
                    "cache_creation_input_tokens": 50,
                    "cache_creation": {"ephemeral_1h_input_tokens": 20},
                },
            ],
            [{"type": "advisor_message", "model": "", "input_tokens": None, "output_tokens": 4}],
            [{"type": "advisor_message", "model": 5, "input_tokens": -1, "output_tokens": 4}],
            [{"type": "advisor_message", "input_tokens": 0, "output_tokens": 0}],
            [{"type": "advisor_message", "input_tokens": 2**70, "output_tokens": 1}],
            ["advisor_message", None, 3],
            {"type": "advisor_message"},
            None,
        )
    ),
    json.dumps(
        _usage_line(
            advisorModel="claude-opus-4-7",
            message={
                "id": "m",
                "usage": {
                    **ONE_TWO,
                    "iterations": [
                        {"type": "advisor_message", "input_tokens": 9, "output_tokens": 9}
                    ],
                },
            },
        )
    ),
    # A string cut through an emoji (an unpaired surrogate escape), in the text and in a path.
    json.dumps(_usage_line()).replace('"done"', '"d\\ud83d"'),
    json.dumps(_usage_line()).replace('"a.py"', '"a\\ud83d.py"'),
]


@pytest.mark.parametrize("line", ODD_LINES)
def test_fast_path_matches_the_lenient_reader_on_odd_lines(
    line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, lenient = _both_ways(line.encode(), monkeypatch, _counting())
    assert fast == lenient


def test_a_byte_that_is_not_utf8_in_the_text_loses_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Node reads such a byte as U+FFFD and so does ccusage; the call is kept either way."""
    line = json.dumps(_usage_line()).encode().replace(b'"done"', b'"d\xffne"')
    counter = _counting()
    fast, lenient = _both_ways(line, monkeypatch, counter)
    assert fast == lenient and counter.taken == 1
    assert len(parse_claude_lines(line + b"\n", "f").calls.events) == 1
    in_a_path = json.dumps(_usage_line()).encode().replace(b'"a.py"', b'"a\xff.py"')
    chunk = parse_claude_lines(in_a_path + b"\n", "f")
    assert chunk.rejected_lines == 0 and chunk.tool_file_rows[0][1].endswith("a\ufffd.py")


@pytest.mark.skipif(not REAL_CORPUS.exists(), reason="needs ../shared/corpus/real")
def test_fast_path_matches_the_lenient_reader_on_the_real_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((REAL_CORPUS / "home" / ".claude").rglob("*.jsonl"))
    assert files
    counter = _counting()
    for path in files:
        data = path.read_bytes()
        lenient = _rows(parse_claude_lines(data, "f"))
        with monkeypatch.context() as patch:
            patch.setattr(claude, "_typed", counter)
            fast = _rows(parse_claude_lines(data, "f"))
        assert fast == lenient, path
    assert counter.taken > 500 and counter.handed_on == 0


def test_only_the_ingest_workers_import_msgspec(isolated_home: Path) -> None:
    """A report while an agent works reads a few new lines inline: importing msgspec
    (~25 ms) would cost it more than the fast path saves. The parser workers of a big
    ingest switch the typed reader on."""
    write_history(isolated_home, claude_sessions=2, codex_rollouts=0, turns=3)
    probe = (
        "import sys, shared.ingest as i; from pathlib import Path; "
        "from shared.ledger import open_ledger; "
        "s = i.ingest(open_ledger(Path(sys.argv[1])), workers=int(sys.argv[2])); "
        "print(s.new_calls, 'msgspec' in sys.modules)"
    )
    ledger = isolated_home / "ledger.sqlite"
    small = subprocess.run(
        [sys.executable, "-c", probe, str(ledger), "1"], capture_output=True, check=True
    )
    assert small.stdout.split() == [b"6", b"False"]


@pytest.fixture
def sigint_restored() -> Iterator[None]:
    """`start_worker` makes the process ignore Ctrl-C: not this test process for good."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


def test_a_worker_reads_the_typed_way(
    monkeypatch: pytest.MonkeyPatch, sigint_restored: None
) -> None:
    """What each parser worker runs as it starts (tests/core/test_parallel_ingest.py then
    checks that a parallel ingest's ledger equals an inline one's)."""
    monkeypatch.setattr(ingest_module, "end_with_parent", lambda _: None)
    monkeypatch.setattr(claude, "_typed", None)
    monkeypatch.setattr(codex, "_typed", None)
    ingest_module.start_worker(0)
    assert claude._typed is claude_typed.read_usage_line
    # And Codex's token_count lines (tests/core/test_codex_fast_path.py).
    assert codex._typed is codex_typed.read_token_count_line


def test_a_worker_leaves_ctrl_c_to_the_ingest_and_runs_without_msgspec(
    monkeypatch: pytest.MonkeyPatch, sigint_restored: None
) -> None:
    """Workers ignore SIGINT (the ingest stops the pool and says what was kept; see
    tests/core/test_ingest_lock.py), and a build without msgspec does not break the pool."""
    watched: list[int] = []
    monkeypatch.setattr(ingest_module, "end_with_parent", watched.append)

    def missing() -> None:
        raise ImportError("no msgspec")

    monkeypatch.setattr(claude, "use_typed_reader", missing)
    ingest_module.start_worker(8)
    assert watched == [8]
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_fast_path_matches_the_lenient_reader_on_lines_damaged_byte_by_byte(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes flipped, dropped or inserted anywhere (a byte that is not UTF-8 in a field the
    fast path decodes once crashed it with a UnicodeDecodeError)."""
    counter = _counting()
    rng = random.Random(7)
    lines = _generated_lines(isolated_home)
    for _ in range(3000):
        line = bytearray(rng.choice(lines))
        for _ in range(rng.randint(1, 3)):
            _damage_byte(line, rng)
        damaged = bytes(line).replace(b"\n", b" ")
        fast, lenient = _both_ways(damaged, monkeypatch, counter)
        assert fast == lenient, damaged
    assert counter.taken > 500 and counter.handed_on > 500


def test_a_field_that_is_not_utf8_goes_the_lenient_way(monkeypatch: pytest.MonkeyPatch) -> None:
    line = json.dumps(_usage_line()).encode().replace(b'"/home/dev/shop"', b'"/home/d\xffv"')
    counter = _counting()
    fast, lenient = _both_ways(line, monkeypatch, counter)
    assert fast == lenient and counter.handed_on == 1
    (session,) = parse_claude_lines(line + b"\n", "f").calls.sessions.values()
    assert session[1] == "/home/d\ufffdv"
