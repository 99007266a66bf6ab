"""Tier hints as diagnostics (severity Hint, line 0) on the files edited by workspace
sessions that spent most of their frontier-tier cost on exploring or chat, with the
counterfactual cost in the message. The rule is `shared.insights` (`session_insights`);
the `tierHints` setting turns them off."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pygls.uris import from_fs_path

from lsp_server.queries import files_edited, workspace_sessions
from lsp_server.server import BurnmeterServer
from shared.insights.sessions import Hint
from shared.ledger import Ledger

# Hints cost a pass over each session's calls: recompute at most this often.
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
        self.published: set[str] = set()
        self.cache: HintCache = {}
        self._pending = False

    def schedule(self) -> None:
        if self._pending:
            return
        self._pending = True
        self.server.run_task(self._publish_later(), "tier hints")

    async def _publish_later(self) -> None:
        await asyncio.sleep(MIN_INTERVAL_S if self.published else 0)
        self._pending = False
        server = self.server
        if server.settings.tier_hints:
            hints = await server.hub.run_slow(hints_by_file, server.workspace_folders(), self.cache)
        else:
            hints = {}
        self.publish(hints)

    def publish(self, hints: dict[str, list[str]]) -> None:
        server = self.server
        for path in self.published - set(hints):
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=from_fs_path(path) or path, diagnostics=[])
            )
        for path, messages in hints.items():
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=from_fs_path(path) or path,
                    diagnostics=[diagnostic(message) for message in messages],
                )
            )
        self.published = set(hints)


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
