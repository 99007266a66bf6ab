"""A rich progress bar for long ingests, shown only on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.ingest import IngestSummary, ingest

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
        TextColumn("[bold]Reading agent logs"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None)

        def update(done: int, total: int, path: str) -> None:
            progress.update(task, completed=done, total=total)

        return ingest(context.ledger, context.roots, prices=context.price_book, progress=update)
