"""Tier hints as diagnostics (severity Hint, line 0) on the files edited by workspace
sessions that spent most of their frontier-tier cost on exploring or chat, with the
counterfactual cost in the message. The rule is `shared.insights` (`session_insights`);
the `tierHints` setting turns them off."""

from __future__ import annotations

import asyncio
import time

from lsprotocol import types
from pygls.uris import from_fs_path

from lsp_server.queries import files_edited, workspace_sessions
from lsp_server.server import BurnmeterServer, path_of
from shared.insights.sessions import Hint
from shared.ledger import Ledger

# Hints cost a pass over each live session's calls (~0.1 s for a session of 5,000 calls):
# a pass starts at most this often, however often the ledger changes.
MIN_INTERVAL_S = 2.0
MAX_SESSIONS = 50


# Per session: the (calls, cost) the hint was computed at, its message and edited files.
HintCache = dict[str, tuple[tuple[int, float], str | None, list[str]]]


def hints_by_file(ledger: Ledger, folders: list[str], cache: HintCache) -> dict[str, list[str]]:
    """{path: [hint message, ...]} for the workspace's most recent sessions. Only sessions
    whose totals moved since the last pass are evaluated again (a live session, usually)."""
    from shared.config import load_settings
    from shared.insights.sessions import session_insights

    sessions = workspace_sessions(ledger.conn, folders, limit=MAX_SESSIONS) if folders else []
    stale = [
        s.session_id
        for s in sessions
        if s.session_id not in cache or cache[s.session_id][0] != (s.calls, s.cost_usd)
    ]
    if stale:
        settings = load_settings().settings
        insights = session_insights(ledger, settings, stale, with_outcomes=False)
        by_id = {s.session_id: s for s in sessions}
        for session_id in stale:
            session = by_id[session_id]
            insight = insights.get(session_id)
            message = None if insight is None else hint_message(session_id, insight.hint)
            files = files_edited(ledger.conn, session_id) if message else []
            cache[session_id] = ((session.calls, session.cost_usd), message, files)
    # Sessions that left the most recent MAX_SESSIONS are not asked about again.
    shown = {s.session_id for s in sessions}
    for session_id in [key for key in cache if key not in shown]:
        del cache[session_id]
    result: dict[str, list[str]] = {}
    for session in sessions:
        _, message, files = cache[session.session_id]
        if message:
            for path in files:
                result.setdefault(path, []).append(message)
    return result


def hint_message(session_id: str, hint: Hint | None) -> str | None:
    if hint is None:
        return None
    # The reason already names the suggested model and both costs.
    return f"burnmeter: session {session_id[:8]} — {hint.reason}"


class TierHintPublisher:
    def __init__(self, server: BurnmeterServer) -> None:
        self.server = server
        # What each file's diagnostics say now, as last sent.
        self.published: dict[str, tuple[str, ...]] = {}
        self.cache: HintCache = {}
        self._pending = False
        self._last_pass = -MIN_INTERVAL_S

    def schedule(self) -> None:
        if self._pending:
            return
        self._pending = True
        self.server.run_task(self._publish_later(), "tier hints")

    async def _publish_later(self) -> None:
        # The first pass at once; later ones MIN_INTERVAL_S after the one before (it was
        # waived while no hint was shown, which is most of the time: a busy session then
        # cost a pass per ledger change, half a core).
        wait = self._last_pass + MIN_INTERVAL_S - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._pending = False
        self._last_pass = time.monotonic()
        server = self.server
        if server.settings.tier_hints:
            hints = await server.hub.run_slow(hints_by_file, server.workspace_folders(), self.cache)
        else:
            hints = {}
        self.publish(hints)

    def publish(self, hints: dict[str, list[str]]) -> None:
        """Send what changed: a file's hints that are new or differ, an empty list for a
        file whose hints are gone; the same hints are not sent again."""
        server = self.server
        for path in set(self.published) - set(hints):
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=from_fs_path(path) or path, diagnostics=[])
            )
        for path, messages in hints.items():
            if self.published.get(path) == tuple(messages):
                continue
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=from_fs_path(path) or path,
                    diagnostics=[diagnostic(message) for message in messages],
                )
            )
        self.published = {path: tuple(messages) for path, messages in hints.items()}

    def did_open(self, uri: str) -> None:
        """Send an opened file its hints again. A hint is published once, when it changes,
        and clients drop some: eglot those of a file not open when they came (the hint of
        a file opened second never showed), Neovim a wiped buffer's (`:bwipeout`, then
        the file opened again showed none)."""
        path = path_of(uri)
        messages = self.published.get(path) if path is not None else None
        if messages:
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri, diagnostics=[diagnostic(message) for message in messages]
                )
            )


def diagnostic(message: str) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
        ),
        message=message,
        severity=types.DiagnosticSeverity.Hint,
        source="burnmeter",
        code="tier-hint",
    )


def setup(server: BurnmeterServer) -> None:
    publisher = TierHintPublisher(server)
    server.on_ledger_change(publisher.schedule)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: BurnmeterServer, params: types.DidOpenTextDocumentParams) -> None:
        publisher.did_open(params.text_document.uri)
