"""`initialize` (settings from `initializationOptions`), `initialized` (first
status, progress and hints; why the ledger cannot be used, if it cannot; where burnmeter
looked if it found no logs at all) and `shutdown`."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.server import BurnmeterServer


def setup(server: BurnmeterServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: BurnmeterServer, params: types.InitializeParams) -> None:
        # A TCP client's token was checked before this ran (BurnmeterProtocol).
        ls.bind_loop()
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: BurnmeterServer, params: types.InitializedParams) -> None:
        ls.initialized = True
        ls.tell_ledger_unusable()
        ls._ledger_changed(start=True)
        ls.run_task(tell_if_no_logs(ls), "looking for logs")

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: BurnmeterServer, params: None) -> None:
        ls.initialized = False
        ls.hub.unsubscribe(ls._ledger_changed_threadsafe)


async def tell_if_no_logs(ls: BurnmeterServer) -> None:
    """No Claude Code or Codex logs under any root: tell the user once, with the CLI's
    text (where burnmeter looked, how to point it elsewhere), else every lens and status
    would just be empty."""
    from shared.commands.context import LSP_POINT_ELSEWHERE, where_we_looked
    from shared.sources.roots import find_log_files

    roots = ls.hub.roots
    if any(root.exists for root in roots):
        found = await asyncio.to_thread(find_log_files, roots)
        if found:
            return
    if ls.initialized:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info, message=where_we_looked(roots, LSP_POINT_ELSEWHERE)
            )
        )
