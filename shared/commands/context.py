"""What every command needs: settings, the log roots, an open ledger, and `--demo`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shared.config_fast import extra_roots, file_stamp
from shared.ingest import IngestSummary, ingest
from shared.ledger import Ledger, LedgerError, open_ledger
from shared.paths import display_path, ledger_path
from shared.sources.agents import CLAUDE, CODEX
from shared.sources.roots import LogRoot, claude_roots, codex_roots, configured_roots

# Not `from typing import ...`: a warm `burnmeter report` would pay milliseconds for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from shared.config import LoadedSettings
    from shared.pricing import PriceBook


class CommandError(Exception):
    """A failure the user can act on; printed without a traceback, exit code 2."""


class CommandContext:
    """The roots to read, the ledger (opened on first use) and the settings (loaded on
    first use) of one command."""

    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self, roots: list[LogRoot], ledger_file: Path, demo: bool = False) -> None:
        self.roots = roots
        self.ledger_file = ledger_file
        self.demo = demo
        self._ledger: Ledger | None = None
        self._settings: LoadedSettings | None = None
        self._settings_stat: tuple[int, int, int] | None = None
        self._said: set[str] = set()

    def say(self, problem: str) -> None:
        """A settings problem, on stderr once per command however often it is met."""
        if problem not in self._said:
            self._said.add(problem)
            print(f"burnmeter: {problem}", file=sys.stderr)

    @property
    def settings(self) -> LoadedSettings:
        """Validated settings, loaded on first use (pydantic costs start-up time that a
        warm report does not need)."""
        if self._settings is None:
            from shared.config import load_settings

            self._settings = load_settings()
            self._settings_stat = file_stamp(self._settings.path)
            for problem in self._settings.problems:
                self.say(problem)
        return self._settings

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            try:
                self._ledger = open_ledger(self.ledger_file)
            except LedgerError as exc:
                raise CommandError(str(exc)) from exc
        return self._ledger

    def price_book(self) -> PriceBook:
        """Prices from the settings as the config file is now: a long-running command
        (`watch`, `lsp`) asks before each ingest, and a price changed in the file (then
        `burnmeter reprice`) must price its new calls too, not only the stored ones."""
        from shared.pricing import PriceBook, price_cache_file

        if self._settings is not None and file_stamp(self._settings.path) != self._settings_stat:
            self._settings = None  # changed since it was read: read again
        return PriceBook(
            self.settings.settings.price_overrides(),
            cache_file=price_cache_file(self.ledger_file),
        )

    def ingest(self, *, show_progress: bool) -> IngestSummary:
        if not show_progress:
            return ingest(
                self.ledger, self.roots, prices=self.price_book, progress=_say_when_waiting
            )
        from shared.commands.progress import ingest_with_progress

        return ingest_with_progress(self)


def _say_when_waiting(done: int, total: int, path: str) -> None:
    """Without a progress bar (`--json`, `doctor`, a pipe), waiting for another process's
    import is still said, on stderr: it can take minutes."""
    from shared.ingest import WAITING_FOR_INGEST

    if path == WAITING_FOR_INGEST:
        print(
            "burnmeter: waiting for another burnmeter process to finish reading the logs…",
            file=sys.stderr,
            flush=True,
        )


def command_description(doc: str | None) -> str:
    """A command module's docstring as its `--help` description: without the leading
    "`burnmeter NAME`: " that names it in the source (argparse printed it literally)."""
    text = (doc or "").strip()
    if text.startswith("`burnmeter "):
        text = text.split("`:", 1)[-1].strip()
    return text[:1].upper() + text[1:]


def add_demo_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the bundled demo history with a throwaway ledger (nothing of yours is read)",
    )
    # For `check_demo_flags`, which has the command's own usage said with the error.
    parser.set_defaults(demo_parser=parser)


def check_demo_flags(args: argparse.Namespace) -> None:
    """`--demo --no-ingest` is a usage error (exit 2): the demo's ledger is a new, empty one
    each time, so a report from it "as it is" was an empty table, with advice naming a
    ledger deleted by then."""
    if getattr(args, "demo", False) and getattr(args, "no_ingest", False):
        args.demo_parser.error(
            "--no-ingest cannot be used with --demo: the demo reads its history into a new, "
            "throwaway ledger each time (leave out --no-ingest)"
        )


def demo_roots(folder: Path | None = None) -> list[LogRoot]:
    """Roots of a fresh copy of the bundled demo history, its times moved so the latest
    activity is two minutes ago (see shared.demo). The copy goes in `folder`, else in a
    throwaway folder deleted on exit."""
    from shared.demo import prepare_demo_home

    home = prepare_demo_home(folder or _throwaway_folder())
    return [
        LogRoot(CLAUDE, home / ".claude" / "projects"),
        LogRoot(CODEX, home / ".codex" / "sessions"),
    ]


def _throwaway_folder() -> Path:
    # Imported here: only `--demo` needs them, and they cost a warm report milliseconds.
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="burnmeter-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def make_context(args: argparse.Namespace) -> CommandContext:
    if getattr(args, "demo", False):
        # The demo history's copy and its ledger live in one throwaway folder.
        folder = _throwaway_folder()
        return CommandContext(demo_roots(folder), folder / "ledger.sqlite", demo=True)
    extra_claude, extra_codex, problem = extra_roots()
    roots = claude_roots() + codex_roots() + configured_roots(extra_claude, extra_codex)
    context = CommandContext(roots, ledger_path())
    if problem is not None:
        # Said now: a config whose [roots] cannot be read changes where this command looks.
        context.say(problem)
    return context


def where_we_looked(roots: list[LogRoot], advice: str | None = None) -> str:
    """Where burnmeter looked for logs, and `advice` (POINT_ELSEWHERE: a command's) after."""
    lines = ["No Claude Code or Codex logs found. burnmeter looked in:"]
    for root in roots:
        state = "found" if root.exists else "missing"
        lines.append(f"  {root.agent:<12} {display_path(root.path)} ({state})")
    lines.append(POINT_ELSEWHERE if advice is None else advice)
    return "\n".join(lines)


POINT_ELSEWHERE = (
    "Point it elsewhere with CLAUDE_CONFIG_DIR=/path/to/.claude or CODEX_HOME=/path/to/.codex "
    "(comma-separated for several), or [roots] in the config file; "
    "try `burnmeter report daily --demo` to see the bundled demo history."
)
# The language server's: its environment is the editor's, and its demo is `lsp --demo`.
LSP_POINT_ELSEWHERE = (
    "Point it elsewhere with CLAUDE_CONFIG_DIR=/path/to/.claude or CODEX_HOME=/path/to/.codex "
    "in the environment the editor starts it with, or [roots] in the config file; "
    "`burnmeter lsp --demo` as the server command serves the bundled demo history."
)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
