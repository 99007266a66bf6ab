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
from lsp_server.diagnostics import SessionHint, TierHintPublisher


class FakeServer:
    """What the publisher uses of the server: its settings, folders, tasks, the slow
    ledger thread (here: the hints a pass finds) and the diagnostics it sends."""

    def __init__(self, hints: Callable[[], dict[str, list[SessionHint]]]) -> None:
        self.settings = SimpleNamespace(tier_hints=True)
        self.initialized = True
        self.passes = 0
        self.sent: list[types.PublishDiagnosticsParams] = []
        self._hints = hints
        self.tasks: list[asyncio.Task[Any]] = []

        async def run_slow(fn: Callable[..., Any], *args: Any) -> dict[str, list[SessionHint]]:
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


def hint(session_id: str, message: str, saving: float = 1.0, model: str = "haiku") -> SessionHint:
    return SessionHint(session_id, message, saving, model)


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
    server = FakeServer(lambda: {"/work/app/a.py": [hint("s1", "hint")]} if with_hints else {})
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    start = loop.time()
    await _changes_for(publisher, 1.0, every=0.01)  # a ledger change every 10 ms
    await asyncio.gather(*server.tasks)
    elapsed = loop.time() - start
    # One pass at once, then one per 0.2 s: 6 in a second; with the waiver, about 100. (A
    # loaded machine only makes the passes fewer.)
    assert 2 <= server.passes <= elapsed / 0.2 + 1.5, (server.passes, elapsed)


async def test_the_same_hints_are_not_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagnostics, "REWORD_S", 0.0)
    hints = {"/work/app/a.py": [hint("s1", "hint a")], "/work/app/b.py": [hint("s2", "hint b")]}
    server = FakeServer(lambda: hints)
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    publisher.publish(hints)
    assert len(server.sent) == 2
    publisher.publish(hints)
    assert len(server.sent) == 2
    publisher.publish({"/work/app/a.py": [hint("s1", "hint a, moved", saving=2.0)]})
    sent = {params.uri.rsplit("/", 1)[1]: params.diagnostics for params in server.sent[2:]}
    assert [d.message for d in sent["a.py"]] == ["hint a, moved"]
    assert sent["b.py"] == []  # b's hint is gone: cleared once
    publisher.publish({"/work/app/a.py": [hint("s1", "hint a, moved", saving=2.0)]})
    assert len(server.sent) == 4


def messages(params: types.PublishDiagnosticsParams) -> list[str]:
    return [d.message for d in params.diagnostics]


async def test_a_hint_whose_figures_barely_move_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A running session's hint: its figures move with every call. Within SAVING_STEP of
    the saving shown, the file keeps the message it was shown with."""
    monkeypatch.setattr(diagnostics, "REWORD_S", 0.0)
    server = FakeServer(dict)
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    path = "/work/app/a.py"
    publisher.publish({path: [hint("s1", "saves $4.00 (3 calls)", saving=4.00)]})
    for calls, saving in enumerate([4.05, 4.13, 4.20, 4.39], start=4):
        publisher.publish({path: [hint("s1", f"saves ${saving:.2f} ({calls} calls)", saving)]})
    assert [messages(p) for p in server.sent] == [["saves $4.00 (3 calls)"]]
    # More than 10% from the saving shown ($4.00): shown again, with the figures now.
    publisher.publish({path: [hint("s1", "saves $4.41 (8 calls)", saving=4.41)]})
    assert messages(server.sent[-1]) == ["saves $4.41 (8 calls)"]
    # Another suggested model is news whatever the saving.
    publisher.publish({path: [hint("s1", "sonnet saves $4.42", saving=4.42, model="sonnet")]})
    assert messages(server.sent[-1]) == ["sonnet saves $4.42"]
    assert len(server.sent) == 3
    for task in server.tasks:
        task.cancel()


async def test_a_quiet_sessions_hint_shows_its_exact_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(diagnostics, "SETTLE_S", 0.3)
    server = FakeServer(dict)
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    path = "/work/app/a.py"
    publisher.publish({path: [hint("s1", "saves $4.00", saving=4.00)]})
    publisher.publish({path: [hint("s1", "saves $4.10", saving=4.10)]})
    assert len(server.sent) == 1
    await asyncio.sleep(0.5)  # the session went quiet
    assert [messages(p) for p in server.sent] == [["saves $4.00"], ["saves $4.10"]]
    await asyncio.sleep(0.4)
    assert len(server.sent) == 2  # settled: nothing more to send


async def test_a_file_shows_the_three_largest_savings_and_counts_the_rest() -> None:
    server = FakeServer(dict)
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    path = "/work/app/a.py"
    savings = [1.0, 5.0, 2.0, 4.0, 3.0, 0.5]
    publisher.publish({path: [hint(f"s{n}", f"s{n}", saving=s) for n, s in enumerate(savings)]})
    [sent] = server.sent
    assert messages(sent)[:3] == ["s1", "s3", "s4"]
    assert len(sent.diagnostics) == 4
    assert "3 more sessions that edited this file have a tier hint" in messages(sent)[3]
    # A session among the rest moving does not change what the file shows.
    savings[5] = 0.9
    publisher.publish({path: [hint(f"s{n}", f"s{n}", saving=s) for n, s in enumerate(savings)]})
    assert len(server.sent) == 1


async def test_a_moving_hint_is_worded_again_at_most_every_reword_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session whose saving grows by more than SAVING_STEP at every pass (a costly agent
    at work) is worded again once per REWORD_S, with its figures at that time."""
    monkeypatch.setattr(diagnostics, "REWORD_S", 0.5)
    server = FakeServer(dict)
    publisher = TierHintPublisher(server)  # type: ignore[arg-type]
    path = "/work/app/a.py"
    loop = asyncio.get_running_loop()
    start = loop.time()
    saving = 1.0
    while loop.time() - start < 1.6:
        publisher.publish({path: [hint("s1", f"saves ${saving:.2f}", saving=saving)]})
        saving *= 1.5
        await asyncio.sleep(0.05)
    # Shown at once, then after 0.5, 1.0 and 1.5 s (a loaded machine: fewer).
    assert 2 <= len(server.sent) <= 4, [messages(p) for p in server.sent]
    await asyncio.sleep(0.6)
    # The last figures are shown once the interval is over, without another pass.
    assert messages(server.sent[-1]) == [f"saves ${saving / 1.5:.2f}"]
    for task in server.tasks:
        task.cancel()
