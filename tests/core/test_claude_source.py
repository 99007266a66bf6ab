"""Claude Code transcripts: dedupe of streamed and replayed lines, pricing rules, and what
is extracted about tools."""

from __future__ import annotations

from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from shared.ledger import open_ledger
from shared.sources.hashing import input_hash
from tests.core.helpers import events, ingest_env
from tests.core.logwriters import (
    ClaudeSession,
    claude_project_dir,
    claude_usage,
    text_block,
    thinking_block,
    tool_use_block,
)

CWD = "/home/dev/shop"


def _project(home: Path) -> Path:
    return claude_project_dir(home / ".claude", CWD)


def _ingest(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    return ledger


def _genai_rates(model: str) -> object:
    return calc_price(Usage(input_tokens=1), model, provider_id="anthropic").model_price


def test_streamed_lines_keep_the_largest_whatever_the_order(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = ClaudeSession("s-stream", cwd=CWD)
    usage = claude_usage(6, 2201, cache_read=100, write_1h=27860)
    session.reply(
        1, [thinking_block("hm"), text_block("hi"), tool_use_block("t1", "Read", {})], usage
    )
    # The same reply written again with the final line first (a re-read in another order).
    lines = list(session.lines)
    session.lines = [lines[2], lines[0], lines[1]]
    session.write(_project(isolated_home) / "s-stream.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    rows = list(events(ledger).values())
    assert len(rows) == 1
    assert rows[0]["output_tokens"] == 2201
    assert rows[0]["cache_write_1h_tokens"] == 27860
    assert rows[0]["cache_read_tokens"] == 100
    assert rows[0]["input_tokens"] == 6


def test_placeholder_line_read_first_is_replaced_by_the_final_line(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = ClaudeSession("s-late", cwd=CWD)
    path = _project(isolated_home) / "s-late.jsonl"
    first, final = session.reply(
        1, [thinking_block("x"), text_block("y")], claude_usage(3, 900, write_5m=50)
    )
    path.parent.mkdir(parents=True)
    path.write_bytes(first)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    assert [r["output_tokens"] for r in events(ledger).values()] == [3]
    with open(path, "ab") as handle:
        handle.write(final)
    ingest_env(ledger)
    assert [r["output_tokens"] for r in events(ledger).values()] == [900]


def test_lines_without_request_id_dedupe_on_message_id(isolated_home: Path, tmp_path: Path) -> None:
    session = ClaudeSession("s-noreq", cwd=CWD, version="1.0.24")
    session.reply(
        1,
        [text_block("a"), text_block("b"), text_block("c")],
        claude_usage(4, 300, write_5m=14582, shape="legacy"),
        message_id="msg_same",
        request_id=None,
    )
    session.write(_project(isolated_home) / "s-noreq.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    rows = list(events(ledger).values())
    assert len(rows) == 1
    assert rows[0]["output_tokens"] == 300


def test_sidechain_replay_of_a_main_thread_message_counts_once(
    isolated_home: Path, tmp_path: Path
) -> None:
    main = ClaudeSession("s-main", cwd=CWD)
    main.reply(1, [text_block("plan")], claude_usage(10, 500, cache_read=2000), message_id="m1")
    sub = ClaudeSession("s-main", cwd=CWD, agent_id="a4ca7529")
    # The subagent transcript opens with a copy of the main-thread message.
    sub.lines.extend(main.lines)
    sub.reply(2, [text_block("sub work")], claude_usage(7, 40, cache_read=900), message_id="m2")
    project = _project(isolated_home)
    main.write(project / "s-main.jsonl")
    sub.write(project / "s-main" / "subagents" / "agent-a4ca7529.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    rows = events(ledger)
    assert len(rows) == 2
    assert sum(r["output_tokens"] for r in rows.values()) == 540
    assert {r["session_id"] for r in rows.values()} == {"s-main"}


def test_synthetic_and_api_error_lines_cost_nothing(isolated_home: Path, tmp_path: Path) -> None:
    session = ClaudeSession("s-err", cwd=CWD)
    session.reply(1, [text_block("limit")], claude_usage(0, 0), model="<synthetic>")
    session.reply(
        2, [text_block("API Error: 500")], claude_usage(1000, 10), api_error=True, request_id=None
    )
    session.reply(3, [text_block("real")], claude_usage(1000, 10))
    session.write(_project(isolated_home) / "s-err.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    rows = sorted(events(ledger).values(), key=lambda r: r["ts_ms"])
    assert [(r["free"], r["cost_usd"], r["priced"]) for r in rows[:2]] == [(1, 0.0, 1), (1, 0.0, 1)]
    assert rows[2]["cost_usd"] > 0
    unpriced = ledger.conn.execute("SELECT count(*) FROM usage_events WHERE priced = 0").fetchone()
    assert unpriced == (0,)


def test_cache_writes_priced_at_5m_and_1h_rates(isolated_home: Path, tmp_path: Path) -> None:
    session = ClaudeSession("s-cache", cwd=CWD)
    session.reply(1, [text_block("a")], claude_usage(0, 0, write_5m=1_000_000))
    session.reply(2, [text_block("b")], claude_usage(0, 0, write_1h=1_000_000))
    session.write(_project(isolated_home) / "s-cache.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    five, one_hour = sorted(events(ledger).values(), key=lambda r: r["ts_ms"])
    rates = _genai_rates("claude-opus-4-7")
    assert five["cache_write_5m_tokens"] == 1_000_000 and five["cache_write_1h_tokens"] == 0
    assert one_hour["cache_write_1h_tokens"] == 1_000_000 and one_hour["cache_write_5m_tokens"] == 0
    assert five["cost_usd"] == pytest.approx(float(rates.cache_write_mtok))  # type: ignore[attr-defined]
    assert one_hour["cost_usd"] == pytest.approx(float(rates.cache_write_1h_mtok))  # type: ignore[attr-defined]
    assert one_hour["cost_usd"] > five["cost_usd"]


def test_old_logs_without_the_split_are_priced_at_5m(isolated_home: Path, tmp_path: Path) -> None:
    session = ClaudeSession("s-old", cwd=CWD, version="1.0.24")
    session.reply(
        1,
        [text_block("x")],
        # Under 200k input: Sonnet 4's long-context rates (above it) are not genai-prices'.
        claude_usage(0, 0, write_5m=150_000, shape="legacy"),
        model="claude-sonnet-4-20250514",
    )
    session.write(_project(isolated_home) / "s-old.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    (row,) = events(ledger).values()
    assert row["cache_write_5m_tokens"] == 150_000 and row["cache_write_1h_tokens"] == 0
    rates = _genai_rates("claude-sonnet-4-20250514")
    assert row["cost_usd"] == pytest.approx(0.15 * float(rates.cache_write_mtok))  # type: ignore[attr-defined]


def test_fast_speed_uses_the_fast_variant(isolated_home: Path, tmp_path: Path) -> None:
    session = ClaudeSession("s-fast", cwd=CWD)
    session.reply(
        1,
        [text_block("a")],
        claude_usage(1_000_000, 1_000_000, speed="fast"),
        model="claude-opus-5",
    )
    session.reply(
        2,
        [text_block("b")],
        claude_usage(1_000_000, 1_000_000, speed="standard"),
        model="claude-opus-5",
    )
    session.write(_project(isolated_home) / "s-fast.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    fast, standard = sorted(events(ledger).values(), key=lambda r: r["ts_ms"])
    assert fast["speed"] == "fast" and standard["speed"] == "standard"
    found = calc_price(Usage(input_tokens=1), "claude-opus-5", provider_id="anthropic")
    (variant,) = [v for v in found.model.price_variants if v.when == {"speed": "fast"}]
    expected_fast = float(variant.prices.input_mtok) + float(variant.prices.output_mtok)
    expected_std = float(found.model_price.input_mtok) + float(found.model_price.output_mtok)
    assert fast["cost_usd"] == pytest.approx(expected_fast)
    assert standard["cost_usd"] == pytest.approx(expected_std)
    assert fast["cost_usd"] > standard["cost_usd"]


def test_fast_speed_without_a_fast_variant_is_priced_at_standard_rates(
    isolated_home: Path, tmp_path: Path
) -> None:
    """genai-prices has no fast variant for claude-opus-4-5 (and burnmeter bundles no
    factor for it): the README documents that such calls are priced at standard rates
    unless a `fast_multiplier` override is set. claude-opus-4-7's bundled factor is 6."""
    session = ClaudeSession("s-fast", cwd=CWD)
    session.reply(
        1, [text_block("a")], claude_usage(1_000_000, 0, speed="fast"), model="claude-opus-4-5"
    )
    session.reply(2, [text_block("b")], claude_usage(1_000_000, 0, speed="fast"))
    session.write(_project(isolated_home) / "s-fast.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    rows = {row["model"]: row for row in events(ledger).values()}
    assert all(row["speed"] == "fast" and row["priced"] == 1 for row in rows.values())
    standard = _genai_rates("claude-opus-4-5")
    assert rows["claude-opus-4-5"]["cost_usd"] == pytest.approx(float(standard.input_mtok))  # type: ignore[attr-defined]
    bundled = _genai_rates("claude-opus-4-7")
    assert rows["claude-opus-4-7"]["cost_usd"] == pytest.approx(6 * float(bundled.input_mtok))  # type: ignore[attr-defined]


def test_tools_paths_errors_and_bash_hash(isolated_home: Path, tmp_path: Path) -> None:
    session = ClaudeSession("s-tools", cwd=CWD)
    session.reply(
        1,
        [
            tool_use_block("toolu_read", "Read", {"file_path": "/home/dev/shop/app.py"}),
            tool_use_block("toolu_grep", "Grep", {"pattern": "def", "path": "src"}),
            tool_use_block(
                "toolu_nb", "NotebookEdit", {"notebook_path": "nb/../a.ipynb", "new_source": "x"}
            ),
            tool_use_block("toolu_bash", "Bash", {"command": "pytest -x", "description": "run"}),
        ],
        claude_usage(5, 80, cache_read=1000),
    )
    session.tool_result("toolu_read", "contents", 2)
    session.tool_result("toolu_bash", "1 failed", 3, is_error=True)
    session.write(_project(isolated_home) / "s-tools.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    conn = ledger.conn
    tools = dict(conn.execute("SELECT tool_id, tool_name FROM tool_calls").fetchall())
    assert tools == {
        "toolu_read": "Read",
        "toolu_grep": "Grep",
        "toolu_nb": "NotebookEdit",
        "toolu_bash": "Bash",
    }
    (event_key,) = events(ledger)
    linked = conn.execute("SELECT DISTINCT event_key FROM tool_calls").fetchall()
    assert linked == [(event_key,)]
    files = sorted(conn.execute("SELECT tool_id, path FROM tool_files").fetchall())
    assert files == [
        ("toolu_grep", "/home/dev/shop/src"),
        ("toolu_nb", "/home/dev/shop/a.ipynb"),
        ("toolu_read", "/home/dev/shop/app.py"),
    ]
    assert conn.execute("SELECT tool_id FROM tool_errors").fetchall() == [("toolu_bash",)]
    bash_hash = conn.execute(
        "SELECT input_hash FROM tool_calls WHERE tool_id = 'toolu_bash'"
    ).fetchone()[0]
    # Keyed with the secret beside the ledger (a keyless hash is found from a word list).
    from shared.machine_key import machine_key
    from shared.sources import hashing

    hashing.use_key(machine_key(ledger.path.parent))
    assert bash_hash == hashing.stored_input_hash(input_hash("pytest -x"))
    assert bash_hash != input_hash("pytest -x") and "pytest" not in bash_hash


@pytest.mark.parametrize("final_first", [False, True])
def test_fast_speed_counts_when_the_early_line_has_the_same_total(
    isolated_home: Path, tmp_path: Path, final_first: bool
) -> None:
    """Early streamed lines carry no `speed`; when a short reply's placeholder output equals
    the final one (seen in the real corpus), the final line's `speed: fast` still wins."""
    session = ClaudeSession("s-fast-tie", cwd=CWD)
    early, final = session.reply(
        1,
        [thinking_block("t"), tool_use_block("toolu_x", "Read", {"file_path": "/a"})],
        claude_usage(2, 49, cache_read=98863, write_5m=285, speed="fast"),
        model="claude-opus-5",
        early_output=49,
    )
    assert b'"speed"' not in early and b'"speed":"fast"' in final
    path = _project(isolated_home) / "s-fast-tie.jsonl"
    path.parent.mkdir(parents=True)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    for piece in (final, early) if final_first else (early, final):
        with open(path, "ab") as handle:
            handle.write(piece)
        ingest_env(ledger)
    (row,) = events(ledger).values()
    assert row["speed"] == "fast"
    standard = ClaudeSession("s-std", cwd=CWD)
    standard.reply(1, [text_block("x")], claude_usage(2, 49, cache_read=98863, write_5m=285))
    standard.lines = [line.replace(b"claude-opus-4-7", b"claude-opus-5") for line in standard.lines]
    standard.write(_project(isolated_home) / "s-std.jsonl")
    ingest_env(ledger)
    costs = {r["session_id"]: r["cost_usd"] for r in events(ledger).values()}
    assert costs["s-fast-tie"] == pytest.approx(2 * costs["s-std"])


def test_web_searches_are_stored_and_priced_from_the_final_streamed_line(
    isolated_home: Path, tmp_path: Path
) -> None:
    """`usage.server_tool_use.web_search_requests` is on the final line of a streamed reply
    only; the call keeps it whatever order its lines are read in, its subagent copy does not
    count it twice, and its cost is genai-prices' own (tokens plus $10 per 1,000 searches)."""
    session = ClaudeSession("s-search", cwd=CWD)
    usage = claude_usage(6, 900, cache_read=1_000, write_5m=300, web_searches=3)
    session.reply(
        1,
        [text_block("looking"), tool_use_block("t1", "WebSearch", {"query": "q"})],
        usage,
        model="claude-sonnet-4-5",
        message_id="m-search",
    )
    lines = list(session.lines)
    session.lines = [lines[1], lines[0]]  # the final line first
    session.write(_project(isolated_home) / "s-search.jsonl")
    sub = ClaudeSession("s-search", cwd=CWD, agent_id="a1")
    sub.lines.extend(lines)
    sub.write(_project(isolated_home) / "s-search" / "subagents" / "agent-a1.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    (row,) = events(ledger).values()
    assert row["web_search_requests"] == 3
    expected = calc_price(
        Usage(
            input_tokens=6 + 1_000 + 300,
            cache_read_tokens=1_000,
            cache_write_tokens=300,
            output_tokens=900,
            web_searches=3,
        ),
        "claude-sonnet-4-5",
        provider_id="anthropic",
    ).total_price
    assert row["cost_usd"] == pytest.approx(float(expected), rel=1e-9)
    # Repricing keeps the searches in the cost.
    from shared.commands.reprice_cmd import reprice
    from shared.pricing import PriceBook

    ledger.conn.execute("UPDATE usage_events SET cost_usd = 0")
    reprice(ledger, PriceBook())
    (row,) = events(ledger).values()
    assert row["cost_usd"] == pytest.approx(float(expected), rel=1e-9)


def test_us_only_inference_is_stored_and_priced_at_its_premium(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = ClaudeSession("s-geo", cwd=CWD)
    usage = claude_usage(1_000, 2_000, cache_read=30_000)
    usage["inference_geo"] = "us"
    session.reply(1, [text_block("a")], usage, model="claude-opus-4-6")
    plain = claude_usage(1_000, 2_000, cache_read=30_000)
    plain["inference_geo"] = "global"
    session.reply(2, [text_block("b")], plain, model="claude-opus-4-6")
    session.write(_project(isolated_home) / "s-geo.jsonl")
    ledger = _ingest(isolated_home, tmp_path)
    rows = sorted(events(ledger).values(), key=lambda row: row["ts_ms"])
    assert [row["inference_geo"] for row in rows] == ["us", "global"]
    assert rows[0]["cost_usd"] == pytest.approx(1.1 * rows[1]["cost_usd"])
    from shared.commands.reprice_cmd import reprice
    from shared.pricing import PriceBook

    ledger.conn.execute("UPDATE usage_events SET cost_usd = 0")
    reprice(ledger, PriceBook())
    again = sorted(events(ledger).values(), key=lambda row: row["ts_ms"])
    assert [row["cost_usd"] for row in again] == [pytest.approx(row["cost_usd"]) for row in rows]


@pytest.mark.parametrize("big_first", [True, False])
@pytest.mark.parametrize("one_read", [True, False])
def test_a_call_keeps_the_model_of_the_reading_it_keeps(
    isolated_home: Path, tmp_path: Path, big_first: bool, one_read: bool
) -> None:
    """Two readings of one call (same message id and request id) that name different
    models: the call is the larger reading, its model and its price, whichever is read
    first and whether both come in one read or in two ingests (it took the first
    reading's model with the larger one's tokens, and across ingests stored a cost priced
    for the other model than the one it showed)."""
    session = ClaudeSession("s-models", cwd=CWD)
    small, big = (
        session.reply(
            at, [text_block("x")], claude_usage(prompt, 1), model=model,
            message_id="msg_same", request_id="req_same",
        )[0]
        for at, prompt, model in ((1, 10, "claude-opus-4-7"), (2, 100, "claude-sonnet-4-5"))
    )  # fmt: skip
    first, second = (big, small) if big_first else (small, big)
    path = _project(isolated_home) / "s-models.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(first if not one_read else first + second)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    if not one_read:
        with open(path, "ab") as handle:
            handle.write(second)
        ingest_env(ledger)
    (row,) = events(ledger).values()
    assert (row["model"], row["input_tokens"]) == ("claude-sonnet-4-5", 100)
    sonnet = open_ledger(tmp_path / "sonnet.sqlite")
    session.lines = [big]
    session.write(_project(isolated_home) / "s-models.jsonl")
    ingest_env(sonnet)
    (alone,) = events(sonnet).values()
    assert row["cost_usd"] == pytest.approx(alone["cost_usd"])


def test_a_files_last_model_follows_a_calls_model_change(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A call that edits a file, read first as a small reading of one model, then (a later
    ingest) as a larger one of another: the file's last model (the code lens's) is the
    call's new model, as an ingest of the whole file at once gives."""
    session = ClaudeSession("s-file-model", cwd=CWD)
    edit = tool_use_block("toolu_fm", "Edit", {"file_path": f"{CWD}/a.py"})
    small, big = (
        session.reply(
            at, blocks, claude_usage(prompt, 1), model=model,
            message_id="msg_fm", request_id="req_fm",
        )[0]
        for at, blocks, prompt, model in (
            (1, [edit], 10, "claude-opus-4-7"),
            (2, [text_block("b")], 1000, "claude-sonnet-4-5"),
        )
    )  # fmt: skip
    path = _project(isolated_home) / "s-file-model.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(small)
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    with open(path, "ab") as handle:
        handle.write(big)
    ingest_env(ledger)
    whole = open_ledger(tmp_path / "whole.sqlite")
    ingest_env(whole)
    query = "SELECT path, calls, round(cost_usd, 9), last_model FROM file_stats"
    rows = ledger.conn.execute(query).fetchall()
    assert rows == whole.conn.execute(query).fetchall()
    assert [row[3] for row in rows] == ["claude-sonnet-4-5"]
