"""A rich progress bar for long ingests, shown only on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.ingest import FINISHING_LEDGER, WAITING_FOR_INGEST, IngestSummary, ingest

if TYPE_CHECKING:
    from shared.commands.context import CommandContext


def progress_columns() -> list[Any]:
    """The bar's columns: what it is doing, the bar, and (unless it waits for another
    process) bytes read, speed and time left."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.text import Text

    class UnlessWaiting(ProgressColumn):
        """A byte count, speed or time left, left out while the task waits for another
        process: `0/? bytes ?` said nothing, and on an 80-column terminal pushed `bytes`
        onto a line of its own."""

        def __init__(self, column: ProgressColumn) -> None:
            super().__init__()
            self.column = column

        def render(self, task: Task) -> Text:
            if task.fields.get("waiting"):
                return Text("")
            shown = self.column.render(task)
            return shown if isinstance(shown, Text) else Text(str(shown))

    return [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        UnlessWaiting(DownloadColumn()),
        UnlessWaiting(TransferSpeedColumn()),
        UnlessWaiting(TimeRemainingColumn()),
    ]


def ingest_with_progress(context: CommandContext) -> IngestSummary:
    from rich.progress import Progress

    with Progress(*progress_columns(), transient=True) as progress:
        # Until the first update the files are being found and compared with the ledger.
        task = progress.add_task("Looking for new log lines", total=None)

        def update(done: int, total: int, path: str) -> None:
            if path == WAITING_FOR_INGEST:
                description = "Waiting for another burnmeter process to finish reading the logs"
                progress.update(
                    task, completed=0, total=None, description=description, waiting=True
                )
                return
            description = (
                "Building the ledger's indexes and totals"
                if path == FINISHING_LEDGER
                else "Reading agent logs"
            )
            progress.update(
                task, completed=done, total=total, description=description, waiting=False
            )

        return ingest(context.ledger, context.roots, prices=context.price_book, progress=update)
