"""Did a session end in committed work? Read from git, read-only, with timeouts.

For a session with change calls (Edit, Write, apply_patch…), the outcome looks for commits
on any local branch of the session's repository, made from the session's start up to
`outcome_window_days` later, that touch one of the files it changed. A commit is dated by
the earlier of its author and committer dates: a rebase or an amend gives the commit a new
committer date and keeps its author date, so work rebased ten days later still counts (and
reads as committed when it was); a committer date before the author date (an author date
set by hand, a clock ahead) still shows when the commit existed. Work amended or squashed
into a commit authored before the session started is dated by that commit: not counted.

- "committed": such commits exist (their shas, oldest first);
- "uncommitted": the session changed files in the repository, no such commit (yet);
- "no-changes": the session changed no file inside its repository;
- "unknown": change calls that name no file, no working directory, not a git repository,
  the folder is gone, a shallow clone, git missing or too slow. The reason says which;
  this is never an error.

A file's repository is the innermost git work tree holding it: a file in a submodule's
checkout (or a clone inside the repository) is matched to that repository's commits, not to
the superproject's (whose log names only the submodule's folder).

Two `git log`s per repository cover every session asked about (one lists the commits and
their dates, one names the files of those in the sessions' windows), so a report over a
thousand sessions in five repositories runs ten (and two more per submodule they changed
files in).
"""

from __future__ import annotations

import bisect
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.insights.activity import SessionActivity

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Outcome:
    status: str  # "committed" | "uncommitted" | "no-changes" | "unknown"
    commits: list[str]
    reason: str
    # The session's cost spread over its commits; None unless committed.
    cost_per_commit_usd: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "commits": list(self.commits),
            "reason": self.reason,
            "cost_per_commit_usd": None
            if self.cost_per_commit_usd is None
            else round(self.cost_per_commit_usd, 6),
        }


# Where Claude Code puts its agents' worktrees, under the repository's top folder.
AGENT_WORKTREES = (".claude", "worktrees")


def _agent_worktree_top(root: str) -> str | None:
    """The folder `<top>` of a removed agent worktree `<top>/.claude/worktrees/<name>[/…]`
    (a session that worked in it has it as its repository), if `<top>` is still there."""
    marker = os.sep + os.path.join(*AGENT_WORKTREES) + os.sep
    end = len(root)
    while (found := root.rfind(marker, 0, end)) > 0:
        if os.path.isdir(root[:found]):
            return root[:found]
        end = found
    return None


@dataclass(frozen=True)
class Commit:
    sha: str
    # The earlier of its author and committer dates (see the module's docstring).
    dated_ms: int
    files: frozenset[str]  # absolute, real paths


@dataclass
class RepoHistory:
    """Commits of one repository's local branches in a time window, or why there are none."""

    root: str
    commits: list[Commit] = field(default_factory=list)
    problem: str | None = None
    # The repository's top folder, and it with its worktrees (real paths, longest first): a
    # file changed in a worktree (Claude Code's agents work in
    # `<repo>/.claude/worktrees/agent-…`) is committed under its name relative to that
    # worktree, which `git log` reports relative to the top.
    top: str = ""
    worktrees: list[str] = field(default_factory=list)
    _times: list[int] = field(default_factory=list, repr=False)
    # Folder -> the innermost git work tree nested in this repository's holding it (None:
    # this repository's own).
    _nested: dict[str, str | None] = field(default_factory=dict, repr=False)

    def commit_times(self) -> list[int]:
        """The commits' times, in their (time) order; made once per history."""
        if len(self._times) != len(self.commits):
            self._times = [commit.dated_ms for commit in self.commits]
        return self._times

    def in_top(self, path: str) -> str:
        """`path` as the same file under the top folder if another worktree holds it (the
        innermost folder holding it decides: worktrees nest in each other and in the top).

        An agent's worktree git no longer lists (`git worktree remove` once its branch was
        merged, the usual end of one) maps by its name's pattern:
        `<folder>/.claude/worktrees/<name>/<rest>` is `<folder>/<rest>`."""
        while True:
            for folder in self.worktrees:  # longest first, the top among them
                if path.startswith(folder + os.sep):
                    break
            else:
                return path
            parts = path[len(folder) + 1 :].split(os.sep, 3)
            if len(parts) == 4 and parts[:2] == list(AGENT_WORKTREES) and parts[2] and parts[3]:
                path = os.path.join(folder, parts[3])  # in `folder`'s own worktree, maybe
                continue
            return path if folder == self.top else self.top + path[len(folder) :]

    def nested_repository(self, path: str) -> str | None:
        """The git work tree nested in this repository's that holds `path` (a submodule's
        checkout, a clone inside it): the innermost folder with a `.git` of its own between
        the file and the worktree holding it. None: the file is this repository's (or
        outside it)."""
        stop = next((folder for folder in self.worktrees if path.startswith(folder + os.sep)), "")
        if not stop:
            return None
        seen: list[str] = []
        folder = os.path.dirname(path)
        found: str | None = None
        while len(folder) > len(stop):  # below the worktree holding it
            if folder in self._nested:
                found = self._nested[folder]
                break
            seen.append(folder)
            if os.path.lexists(os.path.join(folder, ".git")):
                found = folder
                break
            folder = os.path.dirname(folder)
        for each in seen:
            self._nested[each] = found
        return found

    def owner(self, path: str) -> tuple[str | None, str]:
        """The repository nested in this one that holds the file `path` (None: this one),
        and the path as that repository names it."""
        nested = self.nested_repository(path)
        if nested is not None:
            return nested, path
        mapped = self.in_top(path)
        if mapped != path:  # from a worktree: a submodule's checkout in the top, maybe
            nested = self.nested_repository(mapped)
        return nested, mapped


