"""Logged text in the summary's sentences (outside its tables) is written as a name: in
Markdown escaped as a table cell is, in HTML without turning backticks into code. The
"no known price (…)" line wrote model names as they were, so `[pay here](http://evil.example)`
became a link once the Markdown was rendered and `my*local*llm` emphasis."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.roots import claude_roots, codex_roots
from shared.summary import build_summary, parse_week, render
from shared.timezones import zone_from_tz
from tests.summary.conftest import HAIKU, WEBSHOP
from tests.summary.history import ClaudeSession

LINK = "[pay here](http://evil.example)"
STARS = "my*local*llm"
TICKS = "a`b`c"


def _summary(home: Path, tmp_path: Path, tz: str = "UTC") -> dict[str, Any]:
    session = ClaudeSession(home, WEBSHOP)
    for hour, model in enumerate([HAIKU, LINK, STARS, TICKS], start=9):
        session.call(datetime(2026, 11, 10, hour, tzinfo=UTC), model=model)
    session.write()
    ledger = open_ledger(tmp_path / "names.sqlite")
    env = {"HOME": str(home)}
    ingest(ledger, claude_roots(env) + codex_roots(env))
    zone = zone_from_tz(tz)
    assert zone is not None
    return build_summary(ledger, Settings(), parse_week("2026-W46"), zone)


def _outside_tables(markdown: str) -> str:
    return "\n".join(line for line in markdown.splitlines() if not line.startswith("|"))


def test_model_names_in_the_headline_are_escaped(isolated_home: Path, tmp_path: Path) -> None:
    summary = _summary(isolated_home, tmp_path)
    markdown = render(summary, "md")
    line = next(line for line in markdown.splitlines() if "no known price" in line)
    assert "\\[pay here\\](http://evil.example)" in line, line
    assert "my\\*local\\*llm" in line and "a\\`b\\`c" in line, line
    text = _outside_tables(markdown)
    for name in (LINK, STARS, TICKS):
        assert name not in text
    # The sentence's own words keep their Markdown.
    assert '[prices."MODEL"]' in line
    html = render(summary, "html")
    note = next(p for p in html.split("<p") if "no known price" in p)
    assert "[pay here](http://evil.example)" in note and STARS in note
    assert "a`b`c" in note and "<code>" not in note and "\\" not in note
    # Nothing of how the summary marks logged text reaches a reader.
    for text in (markdown, html):
        assert not {"\ue000", "\ue001"} & set(text)


def test_a_zone_named_like_a_tag_is_escaped(isolated_home: Path, tmp_path: Path) -> None:
    """The span line named the zone as it was: a POSIX `TZ` such as `<ABC>-3` is its
    zone's key, and `<ABC>` became an HTML tag, the zone vanishing from the page."""
    summary = _summary(isolated_home, tmp_path, tz="<ABC>-3")
    assert summary["timezone"] == "<ABC>-3"
    markdown = render(summary, "md")
    assert "(\\<ABC\\>-3)" in markdown
    assert "<ABC>" not in markdown
    assert "(&lt;ABC&gt;-3)" in render(summary, "html")


def test_a_hints_reason_is_escaped(isolated_home: Path, tmp_path: Path) -> None:
    """A hint's reason names the configured model it suggests."""
    summary = _summary(isolated_home, tmp_path)
    hint = {
        "session_id": "s1",
        "repo": "r",
        "suggested_tier": "economy",
        "suggested_model": "my_cheap*model",
        "hinted_cost_usd": 2.0,
        "counterfactual_cost_usd": 0.5,
        "saving_usd": 1.5,
        "reason": "the same tokens on my_cheap*model would cost $0.50 instead of $2.00",
    }
    summary["tier_hints"] = {"total_saving_usd": 1.5, "sessions": [hint]}
    markdown = render(summary, "md")
    assert "Largest: the same tokens on my\\_cheap\\*model would cost" in markdown
    assert "my_cheap*model" not in _outside_tables(markdown)
