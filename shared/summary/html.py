"""The weekly summary as one self-contained HTML file: inline CSS and SVG charts, no
scripts, no network (a Content-Security-Policy says so), light and dark colours from
`prefers-color-scheme`, a layout for phones, and a print stylesheet."""

from __future__ import annotations

import re
from html import escape
from string import Template
from typing import Any

from shared.summary import charts
from shared.summary.formatting import logged_parts, short_model
from shared.summary.sections import Section, Table, footer, headline, sections

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# The widest screen whose card is narrower than a wide chart's minimum: that minimum plus
# the side paddings of <main> (24px) and <section> (18px) below.
NARROW_SCREEN_PX = charts.min_width_px() + 2 * (24 + 18)

# Tables sit in a `.scroll` box: on a screen narrower than a table (a phone) the box
# scrolls sideways inside its card, instead of the table spilling past the card and the
# screen's edge; a shadow at the edge shows that more is there (the background-attachment
# trick: card-coloured covers scroll with the content and hide the shadow at either end).
# Each chart comes in two layouts (charts.py), the narrow one shown on a screen up to
# NARROW_SCREEN_PX, so that its text keeps a legible size rather than scaling down with
# the card; either is drawn at least charts.min_width_px() wide, and scrolls in its own
# `.scroll` box below that. Print shows the wide charts, at the paper's width.
STYLE = Template(
    """
:root { color-scheme: light dark; --bg: #ffffff; --card: #f6f7f9; --fg: #1f2430;
  --muted: #5b6475; --grid: #d5d9e0; --accent: #3b82f6; --shade: rgba(0, 0, 0, 0.18); }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14161b; --card: #1d2028; --fg: #e7e9ee; --muted: #a3aab8;
    --grid: #3a3f4b; --accent: #60a5fa; --shade: rgba(255, 255, 255, 0.16); }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 900px; margin: 0 auto; padding: 28px 24px 40px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 0 0 10px; }
.span { color: var(--muted); margin: 0 0 18px; }
.hero { display: flex; gap: 18px; align-items: baseline; flex-wrap: wrap;
  background: var(--card); border-radius: 10px; padding: 14px 18px; margin-bottom: 8px; }
.hero .cost { font-size: 34px; font-weight: 700; color: var(--accent); }
.hero .facts { color: var(--muted); }
.note { margin: 6px 0; }
section { background: var(--card); border-radius: 10px; padding: 14px 18px; margin: 16px 0;
  break-inside: avoid; page-break-inside: avoid; }
section ul { margin: 0; padding-left: 20px; }
.scroll { overflow-x: auto;
  background:
    linear-gradient(to right, var(--card) 40%, transparent) left / 32px 100% no-repeat local,
    linear-gradient(to left, var(--card) 40%, transparent) right / 32px 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, var(--shade), transparent) left / 12px 100%
      no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, var(--shade), transparent) right / 12px 100%
      no-repeat scroll; }
.chart { margin: 0 0 8px; }
svg.pygal-chart { width: 100%; height: auto; display: block; }
.chart-wide svg.pygal-chart { min-width: ${wide_min}px; }
.chart-narrow svg.pygal-chart { min-width: ${narrow_min}px; max-width: ${narrow_max}px;
  margin: 0 auto; }
.chart-narrow { display: none; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--grid); text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
code { font-size: 13px; background: var(--bg); padding: 0 4px; border-radius: 4px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
footer { color: var(--muted); font-size: 13px; margin-top: 24px; }
@media screen and (max-width: ${narrow_screen}px) {
  main { padding: 20px 12px 32px; }
  .hero, section { padding: 12px; }
  th, td { padding: 4px 6px; }
  .chart-wide { display: none; }
  .chart-narrow { display: block; }
}
@media print {
  :root { --bg: #ffffff; --card: #ffffff; --fg: #000000; --muted: #444444; --grid: #bbbbbb; }
  main { max-width: none; padding: 0; }
  section { border: 1px solid var(--grid); }
  .scroll { overflow: visible; background: none; }
  .chart-wide { display: block; }
  .chart-narrow { display: none; }
  .chart-wide svg.pygal-chart { min-width: 0; }
}
"""
).substitute(
    wide_min=charts.min_width_px(),
    narrow_min=charts.min_width_px(narrow=True),
    # A narrow chart in a wider card (a phone held sideways) grows only a little.
    narrow_max=charts.NARROW_WIDTH * 6 // 5,
    narrow_screen=NARROW_SCREEN_PX,
)


