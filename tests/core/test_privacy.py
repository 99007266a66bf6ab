"""No text from the logs reaches the ledger: unique markers in every kind of text Claude
Code and Codex write are searched for in the raw bytes of the ledger and its WAL/SHM."""

from __future__ import annotations

from pathlib import Path

from shared.ledger import open_ledger
from shared.paths import ledger_path
from tests.core.helpers import ingest_env, run_cli
from tests.core.logwriters import (
    ClaudeSession,
    CodexRollout,
    apply_patch_text,
    claude_project_dir,
    claude_usage,
    codex_rollout_path,
    text_block,
    thinking_block,
    tool_use_block,
)

MARKERS = {
    kind: f"zq{kind}{index:02d}xv"
    for index, kind in enumerate(
        [
            "claudeprompt",
            "claudereply",
            "claudethinking",
            "claudebash",
            "claudeeditold",
            "claudeeditnew",
            "claudewritecontent",
            "claudetooloutput",
            "claudetoolerror",
            "claudegrep",
            "codexprompt",
            "codexreply",
            "codexreasoning",
            "codexcmd",
            "codexpatchbody",
            "codexoutput",
            "codexfailoutput",
            "codexwebsearch",
        ]
    )
}


def _write_logs(home: Path) -> None:
    cwd = "/home/dev/secret-free"
    session = ClaudeSession("s-privacy", cwd=cwd)
    session.prompt(f"please {MARKERS['claudeprompt']} now", 1)
    session.reply(
        2,
        [
            thinking_block(f"thinking {MARKERS['claudethinking']}"),
            text_block(f"answer {MARKERS['claudereply']}"),
            tool_use_block("toolu_b", "Bash", {"command": f"echo {MARKERS['claudebash']}"}),
            tool_use_block(
                "toolu_e",
                "Edit",
                {
                    "file_path": f"{cwd}/a.py",
                    "old_string": MARKERS["claudeeditold"],
                    "new_string": MARKERS["claudeeditnew"],
                },
            ),
            tool_use_block(
                "toolu_w",
                "Write",
                {"file_path": f"{cwd}/b.py", "content": MARKERS["claudewritecontent"]},
            ),
            tool_use_block("toolu_g", "Grep", {"pattern": MARKERS["claudegrep"]}),
        ],
        claude_usage(10, 300, cache_read=1000, write_1h=50),
    )
    session.tool_result("toolu_b", f"out {MARKERS['claudetooloutput']}", 3)
    session.tool_result("toolu_e", f"failed {MARKERS['claudetoolerror']}", 3, is_error=True)
    session.write(claude_project_dir(home / ".claude", cwd) / "s-privacy.jsonl")

    rollout = CodexRollout("019c-privacy", started=0, cwd=cwd)
    rollout.turn(1)
    rollout.user_message(f"do {MARKERS['codexprompt']}", 1)
    rollout.reasoning(f"reason {MARKERS['codexreasoning']}", 2)
    rollout.function_call(3, "exec_command", {"cmd": f"grep {MARKERS['codexcmd']}"}, "call_x")
    rollout.exec_output(4, "call_x", f"found {MARKERS['codexoutput']}", 0)
    rollout.function_call(5, "exec_command", {"cmd": "false"}, "call_y")
    rollout.exec_output(6, "call_y", f"bad {MARKERS['codexfailoutput']}", 1)
    patch = apply_patch_text(("Update", "src/x.py")).replace("new line", MARKERS["codexpatchbody"])
    rollout.custom_tool_call(7, "apply_patch", patch, "call_p")
    rollout.agent_message(f"done {MARKERS['codexreply']}", 8)
    search = {"type": "search", "query": f"how {MARKERS['codexwebsearch']}"}
    rollout.add(
        "response_item", {"type": "web_search_call", "status": "completed", "action": search}, 8.5
    )
    rollout.call(9, 5000, 100, cached=1000, reasoning=20)
    rollout.write(codex_rollout_path(home / ".codex", rollout))


def _ledger_bytes(path: Path) -> dict[str, bytes]:
    return {
        side.name: side.read_bytes()
        for side in path.parent.iterdir()
        if side.name.startswith(path.name)
    }


def _leaks(files: dict[str, bytes]) -> list[tuple[str, str]]:
    found = []
    for name, data in files.items():
        for kind, marker in MARKERS.items():
            for encoded in (marker.encode(), marker.encode("utf-16-le")):
                if encoded in data:
                    found.append((name, kind))
    return found


def test_markers_are_in_the_logs_but_not_in_the_ledger(isolated_home: Path, tmp_path: Path) -> None:
    _write_logs(isolated_home)
    logs = b"".join(p.read_bytes() for p in isolated_home.rglob("*.jsonl"))
    assert all(marker.encode() in logs for marker in MARKERS.values())
    path = tmp_path / "data" / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest_env(ledger)
    # What was extracted is there: counts, tool names, paths, an error flag.
    assert ledger.conn.execute("SELECT count(*) FROM usage_events").fetchone() == (2,)
    assert ledger.conn.execute("SELECT count(*) FROM tool_calls").fetchone() == (8,)
    assert ledger.conn.execute("SELECT count(*) FROM tool_errors").fetchone() == (2,)
    # Checked while the connection is open, so the WAL and SHM files are there too.
    files = _ledger_bytes(path)
    assert {"ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"} <= set(files)
    assert _leaks(files) == []
    ledger.close()
    assert _leaks(_ledger_bytes(path)) == []


