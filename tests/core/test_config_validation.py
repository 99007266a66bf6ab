"""Every setting of config.toml that is not valid is named once per command, in doctor too,
and left out: `[tier_policy]` entries as well as typed settings, numbers that are not
finite or out of range, values of the wrong type, `[roots]` that are not folders."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared.config import Insights, Settings, load_settings
from shared.insights.tiers import TierPolicy
from tests.core.helpers import run_cli

REPO_ROOT = Path(__file__).resolve().parents[2]

# The audit's file: every line is wrong in a way that used to be reported nowhere, or only
# by `report sessions` (never by doctor).
BAD_POLICY = """\
[tier_policy]
models = "opus"
rules = [ { match = 5, tier = "ultra" }, "junk", { match = "llama-*", tier = "economy" } ]
reference_models = { economy = 3, bogus = { anthropic = 1 } }
"""


def _write_config(home: Path, text: str) -> Path:
    config = home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    return config


def _loaded(tmp_path: Path, text: str) -> tuple[Settings, list[str]]:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    loaded = load_settings(config)
    prefix = f"{config}: "
    assert all(problem.startswith(prefix) for problem in loaded.problems), loaded.problems
    return loaded.settings, [problem.removeprefix(prefix) for problem in loaded.problems]


def test_tier_policy_problems_are_settings_problems(tmp_path: Path) -> None:
    settings, problems = _loaded(tmp_path, BAD_POLICY)
    assert problems == [
        "tier_policy.models: must be a table of model names and tiers (economy, standard, "
        "frontier or unknown), not 'opus'; ignored.",
        "tier_policy.rules: rule {'match': 5, 'tier': 'ultra'} needs a `match` pattern and a "
        "tier (economy, standard, frontier or unknown); ignored.",
        "tier_policy.rules: rule 'junk' needs a `match` pattern and a tier (economy, standard, "
        "frontier or unknown); ignored.",
        "tier_policy.reference_models.economy: must be a model name or a table of them by "
        "provider (anthropic and openai), not 3; ignored.",
        "tier_policy.reference_models.bogus: unknown tier (economy, standard, frontier); ignored.",
    ]
    # Left out of the settings, so whoever builds the policy from them has nothing more to
    # say (`report sessions` printed these a second time, in other words).
    assert settings.tier_policy == {"rules": [{"match": "llama-*", "tier": "economy"}]}
    policy = TierPolicy.from_settings(settings)
    assert policy.problems == []
    assert policy.tier_of("llama-3-70b") == "economy"
    assert policy.reference_model("economy", "claude-opus-4-7") == "claude-haiku-5-5"


def test_tier_policy_entries_of_the_wrong_type_are_not_taken_for_names() -> None:
    """`{anthropic = 1}` became the model "1"; a provider no session has was kept silently."""
    from shared.insights.tiers import checked_policy

    valid, problems = checked_policy(
        {
            "reference_models": {
                "economy": {"anthropic": 1, "openai": "gpt-5-mini", "google": "gemini"},
                "standard": "",
            },
            "rules": [{"match": "x*", "tier": "economy", "teir": "standard"}],
            "models": {"m": 2},
            "model": {},
        }
    )
    # A rule with a key rules do not have is left out whole, as reported ("; ignored."):
    # it was applied without the key, wider than written.
    assert valid == {"reference_models": {"economy": {"openai": "gpt-5-mini"}}}
    assert problems == [
        "model: unknown setting (a typo?)",
        "models.m: unknown tier 2 (economy, standard, frontier or unknown)",
        "rules: rule {'match': 'x*', 'tier': 'economy', 'teir': 'standard'}: unknown key "
        "'teir' (a typo?)",
        "reference_models.economy.anthropic: must be a model name, not 1",
        "reference_models.economy.google: unknown provider (anthropic or openai)",
        "reference_models.standard: must be a model name or a table of them by provider "
        "(anthropic and openai), not ''",
    ]


@pytest.mark.parametrize(
    ("line", "name", "problem"),
    [
        (
            "[budgets]\nmonthly_usd = 1e400",
            "budgets.monthly_usd",
            "Input should be a finite number",
        ),
        ("[budgets]\ndaily_usd = nan", "budgets.daily_usd", "Input should be a finite number"),
        ("[budgets]\nweekly_usd = 1e10", "budgets.weekly_usd", "less than or equal to 1000000000"),
        (
            "[subscription]\nmonthly_price_usd = 1e308",
            "subscription.monthly_price_usd",
            "less than or equal to 1000000000",
        ),
        (
            '[prices."m"]\ninput_mtok = inf',
            "prices.m.input_mtok",
            "Input should be a finite number",
        ),
        ('[prices."m"]\noutput_mtok = 2e9', "prices.m.output_mtok", "less than or equal to"),
        ('[prices."m"]\nfast_multiplier = 1000', "prices.m.fast_multiplier", "less than or equal"),
        (
            '[prices."m"]\nus_inference_multiplier = -1',
            "prices.m.us_inference_multiplier",
            "greater",
        ),
        (
            '[prices."m"]\nweb_searches_kcount = 1e12',
            "prices.m.web_searches_kcount",
            "less than or equal to",
        ),
        ("[insights]\ngit_timeout_seconds = nan", "insights.git_timeout_seconds", "finite"),
        ("[insights]\ndominant_tier_share = inf", "insights.dominant_tier_share", "finite"),
        ("[insights]\nchurn_window_minutes = 1e308", "insights.churn_window_minutes", "less"),
        ("[insights]\nhint_min_saving_usd = 1e300", "insights.hint_min_saving_usd", "less"),
        (
            "[insights]\nhint_min_frontier_cost_usd = -inf",
            "insights.hint_min_frontier_cost_usd",
            "finite",
        ),
        (
            "[insights]\nloop_same_call_repeats = 99999999999999999999",
            "insights.loop_same_call_repeats",
            "less than or equal to 1000000",
        ),
        (
            "[insights]\nbloat_min_prompt_tokens = 10000000000",
            "insights.bloat_min_prompt_tokens",
            "less",
        ),
        # Wrong types, once coerced: `true` was a $1 budget, "20" was 20.
        ("[budgets]\ndaily_usd = true", "budgets.daily_usd", "Input should be a valid number"),
        ("[budgets]\ndaily_usd = '20'", "budgets.daily_usd", "Input should be a valid number"),
        ("[insights]\noutcome_window_days = 7.0", "insights.outcome_window_days", "valid integer"),
        ("start_at_login = 'yes'", "start_at_login", "Input should be a valid boolean"),
        ("[summary]\nredact = 1", "summary.redact", "Input should be a valid boolean"),
    ],
)
def test_numbers_must_be_finite_in_range_and_numbers(
    tmp_path: Path, line: str, name: str, problem: str
) -> None:
    settings, problems = _loaded(tmp_path, line + "\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{name}: ") and problem in problems[0], problems
    assert problems[0].endswith("; ignored, the default is used.")
    # The default is used (a `[prices."m"]` left with no price prices nothing).
    assert settings.price_overrides() in ({}, {"m": {}})
    assert settings.model_copy(update={"prices": {}}) == Settings()


def test_values_in_range_are_kept(tmp_path: Path) -> None:
    settings, problems = _loaded(
        tmp_path,
        "[budgets]\ndaily_usd = 0\nmonthly_usd = 1e9\n[subscription]\nmonthly_price_usd = 100\n"
        '[prices."m"]\ninput_mtok = 2\nfast_multiplier = 6\n'
        "[insights]\nchurn_window_minutes = 1440\nloop_same_call_repeats = 1000000\n",
    )
    assert problems == []
    assert settings.budgets.daily_usd == 0 and settings.budgets.monthly_usd == 1e9
    assert settings.subscription.monthly_price_usd == 100.0
    assert settings.price_overrides() == {"m": {"input_mtok": 2.0, "fast_multiplier": 6.0}}
    assert settings.insights.churn_window_minutes == 1440


def _insight_ranges_in_readme() -> dict[str, tuple[str, float, float, str]]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```toml\n[insights]", 1)[1].split("\n[tier_policy]", 1)[0]
    ranges = {}
    for match in re.finditer(r"^(\w+) = \S+ +# ([\[(])([-\d.e]+), ([-\d.e]+)([\])])", block, re.M):
        name, opening, low, high, closing = match.groups()
        ranges[name] = (opening, float(low), float(high), closing)
    return ranges


def test_the_readme_lists_each_insight_setting_with_its_range(tmp_path: Path) -> None:
    documented = _insight_ranges_in_readme()
    assert set(documented) == set(Insights.model_fields)
    for name, field in Insights.model_fields.items():
        bounds: dict[str, Any] = {}
        for constraint in field.metadata:
            for key in ("ge", "gt", "le", "lt"):
                if getattr(constraint, key, None) is not None:
                    bounds[key] = getattr(constraint, key)
        opening, low, high, closing = documented[name]
        assert bounds == {
            ("ge" if opening == "[" else "gt"): low,
            ("le" if closing == "]" else "lt"): high,
        }, name
    # The block itself is a valid config (its defaults).
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = "[insights]" + text.split("```toml\n[insights]", 1)[1].split("```", 1)[0]
    settings, problems = _loaded(tmp_path, block)
    assert problems == []
    assert settings.insights == Insights()


def test_doctor_and_every_command_name_each_problem_once(isolated_home: Path) -> None:
    config = _write_config(
        isolated_home,
        BAD_POLICY + "[budgets]\nmonthly_usd = 1e400\n[subscription]\nmonthly_price_usd = 1e308\n",
    )
    doctor = run_cli("doctor", "--json", "--demo")
    assert doctor.returncode == 0, doctor.stderr
    problems = json.loads(doctor.stdout)["config_problems"]
    assert len(problems) == 7, problems
    assert sum("tier_policy." in problem for problem in problems) == 5
    assert f"{config}: budgets.monthly_usd: Input should be a finite number" in problems[0]
    assert f"{config}: subscription.monthly_price_usd: Input should be less" in problems[1]
    said = [line for line in doctor.stderr.splitlines() if line.startswith("burnmeter: ")]
    assert said == [f"burnmeter: {problem}" for problem in problems]

    # The text shows each once, whole, on one line: it was said on stderr as well (twice on
    # a terminal), and at 80 columns the path and the setting's name were split.
    shown = run_cli("doctor", "--demo")
    text = shown.stdout.splitlines()
    for problem in problems:
        assert text.count(f"  {problem}") == 1, (problem, text)
    assert "burnmeter: " not in shown.stderr, shown.stderr

    sessions = run_cli("report", "sessions", "--json", "--demo")
    assert sessions.returncode == 0, sessions.stderr
    said = [line for line in sessions.stderr.splitlines() if line.startswith("burnmeter: ")]
    assert said == [f"burnmeter: {problem}" for problem in problems]

    budgets = run_cli("budgets", "--json", "--demo")
    report = json.loads(budgets.stdout)
    assert report["budgets"] == []  # no $inf budget
    assert report["leverage"].get("plan_price_usd") is None, report["leverage"]
    text = run_cli("budgets", "--demo").stdout
    assert "set [subscription] plan or monthly_price_usd" in text and "000,000,000" not in text


def test_bad_roots_are_named_once_each(isolated_home: Path) -> None:
    """`extra_roots` (every command) and the settings (most commands) named a `[roots]`
    that is not a table in two different sentences, and of two bad entries the first only
    where the settings were read."""
    config = _write_config(isolated_home, 'roots = "/mnt/laptop"\n')
    not_a_table = f"{config}: [roots] is not a table; its folders are not read."
    for args in (("report", "sessions", "--json"), ("doctor", "--json")):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        said = [line for line in result.stderr.splitlines() if line.startswith("burnmeter: ")]
        assert said == [f"burnmeter: {not_a_table}"], (args, result.stderr)
    doctor = run_cli("doctor")  # the text names it in its report only
    assert doctor.stdout.splitlines().count(f"  {not_a_table}") == 1, doctor.stdout
    assert "burnmeter: " not in doctor.stderr, doctor.stderr
    _write_config(isolated_home, "[roots]\nclaude = 7\ncodex = [8]\n")
    both = f"burnmeter: {config}: [roots] claude and codex must each be a folder or a list of "
    for args in (("report", "sessions", "--json"), ("report", "daily", "--json", "--no-ingest")):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        said = [line for line in result.stderr.splitlines() if line.startswith("burnmeter: ")]
        assert said == [both + "folders; not read."], (args, result.stderr)
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert doctor["config_problems"] == [both.removeprefix("burnmeter: ") + "folders; not read."]


def test_doctor_names_a_reference_model_without_a_price(isolated_home: Path) -> None:
    """A valid setting naming a model burnmeter has no price for made every hint that
    would suggest it vanish without a word."""
    _write_config(isolated_home, '[tier_policy]\nreference_models = { economy = "x-unknown" }\n')
    doctor = run_cli("doctor", "--demo", "--json")
    assert doctor.returncode == 0, doctor.stderr
    unpriced = json.loads(doctor.stdout)["unpriced_reference_models"]
    assert unpriced == [
        {"tier": "economy", "provider": "anthropic", "model": "x-unknown"},
        {"tier": "economy", "provider": "openai", "model": "x-unknown"},
    ]
    text = " ".join(run_cli("doctor", "--demo").stdout.split())
    # One line for the one name, which stands for both providers.
    assert text.count("no price for the economy tier's reference model") == 1
    assert "reference model x-unknown (anthropic, openai)" in text
    # The defaults are all priced.
    _write_config(isolated_home, "")
    assert (
        json.loads(run_cli("doctor", "--demo", "--json").stdout)["unpriced_reference_models"] == []
    )
