"""Tier hints as diagnostics (severity Hint, line 0) on the files edited by workspace
sessions that spent most of their frontier-tier cost on exploring or chat, with the
counterfactual cost in the message. The rule is `shared.insights` (`session_insights`);
the `tierHints` setting turns them off.

A file's diagnostics are sent again only when their substance changes: a hint appears or
goes, suggests another model, or its saving moves by more than SAVING_STEP (then at most
once per REWORD_S); a hint whose figures moved less keeps the message it was shown with
until its session has been quiet for SETTLE_S, then shows its exact figures. A running
session's figures move with every call, and each pass (every 2 s while an agent works) sent
every file it edited its hints again: 800 notifications, 6.2 MB in 30 s for 50 files. A
file shows the MAX_PER_FILE hints with the largest savings and a line counting the others
(17 stacked hints, 4.7 KB, on line 1 of each file before)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from lsprotocol import types
from pygls.uris import from_fs_path

from lsp_server.queries import files_edited, path_forms, workspace_sessions
from lsp_server.server import BurnmeterServer, path_of
from shared.insights.sessions import Hint
from shared.ledger import Ledger

# Hints cost a pass over each live session's calls (~0.1 s for a session of 5,000 calls):
# a pass starts at most this often, however often the ledger changes.
MIN_INTERVAL_S = 2.0
MAX_SESSIONS = 50
# A shown hint is worded again when its saving has moved by more than this share of the
# saving it was shown with, at most every REWORD_S, or once its session has been quiet
# for SETTLE_S.
SAVING_STEP = 0.10
REWORD_S = 10.0
SETTLE_S = 30.0
# Hints shown on one file; the others are counted on one more line.
MAX_PER_FILE = 3


@dataclass(frozen=True)
class SessionHint:
    """A session's hint as a pass found it: the message with its exact figures, and what
    says whether a change is worth showing."""

    session_id: str
    message: str
    saving_usd: float
    suggested_model: str


# Per session: the (calls, cost) the hint was computed at, its hint and edited files.
HintCache = dict[str, tuple[tuple[int, float], SessionHint | None, list[str]]]


def hints_by_file(
    ledger: Ledger, folders: list[str], cache: HintCache
) -> dict[str, list[SessionHint]]:
    """{path: [hint, ...]} for the workspace's most recent sessions. Only sessions whose
    totals moved since the last pass are evaluated again (a live session, usually)."""
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
            hint = None if insight is None else session_hint(session_id, insight.hint)
            files = files_edited(ledger.conn, session_id) if hint else []
            cache[session_id] = ((session.calls, session.cost_usd), hint, files)
    # Sessions that left the most recent MAX_SESSIONS are not asked about again.
    shown = {s.session_id for s in sessions}
    for session_id in [key for key in cache if key not in shown]:
        del cache[session_id]
    result: dict[str, list[SessionHint]] = {}
    for session in sessions:
        _, found, files = cache[session.session_id]
        if found:
            for path in files:
                result.setdefault(path, []).append(found)
    return result


def hint_message(session_id: str, hint: Hint | None) -> str | None:
    if hint is None:
        return None
    # The reason already names the suggested model and both costs; the diagnostic's source
    # says "burnmeter" (eglot showed `burnmeter [tier-hint]: burnmeter: session ...`).
    return f"session {session_id[:8]} — {hint.reason}"


def session_hint(session_id: str, hint: Hint | None) -> SessionHint | None:
    message = hint_message(session_id, hint)
    if hint is None or message is None:
        return None
    return SessionHint(session_id, message, hint.saving_usd, hint.suggested_model)


def more_message(count: int) -> str:
    sessions = "session" if count == 1 else "sessions"
    return (
        f"{count} more {sessions} that edited this file "
        f"{'has' if count == 1 else 'have'} a tier hint (`burnmeter report sessions` lists them)"
    )


def moved(shown: SessionHint, found: SessionHint) -> bool:
    """Whether a hint's saving moved enough to be shown again."""
    return abs(found.saving_usd - shown.saving_usd) > SAVING_STEP * abs(shown.saving_usd)


