"""Saving settings edits config.toml in place (`shared.config.save_settings`): a file the
user wrote by hand keeps its comments, blank lines, key order, quoting and every value
that did not change, byte for byte; only what changed is replaced, added or removed. The
settings window rewrote the whole file with tomli_w: every comment was dropped, the keys
reordered, `timezone = 'utc'` became `timezone = "UTC"`, `[[tier_policy.rules]]` an
inline array. The new file takes the old one's place in one rename, with its mode; a file
made read-only is left as it is."""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from pathlib import Path

import pytest

from shared.config import Settings, load_settings, save_settings
from shared.paths import config_file

HAND_WRITTEN = """\
# burnmeter, set up by hand: keep these notes.
timezone = 'utc'   # where I work

[budgets]
# what I can afford
daily_usd   = 5          # a day
weekly_usd = 0           # $0: tell me at the first cent
monthly_usd = 2_500_000

[subscription]
plan = "Claude Max 5x"   # monthly_price_usd from the preset

[prices."my-model"]   # my own deal
input_mtok = 2
output_mtok = 8.0

[tier_policy]
_comment = "kept for me, read by nobody"
models = { "my-model" = "economy" }

[[tier_policy.rules]]
match = "big-*"   # the expensive ones
tier = "frontier"

[tier_policy.reference_models]
economy = "claude-haiku-4-5"

[insights]
loop_consecutive_errors = 8  # the default, written on purpose

[roots]
claude = "/mnt/laptop/.claude"   # one folder, no brackets
"""


def _config(text: str | bytes) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_a_save_that_changes_nothing_leaves_the_file_byte_for_byte(isolated_home: Path) -> None:
    path = _config(HAND_WRITTEN)
    loaded = load_settings(path)
    assert loaded.problems == []
    save_settings(loaded.settings, path)
    assert path.read_bytes() == HAND_WRITTEN.encode("utf-8")


def test_only_the_changed_values_change_and_every_comment_stays(isolated_home: Path) -> None:
    path = _config(HAND_WRITTEN)
    settings = load_settings(path).settings
    settings.budgets.daily_usd = 7.5
    settings.meter_mode = "session"
    settings.roots.codex = ["/mnt/laptop/.codex"]
    settings.tier_policy["rules"] = [
        *settings.tier_policy["rules"],
        {"match": "my-model-*", "tier": "economy"},
    ]
    save_settings(settings, path)

    after = path.read_text(encoding="utf-8")
    assert _changed_lines(HAND_WRITTEN, after) == [
        '+meter_mode = "session"',
        "-daily_usd   = 5          # a day",
        "+daily_usd   = 7.5          # a day",
        "+[[tier_policy.rules]]",
        '+match = "my-model-*"',
        '+tier = "economy"',
        "+",
        '+codex = ["/mnt/laptop/.codex"]',
    ]
    # Where the additions went: a key before the first table, a rule after the others
    # (a blank line before the next table, as between the others), a folder list beside
    # the other agent's.
    assert after.index("meter_mode") < after.index("[budgets]")
    assert 'tier = "frontier"\n\n[[tier_policy.rules]]\nmatch = "my-model-*"' in after
    assert 'tier = "economy"\n\n[tier_policy.reference_models]' in after
    assert after.endswith(
        'claude = "/mnt/laptop/.claude"   # one folder, no brackets\n'
        'codex = ["/mnt/laptop/.codex"]\n'
    )
    assert load_settings(path).problems == []
    assert load_settings(path).settings == settings


def test_tables_the_window_does_not_show_are_kept_as_written(isolated_home: Path) -> None:
    """`[tier_policy]` (its `_comment` too, which burnmeter reads past), price overrides
    and `[insights]` are byte-identical after a change elsewhere."""
    path = _config(HAND_WRITTEN)
    settings = load_settings(path).settings
    settings.subscription.monthly_price_usd = 90
    save_settings(settings, path)
    after = path.read_text(encoding="utf-8")
    for block in ("[prices.", "[tier_policy]", "[[tier_policy.rules]]", "[insights]"):
        start = HAND_WRITTEN.index(block)
        end = HAND_WRITTEN.index("\n\n", start)
        assert HAND_WRITTEN[start:end] in after
    assert _changed_lines(HAND_WRITTEN, after) == ["+monthly_price_usd = 90"]


