"""pytest-qt settings for the tray tests: the offscreen platform, and Qt warnings fail a
test (except the known-harmless ones listed), as Vorta and qutebrowser do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.sources.roots import LogRoot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tray_app.app import BurnmeterApp

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Harmless on the offscreen platform, which cannot do what these ask.
QT_LOG_IGNORE = (
    "This plugin does not support propagateSizeHints",
    "This plugin does not support raise",
    "This plugin does not support grabbing the keyboard",
    "QSystemTrayIcon::setVisible: No Icon set",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*QT_LOG_IGNORE))


@pytest.fixture
def now_ms() -> int:
    import time

    return int(time.time() * 1000)


@pytest.fixture
def history(isolated_home: Path, now_ms: int) -> Path:
    """A month of Claude Code sessions in the isolated HOME, one of them running."""
    from tests.tray.history import write_history

    return write_history(isolated_home, now_ms)


@pytest.fixture
def roots(isolated_home: Path) -> list[LogRoot]:
    from shared.sources.roots import claude_roots, codex_roots

    return claude_roots() + codex_roots()


@pytest.fixture
def ledger_file(isolated_home: Path) -> Path:
    from shared.paths import ledger_path

    return ledger_path()


def ingest_now(roots: list[LogRoot], ledger_file: Path) -> None:
    from shared.ingest import ingest
    from shared.ledger import open_ledger

    ledger = open_ledger(ledger_file)
    try:
        ingest(ledger, roots)
    finally:
        ledger.close()


def tray_app_for(
    roots: list[LogRoot],
    ledger_file: Path,
    settings: Settings | None = None,
    *,
    problems: tuple[str, ...] = (),
    tray_available: bool = False,
    live: bool = False,
) -> BurnmeterApp:
    """The tray as the tests build it: `settings` as read from a config.toml beside the
    ledger (with `problems` found in it), no tray host unless said, no live engine unless
    said."""
    from shared.config import LoadedSettings
    from tray_app.app import BurnmeterApp

    loaded = LoadedSettings(settings or Settings(), ledger_file.parent / "config.toml", [*problems])
    return BurnmeterApp(
        roots=roots,
        ledger_file=ledger_file,
        loaded=loaded,
        tray_available=tray_available,
        live=live,
    )


@pytest.fixture(autouse=True)
def collect_qt_garbage(qapp: object) -> Iterator[None]:
    """Collect each test's Qt wrappers while the QApplication still runs."""
    yield
    import gc

    from tray_app.worker import wait_for_pool

    wait_for_pool()
    gc.collect()
