"""Writing a file so that a reader never sees half of it: config.toml (`save_settings`),
a summary export and the launcher entries (`shared.desktop`) all go through
`write_atomically`, so a crash or a full disk mid-write leaves the old file or the new
one, never part of either."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path


class ReadOnlyFileError(PermissionError):
    """The file is there and made read-only: it is left as it is, not replaced. Its
    `strerror` follows the path written to ("Could not save to PATH: the file is
    read-only"); its text stands alone and names the file."""

    def __str__(self) -> str:
        return f"{self.filename} is read-only; not saved"


def write_atomically(path: Path, data: bytes) -> None:
    """`data` into `path` through a new file beside it, synced, then one rename over it.

    A symlink is followed: the link stays, its target gets the data (its folder is made
    if it is missing, as `path`'s own is). An existing file keeps its permission bits; a
    new one gets 0666 less the umask, as `open` gives. Anything that is not a regular file
    (a FIFO, `/dev/stdout`, a shell's `>(…)`) is written into as it is, never replaced.
    A read-only file raises ReadOnlyFileError: the rename would replace it (the folder
    being writable is enough), where writing into it would be refused. Raises OSError."""
    try:
        info: os.stat_result | None = path.stat()
    except FileNotFoundError:
        info = None
    real = Path(os.path.realpath(path))
    if info is not None and (
        not stat.S_ISREG(info.st_mode) or real.parts[1:2] in (("dev",), ("proc",))
    ):
        with open(path, "wb") as handle:
            handle.write(data)
        return
    if info is not None and _read_only(real, info):
        links = real != Path(os.path.abspath(path))
        reason = f"the file it links to, {real}, is read-only" if links else "the file is read-only"
        raise ReadOnlyFileError(errno.EACCES, reason, str(real))
    real.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = _new_file_beside(real)
    try:
        with os.fdopen(fd, "wb") as handle:
            if info is not None:
                _keep_mode(handle.fileno(), temporary, stat.S_IMODE(info.st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, real)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(real.parent)


def _read_only(path: Path, info: os.stat_result) -> bool:
    """No one may write it (root may, but the user said not to) or this user may not."""
    return not info.st_mode & 0o222 or not os.access(path, os.W_OK)


def _keep_mode(fd: int, path: Path, mode: int) -> None:
    # os.fchmod exists on Windows only from Python 3.13.
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(path, mode)


def _new_file_beside(path: Path) -> tuple[int, Path]:
    """A new, empty file next to `path` (so the rename stays on one file system), made
    with 0666 so the umask decides (mkstemp would make it 0600). In binary mode: on
    Windows a descriptor is in text mode unless asked, and would write each LF as CRLF."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def _sync_folder(folder: Path) -> None:
    """The rename itself to disk (POSIX; Windows cannot open a folder, and needs not)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
