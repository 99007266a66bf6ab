"""A real `burnmeter lsp` process over stdio, driven by pytest-lsp with real client
capabilities, on a fixture history: a workspace folder, a session that read and edited
files in it, and a session elsewhere."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities, make_test_lsp_client

from shared.ingest import ingest
from shared.ledger import open_ledger
from shared.sources.events import CLAUDE
from shared.sources.roots import LogRoot
from tests.logfixtures import append, claude_call, session_file

CLIENTS = ["visual-studio-code", "neovim"]
NOW_MS = int(time.time() * 1000)
HOUR_MS = 3_600_000


@dataclass
class Workspace:
    root: Path
    folder: Path
    projects: Path
    main_py: Path
    util_py: Path
    hinted_py: Path
    untouched_py: Path
    session_log: Path
    statuses: list[dict[str, Any]] = field(default_factory=list)
    lens_refreshes: int = 0
    # The server's answer to the last `initialize` (start_client).
    initialize_result: types.InitializeResult | None = None

    def uri(self, path: Path) -> str:
        return str(from_fs_path(str(path)))


def build_history(home: Path) -> Workspace:
    folder = home / "work" / "app"
    (folder / "src").mkdir(parents=True)
    main_py, util_py, untouched = (
        folder / "src" / "main.py",
        folder / "src" / "util.py",
        folder / "src" / "untouched.py",
    )
    for path in (main_py, util_py, untouched):
        path.write_text("print('hello')\n")
    projects = home / ".claude" / "projects"
    log = session_file(projects, str(folder), "sess-app-1")
    # Two hours ago: reads main.py and util.py together (cost split in two), then an edit
    # of main.py alone.
    append(
        log,
        claude_call(
            message_id="m1", session_id="sess-app-1", cwd=str(folder),
            ts_ms=NOW_MS - 2 * HOUR_MS - 60_000, model="claude-opus-4-7",
            input_tokens=10_000, output_tokens=2_000,
            tools=[("t1", "Read", {"file_path": str(main_py)}),
                   ("t2", "Read", {"file_path": "src/util.py"})],
        )
        + claude_call(
            message_id="m2", session_id="sess-app-1", cwd=str(folder),
            ts_ms=NOW_MS - 2 * HOUR_MS, model="claude-opus-4-7",
            input_tokens=20_000, output_tokens=4_000,
            tools=[("t3", "Edit", {"file_path": str(main_py)})],
        ),
    )  # fmt: skip
    # A frontier session that mostly read (a tier hint), then edited hinted.py.
    explore = session_file(projects, str(folder), "sess-app-explore")
    for n in range(3):
        append(
            explore,
            claude_call(
                message_id=f"e{n}", session_id="sess-app-explore", cwd=str(folder),
                ts_ms=NOW_MS - 5 * HOUR_MS + n * 1000, model="claude-opus-4-7",
                input_tokens=300_000, output_tokens=1_000,
                tools=[(f"te{n}", "Read", {"file_path": str(folder / "src" / "big.py")})],
            ),
        )  # fmt: skip
    append(
        explore,
        claude_call(
            message_id="e9", session_id="sess-app-explore", cwd=str(folder),
            ts_ms=NOW_MS - 5 * HOUR_MS + 9000, model="claude-opus-4-7",
            input_tokens=1_000, output_tokens=100,
            tools=[("te9", "Edit", {"file_path": str(folder / "src" / "hinted.py")})],
        ),
    )  # fmt: skip
    other = session_file(projects, "/elsewhere/other", "sess-other")
    append(
        other,
        claude_call(
            message_id="m9", session_id="sess-other", cwd="/elsewhere/other",
            ts_ms=NOW_MS - 3 * HOUR_MS, model="claude-sonnet-4-5",
            tools=[("t9", "Edit", {"file_path": "/elsewhere/other/x.py"})],
        ),
    )  # fmt: skip
    return Workspace(
        home, folder, projects, main_py, util_py, folder / "src" / "hinted.py", untouched, log
    )


def server_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CLAUDE_CONFIG_DIR"] = str(home / ".claude")
    env["CODEX_HOME"] = str(home / ".codex")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def preingest(home: Path) -> None:
    ledger = open_ledger(Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite")
    ingest(ledger, [LogRoot(CLAUDE, home / ".claude" / "projects")])
    ledger.close()


@pytest.fixture
def workspace(isolated_home: Path) -> Workspace:
    ws = build_history(isolated_home)
    preingest(isolated_home)
    return ws


async def start_client(
    ws: Workspace,
    capabilities: str | types.ClientCapabilities,
    initialization_options: Any = None,
    extra_args: list[str] | None = None,
    program: list[str] | None = None,
) -> LanguageClient:
    def factory() -> LanguageClient:
        client = make_test_lsp_client()

        @client.feature("burnmeter/status")
        def on_status(ls: LanguageClient, params: Any) -> None:
            ws.statuses.append(as_dict(params))

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def on_lens_refresh(ls: LanguageClient, params: None) -> None:
            ws.lens_refreshes += 1

        return client

    config = ClientServerConfig(
        server_command=(program or [sys.executable, "-m", "shared"]) + ["lsp", *(extra_args or [])],
        server_env=server_env(ws.root),
        client_factory=factory,
    )
    client: LanguageClient = await config.start()  # type: ignore[assignment]
    ws.initialize_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=(
                client_capabilities(capabilities) if isinstance(capabilities, str) else capabilities
            ),
            root_uri=ws.uri(ws.folder),
            workspace_folders=[types.WorkspaceFolder(uri=ws.uri(ws.folder), name="app")],
            initialization_options=initialization_options,
        )
    )
    return client


def as_dict(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_dict(v) for v in value]
    if hasattr(value, "_asdict"):
        return as_dict(value._asdict())
    if hasattr(value, "__dict__") and not isinstance(value, (str, int, float, bool)):
        return as_dict(vars(value))
    return value


async def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return bool(condition())


@pytest_asyncio.fixture(params=CLIENTS)
async def client(request: pytest.FixtureRequest, workspace: Workspace) -> AsyncIterator[Any]:
    lsp_client = await start_client(workspace, request.param)
    yield lsp_client
    await lsp_client.shutdown_session()
    await lsp_client.stop()
