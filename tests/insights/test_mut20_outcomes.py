"""File names as `git log` prints them (`shared.insights.outcomes.read_history`): the cases
the existing tests left open (found by mutation testing)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shared.insights.outcomes import read_history
from tests.insights.gitrepo import GitRepo

HOUR = 3_600_000
T0 = 1_790_000_000_000


def _committed_files(tmp_path: Path, name: str) -> frozenset[str]:
    repo = GitRepo(tmp_path / "shop")
    repo.commit(T0, {name: "v1\n"})
    history = read_history(str(repo.root), T0 - HOUR, T0 + HOUR, timeout=30)
    assert history.problem is None, history.problem
    (commit,) = history.commits
    return commit.files


@pytest.mark.skipif(os.name == "nt", reason="not a file name on Windows")
@pytest.mark.parametrize(
    "name", ["esc\x1bname.py", "del\x7fname.py", "résumé\tnotes.py"], ids=["esc", "del", "mixed"]
)
def test_a_name_git_writes_with_an_octal_escape_is_read_back(tmp_path: Path, name: str) -> None:
    """git writes a control character other than C's named ones in octal (`\\033`), and
    quotes a name beyond ASCII with a tab in it around its bytes as they are."""
    root = os.path.realpath(tmp_path / "shop")
    assert _committed_files(tmp_path, name) == {os.path.join(root, name)}


@pytest.mark.skipif(sys.platform != "linux", reason="a name that is not UTF-8: Linux only")
def test_a_name_that_is_not_utf8_does_not_stop_the_history(tmp_path: Path) -> None:
    """A file named in Latin-1 (`caf\\xe9.py`) made the whole read raise."""
    name = os.fsdecode(b"caf\xe9.py")
    root = os.path.realpath(tmp_path / "shop")
    assert _committed_files(tmp_path, name) == {os.path.join(root, name)}
