"""What doctor and reprice say of prices an override leaves incomplete: the cases the
existing tests left open (found by mutation testing)."""

from __future__ import annotations

import json
from pathlib import Path

from shared.pricing import PriceBook
from tests.core.helpers import run_cli
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block


def test_override_gaps_name_each_missing_rate_of_an_unpriced_model_only() -> None:
    book = PriceBook(
        {
            "my-private": {"cache_read_mtok": 0.1},
            "my-half": {"output_mtok": 8.0},
            "claude-opus-4-7": {"output_mtok": 100.0},  # genai-prices gives the rest
        }
    )
    assert book.override_gaps("my-private-2") == ("my-private", ["input_mtok", "output_mtok"])
    assert book.override_gaps("my-half") == ("my-half", ["input_mtok"])
    assert book.override_gaps("claude-opus-4-7") is None
    assert book.override_gaps("no-override-model") is None


def _one_unpriced_call(home: Path, config: str) -> None:
    session = ClaudeSession("s-private", cwd="/home/dev/private")
    session.reply(1, [text_block("x")], claude_usage(3_000, 500), model="my-private-model")
    session.write(claude_project_dir(home / ".claude", "/home/dev/private") / "s.jsonl")
    path = home / "burnmeter-config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(config)


def test_doctor_names_both_rates_an_override_lacks(isolated_home: Path) -> None:
    _one_unpriced_call(isolated_home, '[prices."my-private-model"]\ncache_read_mtok = 0.1\n')
    doctor = run_cli("doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert (
        '  my-private-model: 1 call, 3,500 tokens; its [prices."my-private-model"] has no '
        "input_mtok and no output_mtok\n"
    ) in doctor.stdout
    (item,) = json.loads(run_cli("doctor", "--json").stdout)["unpriced_models"]
    assert item["override_lacks"] == ["input_mtok", "output_mtok"]


def test_reprice_says_one_unpriced_call_in_the_singular(isolated_home: Path) -> None:
    _one_unpriced_call(isolated_home, '[prices."my-private-model"]\ninput_mtok = 2.0\n')
    assert run_cli("ingest").returncode == 0
    done = run_cli("reprice")
    assert done.returncode == 0, done.stderr
    assert "; 1 call has no price (see `burnmeter doctor`)" in done.stdout
