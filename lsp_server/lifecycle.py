"""`initialize` (token check, settings from `initializationOptions`), `initialized` (first
status, progress and hints) and `shutdown`."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.server import BurnmeterServer


def setup(server: BurnmeterServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: BurnmeterServer, params: types.InitializeParams) -> None:
        ls.check_token(params.initialization_options)
        ls.bind_loop()
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: BurnmeterServer, params: types.InitializedParams) -> None:
        ls.initialized = True
        ls._ledger_changed(start=True)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: BurnmeterServer, params: None) -> None:
        ls.initialized = False
        ls.hub.unsubscribe(ls._ledger_changed_threadsafe)