def test_a_cleared_value_leaves_with_its_line_and_the_notes_around_it_stay(
    isolated_home: Path,
) -> None:
    path = _config(HAND_WRITTEN)
    settings = load_settings(path).settings
    settings.budgets.weekly_usd = None
    settings.budgets.monthly_usd = None
    settings.roots.claude = []
    save_settings(settings, path)
    after = path.read_text(encoding="utf-8")
    assert _changed_lines(HAND_WRITTEN, after) == [
        "-weekly_usd = 0           # $0: tell me at the first cent",
        "-monthly_usd = 2_500_000",
        "-[roots]",
        '-claude = "/mnt/laptop/.claude"   # one folder, no brackets',
    ]
    assert "# what I can afford\ndaily_usd" in after
    # A table left with a note of the user's stays, the note in it.
    path = _config("[budgets]\n# none for now\ndaily_usd = 5\n")
    settings = load_settings(path).settings
    settings.budgets.daily_usd = None
    save_settings(settings, path)
    assert path.read_text(encoding="utf-8") == "[budgets]\n# none for now\n"
    assert load_settings(path).settings.budgets.daily_usd is None


def test_a_default_nobody_wrote_stays_out_and_one_written_on_purpose_stays(
    isolated_home: Path,
) -> None:
    path = _config("# mine\nmeter_mode = 'session'  # the running session\n")
    settings = load_settings(path).settings
    settings.meter_mode = "today"  # back to the default: the file named it, so it stays
    save_settings(settings, path)
    assert (
        path.read_text(encoding="utf-8") == '# mine\nmeter_mode = "today"  # the running session\n'
    )


def test_a_file_with_windows_line_ends_keeps_them(isolated_home: Path) -> None:
    path = _config(
        b"# notes\r\n[budgets]\r\ndaily_usd = 5\r\n\r\n[insights]\r\nchurn_min_calls = 4\r\n"
    )
    settings = load_settings(path).settings
    settings.budgets.weekly_usd = 30
    save_settings(settings, path)
    assert path.read_bytes() == (
        b"# notes\r\n[budgets]\r\ndaily_usd = 5\r\nweekly_usd = 30\r\n\r\n"
        b"[insights]\r\nchurn_min_calls = 4\r\n"
    )


def test_a_file_with_reported_problems_keeps_its_notes_when_replaced(isolated_home: Path) -> None:
    """The window asks before saving over a file with problems; a yes replaces the bad
    values (the window shows their defaults) and nothing else."""
    text = "# budgets\n[budgets]\ndaily_usd = -5  # oops\nweekly_usd = 20  # fine\nmeter_mode = 1\n"
    path = _config(text)
    loaded = load_settings(path)
    assert len(loaded.problems) == 2
    save_settings(loaded.settings, path)
    assert path.read_text(encoding="utf-8") == "# budgets\n[budgets]\nweekly_usd = 20  # fine\n"
    assert load_settings(path).problems == []


def test_a_file_that_is_not_toml_is_replaced_whole(isolated_home: Path) -> None:
    path = _config("[budgets\ndaily_usd = 5  # broken header\n")
    save_settings(Settings(meter_mode="session"), path)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"meter_mode": "session"}


