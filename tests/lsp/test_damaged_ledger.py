"""A ledger damaged inside (its header intact, so the server opens it): the code lens and
hover that read the damaged pages answer empty, with no traceback to the client, and the
user is told once, with the ledger's path and what to do, as the commands say it. They
answered "internal error" -32603 with SQLite's traceback to every request, and the log
blamed the client for it."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from lsprotocol import types

from shared.ledger import NEW_LEDGER_PAGE_SIZE
from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def damage_file_tables(ledger: Path) -> str:
    """Overwrite the pages of `file_stats` and `file_sessions` (and their indexes) with
    noise, as the audit did; the file's digest after."""
    assert not Path(f"{ledger}-wal").exists() or Path(f"{ledger}-wal").stat().st_size == 0
    with closing(sqlite3.connect(ledger)) as conn:
        pages = [
            pageno
            for (pageno,) in conn.execute(
                "SELECT pageno FROM dbstat WHERE name LIKE '%file_stats%' "
                "OR name LIKE '%file_sessions%'"
            )
        ]
    assert pages
    data = bytearray(ledger.read_bytes())
    for pageno in pages:
        start = (pageno - 1) * NEW_LEDGER_PAGE_SIZE
        data[start : start + NEW_LEDGER_PAGE_SIZE] = os.urandom(NEW_LEDGER_PAGE_SIZE)
    ledger.write_bytes(bytes(data))
    return hashlib.sha256(data).hexdigest()


async def test_a_damaged_ledger_answers_empty_and_says_so_once(workspace: Workspace) -> None:
    ledger = Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    digest = damage_file_tables(ledger)
    client = await start_client(workspace, "visual-studio-code")
    try:
        uri = workspace.uri(workspace.main_py)
        for _ in range(3):
            lenses = await client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            assert not lenses
            hover = await client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=0, character=0),
                )
            )
            assert hover is None

        def errors() -> list[types.ShowMessageParams]:
            return [m for m in client.messages if m.type == types.MessageType.Error]

        assert await wait_until(lambda: bool(errors()))
        # A last round trip: anything sent after the first message has arrived.
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="burnmeter.sessions")
        )
        [shown] = errors()
        text = " ".join(shown.message.split())
        assert f"The ledger at {ledger} is damaged" in text
        assert "Move it aside" in text and "burnmeter ingest" in text
        logged = " ".join(m.message for m in client.log_messages)
        assert "from the client" not in logged and "Traceback" not in logged
    finally:
        await client.shutdown_session()
        await client.stop()
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == digest


async def test_an_unreadable_ledger_at_start_is_said_and_the_server_answers(
    workspace: Workspace,
) -> None:
    """20 KB of noise as the ledger: the server exited with code 2 before answering
    `initialize`, and an editor showed only "Client quit with exit code 2"."""
    ledger = Path(os.environ["BURNMETER_DATA_DIR"]) / "ledger.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    noise = os.urandom(20_000)
    ledger.write_bytes(noise)
    client = await start_client(workspace, "neovim")
    try:
        assert await wait_until(lambda: bool(client.messages))
        uri = workspace.uri(workspace.main_py)
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert not lenses
        sessions = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="burnmeter.sessions")
        )
        assert not sessions
        [shown] = client.messages
        assert shown.type == types.MessageType.Error
        text = " ".join(shown.message.split())
        assert f"The ledger at {ledger} is not a readable SQLite file" in text
        assert "left it untouched" in text and "burnmeter ingest" in text
    finally:
        await client.shutdown_session()
        await client.stop()
    assert client.error is None
    assert ledger.read_bytes() == noise
