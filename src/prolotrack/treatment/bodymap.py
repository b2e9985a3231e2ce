"""The body map: a stylised front and back figure with the catalog's sites as dots.

One drawing serves the session form (interactive dots), the session view (what was injected) and
the PDF. This module only computes geometry; ``templates/treatment/_bodymap.html`` turns it into
SVG and ``static/prolotrack/bodymap.js`` makes the dots clickable.

The figure is our own drawing of simple shapes on the canvas of SITES.md ("Body-map
coordinates"): x 0..1 from the viewer's left to right, y 0..1 from the vertex to the soles, a
canvas about 0.45 times as wide as it is tall. Positions are drawing approximations, never anatomy.

Several catalog points share (almost) the same spot, for example the TMJ capsule and its disc
attachments. A dot that would sit on another is nudged apart just enough to be clicked, and a thin
leader line joins it to its catalog position, so the drawing stays honest about where it belongs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from prolotrack.core.catalog import Catalog, Modality, Side, Site, View

# One view of the figure in SVG units: 450 wide and 1000 tall (the 0.45 aspect of SITES.md).
VIEW_WIDTH = 450
VIEW_HEIGHT = 1000
# The two views sit side by side, with room above for their titles and below for the feet.
MARGIN_TOP = 50
MARGIN_BOTTOM = 30
GAP = 60
WIDTH = 2 * VIEW_WIDTH + GAP
HEIGHT = MARGIN_TOP + VIEW_HEIGHT + MARGIN_BOTTOM
VIEW_OFFSETS = {View.FRONT: 0, View.BACK: VIEW_WIDTH + GAP}

DOT_RADIUS = 9.0
# Centres closer than this are pushed apart: a dot's diameter plus a small gap to aim between.
MIN_GAP = 2 * DOT_RADIUS + 3
# A nudged dot further than this from its catalog position gets a leader line.
LEADER_MIN = 4.0

_SIDE_WORD = {Side.LEFT: "left", Side.RIGHT: "right", Side.MIDLINE: "midline"}

# Half of the figure's outline, on the viewer's left of the FRONT view (the patient's right),
# clockwise from under the chin to the crotch, in canvas units. A point listed twice is a corner
# (the armpit, the wrist, the ankle); the rest are smoothed into curves. The landmark levels are
# those of SITES.md: acromion 0.19, elbow 0.37, iliac crest 0.42, wrist 0.49, trochanter 0.50,
# knee 0.74, malleoli 0.955, sole 1.0.
_HALF_OUTLINE: tuple[tuple[float, float], ...] = (
    (0.440, 0.110),
    (0.428, 0.150),
    (0.428, 0.150),
    (0.370, 0.168),
    (0.290, 0.176),
    (0.240, 0.188),
    (0.210, 0.215),
    (0.198, 0.280),
    (0.196, 0.340),
    (0.188, 0.375),
    (0.176, 0.430),
    (0.168, 0.488),
    (0.168, 0.488),
    (0.155, 0.520),
    (0.152, 0.560),
    (0.168, 0.592),
    (0.205, 0.598),
    (0.235, 0.580),
    (0.248, 0.540),
    (0.244, 0.492),
    (0.244, 0.492),
    (0.268, 0.430),
    (0.296, 0.375),
    (0.300, 0.310),
    (0.300, 0.245),
    (0.300, 0.245),
    (0.312, 0.300),
    (0.330, 0.370),
    (0.322, 0.420),
    (0.302, 0.465),
    (0.296, 0.505),
    (0.306, 0.580),
    (0.326, 0.660),
    (0.340, 0.720),
    (0.340, 0.770),
    (0.346, 0.830),
    (0.360, 0.900),
    (0.364, 0.950),
    (0.364, 0.950),
    (0.350, 0.975),
    (0.352, 0.996),
    (0.380, 1.002),
    (0.430, 1.002),
    (0.450, 0.992),
    (0.440, 0.950),
    (0.440, 0.950),
    (0.436, 0.900),
    (0.448, 0.830),
    (0.446, 0.770),
    (0.442, 0.735),
    (0.452, 0.680),
    (0.472, 0.600),
    (0.488, 0.548),
    (0.500, 0.536),
)

# The head: an ellipse one eighth of the height tall (SITES.md's 8-head figure).
HEAD = {
    "cx": 0.5 * VIEW_WIDTH,
    "cy": 0.064 * VIEW_HEIGHT,
    "rx": 0.098 * VIEW_WIDTH,
    "ry": 0.066 * VIEW_HEIGHT,
}


def _svg(point: tuple[float, float]) -> tuple[float, float]:
    return (point[0] * VIEW_WIDTH, point[1] * VIEW_HEIGHT)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=1)
def outline_path() -> str:
    """The body outline (neck, trunk, arms, legs) as SVG path data, in one view's units.

    Smoothed with quadratic curves through the midpoints of the listed points; a repeated point
    makes a corner because the curve must pass through it.
    """
    left = [_svg(p) for p in _HALF_OUTLINE]
    right = [(VIEW_WIDTH - x, y) for x, y in reversed(left)]
    points = left + right[1:]
    mids = [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in itertools.pairwise(points)]
    parts = [
        f"M{_fmt(points[0][0])} {_fmt(points[0][1])}",
        f"L{_fmt(mids[0][0])} {_fmt(mids[0][1])}",
    ]
    for control, end in zip(points[1:-1], mids[1:], strict=True):
        parts.append(f"Q{_fmt(control[0])} {_fmt(control[1])} {_fmt(end[0])} {_fmt(end[1])}")
    parts.append(f"L{_fmt(points[-1][0])} {_fmt(points[-1][1])}Z")
    return " ".join(parts)


def spine_path() -> str:
    """The back view's midline, from the base of the skull to the coccyx (a dashed guide)."""
    x = _fmt(0.5 * VIEW_WIDTH)
    return f"M{x} {_fmt(0.135 * VIEW_HEIGHT)} L{x} {_fmt(0.52 * VIEW_HEIGHT)}"


