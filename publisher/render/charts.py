"""Charts as SVG text, drawn on the server: readable without JavaScript, printable, and
accessible (``role="img"`` with a title and a description; the page puts the same numbers in a
table beside each chart for screen readers and for copying).

Pure: numbers in, markup out. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR = "#1d5fa6"  # 7.0:1 on white
BAR_ALT = "#b3541e"
INK = "#1a1a1a"
GRID = "#c8c8c8"
FONT = "'Noto Sans CJK JP', 'Noto Sans JP', sans-serif"


def number(value: float) -> str:
    """``1,234``, ``12.5``, ``0.04``: as many digits as a reader needs."""
    if 0 < abs(value) < 1:
        return f"{value:.2f}"
    if value >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _svg(width: int, height: int, chart_id: str, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" font-family="{FONT}" font-size="14">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float]],
    unit: str = "",
    width: int = 640,
) -> str:
    """Horizontal bars, one per (label, value), largest scale at the longest bar."""
    label_w, bar_h, gap, top = 170, 22, 8, 8
    height = top * 2 + max(1, len(rows)) * (bar_h + gap)
    top_value = max((v for _, v in rows), default=0) or 1
    room = width - label_w - 90
    body = []
    if not rows:
        body.append(f'<text x="10" y="{top + 16}" fill="{INK}">データがありません</text>')
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(1.0, room * value / top_value) if value else 0
        shown = label if len(label) <= 12 else label[:11] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="{INK}">'
            f"{escape(shown)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BAR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" fill="{INK}">'
            f"{escape(number(value) + unit)}</text>"
        )
    desc = "、".join(f"{label} {number(v)}{unit}" for label, v in rows) or "データがありません"
    return _svg(width, height, chart_id, title, desc, body)


def columns(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float]],
    unit: str = "",
    width: int = 640,
    height: int = 220,
) -> str:
    """Vertical columns over days (``"2026-11-22"`` labels shown as ``11/22``), with a scale."""
    left, bottom, top = 56, 34, 14
    plot_w, plot_h = width - left - 10, height - top - bottom
    top_value = max((v for _, v in rows), default=0) or 1
    step = plot_w / max(1, len(rows))
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        f'stroke="{INK}"/>'
        f'<text x="{left - 6}" y="{top + plot_h + 5}" text-anchor="end" fill="{INK}">0</text>',
    ]
    for frac in (0.5, 1.0):
        y = top + plot_h * (1 - frac)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(number(top_value * frac))}</text>"
        )
    every = max(1, len(rows) // 8)
    for i, (label, value) in enumerate(rows):
        h = plot_h * value / top_value
        x = left + i * step
        body.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(1.0, step * 0.7):.1f}" height="{h:.1f}" fill="{BAR}"/>'
        )
        if i % every == 0:
            short = label[5:].replace("-", "/") if len(label) == 10 else label
            body.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 12}" text-anchor="middle" '
                f'fill="{INK}" font-size="12">{escape(short)}</text>'
            )
    total = sum(v for _, v in rows)
    desc = f"{len(rows)}日間、合計 {number(total)}{unit}、最大 {number(top_value)}{unit}"
    return _svg(width, height, chart_id, title, desc, body)
