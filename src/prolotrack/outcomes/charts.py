"""The Kaplan-Meier curve of relief as an inline SVG step chart, in the style of
``treatment.charts`` (escaped text, no inline style or script: the pages run under a strict CSP)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.safestring import SafeString, mark_safe

from prolotrack.treatment.charts import STYLES, _esc, _num, nice_ticks


def km_chart(
    *, chart_id: str, title: str, curve: Sequence[Sequence[float]], width: int = 560
) -> SafeString | None:
    """Survival (share of sessions whose pain is not yet back) against days after the session."""
    if not curve:
        return None
    height = 260
    left, right, top, bottom = 46.0, 12.0, 20.0, 46.0
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max(float(curve[-1][0]), 1.0), count=6)
    x_max = ticks[-1] or 1.0

    def px(days: float) -> float:
        return left + days / x_max * plot_w

    def py(share: float) -> float:
        return top + plot_h - share * plot_h

    colour, _, _ = STYLES[0]
    cid = _esc(chart_id)
    out = [
        f'<svg class="line-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" aria-labelledby="{cid}-title">',
        f'<title id="{cid}-title">{_esc(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = py(share)
        stroke = "#4f5d6b" if share == 0.5 else "#d5dbe1"
        dash = ' stroke-dasharray="4 3"' if share == 0.5 else ""
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(width - right)}" y2="{_num(y)}" '
            f'stroke="{stroke}" stroke-width="1"{dash}/>'
        )
        out.append(
            f'<text x="{_num(left - 6)}" y="{_num(y + 4)}" text-anchor="end" font-size="11" '
            f'fill="#4f5d6b">{int(share * 100)}%</text>'
        )
    for tick in ticks:
        out.append(
            f'<text x="{_num(px(tick))}" y="{_num(top + plot_h + 16)}" text-anchor="middle" '
            f'font-size="11" fill="#4f5d6b">{_esc(_num(tick))}</text>'
        )
    out.append(
        f'<text x="{_num(left + plot_w / 2)}" y="{height - 6}" text-anchor="middle" '
        f'font-size="11" fill="#4f5d6b">Days after the session</text>'
    )
    points = [(0.0, 1.0)]
    survival = 1.0
    for days, share in curve:
        points.append((float(days), survival))
        survival = float(share)
        points.append((float(days), survival))
    path = " ".join(f"{_num(px(x))},{_num(py(y))}" for x, y in points)
    out.append(
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
        f'stroke-linejoin="round"/>'
    )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above went through _esc
