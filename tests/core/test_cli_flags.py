"""Flags are spelt whole (argparse took any unambiguous prefix: `burnmeter --versio` printed
the version, `report daily --tim Asia/Tokyo` counted days in Tokyo), and `report --help`
says where the zone comes from without `--tz` (the config's `timezone`, else the machine's:
it said "default: local")."""

from __future__ import annotations

import json

import pytest

from tests.core.helpers import run_cli


@pytest.mark.parametrize(
    ("args", "unknown"),
    [
        (["--versio"], "--versio"),
        (["--vers"], "--vers"),
        (["report", "daily", "--tim", "Asia/Tokyo", "--no-ingest"], "--tim Asia/Tokyo"),
        (["report", "daily", "--no-ing"], "--no-ing"),
        (["report", "daily", "--js", "--no-ingest"], "--js"),
        # Every command's flags, not only the report's.
        (["doctor", "--no-ing"], "--no-ing"),
        (["budgets", "--js", "--no-ingest"], "--js"),
        (["summary", "--last", "--no-ingest"], "--last"),
    ],
)
def test_a_flag_is_not_taken_from_its_first_letters(args: list[str], unknown: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert f"unrecognized arguments: {unknown}" in done.stderr, done.stderr
    assert done.stdout == ""


def test_whole_flags_and_ccusages_spellings_still_work() -> None:
    assert run_cli("--version").stdout.startswith("burnmeter ")
    for zone in (["--timezone", "Asia/Tokyo"], ["-z", "Asia/Tokyo"], ["--tz", "Asia/Tokyo"]):
        done = run_cli("report", "daily", "--json", "--no-ingest", *zone, "-s", "20260101")
        assert done.returncode == 0, (zone, done.stderr)
        assert json.loads(done.stdout)["daily"] == []


def test_report_help_names_the_config_as_the_zones_default() -> None:
    text = " ".join(run_cli("report", "--help").stdout.split())
    assert "IANA time zone for dates (default: config, else local)" in text
    summary = " ".join(run_cli("summary", "--help").stdout.split())
    assert "(default: config, else local)" in summary
