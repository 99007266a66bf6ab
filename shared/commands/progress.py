"""A rich progress bar for long ingests, shown only on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.ingest import FINISHING_LEDGER, WAITING_FOR_INGEST, IngestSummary, ingest

if TYPE_CHECKING:
    from shared.commands.context import CommandContext


def ingest_with_progress(context: CommandContext) -> IngestSummary:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        # Until the first update the files are being found and compared with the ledger.
        task = progress.add_task("Looking for new log lines", total=None)

        def update(done: int, total: int, path: str) -> None:
            if path == WAITING_FOR_INGEST:
                description = "Waiting for another burnmeter process to finish reading the logs"
                progress.update(task, completed=0, total=None, description=description)
                return
            description = (
                "Building the ledger's indexes and totals"
                if path == FINISHING_LEDGER
                else "Reading agent logs"
            )
            progress.update(task, completed=done, total=total, description=description)

        return ingest(context.ledger, context.roots, prices=context.price_book, progress=update)
