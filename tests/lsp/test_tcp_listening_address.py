"""`burnmeter lsp --tcp` says where it listens as the address is written for `--tcp`:
`[::1]:7312` was printed `('::1', 7312, 0, 0)`, `127.0.0.1:7312` `('127.0.0.1', 7312)`."""

from __future__ import annotations

from pathlib import Path

from tests.lsp.conftest import Workspace, server_env
from tests.lsp.test_tcp_and_settings import free_ipv6_port, free_port, running_tcp_server


def listening_line(stderr: Path) -> str:
    return next(line for line in stderr.read_text().splitlines() if "listening" in line)


def test_an_ipv4_address_is_printed_host_colon_port(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    stderr = tmp_path / "stderr.txt"
    with running_tcp_server(server_env(workspace.root), f"127.0.0.1:{port}", stderr):
        assert listening_line(stderr) == f"burnmeter lsp: listening on 127.0.0.1:{port}"


def test_an_ipv6_address_is_printed_in_brackets(workspace: Workspace, tmp_path: Path) -> None:
    port = free_ipv6_port()
    stderr = tmp_path / "stderr.txt"
    with running_tcp_server(server_env(workspace.root), f"[::1]:{port}", stderr):
        assert listening_line(stderr) == f"burnmeter lsp: listening on [::1]:{port}"
    assert f"serving LSP on [::1]:{port} " in stderr.read_text()


def test_address_text() -> None:
    from lsp_server.main import address_text

    assert address_text("127.0.0.1", 7007) == "127.0.0.1:7007"
    assert address_text("::1", 7007) == "[::1]:7007"
    assert address_text("localhost", 1) == "localhost:1"