def _table(table: Table) -> str:
    if not table.rows:
        return "<p>None.</p>"

    def cell(tag: str, index: int, value: str) -> str:
        numeric = ' class="num"' if table.numeric(index) else ""
        return f"<{tag}{numeric}>{escape(value)}</{tag}>"

    head = "".join(cell("th", i, column) for i, column in enumerate(table.columns))
    body = "".join(
        "<tr>" + "".join(cell("td", i, value) for i, value in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def chart_svg(summary: dict[str, Any], kind: str, *, narrow: bool = False) -> str:
    if kind == "daily":
        # A narrow chart has room for the weekday alone; its table gives the dates.
        labels = [
            day["weekday"] if narrow else f"{day['weekday']} {day['date'][8:]}"
            for day in summary["days"]
        ]
        dates = [day["date"] for day in summary["days"]]
        series: dict[str, list[float]] = {}
        for row in summary["usage"]:
            values = series.setdefault(row["agent"], [0.0] * len(dates))
            values[dates.index(row["date"])] += row["cost_usd"]
        return charts.daily_cost_chart(labels, series, narrow=narrow)
    if kind == "models":
        return charts.ranked_cost_chart(
            [_bar(row, row["model"], short_model(row["model"])) for row in summary["models"]],
            narrow=narrow,
        )
    if kind == "repos":
        bars = []
        for row in summary["repos"]:
            path = row["repo"] or "(no repo)"
            bars.append(_bar(row, path, _last_parts(path), _last_parts(path, 1)))
        return charts.ranked_cost_chart(bars, narrow=narrow)
    if kind == "tiers":
        return charts.share_chart(
            [(row["tier"], row["cost_usd"]) for row in summary["tiers"]], narrow=narrow
        )
    raise ValueError(f"unknown chart {kind!r}")


def _bar(row: dict[str, Any], name: str, *labels: str) -> charts.Bar:
    return charts.Bar(
        name,
        row["cost_usd"],
        row.get("calls", 0),
        row.get("unpriced_calls", 0),
        labels=labels,
    )


def _last_parts(path: str, count: int = 2) -> str:
    """Chart labels are short: the last `count` parts of a path (tables show it whole)."""
    parts = [part for part in re.split(r"[/\\]", path) if part]  # Windows paths too
    return "/".join(parts[-count:]) if len(parts) > count else path


def _inline(text: str) -> str:
    """Escaped text with Markdown `code` spans of its own words as <code>; logged text in it
    (formatting.logged) only escaped."""
    return "".join(
        escape(piece) if is_logged else re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(piece))
        for piece, is_logged in logged_parts(text)
    )


def _section(summary: dict[str, Any], section: Section) -> str:
    parts = [f"<section><h2>{escape(section.title)}</h2>"]
    if section.chart and summary["calls"] and not summary["cost_usd"]:
        # A chart of costs that no price was known for would be an empty axis.
        parts.append('<p class="note">No chart: no call of this week had a known price.</p>')
    elif section.chart and summary["calls"]:
        parts.append('<div class="chart">')
        for narrow in (False, True):
            layout = "chart-narrow" if narrow else "chart-wide"
            svg = chart_svg(summary, section.chart, narrow=narrow)
            parts.append(f'<div class="scroll {layout}">{svg}</div>')
        parts.append("</div>")
    if section.lines:
        parts.append("<ul>" + "".join(f"<li>{_inline(line)}</li>" for line in section.lines))
        parts.append("</ul>")
    if section.table is not None:
        parts.append(_table(section.table))
    parts.append("</section>")
    return "".join(parts)


def render_html(summary: dict[str, Any]) -> str:
    head = headline(summary)
    hero = ""
    if head.cost is not None:
        hero = (
            f'<div class="hero"><span class="cost">{escape(head.cost)}</span>'
            f'<span class="facts">API-equivalent · {escape(head.facts)}</span></div>'
        )
    notes = "".join(f'<p class="note">{_inline(line)}</p>' for line in head.lines)
    body = "".join(_section(summary, section) for section in sections(summary))
    foot = "".join(f"<p>{escape(line)}</p>" for line in footer(summary))
    title = escape(head.title)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>burnmeter: {title}</title><style>{STYLE}</style></head><body><main>"
        f'<h1>{title}</h1><p class="span">{_inline(head.span)}</p>{hero}{notes}{body}'
        f"<footer>{foot}</footer></main></body></html>\n"
    )
