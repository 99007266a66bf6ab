"""The tier-hint publisher: a pass over the workspace's sessions starts at most every
MIN_INTERVAL_S however often the ledger changes (it was waived while no hint was shown, so
a busy session cost a pass per change, half a core), and a file's hints are sent only when
they change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import pytest
from lsprotocol import types

from lsp_server import diagnostics
from lsp_server.diagnostics import TierHintPublisher


class FakeServer:
    """What the publisher uses of the server: its settings, folders, tasks, the slow
    ledger thread (here: the hints a pass finds) and the diagnostics it sends."""

    def __init__(self, hints: Callable[[], dict[str, list[str]]]) -> None:
        self.settings = SimpleNamespace(tier_hints=True)
        self.passes = 0
        self.sent: list[types.PublishDiagnosticsParams] = []
        self._hints = hints
        self.tasks: list[asyncio.Task[Any]] = []

        async def run_slow(fn: Callable[..., Any], *args: Any) -> dict[str, list[str]]:
            self.passes += 1
            return self._hints()

        self.hub = SimpleNamespace(run_slow=run_slow)

    def workspace_folders(self) -> list[str]:
        return ["/work/app"]

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.append(task)
        return task

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.sent.append(params)


async def _changes_for(publisher: TierHintPublisher, seconds: float, every: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        publisher.schedule()
        await asyncio.sleep(every)


@pytest.mark.parametrize("with_hints", [False, True])
async def test_passes_start_at_most_every_interval(
    monkeypatch: pytest.MonkeyPatch, with_hints: bool
) -> None:
    monkeypatch.setattr(diagnostics, "MIN_INTERVAL_S", 0.2)
    server = FakeServer(lambda: {"/work/app/a.py": ["hint"]} if with_hints else {})
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    start = loop.time()
    await _changes_for(publisher, 1.0, every=0.01)  # a ledger change every 10 ms
    await asyncio.gather(*server.tasks)
    elapsed = loop.time() - start
    # One pass at once, then one per 0.2 s: 6 in a second; with the waiver, about 100. (A
    # loaded machine only makes the passes fewer.)
    assert 2 <= server.passes <= elapsed / 0.2 + 1.5, (server.passes, elapsed)


async def test_the_same_hints_are_not_sent_again() -> None:
    hints = {"/work/app/a.py": ["hint a"], "/work/app/b.py": ["hint b"]}
    server = FakeServer(lambda: hints)
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    publisher.publish(hints)
    assert len(server.sent) == 2
    publisher.publish(hints)
    assert len(server.sent) == 2
    publisher.publish({"/work/app/a.py": ["hint a, moved"]})
    sent = {params.uri.rsplit("/", 1)[1]: params.diagnostics for params in server.sent[2:]}
    assert [d.message for d in sent["a.py"]] == ["hint a, moved"]
    assert sent["b.py"] == []  # b's hint is gone: cleared once
    publisher.publish({"/work/app/a.py": ["hint a, moved"]})
    assert len(server.sent) == 4
