"""Session ids cut short for tables, yet still told apart (`shared.commands.render.short_ids`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shared.commands.render import short_ids


@given(st.lists(st.text(alphabet="0123456789abcdef-", min_size=1, max_size=20), max_size=30))
def test_every_id_gets_a_prefix_of_its_own(ids: list[str]) -> None:
    prefixes = short_ids(ids)
    assert set(prefixes) == set(ids)
    for session_id, prefix in prefixes.items():
        assert session_id.startswith(prefix)
        assert len(prefix) >= min(8, len(session_id))
        # No other id starts with it, unless that id is this one's prefix itself
        # (`abc` and `abcdef`: `abc` is all there is to show).
        others = [o for o in prefixes if o != session_id and o.startswith(prefix)]
        if others:
            assert prefix == session_id, (prefix, others)


def test_ids_that_differ_early_keep_eight_characters() -> None:
    assert short_ids(["ff18fe33-aaaa", "7c23aa42-bbbb"]) == {
        "ff18fe33-aaaa": "ff18fe33",
        "7c23aa42-bbbb": "7c23aa42",
    }


def test_the_sessions_table_tells_apart_codex_sessions_started_together(
    isolated_home: Path,
) -> None:
    """Two UUIDv7 rollouts opened 3 s apart both read `019c8a4c…` in `report sessions`."""
    from datetime import UTC, datetime

    from tests.summary.history import CodexSession

    started = datetime(2026, 11, 10, 10, 1, tzinfo=UTC)
    for at, session_id in enumerate(
        ["019c8a4c-ed82-7c61-9d0e-3f1a2b3c4d5e", "019c8a4c-f9c0-7a12-8b3c-4d5e6f708192"]
    ):
        rollout = CodexSession(isolated_home, "/home/dev/shop", started, session_id=session_id)
        rollout.call(started.replace(second=at * 3 + 10))
        rollout.write()
    done = subprocess.run(
        [sys.executable, "-m", "shared", "report", "sessions", "--no-insights", "--tz", "UTC"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert done.returncode == 0, done.stderr
    assert "019c8a4c-e…" in done.stdout and "019c8a4c-f…" in done.stdout
    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "shared", "report", "sessions", "--json", "--no-ingest"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    )
    assert len(listed["sessions"]) == 2
