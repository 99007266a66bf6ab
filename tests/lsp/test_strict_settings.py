"""Settings of the wrong type are reported and keep their default, as out-of-range ones
are: pydantic's lax mode took `"1"` for 1, `1` for true, `"yes"` for true and `5.0` for 5
without a word, where the README promises that invalid settings are reported."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


async def test_settings_of_the_wrong_type_are_reported_and_keep_their_default(
    workspace: Workspace,
) -> None:
    options = {"statusSessions": "1", "hover": 1, "codeLens": "yes", "runningMinutes": 5.0}
    client = await start_client(workspace, "neovim", initialization_options=options)
    try:
        assert await wait_until(lambda: bool(client.messages) and bool(workspace.statuses))
        [shown] = client.messages
        assert shown.type == types.MessageType.Warning
        for name in options:
            assert f"{name}: " in shown.message, shown.message
        assert "using defaults for those" in shown.message
        # statusSessions kept its default (10): both workspace sessions are listed, not 1.
        assert len(workspace.statuses[-1]["sessions"]) == 2
    finally:
        await client.shutdown_session()
        await client.stop()
