"""`burnmeter summary -o FILE` over a file made read-only: refused with a message naming
it, as the shell's `>` would, not replaced by the rename that writes the summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_read_only_export_is_refused_and_kept(isolated_home: Path) -> None:
    target = isolated_home / "week.md"
    target.write_text("last week, as I sent it\n")
    target.chmod(0o444)
    done = subprocess.run(
        [sys.executable, "-m", "shared", "summary", "--demo", "-o", str(target)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"cannot write {target}: the file is read-only" in done.stderr
    assert target.read_text() == "last week, as I sent it\n"
