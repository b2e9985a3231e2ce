"""Small server-side SVG line charts for the patient chart (pain and algometer thresholds).

Inline SVG keeps the page light and prints as it looks; no plotting library is needed for a
few polylines. Every piece of text that reaches the SVG goes through ``_esc``: labels can come
from the catalog or from people, and an SVG inlined in HTML runs scripts like the page does.

Lines differ by colour AND dash pattern AND marker shape, so no meaning rests on colour alone
(WCAG 1.4.1); the caption and the table below each chart carry the same numbers as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

# Three styles that stay distinct in grey-scale print and for colour-blind readers. The colours
# have at least 3:1 contrast on white (WCAG 1.4.11, graphical objects).
STYLES: tuple[tuple[str, str, str], ...] = (
    ("#0b5cad", "", "circle"),
    ("#a4161a", "8 5", "square"),
    ("#1e6b35", "2 4", "triangle"),
    ("#6b3fa0", "12 4 2 4", "diamond"),
)


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    values: tuple[float | None, ...]
    colour: str = STYLES[0][0]
    dash: str = STYLES[0][1]
    marker: str = STYLES[0][2]


def styled_lines(series: Sequence[tuple[str, Sequence[float | None]]]) -> list[Line]:
    """Lines in the standard styles, in order: solid circles, dashed squares, dotted triangles."""
    lines = []
    for i, (label, values) in enumerate(series):
        colour, dash, marker = STYLES[i % len(STYLES)]
        lines.append(Line(label, tuple(values), colour, dash, marker))
    return lines


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    """A coordinate with at most one decimal: short, stable output that tests can compare."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def fmt_value(value: float) -> str:
    """A reading for people: up to two decimals, no trailing zeros (6.5, not 6.50)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def nice_ticks(top: float, *, count: int = 5) -> list[float]:
    """Evenly spaced round ticks from 0 to at least ``top`` (steps of 1, 2, 2.5 or 5 x 10^n)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 6) for i in range(n + 1)]


def _polygon(corners: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in corners)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    """The opening tag of a marker (the caller closes it, possibly after a <title>)."""
    if shape == "square":
        return f'<rect x="{_num(x - 4.5)}" y="{_num(y - 4.5)}" width="9" height="9" fill="{colour}"'
    if shape == "triangle":
        corners = [(x, y - 6), (x + 5.5, y + 4), (x - 5.5, y + 4)]
        return f'<polygon points="{_polygon(corners)}" fill="{colour}"'
    if shape == "diamond":
        corners = [(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)]
        return f'<polygon points="{_polygon(corners)}" fill="{colour}"'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="5" fill="{colour}"'


def line_chart(
    *,
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    lines: Sequence[Line],
    y_max: float,
    y_label: str,
    x_label: str = "Session",
    y_ticks: Sequence[float] | None = None,
    width: int = 560,
    height: int = 260,
) -> SafeString:
    """An SVG line chart: one x position per label, y from 0 to ``y_max``.

    A value of None leaves a gap (the line breaks there). ``chart_id`` must be unique on the page;
    it names the title element that labels the chart for assistive technology.
    """
    ticks = list(y_ticks) if y_ticks is not None else nice_ticks(y_max)
    top_value = max(y_max, ticks[-1] if ticks else y_max) or 1.0
    left, right, top, bottom = 46.0, 12.0, 34.0, 46.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(x_labels), 1)

    def px(i: int) -> float:
        return left + (i + 0.5) * plot_w / n

    def py(v: float) -> float:
        return top + plot_h - (min(max(v, 0.0), top_value) / top_value) * plot_h

    cid = _esc(chart_id)
    out: list[str] = [
        f'<svg class="line-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{cid}-title">',
        f'<title id="{cid}-title">{_esc(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    # Grid and y axis.
    for tick in ticks:
        y = py(tick)
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(width - right)}" y2="{_num(y)}" '
            f'stroke="#d5dbe1" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_num(left - 6)}" y="{_num(y + 4)}" text-anchor="end" font-size="11" '
            f'fill="#4f5d6b">{_esc(fmt_value(tick))}</text>'
        )
    out.append(
        f'<text x="12" y="{_num(top + plot_h / 2)}" font-size="11" fill="#4f5d6b" '
        f'text-anchor="middle" transform="rotate(-90 12 {_num(top + plot_h / 2)})">'
        f"{_esc(y_label)}</text>"
    )
    out.append(
        f'<line x1="{_num(left)}" y1="{_num(top + plot_h)}" x2="{_num(width - right)}" '
        f'y2="{_num(top + plot_h)}" stroke="#4f5d6b" stroke-width="1"/>'
    )
    # X labels: thin them out when there are many sessions.
    every = max(1, math.ceil(len(x_labels) / 12))
    for i, label in enumerate(x_labels):
        if i % every and i != len(x_labels) - 1:
            continue
        out.append(
            f'<text x="{_num(px(i))}" y="{_num(top + plot_h + 16)}" text-anchor="middle" '
            f'font-size="11" fill="#4f5d6b">{_esc(label)}</text>'
        )
    out.append(
        f'<text x="{_num(left + plot_w / 2)}" y="{height - 6}" text-anchor="middle" '
        f'font-size="11" fill="#4f5d6b">{_esc(x_label)}</text>'
    )
    # Legend, top left: a sample of each line's stroke and marker, then its label.
    lx = left
    for line in lines:
        dash = f' stroke-dasharray="{_esc(line.dash)}"' if line.dash else ""
        colour = _esc(line.colour)
        out.append(
            f'<line x1="{_num(lx)}" y1="14" x2="{_num(lx + 26)}" y2="14" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        out.append(_marker(line.marker, lx + 13, 14, colour) + "/>")
        out.append(
            f'<text x="{_num(lx + 32)}" y="18" font-size="12" fill="#1d2733">'
            f"{_esc(line.label)}</text>"
        )
        lx += 44 + 6.5 * len(line.label)
    # The lines, broken where a value is missing, with a marker (and tooltip) at each value.
    for line in lines:
        colour = _esc(line.colour)
        dash = f' stroke-dasharray="{_esc(line.dash)}"' if line.dash else ""
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(line.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_num(px(i))},{_num(py(value))}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                out.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5" stroke-linejoin="round"{dash}/>'
                )
        for i, value in enumerate(line.values):
            if value is None:
                continue
            where = x_labels[i] if i < len(x_labels) else str(i + 1)
            tip = f"{line.label}, {x_label.lower()} {where}: {fmt_value(value)}"
            out.append(
                _marker(line.marker, px(i), py(value), colour)
                + f"><title>{_esc(tip)}</title>"
                + _closing(line.marker)
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above went through _esc


def _closing(shape: str) -> str:
    return {"square": "</rect>", "triangle": "</polygon>", "diamond": "</polygon>"}.get(
        shape, "</circle>"
    )
