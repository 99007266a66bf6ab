"""What an ingest reads: which found files are new, grown, rewritten in place, replaced or
gone, and the offset each is read from. A warm run with nothing new writes nothing."""

from __future__ import annotations

from shared.ingest.chunks import ChunkTask
from shared.ingest.reading import read_tail, tail_checksum
from shared.ledger import Ledger, begin_write, rollback_if_open
from shared.sources.roots import FoundFile, LogFile, LogRoot, find_log_files, ledger_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _bytes_before(path: str, offset: int, tail_hash: int | None) -> tuple[bool, int | None]:
    """Whether the file still has the bytes a stored offset ended (a newline, and the
    checksum stored with the offset when there is one), and the checksum of what is there
    now (None if unreadable). Anything else means it was rewritten in place (same inode,
    e.g. `cp` over it), even when the new text has a line end at the old offset or the
    old size."""
    try:
        tail = read_tail(path, offset)
    except OSError:
        return True, None  # the read itself reports the problem
    checksum = tail_checksum(tail)
    same = tail[-1:] == b"\n" and (tail_hash is None or checksum == tail_hash)
    return same, checksum


class _Plan:
    # A plain class, not a dataclass: building one costs a warm report's start-up ~0.5 ms.

    def __init__(self) -> None:
        self.tasks: list[ChunkTask] = []
        self.new_files: list[LogFile] = []
        self.restarts: list[tuple[int]] = []
        self.stats: list[tuple[int, int, int, int, int]] = []
        self.gone: list[tuple[str]] = []
        # (checksum, offset, id, offset) of files whose bytes before the offset are known
        # only now (an archive has no checksum).
        self.tails: list[tuple[int | None, int, int, int]] = []

    @property
    def writes(self) -> bool:
        return bool(self.new_files or self.restarts or self.stats or self.gone or self.tails)


