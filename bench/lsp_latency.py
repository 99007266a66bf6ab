"""Language-server latency, measured at a real LSP client talking to `burnmeter lsp`:

1. appended log line -> `burnmeter/status` received by the client (p50/p95 over N appends);
2. `textDocument/codeLens` response time on a ledger of >= 1M calls (p50/p95/max over
   files drawn uniformly from the touched files, and over the hottest files).

    .venv/bin/python -m bench.lsp_ledger /tmp/bench-lsp/ledger.sqlite --calls 1000000
    .venv/bin/python -m bench.lsp_latency --data-dir /tmp/bench-lsp --out bench/RESULTS-lsp.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient

from bench.lsp_ledger import project_dir

# Unique per run, so a second run on the same ledger is not deduplicated away.
LIVE_SESSION = f"bench-live-{int(time.time())}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def plain(value: Any) -> Any:
    """pygls hands custom notifications' params over as named tuples: back to JSON shapes."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def claude_line(n: int, cwd: str, path: str) -> str:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return (
        json.dumps(
            {
                "type": "assistant",
                "sessionId": LIVE_SESSION,
                "cwd": cwd,
                "timestamp": ts,
                "requestId": f"req_{LIVE_SESSION}_{n}",
                "message": {
                    "id": f"msg_{LIVE_SESSION}_{n}",
                    "model": "claude-opus-4-7",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": f"tool_{LIVE_SESSION}_{n}",
                            "name": "Edit",
                            "input": {"file_path": path},
                        }
                    ],
                    "usage": {
                        "input_tokens": 1000 + n,
                        "output_tokens": 100,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                },
            }
        )
        + "\n"
    )


async def run(data_dir: Path, appends: int, lens_requests: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="burnmeter-bench-home-"))
    cwd = project_dir(0)
    log_dir = home / ".claude" / "projects" / cwd.replace("/", "-")
    log_dir.mkdir(parents=True)
    log = log_dir / f"{LIVE_SESSION}.jsonl"
    log.write_text("")
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        BURNMETER_DATA_DIR=str(data_dir),
        BURNMETER_CONFIG_DIR=str(home / "config"),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        CODEX_HOME=str(home / ".codex"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )

    statuses: list[tuple[float, dict[str, Any]]] = []
    arrived = asyncio.Event()
    client = BaseLanguageClient("burnmeter-bench", "1")

    @client.feature("burnmeter/status")
    def on_status(ls: BaseLanguageClient, params: Any) -> None:
        statuses.append((time.perf_counter(), plain(params)))
        arrived.set()

    await client.start_io(sys.executable, "-m", "shared", "lsp", env=env)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=f"file://{cwd}",
            workspace_folders=[types.WorkspaceFolder(uri=f"file://{cwd}", name="bench")],
        )
    )
    client.initialized(types.InitializedParams())
    await asyncio.wait_for(arrived.wait(), 60)
    await asyncio.sleep(2.0)  # let the writer's first scan settle

    def live_tokens() -> int:
        for session in statuses[-1][1]["sessions"]:
            if session["session_id"] == LIVE_SESSION:
                return int(session["total_tokens"])
        return 0

    status_ms: list[float] = []
    expected = 0
    for n in range(appends):
        expected += 1000 + n + 100
        with log.open("a") as handle:
            handle.write(claude_line(n, cwd, f"{cwd}/src/live.py"))
        started = time.perf_counter()
        deadline = started + 10
        while live_tokens() != expected and time.perf_counter() < deadline:
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), deadline - time.perf_counter())
            except TimeoutError:
                break
        if live_tokens() != expected:
            raise RuntimeError(f"append {n}: no status with the new call within 10 s")
        status_ms.append((statuses[-1][0] - started) * 1000)
        await asyncio.sleep(0.3)

    conn = sqlite3.connect(data_dir / "ledger.sqlite")
    calls = conn.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    paths = [r[0] for r in conn.execute("SELECT path FROM file_stats")]
    hottest = [
        r[0] for r in conn.execute("SELECT path FROM file_stats ORDER BY calls DESC LIMIT 20")
    ]
    hot_calls = conn.execute("SELECT max(calls) FROM file_stats").fetchone()[0]
    conn.close()
    rng = random.Random(11)

    async def lens_ms(path: str) -> float:
        started = time.perf_counter()
        result = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=f"file://{path}"))
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert result, path
        return elapsed

    for path in rng.sample(paths, 20):  # warm-up: imports, page cache
        await lens_ms(path)
    uniform = [await lens_ms(path) for path in rng.choices(paths, k=lens_requests)]
    hot = [await lens_ms(path) for path in hottest * 5]
    server = client._server  # pygls keeps the server's process here
    memory = server_memory(server.pid) if server is not None else {}

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {
        "calls": calls,
        "files": len(paths),
        "hot_calls": hot_calls,
        "status_ms": status_ms,
        "lens_uniform_ms": uniform,
        "lens_hot_ms": hot,
        "memory_mib": memory,
    }


