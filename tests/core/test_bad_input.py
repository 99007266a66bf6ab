"""Bad input never stops an ingest and never loses or doubles a call: malformed lines,
half-written lines, truncated, replaced, deleted and unreadable files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import shared.ingest.parsing
import shared.ingest.reading
from shared.cli import main
from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.pricing import PriceBook
from shared.sources.events import UsageEvent
from tests.core.helpers import events, ingest_env, roots_for, run_cli, totals
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    claude_project_dir,
    claude_replies,
    claude_usage,
    codex_rollout_path,
    padded_to,
    text_block,
)

CWD = "/home/dev/app"


def _session(session_id: str, outputs: list[int]) -> ClaudeSession:
    return claude_replies(session_id, CWD, outputs, cache_read=50)


def _path(home: Path, session_id: str) -> Path:
    return claude_project_dir(home / ".claude", CWD) / f"{session_id}.jsonl"


def _ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_ledger(tmp_path / "ledger.sqlite")


def test_malformed_lines_are_skipped_counted_and_shown_by_doctor(isolated_home: Path) -> None:
    session = _session("s-bad", [100, 200])
    good = session.lines
    path = _path(isolated_home, "s-bad")
    path.parent.mkdir(parents=True)
    path.write_bytes(
        good[0]
        + b'{"type":"assistant","message":{"usage":{"input_tokens":1,\n'  # cut JSON
        + b"not json at all\n"
        + b'["a","list"]\n'
        + good[1]
    )
    ingest = run_cli("ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "skipped 3 malformed lines" in ingest.stdout
    doctor = run_cli("doctor", "--json")
    report = json.loads(doctor.stdout)
    assert report["agents"]["claude-code"]["rejected_lines"] == 3
    assert report["agents"]["claude-code"]["calls"] == 2
    assert report["rejected_files"] == [{"path": str(path), "rejected_lines": 3}]
    text = run_cli("doctor")
    assert "3 malformed lines" in text.stdout
    assert "3 rejected" in text.stdout
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 300


def test_half_written_last_line_waits_until_completed(isolated_home: Path, tmp_path: Path) -> None:
    session = _session("s-half", [100, 250])
    path = _path(isolated_home, "s-half")
    path.parent.mkdir(parents=True)
    first, second = session.lines
    path.write_bytes(first + second[:-40])
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100
    offset, rejected = ledger.conn.execute("SELECT offset, rejected_lines FROM sources").fetchone()
    assert offset == len(first) and rejected == 0
    with open(path, "ab") as handle:
        handle.write(second[-40:])
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 350
    assert ledger.conn.execute("SELECT rejected_lines FROM sources").fetchone() == (0,)


def test_truncated_file_is_reread_without_double_counting(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = _session("s-trunc", [100, 200, 300])
    path = session.write(_path(isolated_home, "s-trunc"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 600
    # Rewritten in place, shorter than what was read: read again from the start.
    path.write_bytes(session.lines[0] + _session("s-trunc", [40]).lines[0])
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 640
    assert len(events(ledger)) == 4


def test_file_rewritten_in_place_with_a_line_end_at_the_old_offset_is_reread(
    isolated_home: Path, tmp_path: Path
) -> None:
    """`cp other.jsonl s.jsonl` keeps the inode; when the new text happens to end a line
    exactly where the old read stopped, the file was taken for the old one grown and the
    new lines before that point were never read (an audit's stress run found it)."""
    path = _path(isolated_home, "s-cp")
    path.parent.mkdir(parents=True)
    other = _session("s-other", [1000, 10000])
    length = len(other.lines[0]) + 16
    old = padded_to(_session("s-cp", [100]).lines[0], length)
    path.write_bytes(old)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100
    inode = path.stat().st_ino
    with open(path, "r+b") as handle:  # what `cp` does to an existing file
        handle.truncate(0)
        handle.write(padded_to(other.lines[0], len(old)) + other.lines[1])
    assert path.stat().st_ino == inode
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 1000 + 10000
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 1000 + 10000


def test_file_rewritten_in_place_with_another_line_of_the_same_session_is_reread(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Lines of one session end alike (its id, version and branch: ~100 bytes here, ~300
    in real logs): a copy of another version of the session, with a different call of the
    same length ending exactly at the old offset, is still told apart from the line read
    (a checksum of the last 64 bytes did not)."""
    path = _path(isolated_home, "s-same-session")
    path.parent.mkdir(parents=True)
    _, read, other, later = _session("s-same-session", [100, 200, 300, 400]).lines
    assert len(read) == len(other) and read[-100:] == other[-100:]
    path.write_bytes(read)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    with open(path, "r+b") as handle:  # `cp` of another version of the session over it
        handle.truncate(0)
        handle.write(other + later)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 200 + 300 + 400


def test_file_rewritten_in_place_at_the_same_size_is_reread(
    isolated_home: Path, tmp_path: Path
) -> None:
    path = _path(isolated_home, "s-same")
    path.parent.mkdir(parents=True)
    new = _session("s-new", [1000]).lines[0]
    old = padded_to(_session("s-same", [100]).lines[0], len(new) + 16)
    path.write_bytes(old)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    stat = path.stat()
    path.write_bytes(padded_to(new, len(old)))
    # Same size, whatever the clock's resolution: a later modification time.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 1000


def test_a_small_files_first_read_takes_its_checksum_from_what_it_parsed(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file under 4 KiB was read once to parse and once more for its checksum: a rewrite
    in between left a checksum of the new text beside rows of the old, and the rewrite
    went unnoticed. Read from its start, the bytes parsed are the checksum's bytes."""
    path = _session("s-small", [100]).write(_path(isolated_home, "s-small"))
    assert path.stat().st_size < shared.ingest.reading.TAIL_BYTES

    def second_read(path: str, offset: int) -> bytes:
        raise AssertionError(f"{path} was read again for its checksum")

    monkeypatch.setattr(shared.ingest.parsing, "read_tail", second_read)
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100
    (stored,) = ledger.conn.execute("SELECT tail_hash FROM sources").fetchone()
    assert stored == shared.ingest.reading.tail_checksum(path.read_bytes())


def test_a_touched_or_grown_file_is_not_read_again(isolated_home: Path, tmp_path: Path) -> None:
    """The check reads the bytes before the offset only: touching a file or appending to it
    reads what is new, nothing before."""
    session = _session("s-grow", [100, 200])
    path = session.write(_path(isolated_home, "s-grow"))
    ledger = _ledger(tmp_path)
    assert ingest_env(ledger).events_read == 2
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert ingest_env(ledger).events_read == 0
    session.reply(3, [text_block("x")], claude_usage(10, 300, cache_read=50))
    with open(path, "ab") as handle:
        handle.write(session.lines[-1])
    assert ingest_env(ledger).events_read == 1
    assert totals(ledger)["output_tokens"] == 600


def test_replaced_file_is_reread_without_double_counting(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = _session("s-repl", [100, 200])
    path = session.write(_path(isolated_home, "s-repl"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    # An editor-style save: a new file (new inode) with the old lines and one more, renamed over.
    session.reply(9, [text_block("more")], claude_usage(10, 50))
    replacement = path.with_name("tmp-save")
    session.write(replacement)
    os.replace(replacement, path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 350
    assert len(events(ledger)) == 3


def test_replaced_codex_rollout_is_reread_without_double_counting(
    isolated_home: Path, tmp_path: Path
) -> None:
    rollout = CodexRollout("019c-repl", started=0)
    rollout.turn(1)
    rollout.call(2, 1000, 10, cached=100)
    path = rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    rollout.call(3, 2000, 20, cached=1500)
    path.unlink()
    rollout.write(path)
    ingest_env(ledger)
    result = totals(ledger)
    assert result["output_tokens"] == 30
    assert result["input_tokens"] == 900 + 500


def test_deleted_file_keeps_its_history(isolated_home: Path, tmp_path: Path) -> None:
    path = _session("s-gone", [100, 200]).write(_path(isolated_home, "s-gone"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    before = totals(ledger)
    path.unlink()
    ingest_env(ledger)
    assert totals(ledger) == before
    assert ledger.conn.execute("SELECT missing FROM sources").fetchone() == (1,)


def test_deleted_file_shows_as_gone_in_doctor(isolated_home: Path) -> None:
    path = _session("s-gone2", [70]).write(_path(isolated_home, "s-gone2"))
    assert run_cli("ingest").returncode == 0
    path.unlink()
    report = json.loads(run_cli("doctor", "--json").stdout)
    assert report["agents"]["claude-code"]["files_gone"] == 1
    assert report["agents"]["claude-code"]["calls"] == 1
    # Said as what it is: nothing was lost ("1 file (1 gone)" said nothing of the calls).
    assert "1 file (1 moved or deleted since read, their calls kept), 1 model call" in (
        run_cli("doctor").stdout
    )
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 70


def test_fifo_and_directory_named_like_logs_do_not_block(isolated_home: Path) -> None:
    project = claude_project_dir(isolated_home / ".claude", CWD)
    _session("s-ok", [5]).write(project / "s-ok.jsonl")
    os.mkfifo(project / "pipe.jsonl")
    (project / "folder.jsonl").mkdir()
    codex_sessions = isolated_home / ".codex" / "sessions" / "2026" / "03" / "10"
    codex_sessions.mkdir(parents=True)
    os.mkfifo(codex_sessions / "rollout-2026-03-10T09-00-00-fifo.jsonl")
    result = run_cli("ingest", timeout=60)
    assert result.returncode == 0, result.stderr
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 5


def test_unreadable_file_is_a_warning_not_a_stop(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Tests run as root, so chmod cannot make a file unreadable: fail its open instead.
    blocked = _session("s-blocked", [100]).write(_path(isolated_home, "s-blocked"))
    _session("s-fine", [7]).write(_path(isolated_home, "s-fine"))
    real_read = shared.ingest.parsing.read_complete_lines

    def failing_read(path: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path == str(blocked):
            raise PermissionError(13, "Permission denied", path)
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(shared.ingest.parsing, "read_complete_lines", failing_read)
    assert main(["ingest"]) == 0
    captured = capsys.readouterr()
    # The path once, then the reason (not the path again inside the OS error's text).
    assert f"warning: {blocked}: Permission denied\n" in captured.err
    assert main(["doctor", "--json", "--no-ingest"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unreadable_files"] == [{"path": str(blocked), "error": "Permission denied"}]
    assert report["agents"]["claude-code"]["calls"] == 1
    # Readable again: read in full, the warning gone.
    monkeypatch.setattr(shared.ingest.parsing, "read_complete_lines", real_read)
    assert main(["report", "daily", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["output_tokens"] == 107
    assert main(["doctor", "--json", "--no-ingest"]) == 0
    assert json.loads(capsys.readouterr().out)["unreadable_files"] == []


def test_a_folder_that_cannot_be_listed_is_a_warning_not_silence(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A root or a subfolder (a session's `subagents/`) that cannot be listed used to drop
    its logs without a word, and doctor still called the root "found"."""
    _session("s-fine", [7]).write(_path(isolated_home, "s-fine"))
    hidden = _path(isolated_home, "s-hidden").parent / "s-hidden" / "subagents"
    _session("s-hidden", [100]).write(hidden / "agent-1.jsonl")
    real_scandir = os.scandir

    def failing_scandir(path):  # type: ignore[no-untyped-def]
        if str(path) == str(hidden):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    # Tests run as root, so chmod cannot hide a folder: fail its listing instead.
    monkeypatch.setattr(os, "scandir", failing_scandir)
    assert main(["ingest"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {hidden}: cannot list this folder (Permission denied)" in err
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unlisted_folders"] == [f"{hidden}: cannot list this folder (Permission denied)"]
    assert main(["doctor"]) == 0
    assert f"not read {hidden}: cannot list this folder" in " ".join(
        capsys.readouterr().out.split()
    )
    # Listable again: its calls come in.
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert main(["report", "daily", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["output_tokens"] == 107


def test_a_folder_whose_files_cannot_be_reached_is_a_warning_not_silence(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with read but no search permission (mode 600) lists its names, but no file
    in it can be looked at: its logs were dropped without a word."""
    _session("s-fine", [7]).write(_path(isolated_home, "s-fine"))
    hidden = _path(isolated_home, "s-hidden").parent / "noexec"
    _session("s-hidden", [100]).write(hidden / "s-hidden.jsonl")
    real_scandir = os.scandir

    class Unreachable:
        """A directory entry as Linux gives it from such a folder: its type is known
        (readdir's d_type), looking at the file itself is refused."""

        def __init__(self, entry: os.DirEntry[str]) -> None:
            self.entry = entry
            self.name, self.path = entry.name, entry.path

        def is_dir(self) -> bool:
            return self.entry.is_dir()

        def is_file(self) -> bool:
            return self.entry.is_file()

        def is_symlink(self) -> bool:
            return self.entry.is_symlink()

        def stat(self) -> os.stat_result:
            raise PermissionError(13, "Permission denied", self.path)

    class Listing:
        def __init__(self, path: str) -> None:
            self.listing = real_scandir(path)

        def __enter__(self) -> list[Unreachable]:
            return [Unreachable(entry) for entry in self.listing]

        def __exit__(self, *exc: object) -> None:
            self.listing.close()

    def scandir(path):  # type: ignore[no-untyped-def]
        return Listing(path) if str(path) == str(hidden) else real_scandir(path)

    # Tests run as root, so chmod cannot take the permission away: refuse the look instead.
    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["ingest"]) == 0
    message = f"{hidden}: cannot read the files in this folder (Permission denied)"
    assert f"warning: {message}" in capsys.readouterr().err
    assert main(["doctor", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unlisted_folders"] == [message]
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert main(["report", "daily", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["output_tokens"] == 107


def test_bad_config_falls_back_to_defaults_with_a_message(isolated_home: Path) -> None:
    _session("s-cfg", [100]).write(_path(isolated_home, "s-cfg"))
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[budgets\ndaily_usd = = 3\n")
    result = run_cli("report", "daily", "--json")
    assert result.returncode == 0, result.stderr
    assert str(config) in result.stderr and "using defaults" in result.stderr
    assert json.loads(result.stdout)["totals"]["output_tokens"] == 100
    config.write_text('[budgets]\ndaily_usd = -5\n[prices."x"]\nbogus = 1\n')
    doctor = run_cli("doctor", "--json")
    assert doctor.returncode == 0
    problems = json.loads(doctor.stdout)["config_problems"]
    assert len(problems) == 2, problems
    assert "budgets.daily_usd: Input should be greater than or equal to 0; ignored" in problems[0]
    assert "prices.x.bogus: unknown setting (a typo?); ignored." in problems[1]
    assert config.read_text() == '[budgets]\ndaily_usd = -5\n[prices."x"]\nbogus = 1\n'


def test_a_bad_setting_is_left_out_and_the_rest_of_the_file_applies(isolated_home: Path) -> None:
    """One typo used to throw the whole file away ("invalid settings ...; using defaults"):
    the user's prices went with it while its [roots] (read on their own, without
    validation) still applied."""
    elsewhere = isolated_home / "laptop" / ".claude"
    session = _session("s-roots", [100])
    session.write(claude_project_dir(elsewhere, "/home/dev/project") / "s-roots.jsonl")
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'timezone = "Mars/Phobos"\n[roots]\nclaude = "{elsewhere}"\n'
        '[prices."claude-opus-4-7"]\ninput_mtok = 2.0\noutput_mtok = 1000.0\n'
        "[budget]\ndaily_usd = 20\n[budgets]\nweekly_usd = 50\ndaily_usd = 'lots'\n"
    )
    result = run_cli("report", "daily", "--json")
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    assert totals["output_tokens"] == 100
    assert totals["cost_usd"] == pytest.approx(100 * 1000 / 1e6, rel=0.01)  # the price applies
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    problems = " | ".join(doctor["config_problems"])
    assert "timezone: unknown time zone 'Mars/Phobos'" in problems
    assert "budget: unknown setting (a typo?); ignored." in problems
    assert "budgets.daily_usd: Input should be a valid number" in problems
    assert len(doctor["config_problems"]) == 3 and "using defaults" not in problems
    budgets = json.loads(run_cli("budgets", "--json").stdout)["budgets"]
    assert [(b["period"], b["limit_usd"]) for b in budgets] == [("weekly", 50.0)]


def test_a_broken_config_is_named_even_when_nothing_else_reads_it(isolated_home: Path) -> None:
    """Its [roots] may be where the logs are: a report that finds no logs must say the file
    was not read (once), not only where it looked."""
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[roots\nclaude = ["/elsewhere/.claude"]\n')
    for args in (("ingest",), ("report", "daily"), ("report", "sessions")):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count(f"{config}: cannot read settings") == 1, (args, result.stderr)
        assert "No Claude Code or Codex logs found" in result.stderr
    config.write_bytes(b'[roots]\nclaude = ["\xff"]\n')  # not UTF-8
    assert "cannot read settings" in run_cli("report", "daily").stderr


def test_absurd_counts_are_rejected_lines_not_a_crash(isolated_home: Path) -> None:
    """A count beyond any real one (here past SQLite's 64-bit integers) is a malformed line."""
    session = ClaudeSession("s-absurd", cwd=CWD)
    session.reply(1, [text_block("a")], claude_usage(10, 2**63 + 5))
    session.reply(2, [text_block("b")], claude_usage(10, 7))
    session.write(_path(isolated_home, "s-absurd"))
    rollout = CodexRollout("019c-absurd", started=0)
    rollout.turn(1)
    rollout.call(2, 100, 5, reemit=0)
    rollout.call(3, 2**63 + 1, 5, reemit=0)
    rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    result = run_cli("ingest")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "skipped 2 malformed lines" in result.stdout
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 7 + 5


def test_an_absurd_count_burnmeter_does_not_store_leaves_the_line_counted(
    isolated_home: Path,
) -> None:
    """Only the counts that become ledger rows must be in range; a wild number elsewhere in
    `usage` (here the web-search counter) does not make the call's tokens malformed."""
    session = ClaudeSession("s-odd-field", cwd=CWD)
    usage = claude_usage(10, 70, cache_read=500, write_1h=20)
    usage["server_tool_use"] = {"web_search_requests": 2**63 + 5}
    session.reply(1, [text_block("a")], usage)
    session.reply(2, [text_block("b")], claude_usage(10, 2**53, cache_read=500))
    session.write(_path(isolated_home, "s-odd-field"))
    result = run_cli("ingest")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 malformed line" in result.stdout  # the 2**53 output only
    assert "malformed lines" not in result.stdout
    totals = json.loads(run_cli("report", "daily", "--json").stdout)["totals"]
    assert (totals["input_tokens"], totals["output_tokens"]) == (10, 70)
    assert (totals["cache_read_tokens"], totals["cache_write_tokens"]) == (500, 20)
    # The wild web-search count is no bill: the call costs its tokens alone.
    tokens_only = PriceBook().cost(
        UsageEvent(
            "k",
            "claude-code",
            "s",
            0,
            "claude-opus-4-7",
            input_tokens=10,
            output_tokens=70,
            cache_read_tokens=500,
            cache_write_1h_tokens=20,
        )
    )
    assert tokens_only is not None and tokens_only > 0
    assert totals["cost_usd"] == pytest.approx(tokens_only, abs=1e-6)


def test_data_dir_that_is_a_file_is_a_clear_error(isolated_home: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    env = {**os.environ, "BURNMETER_DATA_DIR": str(blocker)}
    result = run_cli("report", "daily", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(blocker) in result.stderr and "BURNMETER_DATA_DIR" in result.stderr
    assert f"{blocker} is a file, not a folder" in result.stderr
    assert blocker.read_text() == "x"


def test_file_rewritten_in_place_and_grown_is_reread(isolated_home: Path, tmp_path: Path) -> None:
    """`cp backup.jsonl live.jsonl` truncates and rewrites the same inode; when the new
    content is longer than what was read, the old offset points into the middle of a line."""
    path = _session("s-inplace", [100, 200]).write(_path(isolated_home, "s-inplace"))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    inode = path.stat().st_ino
    other = _session("s-inplace", [1000, 2000, 3000, 4000])
    with open(path, "r+b") as handle:
        handle.truncate(0)
        handle.write(b"".join(other.lines))
    assert path.stat().st_ino == inode
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100 + 200 + 1000 + 2000 + 3000 + 4000
    assert ledger.conn.execute("SELECT rejected_lines FROM sources").fetchone() == (0,)


def test_a_line_longer_than_a_read_chunk_is_read_whole(isolated_home: Path, tmp_path: Path) -> None:
    """A tool output of many MB is one line; while half-written it waits like any other."""
    from shared.ingest.chunks import CHUNK_BYTES

    session = _session("s-huge", [100])
    huge_output = "x" * (CHUNK_BYTES + 1024 * 1024)
    session.tool_result("toolu_huge", huge_output, 5, is_error=True)
    session.reply(6, [text_block("after")], claude_usage(10, 200))
    first, huge, last = session.lines
    path = _path(isolated_home, "s-huge")
    path.parent.mkdir(parents=True)
    path.write_bytes(first + huge[: len(huge) // 2])
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 100
    with open(path, "ab") as handle:
        handle.write(huge[len(huge) // 2 :] + last)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 300
    assert ledger.conn.execute("SELECT tool_id FROM tool_errors").fetchall() == [("toolu_huge",)]
    assert ledger.conn.execute("SELECT rejected_lines FROM sources").fetchone() == (0,)


def test_corrupt_zstd_rollout_is_a_warning_not_a_stop(isolated_home: Path) -> None:
    rollout = CodexRollout("019c-zbad", started=0)
    rollout.turn(1)
    rollout.call(2, 1000, 10)
    target = codex_rollout_path(isolated_home / ".codex", rollout, folder="archived_sessions")
    bad = target.with_name(target.name + ".zst")
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\x28\xb5\x2f\xfd" + b"definitely not a zstd frame" * 10)
    _session("s-next", [42]).write(_path(isolated_home, "s-next"))
    result = run_cli("ingest")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"warning: {bad}" in result.stderr
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 42
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    assert [item["path"] for item in doctor["unreadable_files"]] == [str(bad)]


def test_file_names_that_are_not_utf8_are_read(isolated_home: Path) -> None:
    """Linux paths are bytes: a project folder from a cwd with Latin-1 bytes in its name."""
    project = claude_project_dir(isolated_home / ".claude", CWD)
    project.mkdir(parents=True)
    odd_folder = os.fsencode(project.parent) + b"/-home-dev-caf\xe9"
    os.mkdir(odd_folder)
    session = _session("s-latin1", [77])
    with open(odd_folder + b"/s-latin1.jsonl", "wb") as handle:
        handle.write(b"".join(session.lines))
    _session("s-plain", [5]).write(_path(isolated_home, "s-plain"))
    result = run_cli("ingest")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["output_tokens"] == 82
    doctor = run_cli("doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr
    assert json.loads(doctor.stdout)["agents"]["claude-code"]["files"] == 2


def test_lines_with_unpaired_surrogate_escapes_are_read(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Claude Code (JavaScript) cuts long strings by UTF-16 units; a cut through an emoji is
    written as an unpaired `\\ud83d` escape, which strict parsers refuse."""
    session = ClaudeSession("s-surrogate", cwd=CWD)
    session.reply(1, [text_block("PLACEHOLDER")], claude_usage(10, 123))
    session.tool_result("toolu_s", "PLACEHOLDER", 2, is_error=True)
    lines = [line.replace(b"PLACEHOLDER", b"cut here \\ud83d") for line in session.lines]
    lines.append(
        _session("s-surrogate", [1]).lines[0].replace(b"/home/dev/app", b"/home/dev/\\udc80app")
    )
    path = _path(isolated_home, "s-surrogate")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(lines))
    ledger = _ledger(tmp_path)
    ingest_env(ledger)
    assert totals(ledger)["output_tokens"] == 124
    assert ledger.conn.execute("SELECT tool_id FROM tool_errors").fetchall() == [("toolu_s",)]
    assert ledger.conn.execute("SELECT rejected_lines FROM sources").fetchone() == (0,)


def test_a_file_deleted_between_finding_and_reading_it_is_not_an_error(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Claude Code prunes old transcripts; one that goes between the scan and the read is
    counted, not warned about, and the next scan marks it gone."""
    from shared.sources.roots import discover_files

    for name in ("s-keep", "s-gone"):
        session = ClaudeSession(name, cwd=CWD)
        session.reply(1, [text_block("a")], claude_usage(10, 7))
        session.write(_path(isolated_home, name))
    roots = roots_for({"HOME": str(isolated_home)})
    files = discover_files(roots)
    gone = next(log for log in files if "s-gone" in log.path)
    Path(gone.path).unlink()
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    summary = ingest(ledger, roots, files=files)
    assert (summary.vanished, summary.unreadable, summary.files_read) == (1, [], 1)
    errors = ledger.conn.execute("SELECT count(*) FROM sources WHERE last_error IS NOT NULL")
    assert errors.fetchone()[0] == 0
    ingest(ledger, roots)
    missing = ledger.conn.execute("SELECT path FROM sources WHERE missing = 1").fetchall()
    assert missing == [(gone.path,)]
    ledger.close()


def test_a_damaged_archive_is_named_whole_by_doctor(isolated_home: Path) -> None:
    """An archived rollout that is not zstd is a warning; doctor prints its path on one line
    (whole and copyable, however narrow the terminal) and the reason under it."""
    archive = isolated_home / ".codex" / "archived_sessions"
    archive.mkdir(parents=True)
    name = "rollout-2026-01-01T00-00-01-0199aaaa-bbbb-cccc-dddd-eeeeeeeeeeee.jsonl.zst"
    (archive / name).write_bytes(b"not zstd at all")
    ingested = run_cli("ingest")
    assert ingested.returncode == 0 and "not a readable zstd file" in ingested.stderr
    env = {**os.environ, "COLUMNS": "80"}
    lines = run_cli("doctor", env=env).stdout.splitlines()
    (at,) = [index for index, line in enumerate(lines) if "not read" in line]
    assert lines[at].strip() == f"not read ~/.codex/archived_sessions/{name}"
    assert lines[at + 1].strip().startswith("not a readable zstd file (zstd decompress error")


def test_doctor_counts_the_lines_of_a_moved_rollout_once(isolated_home: Path) -> None:
    """Codex moves a finished rollout to archived_sessions/: its calls were deduplicated,
    but doctor added the old path's lines to the new one's."""
    rollout = CodexRollout("019c-moved", started=0)
    rollout.turn(1)
    rollout.call(2, 1000, 10)
    rollout.call(3, 2000, 20)
    live = rollout.write(codex_rollout_path(isolated_home / ".codex", rollout))
    assert run_cli("ingest").returncode == 0
    before = json.loads(run_cli("doctor", "--json").stdout)["agents"]["codex"]
    archived = codex_rollout_path(isolated_home / ".codex", rollout, folder="archived_sessions")
    archived.parent.mkdir(parents=True, exist_ok=True)
    live.rename(archived)
    after = json.loads(run_cli("doctor", "--json").stdout)["agents"]["codex"]
    assert after["calls"] == before["calls"] == 2
    assert after["lines"] == before["lines"] == len(archived.read_bytes().splitlines())
    assert after["files_gone"] == 1


def test_a_bad_key_named_like_its_table_takes_only_itself(tmp_path: Path) -> None:
    """Leaving out `[insights] insights = 1` (an error at insights.insights) deleted the
    whole [insights] table, its valid settings with it; a zone name is taken in any case,
    as `--tz` takes it, and stored in its own spelling."""
    from shared.config import load_settings

    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "europe/berlin"\n[insights]\nloop_same_call_repeats = 3\ninsights = 1\n'
        '[prices."m1"]\ninput_mtok = 2.0\noutput_mtok = 4.0\nm1 = 5\n'
    )
    loaded = load_settings(config)
    assert loaded.settings.insights.loop_same_call_repeats == 3
    assert loaded.settings.price_overrides() == {"m1": {"input_mtok": 2.0, "output_mtok": 4.0}}
    assert loaded.settings.timezone == "Europe/Berlin"
    assert sorted(p.split(": ", 1)[1] for p in loaded.problems) == [
        "insights.insights: unknown setting (a typo?); ignored.",
        "prices.m1.m1: unknown setting (a typo?); ignored.",
    ]


def test_an_archive_cut_short_is_a_warning_and_read_whole_once_complete(
    isolated_home: Path,
) -> None:
    """Half a `.jsonl.zst` was counted in part, silently (52,000 of 200,000 tokens in the
    audit's case): an archive is read whole or not at all."""
    import zstandard

    rollout = CodexRollout("019c-cut", started=0)
    rollout.turn(1)
    for n in range(400):
        rollout.call(2 + n, 1000, 10)
    whole = zstandard.ZstdCompressor().compress(b"".join(rollout.lines))
    plain = codex_rollout_path(isolated_home / ".codex", rollout, folder="archived_sessions")
    archive = plain.with_name(plain.name + ".zst")
    archive.parent.mkdir(parents=True)
    archive.write_bytes(whole[: len(whole) // 2])
    first = run_cli("ingest")
    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert "cut short, or still being written" in first.stderr
    daily = json.loads(run_cli("report", "daily", "--json", "--no-ingest").stdout)
    assert daily["totals"]["total_tokens"] == 0  # none of it, not a part
    archive.write_bytes(whole)
    daily = json.loads(run_cli("report", "daily", "--json").stdout)
    assert daily["totals"]["input_tokens"] + daily["totals"]["cache_read_tokens"] == 400 * 1000


def test_timestamps_no_report_can_show_are_malformed_lines(isolated_home: Path) -> None:
    """A call dated in year 1 or 9999 ended every period report (in any zone east or west
    of it) and `report blocks` in a traceback; a bare number was read as a date in 1781."""
    from datetime import UTC, datetime

    session = ClaudeSession("s-dates", cwd=CWD)
    session.reply(1, [text_block("ok")], claude_usage(10, 7))
    good = session.lines[-1]
    for stamp in ("0001-01-01T00:00:00.000Z", "9999-12-31T23:00:00.000Z", "1781092800000"):
        session.reply(datetime(2026, 3, 10, tzinfo=UTC), [text_block("odd")], claude_usage(5, 5))
        session.lines[-1] = session.lines[-1].replace(b"2026-03-10T00:00:00.000Z", stamp.encode())
    assert good in session.lines
    session.write(_path(isolated_home, "s-dates"))
    result = run_cli("ingest")
    assert result.returncode == 0, result.stderr
    assert "skipped 3 malformed lines" in result.stdout
    for zone in ("Asia/Tokyo", "America/New_York"):
        for kind in ("daily", "weekly", "monthly"):
            report = run_cli("report", kind, "--json", "--tz", zone)
            assert report.returncode == 0, report.stderr
            assert json.loads(report.stdout)["totals"]["output_tokens"] == 7
    blocks = run_cli("report", "blocks", "--tz", "UTC")
    assert blocks.returncode == 0 and "Traceback" not in blocks.stderr


def test_a_config_saved_with_a_byte_order_mark_is_read(isolated_home: Path) -> None:
    """Notepad's "UTF-8 with BOM" and PowerShell 5.1's `-Encoding UTF8` start the file with
    a BOM: the whole file was refused ("Invalid statement"), prices and roots included."""
    elsewhere = isolated_home / "laptop" / ".claude"
    session = _session("s-bom", [100])
    session.write(claude_project_dir(elsewhere, "/home/dev/project") / "s-bom.jsonl")
    config = isolated_home / "burnmeter-config" / "config.toml"
    config.parent.mkdir(parents=True)
    text = (
        f'timezone = "Etc/GMT-14"\n[roots]\nclaude = "{elsewhere}"\n'
        '[prices."claude-opus-4-7"]\ninput_mtok = 2.0\noutput_mtok = 1000.0\n'
    )
    config.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = run_cli("report", "daily", "--json")
    assert result.returncode == 0 and "cannot read settings" not in result.stderr
    totals = json.loads(result.stdout)["totals"]
    assert totals["output_tokens"] == 100  # [roots] read (by the quick reader)
    assert totals["cost_usd"] == pytest.approx(100 * 1000 / 1e6, rel=0.01)  # prices applied
    from shared.commands.statusline_cmd import configured_zone_name

    assert configured_zone_name() == "Etc/GMT-14"
