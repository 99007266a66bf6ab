"""What an ingest records about prices: a call of a model with no price is stored as
unpriced (reports count it instead of showing a cost of zero), and the ledger's price
version moves only while it holds no calls (costs priced earlier wait for `reprice`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.pricing import PriceBook
from shared.reports import Filters, period_report
from tests.core.helpers import roots_for
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

CWD = "/home/dev/app"
AT = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _write(home: Path, session_id: str, model: str) -> None:
    session = ClaudeSession(session_id, cwd=CWD)
    session.reply(AT, [text_block("x")], claude_usage(100, 100), model=model)
    session.write(claude_project_dir(home / ".claude", CWD) / f"{session_id}.jsonl")


def test_a_call_without_a_price_is_stored_as_unpriced(isolated_home: Path, tmp_path: Path) -> None:
    _write(isolated_home, "s-known", "claude-sonnet-4-5")
    _write(isolated_home, "s-unknown", "acme-unknown-1")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest(ledger, roots_for({"HOME": str(isolated_home)}))
    priced = dict(ledger.conn.execute("SELECT model, priced FROM usage_events").fetchall())
    assert priced == {"claude-sonnet-4-5": 1, "acme-unknown-1": 0}
    assert period_report(ledger, "daily", Filters())["totals"]["unpriced_calls"] == 1


def test_the_price_version_stays_once_the_ledger_holds_calls(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A later ingest with other prices (a user override) leaves the stored version: the
    calls already there were priced with the first."""
    _write(isolated_home, "s-first", "claude-sonnet-4-5")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    roots = roots_for({"HOME": str(isolated_home)})
    first = PriceBook()
    ingest(ledger, roots, prices=lambda: first)
    assert ledger.get_meta("price_version") == first.version
    _write(isolated_home, "s-second", "claude-sonnet-4-5")
    other = PriceBook({"claude-sonnet-4-5": {"input_mtok": 1.0, "output_mtok": 2.0}})
    assert other.version != first.version
    ingest(ledger, roots, prices=lambda: other)
    assert ledger.get_meta("price_version") == first.version