def test_the_new_file_takes_the_old_ones_place_in_one_rename(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written in place, a crash (or a full disk) mid-save left half a file: every command
    then ran on the defaults, the budgets gone."""
    path = _config(HAND_WRITTEN)
    settings = load_settings(path).settings
    settings.budgets.daily_usd = 9
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        renames.append((Path(source), Path(target)))
        assert path.read_text(encoding="utf-8") == HAND_WRITTEN  # untouched until now
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    save_settings(settings, path)
    [(source, target)] = renames
    assert source.parent == path.parent and target == path
    assert load_settings(path).settings.budgets.daily_usd == 9

    # A save that fails before the rename leaves the file as it was, and no stray file.
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    before = path.read_bytes()
    settings.budgets.daily_usd = 11
    with pytest.raises(OSError, match="No space left"):
        save_settings(settings, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


def test_the_file_keeps_its_mode_and_a_link_stays_a_link(isolated_home: Path) -> None:
    path = _config(HAND_WRITTEN)
    path.chmod(0o600)
    settings = load_settings(path).settings
    settings.budgets.daily_usd = 6
    save_settings(settings, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # A config kept in a dotfiles folder and linked in: the link stays, its target changes.
    dotfiles = isolated_home / "dotfiles" / "config.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text("# from my dotfiles\n[budgets]\ndaily_usd = 1\n", encoding="utf-8")
    dotfiles.chmod(0o640)
    path.unlink()
    path.symlink_to(dotfiles)
    settings = load_settings(path).settings
    settings.budgets.daily_usd = 2
    save_settings(settings, path)
    assert path.is_symlink()
    assert dotfiles.read_text(encoding="utf-8") == "# from my dotfiles\n[budgets]\ndaily_usd = 2\n"
    assert stat.S_IMODE(dotfiles.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode(isolated_home: Path) -> None:
    old = os.umask(0o027)
    try:
        save_settings(Settings(meter_mode="session"), config_file())
    finally:
        os.umask(old)
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o640
    assert config_file().read_text(encoding="utf-8") == 'meter_mode = "session"\n'


def test_a_read_only_file_is_not_replaced_and_the_save_says_why(isolated_home: Path) -> None:
    """`chmod 0444 config.toml` kept the settings window from writing it until the save
    became a rename, which replaced it anyway (the folder is writable)."""
    path = _config(HAND_WRITTEN)
    path.chmod(0o444)
    settings = load_settings(path).settings
    settings.budgets.daily_usd = 9
    with pytest.raises(PermissionError) as raised:
        save_settings(settings, path)
    # The settings window says "Could not save to {path}: {strerror}".
    assert raised.value.strerror == "the file is read-only"
    assert str(raised.value) == f"{path} is read-only; not saved"
    assert path.read_bytes() == HAND_WRITTEN.encode("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]

    # Linked into a dotfiles folder: the message names the file that is read-only.
    dotfiles = isolated_home / "dotfiles" / "config.toml"
    dotfiles.parent.mkdir()
    path.rename(dotfiles)
    path.symlink_to(dotfiles)
    with pytest.raises(PermissionError, match=f"^{dotfiles} is read-only; not saved$") as raised:
        save_settings(settings, path)
    assert raised.value.strerror == f"the file it links to, {dotfiles}, is read-only"
    assert dotfiles.read_bytes() == HAND_WRITTEN.encode("utf-8")

    path.unlink()
    path.write_bytes(HAND_WRITTEN.encode("utf-8"))
    path.chmod(0o644)
    save_settings(settings, path)
    assert load_settings(path).settings.budgets.daily_usd == 9


RULES = """\
# tiers
[tier_policy]
reference_models = { frontier = { anthropic = "claude-opus-4-5" } }

# opus first
[[tier_policy.rules]]
match = "opus"  # big
tier = "frontier"

# then haiku
[[tier_policy.rules]]
match = "haiku"
tier = "economy"

# and sonnet
[[tier_policy.rules]]
match = "sonnet"
tier = "standard"

[budgets]
daily_usd = 5
"""


def _save_rules(rules: list[dict[str, str]]) -> str:
    path = _config(RULES)
    settings = load_settings(path).settings
    settings.tier_policy["rules"] = rules
    save_settings(settings, path)
    assert load_settings(path).settings.tier_policy["rules"] == rules
    return path.read_text(encoding="utf-8")


def test_a_rule_replaced_or_removed_takes_its_comment_and_leaves_the_spacing(
    isolated_home: Path,
) -> None:
    """Replacing the last `[[tier_policy.rules]]` entry in the window left its comment
    (`# and sonnet`) above the new rule and glued `[budgets]` to it; removing a rule took
    the next rule's comment with it."""
    opus = {"match": "opus", "tier": "frontier"}
    haiku = {"match": "haiku", "tier": "economy"}
    sonnet = {"match": "sonnet", "tier": "standard"}
    gpt = {"match": "gpt-5*", "tier": "frontier"}
    head = (
        "# tiers\n[tier_policy]\n"
        'reference_models = { frontier = { anthropic = "claude-opus-4-5" } }\n\n'
        "# opus first\n"
    )
    rule = {
        "opus": '[[tier_policy.rules]]\nmatch = "opus"  # big\ntier = "frontier"\n\n',
        "haiku": '# then haiku\n[[tier_policy.rules]]\nmatch = "haiku"\ntier = "economy"\n\n',
        "sonnet": '# and sonnet\n[[tier_policy.rules]]\nmatch = "sonnet"\ntier = "standard"\n\n',
        "gpt": '[[tier_policy.rules]]\nmatch = "gpt-5*"\ntier = "frontier"\n\n',
    }
    tail = "[budgets]\ndaily_usd = 5\n"
    assert head + rule["opus"] + rule["haiku"] + rule["sonnet"] + tail == RULES

    def text(*names: str) -> str:
        return head + "".join(rule[name] for name in names) + tail

    assert _save_rules([opus, haiku, gpt]) == text("opus", "haiku", "gpt")
    assert _save_rules([opus, haiku]) == text("opus", "haiku")
    assert _save_rules([opus, sonnet]) == text("opus", "sonnet")
    assert _save_rules([opus, gpt, haiku]) == text("opus", "gpt", "haiku")
    # A rule moved is the same rule, its comment with it.
    assert _save_rules([sonnet, opus, haiku]) == text("sonnet", "opus", "haiku")
    assert _save_rules([haiku, sonnet, opus]) == text("haiku", "sonnet", "opus")
    # The comment above the first entry is in [tier_policy] itself, and may be about the
    # whole list: it stays where it is.
    assert _save_rules([haiku, sonnet]) == text("haiku", "sonnet")


def test_a_comment_glued_to_the_rule_before_stays_with_it(isolated_home: Path) -> None:
    """Without a blank line above it, a comment may be the entry before's: it stays."""
    text = RULES.replace('tier = "economy"\n\n# and sonnet\n', 'tier = "economy"\n# haiku: cheap\n')
    path = _config(text)
    settings = load_settings(path).settings
    settings.tier_policy["rules"] = settings.tier_policy["rules"][:2]
    save_settings(settings, path)
    assert path.read_text(encoding="utf-8") == text.replace(
        '[[tier_policy.rules]]\nmatch = "sonnet"\ntier = "standard"\n', ""
    )


def test_whole_dollars_are_written_as_whole_numbers_and_cents_as_they_are(
    isolated_home: Path,
) -> None:
    """`daily_usd = 9.0` was written for $9; the loader takes `9` for a dollar amount."""
    settings = Settings()
    settings.budgets.daily_usd = 9
    settings.budgets.weekly_usd = 42.5
    settings.subscription.monthly_price_usd = 100
    path = save_settings(settings, config_file())
    text = path.read_text(encoding="utf-8")
    assert "daily_usd = 9\n" in text and "weekly_usd = 42.5\n" in text
    assert "monthly_price_usd = 100\n" in text
    loaded = load_settings(path)
    assert loaded.problems == []
    assert loaded.settings.budgets.daily_usd == 9.0
    assert isinstance(loaded.settings.budgets.daily_usd, float)
    assert loaded.settings == settings
