"""Small charts as inline SVG, drawn on the server: no script, readable without colour."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR_COLOURS = ("#1f5a8a", "#b85c00")  # dark enough for 4.5:1 contrast on white
ROW_HEIGHT = 22
LABEL_WIDTH = 170
BAR_WIDTH = 300


def hbar_chart(title: str, rows: Sequence[tuple[str, int]], chart_id: str) -> Markup:
    """Horizontal bars, one per labelled count, the count written beside each bar.

    Drawn at its own size in pixels: on a narrow screen the page scrolls the chart
    sideways rather than shrinking its words below a readable size.
    """
    top = max((count for _, count in rows), default=0) or 1
    height = ROW_HEIGHT * max(len(rows), 1) + 8
    # Room for the longest label at about 8 px a character of 13 px text.
    label_width = max([LABEL_WIDTH // 2] + [len(label) * 8 + 12 for label, _ in rows])
    width = label_width + BAR_WIDTH + 60
    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-title">{escape(title)}</title>']
    if not rows:
        parts.append('<text x="0" y="16" font-size="13" fill="#222">No data yet.</text>')
    for i, (label, count) in enumerate(rows):
        y = i * ROW_HEIGHT + 4
        length = round(BAR_WIDTH * count / top)
        parts.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" '
                     f'font-size="13" fill="#222">{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{max(length, 1)}" height="16" '
                     f'fill="{BAR_COLOURS[0]}"/>')
        parts.append(f'<text x="{label_width + length + 6}" y="{y + 14}" font-size="13" '
                     f'fill="#222">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def daily_chart(title: str, days: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
                chart_id: str) -> Markup:
    """Grouped columns per day (e.g. calls and messages), with a legend in words."""
    top = max((v for _, values in series for v in values), default=0) or 1
    plot_height, column = 140, 8
    group = column * len(series) + 4
    width = max(len(days) * group + 40, 200)
    height = plot_height + 60
    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<line x1="30" y1="{plot_height + 4}" x2="{width}" y2="{plot_height + 4}" '
             'stroke="#444"/>',
             f'<text x="0" y="14" font-size="11" fill="#222">{top}</text>',
             f'<text x="0" y="{plot_height + 4}" font-size="11" fill="#222">0</text>']
    for d, day in enumerate(days):
        x0 = 34 + d * group
        for s, (_name, values) in enumerate(series):
            value = values[d]
            h = round(plot_height * value / top)
            parts.append(f'<rect x="{x0 + s * column}" y="{plot_height + 4 - h}" '
                         f'width="{column - 1}" height="{h}" '
                         f'fill="{BAR_COLOURS[s % len(BAR_COLOURS)]}"><title>{escape(day)}: '
                         f"{value}</title></rect>")
        if d % 7 == 0 or (d == len(days) - 1 and d % 7 > 3):
            parts.append(f'<text x="{x0}" y="{plot_height + 20}" font-size="10" '
                         f'fill="#222">{escape(day[5:])}</text>')
    for s, (name, _values) in enumerate(series):
        x = 34 + s * 130
        parts.append(f'<rect x="{x}" y="{plot_height + 32}" width="12" height="12" '
                     f'fill="{BAR_COLOURS[s % len(BAR_COLOURS)]}"/>')
        parts.append(f'<text x="{x + 16}" y="{plot_height + 43}" font-size="12" '
                     f'fill="#222">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
