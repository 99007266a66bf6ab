"""SIGTERM and SIGINT stop the server from between two callbacks of its event loop, never
from inside one: raised inside the callback that wakes a task up, the interrupt lost that
wake-up, the task never finished and asyncio.run's clean-up waited for it forever (`burnmeter
lsp --tcp` stopped right after a client left hung about 1 time in 5). In this process, so
that the signal can be raised inside a chosen callback."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from lsp_server import main as lsp_main


@pytest.fixture
def stop_handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    monkeypatch.setattr(lsp_main, "_signalled", threading.Event())
    lsp_main.stop_on_signals()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_loop_between_callbacks(
    stop_handlers: None, signum: signal.Signals
) -> None:
    seen: list[str] = []

    async def serve() -> None:
        def callback() -> None:
            try:
                signal.raise_signal(signum)
            except KeyboardInterrupt:
                seen.append("interrupted inside the callback")
                return
            seen.append("callback finished")

        asyncio.get_running_loop().call_soon(callback)
        await asyncio.sleep(10)
        seen.append("slept on")

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(serve())
    assert seen == ["callback finished"]
    assert time.monotonic() - started < 5
    assert lsp_main._signalled.is_set()


def test_a_stop_signal_outside_a_loop_interrupts_at_once(stop_handlers: None) -> None:
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    assert lsp_main._signalled.is_set()
    signal.raise_signal(signal.SIGTERM)  # a second one is ignored while stopping
