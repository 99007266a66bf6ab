"""What the watch's events about files and folders that came or went need, without walking
every root: the log files to read and the ledger keys of those gone, exactly as a full scan
would decide them, or None where only a full scan is sure to be (the live engine then runs
one). A full scan of a 16,000-file history costs ~0.2-0.6 CPU s; a new session's file made
its first line wait for one."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from shared.ledger import Ledger
from shared.sources.roots import LogFile, LogRoot, find_log_files, ledger_key


def location(path: str) -> str:
    """`path` with its folder's links resolved but not its own name: where a file or folder
    that may be gone (or be a link) was. Ledger keys are real paths, and watch events carry
    the path of the watch they came through."""
    folder, name = os.path.split(path)
    return os.path.join(os.path.realpath(folder), name)


def path_of_key(key: str) -> str | None:
    """The path a ledger key stands for, None when it cannot be told (a name that is not
    UTF-8 is stored with its bytes as `\\xNN`; see `ledger_key`)."""
    return key if "\\x" not in key or os.name == "nt" else None


def at_or_under(path: str, base: str) -> bool:
    """Whether `path` is `base` or lies inside it."""
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def keys_gone(ledger: Ledger, path: str) -> set[str] | None:
    """The keys of the files the ledger holds as present at `path` or under it (a deleted
    folder) that are no longer there. None if one of them cannot be looked for."""
    key = ledger_key(location(path))
    inside = key.rstrip(os.sep) + os.sep
    past = inside[:-1] + chr(ord(os.sep) + 1)  # every key under the folder sorts before
    gone: set[str] = set()
    for (known,) in ledger.conn.execute(
        "SELECT path FROM sources WHERE missing = 0 AND (path = ? OR (path >= ? AND path < ?))",
        (key, inside, past),
    ):
        known_path = path_of_key(known)
        if known_path is None:
            return None
        if not os.path.lexists(known_path):
            gone.add(known)
    return gone


def known_keys(ledger: Ledger, keys: list[str], *, present_only: bool = False) -> set[str]:
    """Which of these keys the ledger knows (present or gone; `present_only`: present)."""
    only = "missing = 0 AND " if present_only else ""
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        known.update(
            row[0]
            for row in ledger.conn.execute(
                f"SELECT path FROM sources WHERE {only}path IN ({','.join('?' * len(part))})",
                part,
            )
        )
    return known


def same_files_elsewhere(ledger: Ledger, files: list[LogFile], gone: set[str]) -> set[str] | None:
    """A full scan counts a file once however many paths lead to it (by device and inode).
    For files new to the ledger whose identity a present file under another path has: that
    path's key when the path is gone (a file moved or renamed: it is marked gone, the new
    path read from the start, and dedupe keys keep the totals), None when it is still there
    (a hard link) or two of `files` are one file: a full scan decides."""
    identities: dict[tuple[int, int], str] = {}
    for log in files:
        if identities.setdefault((log.device, log.inode), log.key) != log.key:
            return None
    present = known_keys(ledger, [log.key for log in files], present_only=True)
    new = [log for log in files if log.key not in present]
    moved: set[str] = set()
    for start in range(0, len(new), 500):
        inodes = [log.inode for log in new[start : start + 500]]
        for known, device, inode in ledger.conn.execute(
            "SELECT path, device, inode FROM sources WHERE missing = 0 "
            f"AND inode IN ({','.join('?' * len(inodes))})",
            inodes,
        ):
            key = identities.get((device, inode))
            if key is None or known == key or known in gone:
                continue
            known_path = path_of_key(known)
            if known_path is None or os.path.lexists(known_path):
                return None
            moved.add(known)
    return moved


def files_in_folder(root: LogRoot, folder: str) -> list[LogFile]:
    """The log files in a folder that appeared under `root`, with whatever it already
    holds (moved in, or written before the watch on it began)."""
    return [
        LogFile.from_stat(agent, path, stat)
        for agent, path, stat in find_log_files([LogRoot(root.agent, Path(folder))])
    ]


def unique(files: Iterable[LogFile]) -> list[LogFile]:
    """One `LogFile` per ledger key (the planner registers each file it is given)."""
    return list({log.key: log for log in files}.values())


# File systems whose changes made elsewhere (another machine, the host of a virtual one) a
# watch here does not see: the rescan is all that finds them.
_REMOTE_FILE_SYSTEMS = (
    "nfs",
    "cifs",
    "smb",
    "9p",
    "afs",
    "ceph",
    "gluster",
    "lustre",
    "gpfs",
    "davfs",
    "fuse",
    "virtiofs",
    "vboxsf",
    "vmhgfs",
    "prl_fs",
    "drvfs",
)


def on_local_disk(path: str, mountinfo: str = "/proc/self/mountinfo") -> bool:
    """Whether `path` lies on a local file system (Linux's mount table says which; False
    where it cannot be told)."""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as table:
            lines = table.readlines()
    except OSError:
        return False
    real = os.path.realpath(path)
    best, fs_type = "", ""
    for line in lines:
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])
        if at_or_under(real, point) and len(point) >= len(best):
            best, fs_type = point, fields[fields.index("-", 6) + 1]
    return bool(fs_type) and not fs_type.startswith(_REMOTE_FILE_SYSTEMS)
