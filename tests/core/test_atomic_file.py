"""One way of putting a file in place (`shared.atomic_file.write_atomically`) for the three
things burnmeter writes: config.toml, a summary export and the launcher entries. There
were three copies that had drifted apart: the config's did not make a missing folder (a
config.toml linked into a dotfiles folder not made yet could not be saved), the export's
did not sync the file before the rename (a full disk or a crash could leave an empty
export in place of the old one), the launcher's replaced a link with a file and gave an
existing entry the umask's mode."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from shared import desktop
from shared.atomic_file import write_atomically
from shared.config import Settings, load_settings, save_settings
from shared.summary import export

Writer = Callable[[Path, str], None]


def _export(path: Path, text: str) -> None:
    export.write_atomically(path, text)


def _launcher(path: Path, text: str) -> None:
    desktop._write_atomically(path, text.encode())


def _bytes(path: Path, text: str) -> None:
    write_atomically(path, text.encode())


WRITERS = pytest.mark.parametrize("write", [_bytes, _export, _launcher])


@WRITERS
def test_a_link_into_a_folder_not_made_yet_is_followed_and_the_folder_made(
    isolated_home: Path, write: Writer
) -> None:
    target = isolated_home / "dotfiles" / "sub" / "burnmeter.txt"
    link = isolated_home / "linked.txt"
    link.symlink_to(target)
    write(link, "new\n")
    assert link.is_symlink() and link.readlink() == target
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["burnmeter.txt"]


@WRITERS
def test_a_link_stays_a_link_and_the_file_keeps_its_mode(
    isolated_home: Path, write: Writer
) -> None:
    target = isolated_home / "dotfiles" / "burnmeter.txt"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o750)
    link = isolated_home / "linked.txt"
    link.symlink_to(target)
    write(link, "new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


@WRITERS
def test_a_new_file_and_its_folders_get_the_usual_mode(isolated_home: Path, write: Writer) -> None:
    path = isolated_home / "a" / "b" / "new.txt"
    old = os.umask(0o027)
    try:
        write(path, "text\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_bytes() == b"text\n"


@WRITERS
def test_a_full_disk_at_the_sync_leaves_the_old_file_and_no_stray_one(
    isolated_home: Path, write: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolated_home / "out" / "file.txt"
    path.parent.mkdir()
    path.write_text("old\n")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises((OSError, desktop.DesktopIntegrationError), match="No space left"):
        write(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in path.parent.iterdir()] == ["file.txt"]


def test_a_fifo_is_written_into_not_replaced(isolated_home: Path) -> None:
    fifo = isolated_home / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomically(fifo, b"through the pipe\n")
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_settings_save_through_a_link_into_a_folder_not_made_yet(isolated_home: Path) -> None:
    """config.toml linked to a dotfiles file whose folder is not there yet: saving ended in
    FileNotFoundError on `.../sub/.missing.toml.<hex>.tmp`."""
    path = isolated_home / "burnmeter-config" / "config.toml"
    path.parent.mkdir()
    target = isolated_home / "dotfiles" / "sub" / "missing.toml"
    path.symlink_to(target)
    save_settings(Settings(meter_mode="session"), path)
    assert path.is_symlink()
    assert target.read_text(encoding="utf-8") == 'meter_mode = "session"\n'
    assert load_settings(path).settings.meter_mode == "session"


@WRITERS
def test_a_read_only_file_is_refused_not_replaced(isolated_home: Path, write: Writer) -> None:
    """The rename replaced a file made read-only (the folder being writable is enough):
    `chmod 0444` no longer kept anything from being written over."""
    path = isolated_home / "kept.txt"
    path.write_text("old\n")
    path.chmod(0o444)
    with pytest.raises(
        (PermissionError, desktop.DesktopIntegrationError),
        match=f"^({path} is read-only; not saved|could not write {path}: the file is read-only)$",
    ):
        write(path, "new\n")
    assert path.read_text() == "old\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert [p.name for p in isolated_home.iterdir() if p.name.startswith(".kept")] == []