def _known_sources(ledger: Ledger, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    """The stored rows of the files with these ledger keys."""
    known: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        for row in ledger.conn.execute(
            "SELECT path, id, device, inode, size, mtime_ns, offset, state, missing, tail_hash, "
            "tail_offset FROM sources "
            f"WHERE path IN ({','.join('?' * len(part))})",
            part,
        ):
            known[row[0]] = row[1:]
    return known


def _decide(ledger: Ledger, files: list[LogFile], present: set[str] | None = None) -> _Plan:
    """What `files` need: registering, reading again from the start, new stats, reading from
    their offset. With `present` (the keys of every file found), known files not in it are
    gone."""
    plan = _Plan()
    known = _known_sources(ledger, [log.key for log in files])
    for log in files:
        row = known.get(log.key)
        if row is None:
            plan.new_files.append(log)
            continue
        source_id, device, inode, size, mtime_ns, offset, state, missing, tail, tail_at = row
        tail_hash = tail if tail_at == offset else None  # taken at another offset: unknown
        replaced = (device, inode) != (log.device, log.inode) or log.size < offset
        stat_changed = (size, mtime_ns) != (log.size, log.mtime_ns)
        if log.compressed:
            replaced = replaced or stat_changed
            if not replaced and offset > 0 and tail_at != offset:
                # Read before v11: an archive is known by its stat alone, no checksum.
                plan.tails.append((None, offset, source_id, offset))
        elif (
            not replaced and offset > 0 and (offset < log.size or stat_changed or tail_hash is None)
        ):
            same, checksum = _bytes_before(log.path, offset, tail_hash)
            replaced = not same
            if same and tail_hash is None and checksum is not None and not stat_changed:
                # Unchanged since its bytes were read (a ledger from before v11, or an
                # older burnmeter moved the offset): the bytes there are the ones read.
                plan.tails.append((checksum, offset, source_id, offset))
        if replaced:
            # Read again from the start; dedupe keys keep what was already counted.
            offset, state = 0, None
            plan.restarts.append((source_id,))
        seen = (log.size, log.mtime_ns, log.device, log.inode)
        if missing or seen != (size, mtime_ns, device, inode):
            plan.stats.append((log.device, log.inode, log.size, log.mtime_ns, source_id))
        if offset < log.size:
            plan.tasks.append(
                ChunkTask(
                    source_id, log.agent, log.path, offset, state, log.compressed, size=log.size
                )
            )
    if present is not None:
        plan.gone = [
            (path,)
            for (path,) in ledger.conn.execute("SELECT path FROM sources WHERE missing = 0")
            if path not in present
        ]
    return plan


def plan_tasks(
    ledger: Ledger, files: list[LogFile], *, present: set[str] | None = None
) -> list[ChunkTask]:
    """Register files and decide where each needs reading from; unchanged files need nothing.

    With `present` (the keys of every file a full scan found), known files absent from it
    are flagged as gone (their history stays); a targeted ingest of a few files passes
    none. When nothing changed no write transaction is opened at all; otherwise the
    decision is made again inside it, since another burnmeter process may have registered
    the same files."""
    plan = _decide(ledger, files, present)
    if not plan.writes:
        return plan.tasks
    conn = ledger.conn
    begin_write(ledger)
    try:
        plan = _decide(ledger, files, present)
        for log in plan.new_files:
            cursor = conn.execute(
                "INSERT INTO sources (path, agent, device, inode, size, mtime_ns) "
                "VALUES (?,?,?,?,?,?)",
                (log.key, log.agent, log.device, log.inode, log.size, log.mtime_ns),
            )
            plan.tasks.append(
                ChunkTask(
                    int(cursor.lastrowid or 0),
                    log.agent,
                    log.path,
                    0,
                    None,
                    log.compressed,
                    size=log.size,
                )
            )
        conn.executemany(
            "UPDATE sources SET offset = 0, state = NULL, lines = 0, rejected_lines = 0, "
            "tail_hash = NULL, tail_offset = NULL WHERE id = ?",
            plan.restarts,
        )
        conn.executemany(
            "UPDATE sources SET device = ?, inode = ?, size = ?, mtime_ns = ?, missing = 0 "
            "WHERE id = ?",
            plan.stats,
        )
        conn.executemany("UPDATE sources SET missing = 1 WHERE path = ?", plan.gone)
        conn.executemany(
            "UPDATE sources SET tail_hash = ?, tail_offset = ? WHERE id = ? AND offset = ?",
            plan.tails,
        )
        conn.execute("COMMIT")
    except BaseException:
        rollback_if_open(conn)
        raise
    return plan.tasks


def mark_missing(ledger: Ledger, keys: list[str]) -> None:
    """Flag the files with these ledger keys as gone (their history stays), as a full scan
    flags the known files it no longer finds; the live engine passes the ones its watch
    saw go."""
    conn = ledger.conn
    begin_write(ledger)
    try:
        conn.executemany(
            "UPDATE sources SET missing = 1 WHERE path = ? AND missing = 0",
            [(key,) for key in keys],
        )
        conn.execute("COMMIT")
    except BaseException:
        rollback_if_open(conn)
        raise


def scan(
    ledger: Ledger, roots: list[LogRoot], unlisted: list[str]
) -> tuple[list[FoundFile], list[LogFile], bool]:
    """Every log file under the roots, those of them that changed, and whether every file
    the ledger knows as present was found (see `_changed_files`); folders that could not
    be listed go to `unlisted`. Runs inside `ingest`, with the cycle collector paused."""
    found = find_log_files(roots, unlisted)
    return (found, *_changed_files(ledger, found))


def _changed_files(ledger: Ledger, found: list[FoundFile]) -> tuple[list[LogFile], bool]:
    """The found files whose stat differs from what the ledger stored or that still have
    bytes to read (as `LogFile`s), and whether every file the ledger knows as present was
    found. A warm run with nothing new compares thousands of files here, so it reads only
    the columns the comparison needs and builds no object per unchanged file."""
    stored = {
        row[0]: row[1:]
        for row in ledger.conn.execute(
            "SELECT path, device, inode, size, mtime_ns, offset, "
            "offset = 0 OR tail_offset IS offset FROM sources WHERE missing = 0"
        )
    }
    changed: list[LogFile] = []
    unchanged = 0
    for agent, path, stat in found:
        size = stat.st_size
        # Read to its end (offset == size) with the same identity, size and time, and the
        # checksum of its last bytes known: nothing new.
        if stored.get(ledger_key(path)) == (
            stat.st_dev,
            stat.st_ino,
            size,
            stat.st_mtime_ns,
            size,
            1,
        ):
            unchanged += 1
        else:
            changed.append(LogFile.from_stat(agent, path, stat))
    return changed, unchanged == len(stored)
