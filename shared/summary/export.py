"""The summary in each format, and the calls the front ends make: the language server's
`burnmeter.weeklySummary` (`weekly_markdown`), the tray's "Export weekly summary…"
(`export_summary`) and its optional Monday export (`auto_export_due`, `run_auto_export`)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson

from shared.config import Settings
from shared.ledger import Ledger
from shared.reports import TOKEN_FIELDS
from shared.summary.build import build_summary
from shared.summary.markdown import render_markdown
from shared.summary.weeks import IsoWeek, last_complete_week
from shared.timezones import resolve_zone

Format = Literal["md", "html", "json", "csv"]
FORMATS: tuple[Format, ...] = ("md", "html", "json", "csv")
SUFFIXES: dict[str, str] = {"md": ".md", "html": ".html", "json": ".json", "csv": ".csv"}
CSV_COLUMNS = [
    "date",
    "agent",
    "model",
    *TOKEN_FIELDS,
    "cost_usd",
    "unpriced_calls",  # calls with no known price: their cost is not in cost_usd
    "calls",
]


def render_csv(summary: dict[str, Any]) -> str:
    """One row per local day × agent × model that had calls."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in summary["usage"]:
        writer.writerow(
            [
                f"{row[c]:.6f}"
                if c == "cost_usd"
                else row.get(c, 0 if c == "unpriced_calls" else "")
                for c in CSV_COLUMNS
            ]
        )
    return buffer.getvalue()


def render_json(summary: dict[str, Any]) -> str:
    return orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n"


def render(summary: dict[str, Any], fmt: Format) -> str:
    if fmt == "md":
        return render_markdown(summary)
    if fmt == "json":
        return render_json(summary)
    if fmt == "csv":
        return render_csv(summary)
    from shared.summary.html import render_html

    return render_html(summary)


def weekly_markdown(
    ledger: Ledger,
    settings: Settings,
    week: IsoWeek | None = None,
    tz: ZoneInfo | None = None,
    *,
    redact: bool = False,
) -> str:
    """The Markdown summary of `week` (default: the last complete week), for the editor."""
    return render_markdown(build_summary(ledger, settings, week, tz, redact=redact))


def default_filename(week: IsoWeek, fmt: Format) -> str:
    return f"burnmeter-{week.label}{SUFFIXES[fmt]}"


def write_atomically(path: Path, text: str) -> None:
    """`text` into `path` as UTF-8 so that a reader never sees half a file
    (`shared.atomic_file.write_atomically`: beside the target, then renamed over it; a
    symlink followed, the mode kept, a FIFO or `/dev/stdout` written into as it is)."""
    from shared.atomic_file import write_atomically as write_bytes

    write_bytes(path, text.encode("utf-8"))


def export_summary(
    ledger: Ledger,
    settings: Settings,
    week: IsoWeek | None,
    tz: ZoneInfo | None,
    fmt: Format,
    path: Path,
    *,
    redact: bool = False,
    now: datetime | None = None,
) -> Path:
    """Write the summary of `week` in `fmt` to `path` (a folder gets the default name)."""
    summary = build_summary(ledger, settings, week, tz, redact=redact, now=now)
    if path.is_dir():
        path = path / f"burnmeter-{summary['week']}{SUFFIXES[fmt]}"
    write_atomically(path, render(summary, fmt))
    return path


def auto_export_target(settings: Settings, now: datetime | None = None) -> Path | None:
    """Where the automatic export of the last complete week goes, or None when it is off."""
    folder = settings.summary.auto_export_dir
    if not folder:
        return None
    zone = resolve_zone(settings.timezone)
    week = last_complete_week(now or datetime.now(UTC), zone)
    return Path(folder).expanduser() / default_filename(week, settings.summary.auto_export_format)


def auto_export_due(settings: Settings, now: datetime | None = None) -> bool:
    """True when automatic export is on and last week's file is not in the folder yet.

    The file itself is the record: a machine that was off on Monday exports on the next
    check, and deleting the file asks for a fresh one.
    """
    target = auto_export_target(settings, now)
    return target is not None and not target.exists()


def run_auto_export(ledger: Ledger, settings: Settings, now: datetime | None = None) -> Path | None:
    """Export last week into the chosen folder if due; the written path, or None.

    Builds the summary in this process (git is asked for outcomes, a second or so on a
    large ledger): call it from a worker thread. An unwritable folder raises OSError."""
    if not auto_export_due(settings, now):
        return None
    now = now or datetime.now(UTC)
    zone = resolve_zone(settings.timezone)
    target = auto_export_target(settings, now)
    assert target is not None
    return export_summary(
        ledger,
        settings,
        last_complete_week(now, zone),
        zone,
        settings.summary.auto_export_format,
        target,
        redact=settings.summary.redact,
        now=now,
    )
