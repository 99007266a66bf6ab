"""The server object: one `BurnmeterServer` per client connection (one per process over
stdio), holding all per-client state; the ledger and live engine live in the shared hub.
Features register themselves through `setup(server)`, in the order of `FEATURES`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInvalidParams,
)
from pygls.lsp.server import LanguageServer
from pygls.progress import Progress
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from lsp_server.hub import LedgerHub, LedgerUnusable
from lsp_server.queries import normalise
from lsp_server.settings import LspSettings, parse_settings
from shared import __version__

log = logging.getLogger(__name__)

FEATURES = [
    "lsp_server.lifecycle",
    "lsp_server.configuration",
    "lsp_server.code_lens",
    "lsp_server.hover",
    "lsp_server.status",
    "lsp_server.progress",
    "lsp_server.diagnostics",
    "lsp_server.commands",
]

# JSON-RPC "invalid request" (requests after `shutdown`), "method not found" (a method no
# feature serves), "invalid params" (params that do not fit the method, an unknown
# command) and our "unauthorised" (a TCP client without the token).
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
UNAUTHORISED = -32001


class RefusedMessage:
    """A client message answered (a request) or dropped (a notification) without reaching
    pygls: its params do not fit its method, or no feature serves the method."""

    def __init__(self, data: dict[str, Any], code: int, message: str) -> None:
        self.method = data["method"]
        self.id = data.get("id")
        self.is_request = "id" in data
        self.code = code
        self.message = message


class JsonRpcUnauthorised(JsonRpcException):
    CODE = UNAUTHORISED  # pygls reads CODE


class BurnmeterProgress(Progress):
    """pygls 2.1's `Progress.end` leaves the ended token in `tokens` with its future (pygls
    issue #607): one entry (~1.7 KB) per work-done progress, i.e. per session that starts
    running, for the life of the server. A token is used once (the spec), so it goes."""

    def end(self, token: types.ProgressToken, value: types.WorkDoneProgressEnd) -> None:
        self.tokens.pop(token, None)
        super().end(token, value)


class BurnmeterProtocol(LanguageServerProtocol):
    """pygls's protocol with these guards: nothing but `initialize` reaches the features
    until a TCP client has shown its token (a wrong one gets error -32001), requests after
    `shutdown` get an error instead of silence, and an unknown command gets "invalid
    params". These are the client's mistakes, answered here: pygls would log each with a
    traceback at ERROR."""

    _server: BurnmeterServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress = BurnmeterProgress(self)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls's, except for a message it would fail on or answer with a warning: params
        that do not fit the method got no answer at all (JSON-RPC requires -32602) and
        cattrs tracebacks on stderr; a method no feature serves (`textDocument/completion`)
        was answered -32601 with a warning in the client's log. Both are answered here."""
        method = (
            data.get("method") if data.get("jsonrpc") == "2.0" and "error" not in data else None
        )
        if not isinstance(method, str):
            return super().structure_message(data)
        if method != types.CANCEL_REQUEST and not (
            method in self.fm.builtin_features or method in self.fm.features
        ):
            return RefusedMessage(
                data, METHOD_NOT_FOUND, f"burnmeter: method {method!r} is not supported"
            )
        message_type = self.get_message_type(method)
        if message_type is None:
            return super().structure_message(data)
        try:
            return self._converter.structure(data, message_type)
        except Exception:
            return RefusedMessage(data, INVALID_PARAMS, f"burnmeter: invalid params for {method}")

    def _refuse(self, message: RefusedMessage) -> None:
        if message.code == METHOD_NOT_FOUND:
            # Not the client's mistake: a server serves the methods it serves.
            log.debug("the client asked for %s, which is not served", message.method)
        else:
            self._server.report_server_error(
                JsonRpcInvalidParams(message.message), JsonRpcInvalidParams
            )
        if message.is_request and isinstance(message.id, (int, str)):
            self._send_response(
                message.id, error=types.ResponseError(code=message.code, message=message.message)
            )

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        is_request = isinstance(message, RPCRequest) or (
            isinstance(message, RefusedMessage) and message.is_request
        )
        server = self._server
        if method == types.INITIALIZE and server.token is not None and not server.authorised:
            params = getattr(message, "params", None)
            try:
                server.check_token(getattr(params, "initialization_options", None))
            except JsonRpcUnauthorised as exc:
                if is_request:
                    self._send_response(message.id, error=exc.to_response_error())
                return
        if (
            server.token is not None
            and not server.authorised
            and method not in (types.INITIALIZE, types.SHUTDOWN, types.EXIT)
        ):
            if is_request:
                self._send_response(
                    message.id,
                    error=types.ResponseError(
                        code=UNAUTHORISED, message="burnmeter: not authorised"
                    ),
                )
            return
        if self._shutdown and is_request and method != types.EXIT:
            self._send_response(
                message.id,
                error=types.ResponseError(
                    code=INVALID_REQUEST, message="burnmeter: the server is shutting down"
                ),
            )
            return
        if isinstance(message, RefusedMessage):
            self._refuse(message)
            return
        if method == types.TEXT_DOCUMENT_DID_CHANGE:
            # Nothing here reads a document's text, and the server asks for no changes
            # (`change`: None); eglot sends them anyway, incremental, which pygls would
            # apply to a copy of the text kept for nothing, with an ERROR for each.
            log.debug("the client sent a document's changes, which are not used; ignored")
            return
        if method == types.WORKSPACE_EXECUTE_COMMAND and is_request:
            command = getattr(getattr(message, "params", None), "command", None)
            if command not in self.fm.commands:
                log.warning("the client asked for an unknown command %r", command)
                self._send_response(
                    message.id,
                    error=types.ResponseError(
                        code=INVALID_PARAMS,
                        message=f"burnmeter: command {command!r} is not defined",
                    ),
                )
                return
        super().handle_message(message)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls 2.1 runs a command's handler under an id of its own (a uuid) and keeps the
        handler's future under it in `_request_futures`, which only ever drops the client's
        ids: every `burnmeter.sessions` kept its task and result for the life of the
        process (~16 KiB a call). The future is dropped once done, as pygls does for a
        client's id."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda done: self._forget_future(msg_id, done))

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """A request that found the ledger unusable gets an empty result (null: no lens, no
        hover) and the user one message saying why; pygls answered "internal error" with
        SQLite's traceback to every code lens and hover."""
        if not future.cancelled() and isinstance(future.exception(), LedgerUnusable):
            self._request_futures.pop(msg_id, None)
            self._server.tell_ledger_unusable()
            self._send_response(msg_id, result=None)
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _forget_future(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def send_request(
        self,
        method: str,
        params: Any | None = None,
        callback: Callable[[Any], None] | None = None,
        msg_id: Any = None,
    ) -> Future[Any]:
        """pygls 2.1 drops a request's entry in `_result_types` only when the client's
        answer is a result (pygls issue #608): each `workspace/codeLens/refresh` (one per
        ledger change) or `window/workDoneProgress/create` a client answered with an error
        stayed (~0.1 KB), and one never answered stayed with its future too (~1.7 KB). A
        request's bookkeeping is dropped once its future is done: answered, failed, or
        cancelled (code_lens gives up an unanswered refresh so)."""
        if msg_id is None:
            msg_id = str(uuid.uuid4())
        future = super().send_request(method, params, callback, msg_id)
        future.add_done_callback(lambda done: self._forget_request(msg_id, done))
        return future

    def _forget_request(self, msg_id: Any, future: Future[Any]) -> None:
        self._result_types.pop(msg_id, None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._forget_future(msg_id, future)
            return
        # pygls's `shutdown` cancels pending requests while it iterates over
        # `_request_futures` (this runs inside `cancel`): dropped there and then, the
        # shutdown failed with "dictionary changed size during iteration".
        loop.call_soon(self._forget_future, msg_id, future)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        # Over TCP one connection ending must not end the process serving the others.
        if self._server.shared_process:
            if (user_handler := self.fm.features.get(types.EXIT)) is not None:
                yield user_handler, args, None
            self._server.close_connection()
            return None
        # The LSP spec: exit code 0 after `shutdown`, 1 without. pygls computes it, then
        # its start_io swallows the SystemExit: `burnmeter lsp` returns this instead.
        self._server.exit_code = 0 if self._shutdown else 1
        return (yield from super().lsp_exit(*args))


class BurnmeterServer(LanguageServer):
    def __init__(
        self, hub: LedgerHub, *, token: str | None = None, shared_process: bool = False
    ) -> None:
        # Documents: their opening and closing (tier hints go to open documents), never
        # their text or its changes (the lens, hover and hints read the ledger only).
        super().__init__(
            "burnmeter",
            __version__,
            protocol_cls=BurnmeterProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.None_,
        )
        self.hub = hub
        self.token = token
        self.shared_process = shared_process
        self.authorised = token is None
        self.settings = LspSettings()
        self.initialized = False
        self.status: Any = None  # lsp_server.status.StatusSender, set by its setup()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._change_hooks: list[_ChangeHook] = []
        self._errors_seen = 0
        self._told_unusable = False
        self.exit_code = 0
        for name in FEATURES:
            importlib.import_module(name).setup(self)

    def shutdown(self) -> None:
        """pygls's, without waiting for its thread pool: after a signal one of its threads
        is blocked reading stdin and would hold the process forever."""
        if self._stop_event is not None:
            self._stop_event.set()
        if self._thread_pool is not None:
            self._thread_pool.shutdown(wait=False, cancel_futures=True)
        if self._server is not None:
            self._server.close()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A malformed or failing message: logged (the first few, then every 100th),
        never a popup per message, never fatal. pygls says where it failed: a feature's
        handler (the server's failure, not the client's) or reading the message."""
        self._errors_seen += 1
        if self._errors_seen <= 5 or self._errors_seen % 100 == 0:
            if source in (FeatureRequestError, FeatureNotificationError):
                what = "handling a message failed"
            elif source is JsonRpcInvalidParams:
                what = "answered a message from the client with invalid params"
            else:
                what = "ignored a bad message from the client"
            log.warning("%s (#%d): %s", what, self._errors_seen, error)

    def tell_ledger_unusable(self) -> None:
        """Show why the ledger cannot be used (its path, what to do), once per connection:
        every lens, hover and status after that is empty."""
        problem = self.hub.unusable
        if problem is None or self._told_unusable or not self.initialized:
            return
        self._told_unusable = True
        self.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"{problem} The language server shows nothing from it: restart the "
                "server once the ledger is mended or moved aside.",
            )
        )

    def check_token(self, options: Any) -> None:
        """Raise a JSON-RPC error unless `initializationOptions.token` is right."""
        if self.token is None:
            return
        offered = options.get("token") if isinstance(options, dict) else None
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError that
        # left the client without an answer).
        if not isinstance(offered, str) or not hmac.compare_digest(
            offered.encode("utf-8", "surrogatepass"), self.token.encode("utf-8")
        ):
            log.warning("rejected a client without the right token")
            raise JsonRpcUnauthorised(
                "burnmeter: wrong or missing token in initializationOptions.token "
                "(see `burnmeter lsp --print-token`)"
            )
        self.authorised = True

    def apply_settings(self, raw: Any, *, update: bool = False) -> None:
        """New settings from the client's JSON: all of them (`initializationOptions`), or
        with `update` only the keys it gives (`workspace/didChangeConfiguration`)."""
        settings, problem = parse_settings(raw, self.settings if update else None)
        self.settings = settings
        if problem:
            log.warning(problem)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=problem)
            )

    # -- the event loop and background work -------------------------------------------

    def bind_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self.hub.subscribe(self._ledger_changed_threadsafe)

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start background work, keep a strong reference, and log its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if finished.cancelled() or (exc := finished.exception()) is None:
                return
            if isinstance(exc, LedgerUnusable):
                # Logged once by the hub; the user is told once.
                self.tell_ledger_unusable()
                return
            log.error("%s failed", name, exc_info=exc)

        task.add_done_callback(done)
        return task

    def on_ledger_change(
        self, hook: Callable[[], None], *, on_start: bool = True, min_interval_s: float = 0.0
    ) -> None:
        """Register `hook()` to run on the event loop after the ledger changed (and once
        after `initialized` and after new settings, unless `on_start` is False). With
        `min_interval_s`, ledger changes run it at most that often (the last change of a
        burst runs it when the interval is over); settings and folder changes run it at once."""
        self._change_hooks.append(_ChangeHook(hook, on_start, min_interval_s))

    def _ledger_changed_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._ledger_changed, False, True)

    def _ledger_changed(self, start: bool = False, from_ledger: bool = False) -> None:
        if not self.initialized or self.protocol._shutdown:
            return
        for change_hook in self._change_hooks:
            if start and not change_hook.on_start:
                continue
            if from_ledger:
                change_hook.ledger_changed()
            else:
                change_hook.run()

    def close_connection(self) -> None:
        self.hub.unsubscribe(self._ledger_changed_threadsafe)
        for change_hook in self._change_hooks:
            change_hook.cancel()
        for task in list(self._tasks):
            task.cancel()
        stop = getattr(self, "_stop_event", None)
        if stop is not None:
            stop.set()
        writer = self.protocol.writer
        if writer is not None:
            # The client may already be gone.
            with contextlib.suppress(Exception):
                writer.close()

    # -- the workspace ------------------------------------------------------------------

    def workspace_folders(self) -> list[str]:
        """Absolute paths of the workspace folders (the root if no folders)."""
        try:
            workspace = self.workspace
        except RuntimeError:
            return []
        paths = []
        for folder in workspace.folders.values():
            path = fs_path(folder.uri)
            if path:
                paths.append(normalise(path))
        if not paths and workspace.root_uri:
            root = fs_path(workspace.root_uri)
            if root:
                paths.append(normalise(root))
        return paths

    def client_supports(self, *names: str) -> bool:
        """Whether a nested client capability is set, e.g. ("workspace", "code_lens",
        "refresh_support")."""
        node: Any = self.client_capabilities
        for name in names:
            node = getattr(node, name, None)
            if node is None:
                return False
        return bool(node)


# `file://localhost/path` is `file:///path` (RFC 8089); pygls read it as `//localhost/path`,
# and the file got no lens, hover or sessions.
_LOCALHOST = re.compile(r"^file://localhost(?=/)", re.IGNORECASE)


def fs_path(uri: str) -> str | None:
    """pygls's `to_fs_path`, with the host `localhost` taken for none."""
    return to_fs_path(_LOCALHOST.sub("file://", uri))


def path_of(uri: str) -> str | None:
    """The absolute, normalised path of a `file:` URI; None for any other URI."""
    if not isinstance(uri, str) or not uri.startswith("file:"):
        return None
    try:
        path = fs_path(uri)
    except Exception:
        return None
    if not path or not os.path.isabs(path):
        return None
    return normalise(path)


class _ChangeHook:
    """A ledger-change hook, run at most every `min_interval_s` for ledger changes: an
    agent at work changes the ledger several times a second, and a hook such as the lens
    refresh makes every client ask for every visible lens again each time."""

    def __init__(self, hook: Callable[[], None], on_start: bool, min_interval_s: float) -> None:
        self.hook = hook
        self.on_start = on_start
        self.min_interval_s = min_interval_s
        self._last_run = float("-inf")
        self._timer: asyncio.TimerHandle | None = None

    def ledger_changed(self) -> None:
        if self._timer is not None:
            return  # a run is already due, and it will see this change too
        wait = self._last_run + self.min_interval_s - time.monotonic()
        if wait <= 0:
            self.run()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self.run)

    def run(self) -> None:
        self.cancel()
        self._last_run = time.monotonic()
        try:
            self.hook()
        except Exception:
            log.exception("ledger change hook failed")

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