class TierHintPublisher:
    def __init__(self, server: BurnmeterServer) -> None:
        self.server = server
        # What each file's diagnostics say now (by its path in the ledger), what each URI
        # was last sent, and the open documents (URI: the forms of its path, see
        # `path_forms`).
        self.published: dict[str, tuple[str, ...]] = {}
        self.sent: dict[str, tuple[str, ...]] = {}
        self.opened: dict[str, frozenset[str]] = {}
        self.cache: HintCache = {}
        # The last pass's hints, exact; per session, the hint as shown (and when), and the
        # exact one (and since when it has been what it is).
        self.hints: dict[str, list[SessionHint]] = {}
        self.shown: dict[str, tuple[SessionHint, float]] = {}
        self.found_since: dict[str, tuple[SessionHint, float]] = {}
        self._pending = False
        self._last_pass = -MIN_INTERVAL_S
        self._settle: asyncio.Task[None] | None = None

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

    def _as_shown(self, hints: dict[str, list[SessionHint]]) -> dict[str, tuple[str, ...]]:
        """Each file's messages: the hints as they are shown (see the module's docstring),
        the largest savings first, MAX_PER_FILE of them and a line counting the rest."""
        now = time.monotonic()
        found = {hint.session_id: hint for listed in hints.values() for hint in listed}
        for session_id in [key for key in self.found_since if key not in found]:
            del self.found_since[session_id]
        for session_id in [key for key in self.shown if key not in found]:
            del self.shown[session_id]
        due: list[float] = []
        for session_id, hint in found.items():
            since = self.found_since.get(session_id)
            if since is None or since[0] != hint:
                self.found_since[session_id] = since = (hint, now)
            shown = self.shown.get(session_id)
            if (
                shown is None
                or shown[0].suggested_model != hint.suggested_model
                or (moved(shown[0], hint) and now - shown[1] >= REWORD_S)
                or now - since[1] >= SETTLE_S
            ):
                self.shown[session_id] = shown = (hint, now)
            if shown[0] != hint:
                due.append(since[1] + SETTLE_S)
                if moved(shown[0], hint):
                    due.append(shown[1] + REWORD_S)
        self._settle_at(min(due) if due else None)
        messages: dict[str, tuple[str, ...]] = {}
        for path, listed in hints.items():
            ranked = sorted(
                (self.shown[hint.session_id][0] for hint in listed),
                key=lambda hint: (-hint.saving_usd, hint.session_id),
            )
            lines = [hint.message for hint in ranked[:MAX_PER_FILE]]
            if len(ranked) > MAX_PER_FILE:
                lines.append(more_message(len(ranked) - MAX_PER_FILE))
            messages[path] = tuple(lines)
        return messages

    def _settle_at(self, when: float | None) -> None:
        """Show hints as they are now at `when`: a moved one once REWORD_S has passed, one
        whose session went quiet with its exact figures (None: no hint waits for either).
        A task of the server's: cancelled with its connection."""
        if self._settle is not None:
            self._settle.cancel()
            self._settle = None
        if when is not None:
            self._settle = self.server.run_task(self._settle_later(when), "tier hints settle")

    async def _settle_later(self, when: float) -> None:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        self._settle = None
        if self.server.initialized:  # not after `shutdown`
            self.publish(self.hints)

    def publish(self, hints: dict[str, list[SessionHint]]) -> None:
        """Send what changed: a file's hints that are new or differ, an empty list for a
        file whose hints are gone; the same hints are not sent again."""
        self.hints = hints
        self.published = self._as_shown(hints)
        self._send()

    def _targets(self, path: str) -> list[str]:
        """The URIs a file's hints go to: those of the open documents that are this file
        (a file opened through a symbolic link is logged by the agents as its real path),
        else the file's own."""
        opened = [uri for uri, forms in self.opened.items() if path in forms]
        return opened or [from_fs_path(path) or path]

    def _send(self, again: str | None = None) -> None:
        """Bring what the client was sent in line with `published`; `again`, a URI, is sent
        its hints even if it had them (a client may have dropped them)."""
        wanted: dict[str, tuple[str, ...]] = {}
        for path, messages in self.published.items():
            for uri in self._targets(path):
                # Two spellings of one file (through a link and not): their hints, once.
                wanted[uri] = tuple(dict.fromkeys(wanted.get(uri, ()) + messages))
        for uri in set(self.sent) - set(wanted):
            self._publish_to(uri, ())
        for uri, messages in wanted.items():
            if self.sent.get(uri) != messages or (uri == again and messages):
                self._publish_to(uri, messages)
        self.sent = wanted

    def _publish_to(self, uri: str, messages: tuple[str, ...]) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[diagnostic(message) for message in messages]
            )
        )

    def did_open(self, uri: str) -> None:
        """Send an opened file its hints again. A hint is published once, when it changes,
        and clients drop some: eglot those of a file not open when they came (the hint of
        a file opened second never showed), Neovim a wiped buffer's (`:bwipeout`, then
        the file opened again showed none). A file opened through a link gets its real
        path's hints, which leave the real path's URI."""
        path = path_of(uri)
        if path is not None:
            self.opened[uri] = frozenset(path_forms(path))
        self._send(again=uri)

    def did_close(self, uri: str) -> None:
        if self.opened.pop(uri, None) is not None:
            self._send()


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

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: BurnmeterServer, params: types.DidCloseTextDocumentParams) -> None:
        publisher.did_close(params.text_document.uri)
