"""Small accessible SVG charts drawn on the server, with presentation attributes only; and the
charts of the staff pages, built from the reports.

Why not pygal: its SVG carries an inline <style> element, which our CSP (style-src 'self') blocks
when the SVG sits in the page. These charts use attributes (fill, stroke, font-size), which CSP
does not govern, so they can live inline, be read by axe, and need no second request. Each chart
is an image with a title and a description; the page puts the table of its numbers beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from markupsafe import Markup, escape

from membership.currencies import currency_or_default
from membership.formatting import format_money
from membership.services.reports.dashboard import TrendPoint
from membership.services.reports.range_report import Report

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 36, 64
# Dark enough to meet 3:1 against the paper background (WCAG non-text contrast).
COLOURS = ("#0b5c8a", "#b45309", "#1d6b35", "#a4161a")
INK, RULE = "#1b1f24", "#b8b2a3"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float]


def _nice_ceiling(value: float) -> float:
    """A round number at or above `value` for the top of the axis (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return float(step * exponent)
    return float(10 * exponent)  # pragma: no cover


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12,
          extra: str = "") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="system-ui, sans-serif" '
        f'fill="{INK}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'
    )


def _axes(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    fmt: Callable[[float], str],
) -> tuple[float, list[str]]:
    """The frame and the value axis with its grid lines; the axis top, and the parts so far."""
    plot_h = HEIGHT - TOP - BOTTOM
    top = _nice_ceiling(max([float(v) for s in series for v in s.values] + [0.0]))
    parts = _frame(chart_id, title, description)
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{RULE}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, fmt(value), anchor="end", size=11))
    return top, parts


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
) -> Markup:
    """Grouped bars, one group per label. `fmt` writes axis values (money, counts)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, parts = _axes(chart_id, title, description, series, fmt)
    groups = max(1, len(labels))
    group_w = plot_w / groups
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    every = max(1, math.ceil(groups / 12))
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + group_w * 0.1
        for k, s in enumerate(series):
            value = float(s.values[g]) if g < len(s.values) else 0.0
            h = plot_h * max(0.0, value) / top
            parts.append(
                f'<rect x="{x0 + k * bar_w:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{max(0.5, bar_w - 1):.1f}" height="{h:.1f}" fill="{COLOURS[k % 4]}"/>'
            )
        if g % every == 0:
            parts.append(_text(x0 + group_w * 0.4, HEIGHT - BOTTOM + 16, label, anchor="middle",
                               size=10))  # fmt: skip
    parts.extend(_legend(series))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through escape())


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str],
) -> Markup:
    """One line per series with a dot at each point."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, parts = _axes(chart_id, title, description, series, fmt)
    n = max(1, len(labels))
    step = plot_w / max(1, n - 1) if n > 1 else 0.0
    every = max(1, math.ceil(n / 12))
    for g, label in enumerate(labels):
        if g % every == 0:
            parts.append(_text(LEFT + g * step, HEIGHT - BOTTOM + 16, label, anchor="middle",
                               size=10))  # fmt: skip
    for k, s in enumerate(series):
        points = [
            (LEFT + g * step, TOP + plot_h - plot_h * max(0.0, float(v)) / top)
            for g, v in enumerate(s.values)
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{COLOURS[k % 4]}" stroke-width="2"/>'
            )
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[k % 4]}"/>')
    parts.extend(_legend(series))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through escape())


def _frame(chart_id: str, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'class="chart" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = LEFT
    for k, s in enumerate(series):
        parts.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{COLOURS[k % 4]}"/>')
        parts.append(_text(x + 16, 22, s.name, size=12))
        x += 24 + 8 * len(s.name)
    return parts


# The staff pages' charts. Values are drawn in whole units (dollars, yen), the axis written as money.


def _money_axis(currency: str, locale: str) -> Callable[[float], str]:
    per_unit = currency_or_default(currency).per_unit
    return lambda value: format_money(int(round(value * per_unit)), currency, locale=locale)


def _units(amount: int, currency: str) -> float:
    return amount / currency_or_default(currency).per_unit


def mrr_trend_chart(points: Sequence[TrendPoint], currency: str, locale: str) -> Markup:
    """The dashboard's MRR at the end of each month."""
    return line_chart(
        "mrr-trend",
        "Monthly recurring revenue at the end of each month",
        "MRR over the last twelve months; the table beside it has the figures.",
        [p.label for p in points],
        [Series("MRR", [_units(p.mrr, currency) for p in points])],
        _money_axis(currency, locale),
    )


class ReportCharts(NamedTuple):
    money: Markup  # gross and net per period, as bars
    mrr: Markup  # MRR at the end of each period, as a line


def report_charts(report: Report, currency: str, locale: str) -> ReportCharts:
    """The charts of the report page."""
    labels = [b.short_label for b in report.buckets]
    axis = _money_axis(currency, locale)
    money = bar_chart(
        "money-chart",
        "Gross and net by period",
        "Bars of gross and net revenue for each period; the table below has the figures.",
        labels,
        [
            Series("Gross", [_units(r.gross, currency) for r in report.money]),
            Series("Net", [_units(max(0, r.net), currency) for r in report.money]),
        ],
        axis,
    )
    mrr = line_chart(
        "mrr-chart",
        "MRR at the end of each period",
        "Monthly recurring revenue at the end of each period; the movements table has the figures.",
        labels,
        [Series("MRR", [_units(r.mrr_end, currency) for r in report.movements])],
        axis,
    )
    return ReportCharts(money, mrr)