class GitError(Exception):
    pass


def _git(root: str, args: list[str], timeout: float, feed: str | None = None) -> str:
    """git's output; `feed` is written to its standard input (else it reads nothing)."""
    try:
        done = subprocess.run(
            ["git", "-C", root, *args],
            input=feed,
            capture_output=True,
            # git writes names as their bytes (UTF-8): not the locale's code page (cp1252
            # on Windows would turn `Ü` into two other letters).
            encoding="utf-8",
            errors="surrogateescape",
            timeout=timeout,
            check=False,
            # Never prompt, never page, never touch the user's global state.
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
            stdin=subprocess.DEVNULL if feed is None else None,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git did not answer within {timeout:g} s") from exc
    except OSError as exc:
        raise GitError(f"git could not run ({exc})") from exc
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise GitError(message)
    return done.stdout


# How far before the window `git log` walks, for commits whose committer date is older than
# their parent's (a rebased branch keeps its commits' dates). Each day of it is more of a
# busy repository's history to list within the git timeout; a month covers most branches.
SINCE_SLACK_MS = 30 * DAY_MS


def read_history(
    root: str, since_ms: int, until_ms: int, timeout: float, head: bool = False
) -> RepoHistory:
    """The commits of `root`'s repository in the window: those on its local branches, and
    with `head` those under its checked-out commit too (a submodule's checkout sits on a
    detached HEAD: its commits reach no branch of its own, only the superproject's
    pointer)."""
    history = RepoHistory(root)
    if not os.path.isdir(root):
        history.problem = f"the folder {root} no longer exists"
        return history
    try:
        facts = _git(
            root, ["rev-parse", "--show-toplevel", "--is-shallow-repository"], timeout
        ).split("\n")
    except GitError as exc:
        if exc.__cause__ is not None:  # git missing, too slow, or not runnable: not the folder
            history.problem = f"git could not be asked about {root} ({exc})"
        else:
            history.problem = f"{root} is not inside a readable git repository ({exc})"
        return history
    # Only the line's end: a folder's name may end in a space.
    top = os.path.realpath(facts[0].rstrip("\r"))
    if len(facts) > 1 and facts[1].strip() == "true":
        history.problem = f"{root} is a shallow clone, so its history may be incomplete"
        return history
    history.top = top
    try:
        listed = _git(root, ["worktree", "list", "--porcelain"], timeout)
    except GitError:
        listed = ""  # no worktrees to map (or a git too old to list them)
    # Longest first, the top included: a path maps by the innermost folder holding it.
    history.worktrees = sorted(
        {top}
        | {
            os.path.realpath(line.removeprefix("worktree "))
            for line in listed.splitlines()
            if line.startswith("worktree ")
        },
        key=len,
        reverse=True,
    )
    try:
        # First the commits and their dates only: no file lists, so listing the commits
        # made after the window (a commit rebased later has its committer date there, its
        # author date inside) costs little.
        dates = _git(
            root,
            [
                "log",
                "--branches",
                "--format=%H %at %ct",
                # git stops walking a branch at its first commit whose committer date is
                # older than --since, so a commit in the window under a child with an older
                # committer date (a rebase with --committer-date-is-author-date, clock
                # skew) was never seen: the walk goes SINCE_SLACK_MS further back. No
                # --until: it filters by committer date, which a later rebase or amend
                # moves past the window. The window is applied to each commit's date below
                # (and in `_outcome_for`).
                f"--since=@{(since_ms - SINCE_SLACK_MS) // 1000}",
                # A HEAD with no commit yet is left out, not an error.
                *(["--ignore-missing", "HEAD"] if head else []),
                "--",
            ],
            timeout,
        )
    except GitError as exc:
        if "does not have any commits" in str(exc):
            return history
        history.problem = f"git log failed in {root} ({exc})"
        return history
    dated: dict[str, int] = {}
    for line in dates.splitlines():
        sha, authored, committed = line.split()
        at_ms = min(int(authored), int(committed)) * 1000
        # Before the window (only walked through) or after it: no files asked for.
        if since_ms - 999 <= at_ms <= until_ms + 999:
            dated[sha] = at_ms
    if not dated:
        return history
    try:
        log = _git(
            root,
            [
                # Names as they are: by default git quotes a name with a byte beyond ASCII
                # (`"\\303\\234bersicht.md"`), which then matched no file an agent changed.
                "-c",
                "core.quotePath=false",
                "log",
                "--no-walk=unsorted",
                "--stdin",
                "--no-renames",
                "--name-only",
                "--format=%x00%H",
            ],
            timeout,
            feed="".join(f"{sha}\n" for sha in dated),
        )
    except GitError as exc:
        history.problem = f"git log failed in {root} ({exc})"
        return history
    for entry in log.split("\x00")[1:]:
        lines = entry.strip("\n").split("\n")
        sha = lines[0].strip()
        # git names files with "/" on every system: normalised, they compare equal to
        # the paths the agents logged on Windows too (`C:\\proj\\src\\app.py`).
        files = frozenset(
            os.path.normpath(os.path.join(top, _unquoted(name))) for name in lines[1:] if name
        )
        history.commits.append(Commit(sha, dated[sha], files))
    history.commits.sort(key=lambda commit: commit.dated_ms)
    return history


# The escapes git writes in a quoted name (C's, and a byte in octal).
GIT_ESCAPE = re.compile(rb'\\([abtnvfr"\\]|[0-7]{3})')
GIT_ESCAPED = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34}