@dataclass(frozen=True, slots=True)
class MapDot:
    """One clickable point: a site on one side, where it is drawn, and whether it was injected."""

    site: str
    side: Side
    name: str
    region: str
    view: View
    # Drawn position, in one view's SVG units (after nudging apart from neighbours).
    cx: float
    cy: float
    # The catalog position, in the same units; differs from (cx, cy) when the dot was nudged.
    anchor_x: float
    anchor_y: float
    injected: bool
    # True for the series' own region; "extra" dots appear only with "show all regions".
    primary: bool

    @property
    def side_word(self) -> str:
        return _SIDE_WORD[self.side]

    @property
    def label(self) -> str:
        """What a screen reader announces, for example "Supraorbital nerve, left"."""
        return f"{self.name}, {self.side_word}"

    @property
    def has_leader(self) -> bool:
        return math.hypot(self.cx - self.anchor_x, self.cy - self.anchor_y) > LEADER_MIN

    @property
    def x(self) -> str:
        """The absolute x in the two-view drawing (for templates)."""
        return _fmt(VIEW_OFFSETS[self.view] + self.cx)

    @property
    def y(self) -> str:
        return _fmt(MARGIN_TOP + self.cy)

    @property
    def ax(self) -> str:
        return _fmt(VIEW_OFFSETS[self.view] + self.anchor_x)

    @property
    def ay(self) -> str:
        return _fmt(MARGIN_TOP + self.anchor_y)


# The smallest band a zoomed map shows, in SVG units, so a small region keeps some context.
MIN_CROP_HEIGHT = 340
CROP_PAD_TOP = 75  # room for the view titles above the highest dot
CROP_PAD_BOTTOM = 45