def test_no_marker_reaches_the_ledger_through_the_cli(isolated_home: Path) -> None:
    _write_logs(isolated_home)
    for command in (["ingest"], ["report", "sessions", "--json"], ["reprice"], ["doctor"]):
        result = run_cli(*command)
        assert result.returncode == 0, result.stderr
        assert _leaks({" ".join(command): result.stdout.encode()}) == []
    files = _ledger_bytes(ledger_path())
    assert "ledger.sqlite" in files
    assert _leaks(files) == []


def test_another_tools_path_is_kept_only_when_it_is_a_file_path(
    isolated_home: Path, tmp_path: Path
) -> None:
    """An MCP tool's `path` can be an API path with a query string and a key, or a SQL
    text: it was stored as a touched "file" and shown by report files."""
    cwd = "/home/dev/app"
    session = ClaudeSession("s-mcp", cwd=cwd)
    session.reply(
        1,
        [
            tool_use_block(
                "toolu_api",
                "mcp__http__request",
                {"path": "/v1/users/search?q=zqmcpqueryxv&api_key=zqmcpkeyxv"},
            ),
            tool_use_block("toolu_sql", "mcp__db__query", {"path": "SELECT * FROM zqsqlxv"}),
            tool_use_block("toolu_fs", "mcp__filesystem__read_file", {"path": "/home/dev/a b.py"}),
            tool_use_block("toolu_read", "Read", {"file_path": "/home/dev/odd?name.py"}),
        ],
        claude_usage(10, 100),
    )
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s-mcp.jsonl")
    path = tmp_path / "data" / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest_env(ledger)
    stored = dict(ledger.conn.execute("SELECT tool_id, path FROM tool_files").fetchall())
    assert stored == {"toolu_fs": "/home/dev/a b.py", "toolu_read": "/home/dev/odd?name.py"}
    ledger.close()
    data = b"".join(_ledger_bytes(path).values())
    for marker in (b"zqmcpqueryxv", b"zqmcpkeyxv", b"zqsqlxv"):
        assert marker not in data


def test_words_a_url_or_a_glob_given_as_a_path_are_not_kept(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Any run of words passed the file-path check: an MCP tool's `path` of "DROP TABLE
    customers" or a sentence with a secret in it was stored (joined to the session's
    folder) and shown by `report files`; so were a URL with its token handed to Read and a
    glob handed to Grep."""
    cwd = "/home/dev/app"
    session = ClaudeSession("s-words", cwd=cwd)
    blocks = [
        ("toolu_sql", "mcp__db__run", {"path": "DROP TABLE zqdropxv"}),
        ("toolu_note", "mcp__notes__write", {"path": "remember my password is zqpassxv"}),
        ("toolu_key", "mcp__kv__get", {"file_path": "api key sk-live-zqkeyxv"}),
        ("toolu_url", "Read", {"file_path": "https://intranet.example/r?token=zqtokenxv"}),
        ("toolu_glob", "Grep", {"pattern": "x", "path": "src/**/*.zqglobxv"}),
        ("toolu_or", "mcp__notes__write", {"path": "my password is zqorxv and/or swordfish"}),
        ("toolu_see", "mcp__notes__write", {"path": "the key is zqseexv see notes.md"}),
        ("toolu_rel", "mcp__filesystem__read_file", {"path": "docs/notes.md"}),
        ("toolu_ext", "mcp__filesystem__read_file", {"path": "/home/dev/Screen shot 1.png"}),
        ("toolu_own", "Read", {"file_path": "Makefile"}),
    ]
    session.reply(
        1,
        [tool_use_block(tool_id, name, tool_input) for tool_id, name, tool_input in blocks],
        claude_usage(10, 100),
    )
    session.write(claude_project_dir(isolated_home / ".claude", cwd) / "s-words.jsonl")
    path = tmp_path / "data" / "ledger.sqlite"
    ledger = open_ledger(path)
    ingest_env(ledger)
    stored = dict(ledger.conn.execute("SELECT tool_id, path FROM tool_files").fetchall())
    assert stored == {
        "toolu_rel": f"{cwd}/docs/notes.md",
        "toolu_ext": "/home/dev/Screen shot 1.png",
        "toolu_own": f"{cwd}/Makefile",
    }
    ledger.close()
    data = b"".join(_ledger_bytes(path).values())
    markers = (b"zqdropxv", b"zqpassxv", b"zqkeyxv", b"zqtokenxv", b"zqglobxv", b"zqorxv")
    for marker in (*markers, b"zqseexv"):
        assert marker not in data


def test_another_tools_windows_path_is_kept_as_a_file_path(
    isolated_home: Path, tmp_path: Path
) -> None:
    """On Windows an MCP file tool's `path` has a drive and backslashes: it was never stored
    (the file-path check knew POSIX paths only)."""
    cwd = "C:\\Users\\me\\proj"
    session = ClaudeSession("s-mcp-win", cwd=cwd)
    session.reply(
        1,
        [
            tool_use_block(
                "toolu_back", "mcp__filesystem__read_file", {"path": "C:\\Users\\me\\proj\\a.md"}
            ),
            tool_use_block(
                "toolu_fwd", "mcp__filesystem__read_file", {"path": "C:/Users/me/proj/b.md"}
            ),
            tool_use_block(
                "toolu_url", "mcp__http__request", {"path": "https://api.example/v1?key=zqwinxv"}
            ),
        ],
        claude_usage(10, 100),
    )
    session.write(claude_project_dir(isolated_home / ".claude", "/home/dev/win") / "s.jsonl")
    ledger = open_ledger(tmp_path / "ledger.sqlite")
    ingest_env(ledger)
    stored = dict(ledger.conn.execute("SELECT tool_id, path FROM tool_files").fetchall())
    assert stored == {
        "toolu_back": "C:\\Users\\me\\proj\\a.md",
        "toolu_fwd": "C:/Users/me/proj/b.md",
    }
    ledger.close()
