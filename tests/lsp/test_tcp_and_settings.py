"""TCP mode (loopback only, token required, several clients at once, token kept in the
keyring or a 0600 file) and settings validation, through real server processes."""

from __future__ import annotations

import contextlib
import json
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from tests.conftest import REPO_ROOT
from tests.lsp.conftest import Workspace, server_env, start_client, wait_until
from tests.lsp.rpc import Peer

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ipv6_port() -> int:
    """A free port on ::1; the test is skipped on a machine without an IPv6 loopback."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
            return int(probe.getsockname()[1])
    except OSError:
        pytest.skip("no IPv6 loopback here")


def print_token(env: dict[str, str]) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "shared", "lsp", "--print-token"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip(), done.stderr


@contextlib.contextmanager
def running_tcp_server(
    env: dict[str, str], address: str, stderr: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared", "lsp", "--tcp", address], env=env, stderr=err
        )
    try:
        deadline = time.monotonic() + 30
        while "listening" not in stderr.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, stderr.read_text()
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def tcp_server(workspace: Workspace, tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    env = server_env(workspace.root)
    env["BURNMETER_TEST_STDERR"] = str(tmp_path / "tcp-stderr.txt")
    with running_tcp_server(env, f"127.0.0.1:{port}", tmp_path / "tcp-stderr.txt"):
        yield port, env


def connect(port: int, host: str = "127.0.0.1") -> tuple[socket.socket, Peer]:
    sock = socket.create_connection((host, port), timeout=10)
    return sock, Peer(sock.fileno(), sock.fileno())


def initialize(peer: Peer, workspace: Workspace, options: object) -> dict[str, object]:
    return peer.request(
        "initialize",
        {
            "processId": None,
            "rootUri": workspace.uri(workspace.folder),
            "capabilities": {},
            "initializationOptions": options,
        },
    )


def test_tcp_requires_the_token_and_serves_several_clients(
    tcp_server: tuple[int, dict[str, str]], workspace: Workspace
) -> None:
    port, env = tcp_server
    token, stderr = print_token(env)
    assert len(token) >= 32
    # No keyring backend in tests (the fail backend): a 0600 file and a warning.
    token_file = Path(env["BURNMETER_DATA_DIR"]) / "lsp-token"
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "No OS keyring backend" in stderr

    lens_params = {"textDocument": {"uri": workspace.uri(workspace.main_py)}}
    intruder_sock, intruder = connect(port)
    with intruder_sock:
        refused = initialize(intruder, workspace, {"token": "wrong"})
        assert "error" in refused and "token" in refused["error"]["message"]
        assert refused["error"]["code"] == -32001  # JsonRpcUnauthorised
        denied = intruder.request("textDocument/codeLens", lens_params)
        assert "error" in denied and "result" not in denied
    # A token with non-ASCII characters gets the same answer (it was a TypeError in the
    # comparison, and no answer at all).
    odd_sock, odd = connect(port)
    with odd_sock:
        assert initialize(odd, workspace, {"token": "tökén"})["error"]["code"] == -32001

    first_sock, first = connect(port)
    second_sock, second = connect(port)
    with first_sock, second_sock:
        assert "result" in initialize(first, workspace, {"token": token})
        assert "result" in initialize(second, workspace, {"token": token})
        for peer in (first, second):
            peer.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            lens = peer.request("textDocument/codeLens", lens_params)
            assert "agent spend" in lens["result"][0]["command"]["title"]
        # One client leaving (shutdown + exit) leaves the others served.
        assert first.request("shutdown")["result"] is None
        first.send({"jsonrpc": "2.0", "method": "exit"})
        lens = second.request("textDocument/codeLens", lens_params)
        assert "agent spend" in lens["result"][0]["command"]["title"]
    # The refusal is a warning in the log, not a traceback at ERROR.
    log = Path(env["BURNMETER_TEST_STDERR"]).read_text()
    assert "rejected a client without the right token" in log
    assert "Traceback" not in log and " ERROR " not in log, log


def test_tcp_serves_a_bracketed_ipv6_loopback_address(workspace: Workspace, tmp_path: Path) -> None:
    port = free_ipv6_port()
    env = server_env(workspace.root)
    token, _ = print_token(env)
    with running_tcp_server(env, f"[::1]:{port}", tmp_path / "stderr.txt"):
        sock, peer = connect(port, "::1")
        with sock:
            assert "result" in initialize(peer, workspace, {"token": token})


def test_token_lives_in_the_keyring_when_there_is_one(workspace: Workspace) -> None:
    env = server_env(workspace.root)
    env["PYTHON_KEYRING_BACKEND"] = "tests.lsp.secure_keyring.TestKeyring"
    token, stderr = print_token(env)
    assert token and "(kept in keyring)" in stderr
    assert not (Path(env["BURNMETER_DATA_DIR"]) / "lsp-token").exists()
    stored = json.loads((workspace.root / "test-keyring.json").read_text())
    assert stored == {"burnmeter/lsp-tcp-token": token}
    assert print_token(env)[0] == token  # created once, then reused


@pytest.mark.parametrize(
    "backend", ["keyrings.alt.file.PlaintextKeyring", "keyring.backends.null.Keyring"]
)
def test_a_plain_text_keyring_is_no_keyring(workspace: Workspace, backend: str) -> None:
    # keyrings.alt (installed by the [dev] extra) keeps secrets in plain text in
    # ~/.local/share: no safer than the documented 0600 file, which says so.
    env = server_env(workspace.root)
    env["PYTHON_KEYRING_BACKEND"] = backend
    token, stderr = print_token(env)
    token_file = Path(env["BURNMETER_DATA_DIR"]) / "lsp-token"
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert f"(kept in {token_file})" in stderr
    assert "No OS keyring backend" in stderr
    assert not list(workspace.root.rglob("keyring_pass.cfg"))


def test_tcp_refuses_non_loopback_addresses(workspace: Workspace, tmp_path: Path) -> None:
    env = server_env(workspace.root)
    env["BURNMETER_DATA_DIR"] = str(tmp_path / "fresh-data")
    done = subprocess.run(
        [sys.executable, "-m", "shared", "lsp", "--tcp", "0.0.0.0:9"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "loopback" in done.stderr
    # Refused before the ledger is opened or the live engine started.
    assert not (tmp_path / "fresh-data" / "ledger.sqlite").exists()
    assert "live engine" not in done.stderr


def test_tcp_on_a_port_in_use_says_so(workspace: Workspace, tmp_path: Path) -> None:
    """A second `burnmeter lsp --tcp` on the same port ended in an OSError traceback."""
    env = server_env(workspace.root)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "shared", "lsp", "--tcp", f"127.0.0.1:{port}"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert (
        f"burnmeter: cannot listen on 127.0.0.1:{port}: address already in use; "
        "another burnmeter lsp --tcp may be running"
    ) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("port", ["99999", "65536", "0"])
def test_tcp_refuses_a_port_out_of_range(workspace: Workspace, tmp_path: Path, port: str) -> None:
    """`--tcp 127.0.0.1:99999` ended in an OverflowError traceback from asyncio."""
    env = server_env(workspace.root)
    env["BURNMETER_DATA_DIR"] = str(tmp_path / "fresh-data")
    done = subprocess.run(
        [sys.executable, "-m", "shared", "lsp", "--tcp", f"127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"--tcp needs a port from 1 to 65535, not {port}" in done.stderr
    assert "Traceback" not in done.stderr
    # Refused before the ledger is opened.
    assert not (tmp_path / "fresh-data" / "ledger.sqlite").exists()


@pytest.mark.parametrize("capabilities", ["visual-studio-code", "neovim"])
async def test_bad_settings_are_reported_and_defaults_used(
    workspace: Workspace, capabilities: str
) -> None:
    client = await start_client(
        workspace, capabilities, initialization_options={"codeLens": "sometimes", "colour": 1}
    )
    try:
        assert await wait_until(lambda: bool(client.messages))
        warning = client.messages[0]
        assert warning.type == types.MessageType.Warning
        assert "codeLens" in warning.message and "colour" in warning.message
        assert "using defaults" in warning.message
        params = types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py))
        )
        assert await client.text_document_code_lens_async(params)  # defaults: lens on

        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"burnmeter": {"codeLens": False}})
        )
        assert await wait_until(lambda: True)
        for _ in range(50):
            if not await client.text_document_code_lens_async(params):
                break
        assert not await client.text_document_code_lens_async(params)
    finally:
        await client.shutdown_session()
        await client.stop()


def test_demo_serves_the_bundled_history(workspace: Workspace) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shared", "lsp", "--demo"],
        env=server_env(workspace.root), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    peer = Peer(process.stdout.fileno(), process.stdin.fileno())
    try:
        folder = "file:///home/demo/src/payments-api"
        assert "result" in peer.request(
            "initialize", {"processId": None, "rootUri": folder, "capabilities": {}}
        )
        peer.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        sessions: list[object] = []
        for _ in range(100):  # the demo ledger is ingested in the background
            reply = peer.request(
                "workspace/executeCommand", {"command": "burnmeter.sessions", "arguments": []}
            )
            sessions = reply["result"]
            if sessions:
                break
            time.sleep(0.1)
        assert sessions
        assert peer.request("shutdown")["result"] is None
        peer.send({"jsonrpc": "2.0", "method": "exit"})
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def vscode_section(**changes: object) -> dict[str, object]:
    """What vscode-languageclient sends for `synchronize.configurationSection: "burnmeter"`:
    the whole section, the extension's own `path` included."""
    section: dict[str, object] = {
        "path": "burnmeter", "codeLens": True, "hover": True, "tierHints": True,
        "progress": False, "statusSessions": 10, "runningMinutes": 10,
    }  # fmt: skip
    section.update(changes)
    return {"burnmeter": section}


