"""`bench.ingest_vs_ccusage --write FILE` replaces only the latest measurement of a results
file whose other sections are written by hand."""

from __future__ import annotations

import pytest

from bench.ingest_vs_ccusage import LATEST_BEGIN, LATEST_END, splice_latest


def test_only_the_marked_section_is_replaced() -> None:
    before = f"# Results\n\nintro\n\n{LATEST_BEGIN}\nold table\n{LATEST_END}\n\n## Analysis\nkept\n"
    after = splice_latest(before, "new table\n")
    assert after == (
        f"# Results\n\nintro\n\n{LATEST_BEGIN}\nnew table\n{LATEST_END}\n\n## Analysis\nkept\n"
    )
    # Written again, the file keeps its shape: nothing grows or moves.
    assert splice_latest(after, "new table") == after


def test_a_new_file_holds_the_measurement_between_markers() -> None:
    written = splice_latest(None, "table")
    assert written == f"{LATEST_BEGIN}\ntable\n{LATEST_END}\n"
    assert splice_latest(written, "other") == f"{LATEST_BEGIN}\nother\n{LATEST_END}\n"


@pytest.mark.parametrize("text", ["# Results\nanalysis only\n", f"{LATEST_END}\n{LATEST_BEGIN}\n"])
def test_a_file_without_the_section_is_left_alone(text: str) -> None:
    with pytest.raises(ValueError, match=r"no .* section to replace"):
        splice_latest(text, "table")
