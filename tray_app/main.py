"""`burnmeter tray` and the `burnmeter-tray` launcher: start the Qt application."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from shared.commands.context import CommandContext
    from tray_app.single_instance import SingleInstance

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    from shared.commands.context import add_demo_flag

    parser = argparse.ArgumentParser(
        prog="burnmeter-tray",
        description="The burnmeter tray meter and dashboard.",
        allow_abbrev=False,  # as every burnmeter command: flags spelt whole
    )
    add_tray_arguments(parser)
    add_demo_flag(parser)
    return parser


def add_tray_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dashboard", action="store_true", help="open the dashboard window at start"
    )
    parser.add_argument("--verbose", action="store_true", help="log debug messages to stderr")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


TRAY_NEEDS_QT = "the tray needs PySide6, which this install does not have; add it: "


NO_DISPLAY = (
    "burnmeter tray needs a graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set; "
    "for a headless live ingest use `burnmeter watch`"
)


def no_x_server(display: str) -> str:
    return (
        f"burnmeter tray cannot open the display {display!r}: no X server accepted a "
        "connection there (a DISPLAY left from an ended session or an SSH login without X "
        "forwarding); start the tray from your desktop session, or for a headless live "
        "ingest use `burnmeter watch`"
    )


def missing_display() -> bool:
    """On Linux (and the BSDs), whether Qt would find no screen to show the tray on: Qt
    then aborts the process (SIGABRT) after advising to reinstall the application."""
    if not (sys.platform.startswith("linux") or "bsd" in sys.platform):
        return False
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return False
    # A platform chosen on purpose (QT_QPA_PLATFORM=offscreen, `-platform` in
    # BURNMETER_QT_ARGS) needs no display server.
    return not (os.environ.get("QT_QPA_PLATFORM") or "-platform" in _qt_args())


def chosen_platform() -> str | None:
    """The Qt platform picked on purpose: `-platform NAME` in BURNMETER_QT_ARGS, which Qt
    prefers, else QT_QPA_PLATFORM; None when Qt is left to choose."""
    args = _qt_args()
    if "-platform" in args:
        at = args.index("-platform")
        return args[at + 1] if at + 1 < len(args) else None
    return os.environ.get("QT_QPA_PLATFORM") or None


def run(args: argparse.Namespace) -> int:
    from shared.desktop import tray_installed

    if missing_display():
        # Said before anything is made (the demo's throwaway folder) and before Qt starts.
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from tray_app.display import unreachable_x_display

    unreachable = unreachable_x_display(chosen_platform())
    if unreachable is not None:
        print(no_x_server(unreachable), file=sys.stderr)
        return 2
    if not tray_installed():
        # An install without the [tray] extra: a message, not an ImportError's traceback.
        from shared.desktop import pyside6_advice

        print(f"burnmeter: {TRAY_NEEDS_QT}{pyside6_advice()}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from shared.commands.context import make_context
    from tray_app import diagnostics

    diagnostics.install(verbose=getattr(args, "verbose", False))
    # Qt first: a platform it cannot start (a DISPLAY with no server behind it) aborts the
    # process, which no exit hook survives, so nothing is made before it.
    qapp = QApplication.instance() or QApplication([sys.argv[0], *_qt_args()])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("burnmeter")
    qapp.setQuitOnLastWindowClosed(False)
    context = make_context(args)
    try:
        return _run_app(args, qapp, context)
    finally:
        if context.demo:
            # The demo's throwaway folder (its history, ledger and settings) goes now, not
            # only in an exit hook: a stopped import's forced exit below skips those.
            shutil.rmtree(context.ledger_file.parent, ignore_errors=True)


def _run_app(args: argparse.Namespace, qapp: QApplication, context: CommandContext) -> int:
    from shared.config import LoadedSettings, Settings
    from tray_app.app import BurnmeterApp
    from tray_app.single_instance import SingleInstance

    if context.demo:
        # The demo never reads or writes the user's settings: its own go in the demo's
        # throwaway folder beside its ledger, which is deleted at exit (SIGTERM included).
        loaded = LoadedSettings(Settings(), context.ledger_file.parent / "config.toml")
    else:
        loaded = context.settings
    instance = SingleInstance(context.ledger_file.parent)
    if not instance.acquire():
        return _already_running(instance)
    app = BurnmeterApp(
        roots=context.roots, ledger_file=context.ledger_file, loaded=loaded, demo=context.demo
    )
    instance.listen(app.open_dashboard)
    _quit_on_signals(app.quit)
    app.start()
    if getattr(args, "dashboard", False):
        app.open_dashboard()
    try:
        return int(qapp.exec())
    finally:
        app.shutdown()
        instance.release()
        if app.import_stopped is not None:
            print(f"burnmeter tray: {app.import_stopped}", file=sys.stderr, flush=True)
            from shared.cli import _exit_even_if_the_pool_hangs, _running_as_the_program

            if _running_as_the_program():
                # A stopped import can leave the parser pool's manager thread blocked,
                # and Python's exit joins it forever: the process ends a moment later.
                _exit_even_if_the_pool_hangs(0)


def _already_running(instance: SingleInstance) -> int:
    pid = instance.owner_pid()
    running = "burnmeter tray is already running" + (f" (pid {pid})" if pid else "")
    if instance.ask_owner_to_open_dashboard():
        print(f"{running}; its dashboard was opened.", file=sys.stderr)
        return 0
    print(f"{running}.", file=sys.stderr)
    return 1


def _qt_args() -> list[str]:
    return [a for a in os.environ.get("BURNMETER_QT_ARGS", "").split() if a]


def _quit_on_signals(quit_app: object) -> None:
    """SIGINT/SIGTERM quit cleanly. Qt's loop does not run Python signal handlers by itself;
    a wake-up socket read by a QSocketNotifier lets them run without a polling timer."""
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)

    notifier.activated.connect(drain)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: quit_app())  # type: ignore[operator]
    # Keep the sockets and the notifier alive as long as the process.
    _quit_on_signals.keep = (reader, writer, notifier)  # type: ignore[attr-defined]