@dataclass(frozen=True, slots=True)
class BodyMap:
    dots: tuple[MapDot, ...]
    interactive: bool
    # The band of the drawing shown, in SVG units: the whole figure, or the series' region only
    # (the form zooms there so that dots are large enough to touch; "show all" widens it).
    top: float = 0.0
    bottom: float = float(HEIGHT)

    @property
    def injected(self) -> tuple[MapDot, ...]:
        return tuple(d for d in self.dots if d.injected)

    @property
    def has_extra(self) -> bool:
        return any(not d.primary for d in self.dots)

    @property
    def summary(self) -> str:
        """A one-line text equivalent of the drawing, for screen readers and the PDF."""
        done = sorted(d.label for d in self.injected)
        if not done:
            return "Body map: no sites injected."
        return "Body map, sites injected: " + "; ".join(done) + "."

    # Drawing constants exposed to the template.
    width = WIDTH
    height = HEIGHT
    view_width = VIEW_WIDTH
    view_height = VIEW_HEIGHT
    margin_top = MARGIN_TOP
    back_offset = VIEW_OFFSETS[View.BACK]
    back_title_x = VIEW_OFFSETS[View.BACK] + VIEW_WIDTH // 2
    back_left_x = VIEW_OFFSETS[View.BACK] + 8
    radius = _fmt(DOT_RADIUS)

    @property
    def viewbox(self) -> str:
        return f"0 {_fmt(self.top)} {WIDTH} {_fmt(self.bottom - self.top)}"

    @property
    def full_viewbox(self) -> str:
        return f"0 0 {WIDTH} {HEIGHT}"

    @property
    def is_cropped(self) -> bool:
        return self.top > 0 or self.bottom < HEIGHT

    @property
    def label_y(self) -> str:
        """Where the view titles go: the top of the band shown."""
        return _fmt(self.top)

    @property
    def outline(self) -> str:
        return outline_path()

    @property
    def spine(self) -> str:
        return spine_path()

    @property
    def head(self) -> dict[str, float]:
        return HEAD


Key = tuple[str, str]  # (site code, side)
_Point = tuple[str, str, str, float, float]  # (site, side, view, x, y) in SVG units


def _relax(
    moving: Sequence[_Point], fixed: Sequence[tuple[float, float, str]] = ()
) -> dict[Key, tuple[float, float]]:
    """Push apart dots closer than MIN_GAP, a few small steps at a time, deterministically.

    ``fixed`` dots (already placed) push but do not move. Two dots at exactly the same spot are
    separated along a direction derived from their order, so the result never depends on chance.
    """
    pos = [[p[3], p[4]] for p in moving]
    views = [p[2] for p in moving]
    for _ in range(40):
        moved = False
        order = sorted(range(len(pos)), key=lambda i: pos[i][0])
        for a_rank, i in enumerate(order):
            for j in order[a_rank + 1 :]:
                if pos[j][0] - pos[i][0] >= MIN_GAP:
                    break
                if views[i] != views[j]:
                    continue
                dx, dy = pos[j][0] - pos[i][0], pos[j][1] - pos[i][1]
                dist = math.hypot(dx, dy)
                if dist >= MIN_GAP:
                    continue
                if dist < 1e-6:
                    angle = (min(i, j) * 2.399963 + 0.5) % (2 * math.pi)  # golden angle
                    dx, dy, dist = math.cos(angle), math.sin(angle), 1.0
                push = (MIN_GAP - dist) / 2 + 0.05
                ux, uy = dx / dist, dy / dist
                first, second = (i, j) if i < j else (j, i)
                sign = 1 if first == i else -1
                pos[first][0] -= sign * ux * push
                pos[first][1] -= sign * uy * push
                pos[second][0] += sign * ux * push
                pos[second][1] += sign * uy * push
                moved = True
        for k, (x, y) in enumerate(pos):
            for fx, fy, fview in fixed:
                if fview != views[k]:
                    continue
                dx, dy = x - fx, y - fy
                dist = math.hypot(dx, dy)
                if dist >= MIN_GAP:
                    continue
                if dist < 1e-6:
                    dx, dy, dist = 0.0, 1.0, 1.0
                push = MIN_GAP - dist + 0.05
                pos[k][0] += dx / dist * push
                pos[k][1] += dy / dist * push
                moved = True
        if not moved:
            break
    return {(p[0], p[1]): (x, y) for p, (x, y) in zip(moving, pos, strict=True)}


