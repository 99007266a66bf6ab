"""`textDocument/codeLens`: one lens on line 0 of every file agents touched, e.g.
`$3.21 agent spend · 4 sessions · opus-4-7 2h ago`; `workspace/codeLens/refresh` when
the ledger changes (at most every 2 s), for clients that support it. For the others a
lens asked for before the live engine's first ingest is done waits for it (up to 10 s)."""

from __future__ import annotations

import time
from concurrent.futures import Future

from lsprotocol import types

from lsp_server.format import ago, cost_text, count, short_model
from lsp_server.queries import FileCost, file_cost
from lsp_server.server import BurnmeterServer, path_of

FILE_COST_COMMAND = "burnmeter.fileCost"
# At most this many refreshes wait for the client's answer (see `setup`).
UNANSWERED_REFRESHES = 16
# Ledger changes refresh the lenses at most this often: each refresh has the client ask
# again for the lens of every visible file, and an agent at work changes the ledger
# several times a second (3,122 refreshes in 17 minutes of a stress run).
REFRESH_INTERVAL_S = 2.0


def lens_title(cost: FileCost, now_ms: int) -> str:
    spend = cost_text(cost.cost_usd, cost.unpriced_calls, cost.calls)
    parts = [f"{spend} agent spend", count(cost.sessions, "session")]
    if cost.last_model:
        parts.append(f"{short_model(cost.last_model)} {ago(now_ms - cost.last_ts_ms)}")
    return " · ".join(parts)


def setup(server: BurnmeterServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(
        ls: BurnmeterServer, params: types.CodeLensParams
    ) -> list[types.CodeLens] | None:
        path = path_of(params.text_document.uri)
        if path is None or not ls.settings.code_lens:
            return []
        if not ls_supports_refresh(ls):
            # The client will not ask again when the ledger changes: an answer before the
            # first ingest is done would be the lens it shows (Neovim 0.7: none) until the
            # cursor moves. A client that supports refresh is answered now and told to ask
            # again once that ingest has written something.
            await ls.hub.wait_first_ingest()
        cost = await ls.hub.query(file_cost, path)
        if cost is None:
            return []
        title = lens_title(cost, int(time.time() * 1000))
        return [
            types.CodeLens(
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=0, character=0),
                ),
                command=types.Command(
                    title=title, command=FILE_COST_COMMAND, arguments=[params.text_document.uri]
                ),
            )
        ]

    # pygls keeps a request's future and result type until the client answers (pygls
    # issue #608): a client that claims `refreshSupport` and never answers would keep
    # ~1.7 KB per ledger change for the life of the server. Past UNANSWERED_REFRESHES
    # waiting, the oldest is given up: cancelled, which drops both (BurnmeterProtocol).
    # A client that answers has one or two waiting at most.
    waiting: list[Future[None]] = []

    def refresh() -> None:
        if not ls_supports_refresh(server):
            return
        waiting[:] = [future for future in waiting if not future.done()]
        if len(waiting) >= UNANSWERED_REFRESHES:
            waiting.pop(0).cancel()
        waiting.append(server.workspace_code_lens_refresh(None))

    server.on_ledger_change(refresh, on_start=False, min_interval_s=REFRESH_INTERVAL_S)


def ls_supports_refresh(server: BurnmeterServer) -> bool:
    return server.client_supports("workspace", "code_lens", "refresh_support")
