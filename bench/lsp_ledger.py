"""A synthetic ledger of N model calls for the language-server benchmarks.

Rows go straight into a real ledger through SQL (the triggers and indexes of the real
schema stay on), shaped like real work: sessions in a few projects, 0-3 tool calls per
model call, touched files drawn with a skew so a few files are very hot.

    .venv/bin/python -m bench.lsp_ledger /tmp/bench-lsp/ledger.sqlite --calls 1000000
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from shared.ledger import Ledger, open_ledger

MODELS = ("claude-opus-4-7", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5-codex")
TOOLS = ("Read", "Edit", "Grep", "Bash", "Write", "Glob")
PROJECTS = 20
FILES_PER_PROJECT = 500
CALLS_PER_SESSION = 200


def project_dir(project: int) -> str:
    return f"/home/dev/src/project{project:02d}"


def file_path(project: int, index: int) -> str:
    return f"{project_dir(project)}/src/module{index // 50:02d}/file{index:04d}.py"


def build(path: Path, calls: int, seed: int = 7) -> Ledger:
    rng = random.Random(seed)
    ledger = open_ledger(path)
    conn = ledger.conn
    conn.execute("PRAGMA synchronous = OFF")
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - 90 * 86_400_000
    step = (now_ms - start_ms) // max(calls, 1)
    sessions = max(1, calls // CALLS_PER_SESSION)
    # Pareto-skewed file choice: a few files are touched by thousands of calls.
    weights = [1.0 / (i + 1) ** 0.8 for i in range(FILES_PER_PROJECT)]
    batch_events: list[tuple[object, ...]] = []
    batch_tools: list[tuple[object, ...]] = []
    batch_files: list[tuple[str, str]] = []
    session_rows: dict[str, list[object]] = {}
    tool_n = 0

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO usage_events (event_key, agent, session_id, source_id, ts_ms, model, "
            "input_tokens, output_tokens, cache_read_tokens, total_tokens, cost_usd, priced) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,1)",
            batch_events,
        )
        conn.executemany("INSERT INTO tool_calls VALUES (?,?,?,?,?,?)", batch_tools)
        conn.executemany("INSERT OR IGNORE INTO tool_files VALUES (?,?)", batch_files)
        conn.execute("COMMIT")
        batch_events.clear()
        batch_tools.clear()
        batch_files.clear()

    for n in range(calls):
        session_no = n * sessions // calls
        session_id = f"session-{session_no:06d}"
        project = session_no % PROJECTS
        ts_ms = start_ms + n * step
        model = MODELS[session_no % len(MODELS)]
        tokens_in, tokens_out, cached = (
            rng.randint(10, 5000),
            rng.randint(10, 2000),
            rng.randint(0, 80000),
        )
        cost = (tokens_in * 3 + tokens_out * 15 + cached * 0.3) / 1e6
        key = f"cc:msg_{n}:req_{n}"
        batch_events.append(
            (key, "claude-code", session_id, None, ts_ms, model, tokens_in, tokens_out, cached,
             tokens_in + tokens_out + cached, cost)
        )  # fmt: skip
        for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
            tool_n += 1
            tool_id = f"toolu_{tool_n}"
            batch_tools.append((tool_id, key, session_id, ts_ms, rng.choice(TOOLS), ""))
            index = rng.choices(range(FILES_PER_PROJECT), weights)[0]
            batch_files.append((tool_id, file_path(project, index)))
        entry = session_rows.setdefault(
            session_id, ["claude-code", project_dir(project), None, "main", ts_ms, ts_ms]
        )
        entry[5] = ts_ms
        if len(batch_events) >= 20_000:
            flush()
    flush()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR REPLACE INTO sessions (session_id, agent, project_path, repo, git_branch, "
        "first_ts_ms, last_ts_ms) VALUES (?,?,?,?,?,?,?)",
        [(sid, *row) for sid, row in session_rows.items()],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    return ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    build(args.ledger, args.calls).close()
    print(f"{args.calls:,} calls into {args.ledger} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
