"""A small two-week history written as Claude Code and Codex write it, ingested into a
real ledger file. Weeks 2026-W45 and 2026-W46 in Europe/Berlin, with calls placed near
midnight so that a wrong zone or week boundary moves them to another day or week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.config import Settings
from shared.ingest import ingest
from shared.ledger import Ledger, open_ledger
from shared.sources.roots import claude_roots, codex_roots
from tests.summary.history import ClaudeSession, CodexSession

OPUS = "claude-opus-4-5-20251101"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
WEBSHOP = "/home/dev/src/webshop"
BILLING = "/home/dev/src/billing-api"
# Monday 2026-11-09 00:00 in Berlin (UTC+1) is 2026-11-08 23:00 UTC.
W46_MONDAY_UTC = datetime(2026, 11, 8, 23, 0, tzinfo=UTC)


def write_history(home: Path) -> None:
    start = W46_MONDAY_UTC
    for day in range(-7, 7):
        for index, (cwd, model) in enumerate([(WEBSHOP, OPUS), (BILLING, SONNET)]):
            session = ClaudeSession(home, cwd)
            at = start + timedelta(days=day, hours=9 + 5 * index)
            for call in range(4 + (day % 3)):
                tool = ("Edit" if call % 2 else "Read", {"file_path": f"{cwd}/src/m{call}.py"})
                session.call(
                    at + timedelta(minutes=4 * call),
                    model=model,
                    input_tokens=200 + 37 * call + day * day,
                    output_tokens=900 + 11 * call,
                    cache_write=5000 + 100 * call,
                    cache_read=40_000 + 1000 * call,
                    tools=[tool],
                )
            session.write()
        codex = CodexSession(home, BILLING, start + timedelta(days=day, hours=18))
        for call in range(3):
            codex.call(
                start + timedelta(days=day, hours=18, minutes=call),
                input_tokens=12_000 + day * 50,
                cached=9_000,
                output_tokens=700,
                reasoning=200,
                primary_percent=20.0 + 10 * call,
                secondary_percent=40.0 + day,
            )
        codex.write()
    # Edge calls: 00:10 Monday of W46 in Berlin is still Sunday in UTC, and 23:50 Sunday
    # of W46 in Berlin is Sunday 22:50 UTC.
    edge = ClaudeSession(home, WEBSHOP)
    edge.call(start + timedelta(minutes=10), model=HAIKU, input_tokens=5000, output_tokens=100)
    edge.call(
        start + timedelta(days=7, minutes=-10), model=HAIKU, input_tokens=7000, output_tokens=100
    )
    edge.write()


@pytest.fixture
def history_home(isolated_home: Path) -> Path:
    """The history written under the isolated HOME, where `burnmeter` looks by default."""
    write_history(isolated_home)
    return isolated_home


@pytest.fixture
def ledger(history_home: Path, tmp_path: Path) -> Iterator[Ledger]:
    env = {"HOME": str(history_home)}
    opened = open_ledger(tmp_path / "ledger.sqlite")
    ingest(opened, claude_roots(env) + codex_roots(env))
    yield opened
    opened.close()


@pytest.fixture
def settings() -> Settings:
    return Settings()
