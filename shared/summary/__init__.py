"""The weekly personal summary: one ISO week of agent cost in Markdown, HTML, JSON or CSV."""

from shared.summary.build import build_summary
from shared.summary.export import (
    FORMATS,
    auto_export_due,
    auto_export_target,
    export_summary,
    render,
    run_auto_export,
    weekly_markdown,
)
from shared.summary.weeks import IsoWeek, WeekError, last_complete_week, parse_week

__all__ = [
    "FORMATS",
    "IsoWeek",
    "WeekError",
    "auto_export_due",
    "auto_export_target",
    "build_summary",
    "export_summary",
    "last_complete_week",
    "parse_week",
    "render",
    "run_auto_export",
    "weekly_markdown",
]
