"""Two readings of one call with as many tokens: the one that says more of it (its web
searches, where it ran) is kept, whichever is read first, in a parser's chunk and in the
ledger's upsert; so a log read again by a reader that counts them mends a row an older
reader stored without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.ledger import open_ledger
from shared.sources.events import ROW_WEB, CallRows
from tests.core.helpers import ingest_env
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

COUNTS = (1_000, 2_000, 0, 0, 30_000, 0)


def _add(rows: CallRows, web: int, geo: str) -> None:
    rows.add(
        "cc:m:r",
        "claude-code",
        "s",
        1_000,
        "claude-opus-4-6",
        "standard",
        COUNTS,
        False,
        False,
        "/w",
        "main",
        web,
        geo,
    )


@pytest.mark.parametrize("says_more_first", [True, False])
def test_a_chunk_keeps_the_reading_with_the_searches_and_the_place(says_more_first: bool) -> None:
    rows = CallRows()
    readings = [(2, "us"), (0, "")]
    for web, geo in readings if says_more_first else readings[::-1]:
        _add(rows, web, geo)
    (row,) = rows.events.values()
    assert row[ROW_WEB : ROW_WEB + 2] == (2, "us")


@pytest.mark.parametrize("says_more_first", [True, False])
def test_the_place_alone_decides_at_equal_searches(says_more_first: bool) -> None:
    rows = CallRows()
    readings = [(1, "global"), (1, "")]
    for web, geo in readings if says_more_first else readings[::-1]:
        _add(rows, web, geo)
    (row,) = rows.events.values()
    assert row[ROW_WEB : ROW_WEB + 2] == (1, "global")


def test_a_row_stored_without_them_takes_them_when_its_log_is_read_again(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A ledger an older reader wrote holds the call with no searches and no place (it did
    not read them); read again from the start, as an upgrade reads logs again, the row
    takes both and its cost is a fresh ingest's (searches at $10 per 1,000, US at 1.1×)."""
    cwd = "/home/dev/app"
    session = ClaudeSession("s-geo", cwd=cwd)
    usage = claude_usage(1_000, 2_000, cache_read=30_000, web_searches=2)
    usage["inference_geo"] = "us"
    session.reply(1, [text_block("a")], usage, model="claude-opus-4-6", message_id="m-geo")
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s-geo.jsonl")
    fresh = open_ledger(tmp_path / "fresh.sqlite")
    ingest_env(fresh)
    query = "SELECT web_search_requests, inference_geo, cost_usd FROM usage_events"
    (expected,) = fresh.conn.execute(query).fetchall()
    assert expected[:2] == (2, "us")

    old = open_ledger(tmp_path / "old.sqlite")
    ingest_env(old)
    with old.conn:
        old.conn.execute("UPDATE usage_events SET web_search_requests = 0, inference_geo = ''")
        old.conn.execute("UPDATE sources SET offset = 0, state = NULL, lines = 0")
    ingest_env(old)
    (row,) = old.conn.execute(query).fetchall()
    assert row[:2] == (2, "us")
    assert row[2] == pytest.approx(expected[2], rel=1e-12)