def _unquoted(name: str) -> str:
    """A name as `git log --name-only` printed it, unquoted: git still quotes one with a
    double quote, a backslash or a control character in it (`"tab\\tname.py"`)."""
    if len(name) < 2 or name[0] != '"' or name[-1] != '"':
        return name

    def byte(match: re.Match[bytes]) -> bytes:
        escape = match.group(1)
        if escape == b"\\":
            return b"\\"
        return bytes([GIT_ESCAPED[escape] if escape in GIT_ESCAPED else int(escape, 8)])

    raw = GIT_ESCAPE.sub(byte, name[1:-1].encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def _repo_root(activity: SessionActivity) -> str | None:
    return activity.repo or activity.project_path or None


@dataclass
class Changes:
    """A session's changed files as its repository and those nested in it name them."""

    own: set[str] = field(default_factory=set)  # inside the session's folder
    nested: dict[str, set[str]] = field(default_factory=dict)  # nested work tree -> files
    named: int = 0  # every changed file, inside or not


def _changes(history: RepoHistory, changed: set[str]) -> Changes:
    changes = Changes()
    if history.problem:
        return changes
    root = os.path.realpath(history.root)
    named: set[str] = set()
    for path in changed:
        folder, name = history.owner(path)
        named.add(name)
        if name != root and not name.startswith(root + os.sep):
            continue
        if folder is None:
            changes.own.add(name)
        else:
            changes.nested.setdefault(folder, set()).add(name)
    changes.named = len(named)
    return changes


def _no_changes(failed: int) -> Outcome:
    if failed:
        # Its flags may say "Edit failed 5 times in a row": "no file changes (no Edit…)"
        # would contradict them.
        return Outcome(
            "no-changes",
            [],
            f"its {failed} change call(s) all failed (error results or refused patches), "
            "so nothing was changed",
        )
    return Outcome("no-changes", [], "the session made no file changes (no Edit, Write or patch)")


def session_outcomes(
    sessions: Iterable[SessionActivity], window_days: int = 7, timeout: float = 5.0
) -> dict[str, Outcome]:
    """The outcome of each session, two `git log`s per repository (see above)."""
    window_ms = window_days * DAY_MS
    outcomes: dict[str, Outcome] = {}
    wanted: dict[str, list[tuple[SessionActivity, set[str]]]] = {}
    # Sessions touch the same files over and over (16,572 paths, 148 distinct, on the bench
    # history): each is resolved once, not once per session (`realpath` stats every part).
    resolved: dict[str, str] = {}
    moved: dict[str, str] = {}
    for activity in sessions:
        changed = activity.changed_files()
        root = _repo_root(activity)
        if not changed:
            # An edit whose file the log does not name (a patch without file headers, a
            # plugin's write tool) is a change with nothing to match commits to.
            pathless = activity.change_calls()
            outcomes[activity.session_id] = (
                Outcome(
                    "unknown",
                    [],
                    f"its {pathless} change call(s) named no file, "
                    "so no commit can be matched to them",
                )
                if pathless
                else _no_changes(activity.failed_change_calls())
            )
        elif root is None:
            outcomes[activity.session_id] = Outcome(
                "unknown", [], "the session recorded no working directory"
            )
        elif not os.path.isabs(root):
            outcomes[activity.session_id] = Outcome(
                "unknown", [], f"the working directory {root!r} is not an absolute path"
            )
        else:
            if root not in moved:
                # An agent's worktree, removed once its work was merged: its repository's.
                moved[root] = (not os.path.isdir(root) and _agent_worktree_top(root)) or root
            root = moved[root]
            real: set[str] = set()
            for path in changed:
                found = resolved.get(path)
                if found is None:
                    found = resolved[path] = os.path.realpath(path)
                real.add(found)
            wanted.setdefault(root, []).append((activity, real))
    # A file's repository is the innermost git work tree holding it: one inside a session's
    # repository (a submodule's checkout) is committed there, and its history is read too.
    asked: list[tuple[SessionActivity, RepoHistory, Changes]] = []
    nested_starts: dict[str, list[int]] = {}
    for root, entries in wanted.items():
        since = min(activity.first_ts_ms for activity, _ in entries)
        until = max(activity.first_ts_ms for activity, _ in entries) + window_ms
        # With its checked-out commit too: a session may work in a repository left on a
        # detached HEAD (a submodule's checkout, opened as the session's folder).
        history = read_history(root, since, until, timeout, head=True)
        for activity, real_paths in entries:
            changes = _changes(history, real_paths)
            for folder in changes.nested:
                nested_starts.setdefault(folder, []).append(activity.first_ts_ms)
            asked.append((activity, history, changes))
    nested = {
        folder: read_history(folder, min(starts), max(starts) + window_ms, timeout, head=True)
        for folder, starts in nested_starts.items()
    }
    for activity, history, changes in asked:
        outcomes[activity.session_id] = _outcome_for(activity, history, changes, nested, window_ms)
    return outcomes


def _outcome_for(
    activity: SessionActivity,
    history: RepoHistory,
    changes: Changes,
    nested: dict[str, RepoHistory],
    window_ms: int,
) -> Outcome:
    if history.problem:
        return Outcome("unknown", [], history.problem)
    if not changes.own and not changes.nested:
        return Outcome(
            "no-changes",
            [],
            f"its {changes.named} changed file(s) are outside the repository {history.root}",
        )
    start, end = activity.first_ts_ms, activity.first_ts_ms + window_ms
    parts = [(history, changes.own)] + [
        (nested[folder], {nested[folder].in_top(path) for path in files})
        for folder, files in sorted(changes.nested.items())
    ]
    inside = len(changes.own) + sum(len(files) for files in changes.nested.values())
    hits: dict[str, Commit] = {}
    touched: set[str] = set()
    problems: list[str] = []
    for part, files in parts:
        if not files:
            continue
        if part.problem:
            problems.append(part.problem)
            continue
        # Commit times have second precision: a commit in the session's first second
        # counts. The commits are sorted by time: the window's are found by bisection,
        # not by a pass over every commit per session (5,000 sessions × 24,000 commits
        # took 11 s).
        times = part.commit_times()
        first = bisect.bisect_left(times, start - 999)
        last = bisect.bisect_right(times, end)
        for commit in part.commits[first:last]:
            if common := commit.files & files:
                hits.setdefault(commit.sha, commit)
                touched |= common
    days = window_ms // DAY_MS
    if not hits:
        if problems:
            return Outcome("unknown", [], "; ".join(problems))
        return Outcome(
            "uncommitted",
            [],
            f"{inside} changed file(s), no commit on a local branch touching them within "
            f"{days} days of the session start",
        )
    found = sorted(hits.values(), key=lambda commit: commit.dated_ms)
    # A commit in the session's first second counts (git's whole seconds), and reads "0.0 h".
    after = max(0.0, (found[0].dated_ms - start) / 3_600_000)
    return Outcome(
        "committed",
        [commit.sha for commit in found],
        f"{len(touched)} of {inside} changed file(s) committed in {len(found)} commit(s), "
        f"the first {after:.1f} h after the session started"
        + "".join(f"; {problem}" for problem in problems),
        cost_per_commit_usd=activity.cost_usd / len(found),
    )
