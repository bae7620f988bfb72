"""Charts as SVG text, drawn on the server: a line chart of values over time and a stacked bar chart of counts.

Pure functions from frozen series to a string; every label is XML-escaped here, so the result can be embedded
in a page as is. Each data point carries its exact value (`data-value`, `data-count`) and a `<title>` tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
OUTCOME_COLOURS = {"merged": "#8250df", "closed": "#cf222e", "open": "#1a7f37"}
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 30, 48


@dataclass(frozen=True)
class Point:
    """One value at one moment; `label` names it in the tooltip (e.g. "run 12")."""

    at: datetime
    value: float
    label: str = ""


@dataclass(frozen=True)
class Series:
    """A named line of points, in time order."""

    name: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Bar:
    """One bar of a stacked chart: its label and a count per category."""

    label: str
    counts: tuple[tuple[str, int], ...]


def format_value(value: float, unit: str = "") -> str:
    """A value for people: at most two decimals, no trailing zeros, with its unit."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}{unit}"


def exact(value: float) -> str:
    """A value for machines (the `data-value` attribute): round-trips to the same float."""
    return repr(float(value))


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[float, ...]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("ticks need finite bounds")
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start, end = math.floor(low / step) * step, math.ceil(high / step) * step
    return tuple(round(start + n * step, 10) for n in range(round((end - start) / step) + 1))


def _svg_open(width: int, height: int, title: str, kind: str) -> list[str]:
    label = escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}" font-family="system-ui, sans-serif" '
        f'font-size="11">',
        f"<title>{label}</title>",
        f'<text x="{MARGIN_LEFT}" y="16" font-size="13" font-weight="600" fill="#24292f">{label}</text>',
    ]


def _empty(width: int, height: int, title: str, kind: str, note: str) -> str:
    parts = _svg_open(width, height, title, kind)
    parts.append(
        f'<text class="empty" x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" fill="#57606a">'
        f"{escape(note)}</text></svg>"
    )
    return "".join(parts)


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    unit: str = "",
    width: int = 640,
    height: int = 260,
    empty_note: str = "no measurements yet",
) -> str:
    """A line chart of `series` over time: y axis with round ticks, dates along x, a legend, one circle per point."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return _empty(width, height, title, "line-chart", empty_note)
    values = [p.value for s in drawn for p in s.points]
    times = [_epoch(p.at) for s in drawn for p in s.points]
    ticks = nice_ticks(min(values), max(values))
    y_low, y_high = ticks[0], ticks[-1]
    t_low, t_high = min(times), max(times)
    if t_high == t_low:
        t_low, t_high = t_low - 43200, t_high + 43200
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM

    def x_of(moment: datetime) -> float:
        return MARGIN_LEFT + (_epoch(moment) - t_low) / (t_high - t_low) * plot_w

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_h - (value - y_low) / (y_high - y_low) * plot_h

    parts = _svg_open(width, height, title, "line-chart")
    parts.append('<g class="axis y">')
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de" '
            f'stroke-width="1"/><text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">'
            f"{escape(format_value(tick, unit))}</text>"
        )
    parts.append('</g><g class="axis x">')
    for index in range(4 if t_high - t_low > 86400 * 2 else 2):
        fraction = index / (3 if t_high - t_low > 86400 * 2 else 1)
        moment = datetime.fromtimestamp(t_low + fraction * (t_high - t_low), tz=timezone.utc)
        x = MARGIN_LEFT + fraction * plot_w
        anchor = "start" if fraction == 0 else "end" if fraction == 1 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{height - MARGIN_BOTTOM + 16}" text-anchor="{anchor}" fill="#57606a">'
            f"{moment:%Y-%m-%d}</text>"
        )
    parts.append("</g>")
    unit_text = escape(unit)
    for number, line in enumerate(drawn):
        colour = PALETTE[number % len(PALETTE)]
        name = escape(line.name)
        coords = [(x_of(p.at), y_of(p.value)) for p in line.points]
        parts.append(
            f'<g class="series" data-series="{name}"><polyline points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            + f'" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for point, (x, y) in zip(line.points, coords):
            label = f"{escape(point.label)}, " if point.label else ""
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" '
                f'data-value="{exact(point.value)}"><title>{name}, {label}{point.at:%Y-%m-%d %H:%M}: '
                f"{format_value(point.value)}{unit_text}</title></circle>"
            )
        parts.append("</g>")
    parts.append(_legend([s.name for s in drawn], [PALETTE[n % len(PALETTE)] for n in range(len(drawn))], height))
    parts.append("</svg>")
    return "".join(parts)


def _legend(names: Sequence[str], colours: Sequence[str], height: int) -> str:
    parts = ['<g class="legend">']
    x = MARGIN_LEFT
    for name, colour in zip(names, colours):
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{height - 7}" fill="#24292f">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    parts.append("</g>")
    return "".join(parts)


def stacked_bars(
    title: str,
    bars: Sequence[Bar],
    categories: Sequence[str],
    *,
    colours: dict[str, str] | None = None,
    width: int = 640,
    height: int = 260,
    empty_note: str = "nothing to count yet",
) -> str:
    """Bars of counts stacked by category (in `categories` order, bottom up), with round ticks on the y axis."""
    colours = colours or OUTCOME_COLOURS
    totals = [sum(count for _, count in bar.counts) for bar in bars]
    if not bars or max(totals) == 0:
        return _empty(width, height, title, "bar-chart", empty_note)
    ticks = nice_ticks(0, max(totals))
    if ticks[1] - ticks[0] < 1:  # counts: whole numbers only
        ticks = tuple(float(n) for n in range(0, max(totals) + 1))
    top = ticks[-1]
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / len(bars)
    bar_w = max(2.0, slot * 0.7)
    parts = _svg_open(width, height, title, "bar-chart")
    parts.append('<g class="axis y">')
    for tick in ticks:
        y = MARGIN_TOP + plot_h - tick / top * plot_h
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">{format_value(tick)}</text>'
        )
    parts.append("</g>")
    label_every = max(1, math.ceil(len(bars) / 8))
    for index, bar in enumerate(bars):
        x = MARGIN_LEFT + index * slot + (slot - bar_w) / 2
        counts = dict(bar.counts)
        y = MARGIN_TOP + plot_h
        label = escape(bar.label)
        parts.append(f'<g class="bar" data-label="{label}">')
        for category in categories:
            count = counts.get(category, 0)
            if count <= 0:
                continue
            h = count / top * plot_h
            y -= h
            parts.append(
                f'<rect class="segment" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours.get(category, "#57606a")}" data-category="{escape(category)}" data-count="{count}">'
                f"<title>{label}: {count} {escape(category)}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - MARGIN_BOTTOM + 16}" text-anchor="middle" '
                f'fill="#57606a">{label}</text>'
            )
        parts.append("</g>")
    parts.append(_legend(list(categories), [colours.get(c, "#57606a") for c in categories], height))
    parts.append("</svg>")
    return "".join(parts)