def server_memory(pid: int) -> dict[str, float]:
    """The server's resident memory now (all, anonymous, file-backed: the ledger's pages
    if it maps them) and its peak, in MiB, from /proc (Linux)."""
    fields = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    found: dict[str, float] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        name, _, value = line.partition(":")
        if name in fields:
            found[fields[name]] = int(value.split()[0]) / 1024
    return found


def summary(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {statistics.median(values):.1f} | "
        f"{percentile(values, 0.95):.1f} | {max(values):.1f} |"
    )


def memory_line(memory: dict[str, float]) -> str:
    if not memory:
        return "Server memory: not measured (no /proc on this system)."
    return (
        f"Server memory after the requests: {memory['rss']:.0f} MiB resident "
        f"({memory['anon']:.0f} MiB anonymous, {memory['file']:.0f} MiB file-backed), "
        f"peak {memory['peak']:.0f} MiB."
    )


def report(result: dict[str, Any], command: str) -> str:
    load = os.getloadavg()
    return "\n".join(
        [
            "# Language server latency",
            "",
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on the shared "
            f"2-core machine (load average {load[0]:.1f} at the end, other helpers running), "
            "at a real LSP client (pygls) talking to `burnmeter lsp` over stdio:",
            "",
            "```sh",
            ".venv/bin/python -m bench.lsp_ledger /tmp/bench-lsp/ledger.sqlite --calls 1000000",
            command,
            "```",
            "",
            f"Ledger: {result['calls']:,} model calls, {result['files']:,} touched files "
            f"(the hottest touched by {result['hot_calls']:,} calls), built by "
            "`bench/lsp_ledger.py`. The server is the live writer; each append is one "
            "complete Claude Code line in a session inside the workspace folder.",
            "",
            "| measurement | n | p50 ms | p95 ms | max ms |",
            "|---|--:|--:|--:|--:|",
            summary("appended line → `burnmeter/status` at the client", result["status_ms"]),
            summary("code lens, files drawn uniformly", result["lens_uniform_ms"]),
            summary("code lens, the 20 hottest files (×5)", result["lens_hot_ms"]),
            "",
            memory_line(result["memory_mib"]),
            "",
            "Targets: status p95 ≤ 250 ms; code lens p95 ≤ 20 ms on ≥ 1M calls. The lens reads "
            "one row of `file_stats` and counts `file_sessions` (schema v5, kept by triggers), "
            "and counts the file's calls of a model without a price from the partial index of "
            "unpriced calls (schema v10; a look-up in `call_files` per such call), so it does "
            "not depend on how many calls touched the file.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--appends", type=int, default=30)
    parser.add_argument("--lens-requests", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args.data_dir, args.appends, args.lens_requests))
    command = (
        f".venv/bin/python -m bench.lsp_latency --data-dir {args.data_dir} "
        f"--appends {args.appends} --lens-requests {args.lens_requests}"
        + (f" --out {args.out}" if args.out else "")
    )
    text = report(result, command)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
