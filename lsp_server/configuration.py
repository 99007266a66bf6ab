"""`workspace/didChangeConfiguration` (the settings it gives, validated; the others keep
their value) and `workspace/didChangeWorkspaceFolders` (other sessions belong to the
workspace): the features refresh."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.server import BurnmeterServer


def setup(server: BurnmeterServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: BurnmeterServer, params: types.DidChangeConfigurationParams
    ) -> None:
        ls.apply_settings(params.settings, update=True)
        ls._ledger_changed()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(
        ls: BurnmeterServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        # pygls has already updated ls.workspace.folders.
        ls._ledger_changed()
