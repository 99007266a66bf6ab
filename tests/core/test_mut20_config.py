"""Saving settings (`shared.config.save_settings`): the cases the existing tests left open
(found by mutation testing)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from shared.config import Budgets, Insights, Settings, save_settings
from shared.paths import config_file


def _saved(text: bytes, settings: Settings) -> dict[str, object]:
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(text)
    save_settings(settings, path)
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_a_value_changed_in_a_table_the_file_names_is_written_beside_its_keys(
    isolated_home: Path,
) -> None:
    """`[budgets]` named only `daily_usd`: a monthly budget set in the window was lost."""
    written = _saved(
        b"[budgets]\ndaily_usd = 5\n", Settings(budgets=Budgets(daily_usd=5, monthly_usd=50))
    )
    assert written == {"budgets": {"daily_usd": 5.0, "monthly_usd": 50.0}}


def test_a_default_written_in_a_file_with_a_byte_order_mark_stays_written(
    isolated_home: Path,
) -> None:
    """Notepad's BOM: the file read as naming nothing, so its default written on purpose
    was left out at the next save."""
    default = Insights().loop_consecutive_errors
    text = f"[insights]\nloop_consecutive_errors = {default}\n".encode()
    written = _saved(b"\xef\xbb\xbf" + text, Settings(meter_mode="session"))
    assert written == {"meter_mode": "session", "insights": {"loop_consecutive_errors": default}}
