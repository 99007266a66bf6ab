"""`burnmeter lsp`: start the language server over stdio or loopback TCP."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import errno
import ipaddress
import logging
import os
import sys
import threading
from typing import Any, NoReturn

from lsp_server.hub import LedgerHub
from lsp_server.server import BurnmeterServer
from lsp_server.stopping import signalled, stop_if_signalled, stopping

log = logging.getLogger("lsp_server")


class ClientLogHandler(logging.Handler):
    """Forwards warnings and above to the connected clients as `window/logMessage`."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.servers: list[BurnmeterServer] = []
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            from lsprotocol import types

            kind = (
                types.MessageType.Error
                if record.levelno >= logging.ERROR
                else (types.MessageType.Warning)
            )
            for server in list(self.servers):
                loop = server._loop
                if loop is None or loop.is_closed() or not server.authorised:
                    continue
                params = types.LogMessageParams(type=kind, message=self.format(record))
                loop.call_soon_threadsafe(_log_to_client, server, params)
        except Exception:
            pass
        finally:
            self._busy.on = False


def _log_to_client(server: BurnmeterServer, params: Any) -> None:
    # The client may be gone; stderr still has the message.
    with contextlib.suppress(Exception):
        server.window_log_message(params)


# Set (to anything but "" or "0"), the server logs what it does (INFO) to stderr, not only
# warnings and errors.
VERBOSE_ENV = "BURNMETER_LSP_VERBOSE"


def logs_info(args: argparse.Namespace | None = None) -> bool:
    """Whether to log INFO lines: with BURNMETER_LSP_VERBOSE, or over TCP (a server started
    by hand in a terminal, where they say what it serves). An editor logs all of a stdio
    server's stderr as errors (Neovim's lsp.log: `[ERROR] ... stderr "burnmeter-lsp INFO
    live engine: this process writes the ledger"`), so a stdio server says only warnings
    and errors by default."""
    if os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
        return True
    return bool(getattr(args, "verbose", False) or getattr(args, "tcp", None))


def configure_logging(verbose: bool = False) -> ClientLogHandler:
    # stdout is the protocol: everything else goes to stderr.
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="burnmeter-lsp %(levelname)s %(message)s",
    )
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    to_client = ClientLogHandler()
    to_client.setFormatter(logging.Formatter("%(message)s"))
    for name in ("lsp_server", "shared"):
        logging.getLogger(name).addHandler(to_client)
    return to_client


def serve(args: argparse.Namespace) -> int:
    from shared.commands.context import make_context

    to_client = configure_logging(logs_info(args))
    if getattr(args, "print_token", False):
        from lsp_server.tokens import load_or_create_token

        token, where = load_or_create_token()
        print(token)
        print(f"(kept in {where})", file=sys.stderr)
        return 0
    # A refused address is refused before anything is opened or started.
    address = (bind_host(args.tcp[0]), check_port(args.tcp[1])) if args.tcp else None
    # The stop signals' handlers are in place already (`burnmeter lsp` installs them before
    # this module loads: lsp_server.stopping).
    exit_code = 0
    try:
        stop_if_signalled()
        context = make_context(args)
        hub = LedgerHub(context.roots, context.ledger_file, prices=context.price_book)
        try:
            stop_if_signalled()
            hub.start()
            stop_if_signalled()
            engine = hub.engine
            log.info(
                "burnmeter language server: ledger %s (%s)",
                context.ledger_file,
                "unusable"
                if hub.unusable is not None
                else "writer"
                if engine is not None and engine.is_writer
                else "reader",
            )
            if address is not None:
                serve_tcp(hub, address[0], address[1], to_client)
            else:
                server = BurnmeterServer(hub)
                to_client.servers.append(server)
                stop_if_signalled()  # its features' imports are the last start-up step
                server.start_io()
                exit_code = server.exit_code
        finally:
            stopping.set()  # a signal now must not break the clean-up
            hub.stop()
            stopped = hub.engine.stopped_ingest if hub.engine is not None else None
            if stopped is not None:
                log.info("burnmeter language server: %s", stopped)
    except KeyboardInterrupt:
        signalled.set()
    if signalled.is_set():
        exit_now(0)
    return exit_code