async def test_the_vscode_extensions_settings_section_is_accepted(workspace: Workspace) -> None:
    client = await start_client(workspace, "visual-studio-code")
    try:
        params = types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py))
        )
        assert await client.text_document_code_lens_async(params)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=vscode_section(codeLens=False))
        )
        # Notifications are handled in order: the request after it sees the new settings.
        assert not await client.text_document_code_lens_async(params)
        assert not client.messages, [m.message for m in client.messages]
    finally:
        await client.shutdown_session()
        await client.stop()


def test_the_vscode_settings_schema_agrees_with_the_server() -> None:
    import annotated_types

    from lsp_server.settings import NOT_SETTINGS, LspSettings

    package = json.loads((REPO_ROOT / "resources/editors/vscode/package.json").read_text())
    schema = package["contributes"]["configuration"]["properties"]
    fields = {field.alias or name: field for name, field in LspSettings.model_fields.items()}
    vscode_keys = {key.removeprefix("burnmeter.") for key in schema}
    assert vscode_keys - set(NOT_SETTINGS) == set(fields)
    for key, field in fields.items():
        prop = schema[f"burnmeter.{key}"]
        assert prop["type"] == {bool: "boolean", int: "integer"}[field.annotation], key
        ge = [m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)]
        le = [m.le for m in field.metadata if isinstance(m, annotated_types.Le)]
        bounds = {"minimum": ge[0] if ge else None, "maximum": le[0] if le else None}
        for bound, value in bounds.items():
            assert prop.get(bound) == value, (key, bound)