@lru_cache(maxsize=64)
def _layout(
    primary: tuple[_Point, ...], extra: tuple[_Point, ...]
) -> dict[Key, tuple[float, float]]:
    placed = _relax(primary)
    fixed = tuple((*placed[(p[0], p[1])], p[2]) for p in primary)
    placed.update(_relax(extra, fixed))
    return placed


def _points(sites: Iterable[Site]) -> tuple[_Point, ...]:
    """Every (site, side) as a point, in reading order: front view first, then top to bottom and
    left to right, which is also the Tab order of the dots."""
    points: list[_Point] = []
    for site in sites:
        for side in site.sides():
            p = site.map.for_side(side)
            points.append(
                (site.code, side.value, p.view.value, p.x * VIEW_WIDTH, p.y * VIEW_HEIGHT)
            )
    views = {View.FRONT.value: 0, View.BACK.value: 1}
    return tuple(sorted(points, key=lambda p: (views[p[2]], round(p[4]), p[3], p[0], p[1])))


def body_map(
    primary: Iterable[Site],
    *,
    extra: Iterable[Site] = (),
    injected: Collection[Key] = (),
    interactive: bool = True,
) -> BodyMap:
    """The dots for ``primary`` sites (and ``extra`` ones shown on demand), each allowed side.

    ``injected`` holds (site code, side) pairs that are drawn as injected. Primary dots are placed
    first so that showing the extra regions never moves them.
    """
    primary = list(primary)
    codes = {s.code for s in primary}
    extra = [s for s in extra if s.code not in codes]
    by_code = {s.code: s for s in [*primary, *extra]}
    primary_points, extra_points = _points(primary), _points(extra)
    placed = _layout(primary_points, extra_points)
    injected_keys = {(site, str(side)) for site, side in injected}
    dots = []
    for points, is_primary in ((primary_points, True), (extra_points, False)):
        for code, side, view, x, y in points:
            site = by_code[code]
            cx, cy = placed[(code, side)]
            dots.append(
                MapDot(
                    site=code,
                    side=Side(side),
                    name=site.name,
                    region=site.region,
                    view=View(view),
                    cx=cx,
                    cy=cy,
                    anchor_x=x,
                    anchor_y=y,
                    injected=(code, side) in injected_keys,
                    primary=is_primary,
                )
            )
    return BodyMap(dots=tuple(dots), interactive=interactive)


def primary_sites(catalog: Catalog, region: str, modality: Modality | str) -> list[Site]:
    """The sites a series works on: its region's sites of its modality (or all of the region's)."""
    in_region = catalog.sites_in_region(region)
    same = [s for s in in_region if s.modality == Modality(modality)]
    return same or list(in_region)


def series_map(
    catalog: Catalog,
    *,
    region: str,
    modality: Modality | str,
    injected: Collection[Key] = (),
    interactive: bool = True,
    injected_only: bool = False,
) -> BodyMap:
    """The map of a series: its region's sites first, every other catalog site as "extra".

    The session form and the session view call this with the same series, so a dot is drawn in
    the same place on both. ``injected_only`` keeps just the injected dots (the session view).
    """
    primary = primary_sites(catalog, region, modality)
    full = body_map(
        primary, extra=catalog.sites.values(), injected=injected, interactive=interactive
    )
    if injected_only:
        return BodyMap(dots=full.injected, interactive=interactive)
    return full


def crop_to_primary(bodymap: BodyMap) -> BodyMap:
    """The same map showing only the band of the figure that holds its primary dots."""
    ys = [float(d.y) for d in bodymap.dots if d.primary]
    if not ys:
        return bodymap
    top = max(0.0, min(ys) - CROP_PAD_TOP)
    bottom = min(float(HEIGHT), max(ys) + CROP_PAD_BOTTOM)
    missing = MIN_CROP_HEIGHT - (bottom - top)
    if missing > 0:
        top = max(0.0, top - missing / 2)
        bottom = min(float(HEIGHT), top + MIN_CROP_HEIGHT)
        top = max(0.0, bottom - MIN_CROP_HEIGHT)
    return BodyMap(dots=bodymap.dots, interactive=bodymap.interactive, top=top, bottom=bottom)
