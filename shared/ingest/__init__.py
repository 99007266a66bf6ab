"""Incremental ingest: new complete lines of every log file into the ledger, exactly once.

Each file's byte offset (with device, inode, size and the Codex parser state) moves in
the same transaction as the model calls read from those bytes, so killing an ingest at
any moment and running it again gives the totals of an uninterrupted run. Only complete
lines are consumed; a half-written last line waits for its newline. A file that shrank
or was replaced is read again from the start; dedupe keys keep totals right.

How it stays fast on a big history: files are parsed in worker processes (one per core)
in groups of small files, each worker turns what it read into plain row tuples (cheap to
send back, already deduplicated), and the writer commits many files' rows and offsets in
one transaction instead of one per file.

The parts, in the order a run meets them: `planning` (what to read, from where),
`reading` and `parsing` (bytes to rows), `pool` (on every core), `writer` (rows to the
ledger), `bulk_load` (a first import), `run` (`ingest` itself, which ties them together).
"""

from shared.ingest.run import (
    FINISHING_LEDGER,
    INGEST_LOCK_FILENAME,
    WAITING_FOR_INGEST,
    FirstImportInterrupted,
    IngestCancelled,
    IngestSummary,
    ProgressCallback,
    ingest,
    ingest_lock,
)

__all__ = [
    "FINISHING_LEDGER",
    "INGEST_LOCK_FILENAME",
    "WAITING_FOR_INGEST",
    "FirstImportInterrupted",
    "IngestCancelled",
    "IngestSummary",
    "ProgressCallback",
    "ingest",
    "ingest_lock",
]