def exit_now(code: int) -> NoReturn:
    """Exit after the cleanup an ordinary exit does (atexit: the `--demo` folder), without
    waiting for pygls's stdin reader: after a signal its thread is still blocked in a read
    that may never return, and the interpreter would wait for it forever. The atexit hooks
    include multiprocessing's, which joins the parser workers of an ingest the stop cut
    short; they may not end (1 stop in 3 during a first import hung there): the process
    ends shared.cli.EXIT_GRACE_SECONDS later whatever they do."""
    from shared.cli import _exit_even_if_the_pool_hangs

    _exit_even_if_the_pool_hangs(code)
    atexit._run_exitfuncs()
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


def bind_host(host: str) -> str:
    """The host to bind for `--tcp HOST:PORT`: a loopback address, IPv6 bracketed or not
    (`[::1]:7007`); ValueError for any other."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    check_loopback(host)
    return host


def check_port(port: int) -> int:
    """`port` if a TCP port can have that number (1-65535); ValueError if not (asyncio
    raised an OverflowError for `--tcp 127.0.0.1:99999`)."""
    if not 1 <= port <= 65535:
        raise ValueError(f"--tcp needs a port from 1 to 65535, not {port}")
    return port


class CannotListen(ValueError):
    """The TCP address could not be listened on (in use, not permitted): a message, not a
    traceback, exit code 2."""


def address_text(host: str, port: int) -> str:
    """`127.0.0.1:7007`, `[::1]:7007`: an address as the user writes it for `--tcp`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def cannot_listen(host: str, port: int, exc: OSError) -> CannotListen:
    where = address_text(host, port)
    if exc.errno == errno.EADDRINUSE:
        reason = "address already in use; another burnmeter lsp --tcp may be running"
    else:
        reason = (exc.strerror or str(exc)).lower()
    return CannotListen(f"cannot listen on {where}: {reason}")


def check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(
            f"--tcp must bind a loopback address (127.0.0.1, ::1 or localhost), not {host!r}: "
            "the language server shows your spend to whoever connects."
        )


def serve_tcp(hub: LedgerHub, host: str, port: int, to_client: ClientLogHandler) -> None:
    """Several editors at once: one `BurnmeterServer` per connection, one hub for all."""
    from pygls.io_ import run_async

    from lsp_server.tokens import load_or_create_token

    check_loopback(host)
    check_port(port)
    token, where = load_or_create_token()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server = BurnmeterServer(hub, token=token, shared_process=True)
        server._stop_event = stop = threading.Event()
        server.protocol.set_writer(writer)
        to_client.servers.append(server)
        try:
            await run_async(
                stop_event=stop,
                reader=reader,
                protocol=server.protocol,
                logger=log,
                error_handler=server.report_server_error,
            )
        except ConnectionError as exc:
            # The client left before reading an answer (one the guards write at once: a
            # wrong token, an unknown command): its leaving, not a server error.
            log.info("a TCP client left: %s", exc)
        except asyncio.CancelledError:
            # The server is stopping (SIGTERM): end quietly. Python 3.11's stream server
            # logged a cancelled connection's task as an error with a traceback.
            pass
        finally:
            to_client.servers.remove(server)
            server.close_connection()

    async def main() -> None:
        stop_if_signalled()
        try:
            listener = await asyncio.start_server(connection, host, port)
        except OSError as exc:
            raise cannot_listen(host, port, exc) from exc
        # getsockname() is a tuple, with flow info and scope id for IPv6: printed as such it
        # was `('::1', 7312, 0, 0)`.
        bound = ", ".join(address_text(*sock.getsockname()[:2]) for sock in listener.sockets)
        log.info("serving LSP on %s (token kept in %s)", bound, where)
        print(f"burnmeter lsp: listening on {bound}", file=sys.stderr, flush=True)
        async with listener:
            await listener.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
