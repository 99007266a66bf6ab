"""Settings at the top level and under a `burnmeter` key at once: both are read (the
`burnmeter` key's values win where both name a setting) and bad values in either are
reported. The top level was ignored whenever a `burnmeter` key was there:
`{"statusSessions": 1, "burnmeter": {"hover": true}}` listed 10 sessions, and
`{"statusSessions": 999, "burnmeter": {...}}` was not reported."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types

from lsp_server.settings import parse_settings
from tests.lsp.conftest import Workspace, start_client, wait_until

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


@pytest.mark.parametrize(
    ("raw", "expected", "problem"),
    [
        ({"statusSessions": 1, "burnmeter": {"hover": False}},
         {"status_sessions": 1, "hover": False}, None),
        ({"statusSessions": 3, "burnmeter": {"statusSessions": 4}}, {"status_sessions": 4}, None),
        ({"code_lens": False, "burnmeter": {}}, {"code_lens": False}, None),
        # Next to a `burnmeter` key, other servers' sections are left alone.
        ({"pylsp": {"x": 1}, "burnmeter": {"tierHints": False}}, {"tier_hints": False}, None),
        ({"statusSessions": 999, "burnmeter": {"hover": False}},
         {"status_sessions": 10, "hover": False},
         "Invalid burnmeter settings (statusSessions: Input should be less than or equal to "
         "200); using defaults for those."),
        ({"hover": "x", "burnmeter": {"runningMinutes": 0, "colour": 1}},
         {"hover": True, "running_minutes": 10},
         "Invalid burnmeter settings (hover: Input should be a valid boolean; "
         "burnmeter.runningMinutes: Input should be greater than or equal to 1; "
         "burnmeter.colour: Extra inputs are not permitted); using defaults for those."),
        # A bad value on one level is reported even when the other level's value wins,
        # and the message says which is used (it said "using defaults").
        ({"statusSessions": -1, "burnmeter": {"statusSessions": 5}}, {"status_sessions": 5},
         "Invalid burnmeter settings (statusSessions: Input should be greater than or equal "
         "to 0); the other level's value is used for statusSessions."),
        ({"statusSessions": 3, "hover": 2, "burnmeter": {"statusSessions": 999}},
         {"status_sessions": 3, "hover": True},
         "Invalid burnmeter settings (hover: Input should be a valid boolean; "
         "burnmeter.statusSessions: Input should be less than or equal to 200); the other "
         "level's value is used for statusSessions, using defaults for the rest."),
        ({"burnmeter": 5, "hover": False}, {"hover": False},
         "Invalid burnmeter settings (burnmeter: must be an object, got int); using defaults "
         "for those."),
        ({"burnmeter": None, "statusSessions": 2, "token": "t"}, {"status_sessions": 2}, None),
        # Without a `burnmeter` key, another server's section is left alone too (it was
        # "Invalid burnmeter settings (pyright: Extra inputs are not permitted)"); a plain
        # unknown key is still a typo to report.
        ({"pyright": {"typeCheckingMode": "strict"}, "hover": False}, {"hover": False}, None),
        ({"hovr": False}, {"hover": True},
         "Invalid burnmeter settings (hovr: Extra inputs are not permitted); using defaults "
         "for those."),
    ],
)  # fmt: skip
def test_both_levels_are_read(raw: Any, expected: dict[str, Any], problem: str | None) -> None:
    settings, message = parse_settings(raw)
    assert message == problem
    for name, value in expected.items():
        assert getattr(settings, name) == value, name


async def test_initialization_options_with_both_levels(workspace: Workspace) -> None:
    client = await start_client(
        workspace,
        "neovim",
        initialization_options={"statusSessions": 1, "burnmeter": {"hover": True}},
    )
    try:
        assert await wait_until(lambda: any(s["sessions"] for s in workspace.statuses))
        # The workspace has two sessions; the top-level setting keeps one.
        assert all(len(s["sessions"]) <= 1 for s in workspace.statuses), workspace.statuses
        assert not client.messages, [m.message for m in client.messages]
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_bad_top_level_value_next_to_a_burnmeter_key_is_reported(
    workspace: Workspace,
) -> None:
    client = await start_client(
        workspace,
        "visual-studio-code",
        initialization_options={"statusSessions": 999, "burnmeter": {"hover": True}},
    )
    try:
        assert await wait_until(lambda: bool(client.messages))
        assert client.messages[0].type == types.MessageType.Warning
        assert client.messages[0].message.startswith(
            "Invalid burnmeter settings (statusSessions: Input should be less than"
        )
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_configuration_change_with_both_levels(workspace: Workspace) -> None:
    client = await start_client(workspace, "neovim")
    lens = types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py))
    )
    hover = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py)),
        position=types.Position(line=0, character=0),
    )

    def change(settings: object) -> None:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings)
        )

    try:
        change({"codeLens": False, "burnmeter": {"hover": False}})
        # Notifications are handled in order: the request after one sees its effect.
        assert not await client.text_document_code_lens_async(lens)
        assert await client.text_document_hover_async(hover) is None
        # The `burnmeter` key wins.
        change({"codeLens": False, "burnmeter": {"codeLens": True}})
        assert await client.text_document_code_lens_async(lens)
        assert not client.messages
        change({"statusSessions": 500, "burnmeter": {"hover": True}})
        assert await client.text_document_hover_async(hover) is not None
        assert await wait_until(lambda: bool(client.messages))
        assert [m.message for m in client.messages] == [
            "Invalid burnmeter settings (statusSessions: Input should be less than or equal "
            "to 200); keeping the current values for those."
        ]
    finally:
        await client.shutdown_session()
        await client.stop()
