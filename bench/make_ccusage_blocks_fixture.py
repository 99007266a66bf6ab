"""Record what ccusage says about the generated blocks history, for tests without node.

    .venv/bin/python -m bench.make_ccusage_blocks_fixture [path/to/ccusage]

Writes the history of `tests/insights/blocks_history.py` (anchored at the current time)
into a temporary CLAUDE_CONFIG_DIR, runs `ccusage blocks --json --offline` on it, and
saves the anchor, the ccusage version and its output to
tests/insights/fixtures/ccusage_blocks.json. The test rebuilds the same history from the
anchor and compares burnmeter's blocks with ccusage's.

It also records ccusage's blocks for the real logs in ../shared/corpus/real (when present)
in tests/insights/fixtures/ccusage_blocks_real_corpus.json: block times, token totals,
costs and model names only, no log content.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.insights.blocks_history import write_history

DEFAULT_CCUSAGE = "/work/ccusage/node_modules/.bin/ccusage"
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/insights/fixtures/ccusage_blocks.json"
REAL_FIXTURE = ROOT / "tests/insights/fixtures/ccusage_blocks_real_corpus.json"
REAL_CORPUS = ROOT.parent / "shared" / "corpus" / "real" / "home"


def main() -> int:
    ccusage = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_CCUSAGE
    anchor_ms = int(time.time() * 1000)
    with tempfile.TemporaryDirectory() as folder:
        claude_dir = Path(folder) / ".claude"
        calls = write_history(claude_dir, anchor_ms)
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(claude_dir), "HOME": folder, "TZ": "UTC"}
        version = subprocess.run(
            [ccusage, "--version"], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
        done = subprocess.run(
            [ccusage, "blocks", "--json", "--offline", "-z", "UTC"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    finished_ms = int(time.time() * 1000)
    output = json.loads(done.stdout)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(
        json.dumps(
            {
                "made_by": "bench/make_ccusage_blocks_fixture.py",
                "ccusage_version": version,
                "anchor_ms": anchor_ms,
                "ccusage_ran_until_ms": finished_ms,
                "calls": calls,
                "ccusage": output,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"{FIXTURE}: {len(output['blocks'])} blocks from ccusage {version}")
    if REAL_CORPUS.is_dir():
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(REAL_CORPUS / ".claude"), "TZ": "UTC"}
        done = subprocess.run(
            [ccusage, "blocks", "--json", "--offline", "-z", "UTC"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        real = {
            "made_by": "bench/make_ccusage_blocks_fixture.py",
            "ccusage_version": version,
            **json.loads(done.stdout),
        }
        REAL_FIXTURE.write_text(json.dumps(real, indent=1) + "\n")
        print(f"{REAL_FIXTURE}: {len(real['blocks'])} blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
