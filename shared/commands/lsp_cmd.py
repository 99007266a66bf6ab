"""`burnmeter lsp`: the language server, over stdio (what editors spawn) or loopback TCP."""

from __future__ import annotations

import argparse

from shared.commands.context import CommandError, add_demo_flag, command_description
from shared.ledger import LedgerError


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lsp",
        help="run the language server (code lens, hover, status, tier hints)",
        description=command_description(__doc__),
    )
    parser.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        type=_host_port,
        help="serve several editors over TCP on a loopback address; clients must send the "
        "token from `burnmeter lsp --print-token` in initializationOptions.token",
    )
    parser.add_argument(
        "--print-token",
        action="store_true",
        help="print the TCP token (creating it on first use) and exit",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="log what the server does (the ledger it serves, whether it writes it) to "
        "stderr, not only warnings and errors (as BURNMETER_LSP_VERBOSE=1 does)",
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so the core and the other commands never load pygls.
    import importlib

    from lsp_server import stopping

    if not args.print_token:
        # Before pygls and the rest load (~0.4 s): a signal then stops it as later.
        stopping.stop_on_signals()
    try:
        serve = importlib.import_module("lsp_server.main").serve
        return int(serve(args))
    except KeyboardInterrupt:
        if stopping.signalled.is_set():
            return 0  # stopped before it served anything: nothing to clean up
        raise
    except (ValueError, LedgerError) as exc:
        raise CommandError(str(exc)) from exc
