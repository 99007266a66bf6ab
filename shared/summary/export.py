"""The summary in each format, and the calls the front ends make: the language server's
`burnmeter.weeklySummary` (`weekly_markdown`), the tray's "Export weekly summary…"
(`export_summary`) and its optional Monday export (`auto_export_due`, `run_auto_export`)."""

from __future__ import annotations

import csv
import io
import os
import secrets
import stat
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
    """Write `text` to `path` so that a reader never sees half a file: beside the target,
    then renamed over it. A symlink is followed (the link stays; its target gets the text);
    anything that is not a regular file (a FIFO, `/dev/stdout`, a shell's `>(…)`) is
    written into as it is, never replaced; an existing file keeps its permissions, a new
    one gets the usual ones (0666 less the umask)."""
    try:
        info: os.stat_result | None = path.stat()
    except FileNotFoundError:
        info = None
    real = Path(os.path.realpath(path))
    if info is not None and (
        not stat.S_ISREG(info.st_mode) or real.parts[1:2] in (("dev",), ("proc",))
    ):
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return
    real.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _new_file_beside(real)
    try:
        if info is not None:
            # os.fchmod exists on Windows only from Python 3.13.
            if hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(info.st_mode))
            else:
                os.chmod(temp, stat.S_IMODE(info.st_mode))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temp, real)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _new_file_beside(path: Path) -> tuple[int, Path]:
    """A new, empty file next to `path`, created with 0666 so the umask decides (mkstemp
    would make it 0600)."""
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temp
        except FileExistsError:
            continue


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
