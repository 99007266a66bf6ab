"""The code lens's and the hover's text, from their figures at an explicit "now": money
from $100 on in whole dollars, ages at their minute, hour and two-day edges, a lens with
no model, and the hover's rows (short session ids, the count of sessions not listed)."""

from __future__ import annotations

from lsp_server.code_lens import lens_title
from lsp_server.format import ago, money
from lsp_server.hover import hover_markdown
from lsp_server.queries import BreakdownRow, FileCost

NOW = 1_780_315_200_000  # 2026-06-01T12:00Z
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def test_money_is_whole_dollars_from_100_on() -> None:
    """$100 and more are whole dollars; below, cents."""
    assert money(100) == "$100"
    assert money(99.994) == "$99.99"
    assert money(1234.5) == "$1,234"


def test_money_rounds_a_float_sum_as_the_reports_do() -> None:
    """A file's calls of $0.03 and $0.255 sum to 0.28500000000000003: `report files` rounds
    it to 6 decimals first and shows $0.28; the code lens said $0.29."""
    assert money(0.03 + 0.255) == "$0.28"
    assert money(0.009_999_999_7) == "$0.01"  # the reports' 0.01, not "<$0.01"


def test_ages_change_unit_at_their_edges() -> None:
    """`just now` below a minute, minutes below an hour, hours below two days, then days."""
    assert ago(59_999) == "just now"
    assert ago(MINUTE) == "1m ago"
    assert ago(59 * MINUTE) == "59m ago"
    assert ago(HOUR) == "1h ago"
    assert ago(30 * HOUR) == "30h ago"
    assert ago(47 * HOUR) == "47h ago"
    assert ago(48 * HOUR) == "2d ago"
    # To the nearest unit: 1 h 59 min read "1h ago", rounded down.
    assert ago(HOUR + 59 * MINUTE) == "2h ago"
    assert ago(HOUR + 29 * MINUTE) == "1h ago"
    assert ago(HOUR + 30 * MINUTE) == "2h ago"
    assert ago(90_000) == "2m ago"  # 1 min 30 s
    assert ago(89_000) == "1m ago"
    assert ago(59 * MINUTE + 40_000) == "1h ago"  # 59 min 40 s: not "60m ago"
    assert ago(47 * HOUR + 40 * MINUTE) == "2d ago"  # not "48h ago"
    assert ago(3 * DAY + 13 * HOUR) == "4d ago"


def test_lens_counts_sessions_and_names_the_model_only_when_known() -> None:
    """The lens says the file's sessions (not its calls), and the last model with its age
    only when the ledger has one."""
    cost = FileCost("/p/a.py", 3.21, 7, 2, "claude-opus-4-7-20260101", NOW - 2 * HOUR)
    assert lens_title(cost, NOW) == "$3.21 agent spend · 2 sessions · opus-4-7 2h ago"
    no_model = FileCost("/p/a.py", 3.21, 7, 1, "", NOW - 2 * HOUR)
    assert lens_title(no_model, NOW) == "$3.21 agent spend · 1 session"


def test_hover_rows_short_ids_and_sessions_not_listed() -> None:
    """Each row names its session by the first 8 characters of its id; when the file has
    calls than its rows, one last row says how many more, and in how many sessions not
    listed; none when all are listed."""
    cost = FileCost("/p/a.py", 2.0, 5, 3, "claude-opus-4-7", NOW - HOUR)
    rows = [
        BreakdownRow("abcdefghijkl", "claude-opus-4-7", 3, 1.5, NOW - HOUR),
        BreakdownRow("mnopqrstuvwx", "claude-opus-4-7", 1, 0.5, NOW - 3 * HOUR),
    ]
    text = hover_markdown(cost, rows, NOW)
    assert "| abcdefgh | opus-4-7 | 3 | $1.50 | 1h ago |" in text
    assert text.count("more call") == 1 and "| 1 more call, 1 more session |" in text
    all_listed = hover_markdown(FileCost("/p/a.py", 2.0, 4, 2, "m", NOW), rows, NOW)
    assert "more call" not in all_listed and "more session" not in all_listed