@pytest.mark.parametrize("capabilities", ["visual-studio-code", "neovim"])
async def test_a_configuration_change_updates_only_the_keys_it_gives(
    workspace: Workspace, capabilities: str
) -> None:
    client = await start_client(
        workspace, capabilities, initialization_options={"codeLens": False, "hover": True}
    )
    lens_params = types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py))
    )
    hover_params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=workspace.uri(workspace.main_py)),
        position=types.Position(line=0, character=0),
    )

    def change(settings: object) -> None:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings)
        )

    try:
        assert not await client.text_document_code_lens_async(lens_params)
        # What eglot and Neovim send on connect, and other empty sections: no change.
        for empty in ({}, None, {"burnmeter": {}}, {"burnmeter": None}):
            change(empty)
            # Notifications are handled in order: the request after one sees its effect.
            assert not await client.text_document_code_lens_async(lens_params), empty
        assert await client.text_document_hover_async(hover_params)
        # A partial change: hover off, the code lens still off.
        change({"burnmeter": {"hover": False}})
        assert await client.text_document_hover_async(hover_params) is None
        assert not await client.text_document_code_lens_async(lens_params)
        # A bad key is reported and keeps its value; the good ones apply.
        change({"codeLens": True, "statusSessions": 500})
        assert await client.text_document_code_lens_async(lens_params)
        assert await client.text_document_hover_async(hover_params) is None
        assert await wait_until(lambda: bool(client.messages))
        assert [m.message for m in client.messages] == [
            "Invalid burnmeter settings (statusSessions: Input should be less than or equal "
            "to 200); keeping the current values for those."
        ]
    finally:
        await client.shutdown_session()
        await client.stop()


def test_clients_that_leave_without_reading_are_no_server_errors(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A client that sends requests and closes without reading the answers (a wrong token,
    whose refusals the guards write at once): each logged an ERROR with a BrokenPipeError
    traceback. And SIGTERM with a client still connected logged its cancelled connection as
    an ERROR with a traceback (Python 3.11's stream server)."""
    from tests.lsp.rpc import message

    port = free_port()
    env = server_env(workspace.root)
    token, _ = print_token(env)
    stderr = tmp_path / "stderr.txt"
    with running_tcp_server(env, f"127.0.0.1:{port}", stderr) as process:
        for _ in range(10):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                init = {
                    "jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"processId": None, "capabilities": {},
                               "initializationOptions": {"token": "wrong"}},
                }  # fmt: skip
                commands = [
                    {"jsonrpc": "2.0", "id": 2 + n, "method": "workspace/executeCommand",
                     "params": {"command": "burnmeter.sessions"}}
                    for n in range(20)
                ]  # fmt: skip
                sock.sendall(b"".join(message(m) for m in [init, *commands]))
            time.sleep(0.05)
        sock, peer = connect(port)
        with sock:
            assert "result" in initialize(peer, workspace, {"token": token})
            process.terminate()
            assert process.wait(10) == 0
    log = stderr.read_text()
    assert "rejected a client without the right token" in log
    assert "Traceback" not in log and " ERROR " not in log, log
