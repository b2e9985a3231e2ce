"""Build the clinical catalog from its JSON files, validating every entry strictly.

``build(read)`` takes a function that returns the parsed JSON of one catalog file, so tests can
feed it deliberately broken copies. Every problem raises ``CatalogError`` naming the file, the
entry and the field, so a bad edit fails at start-up instead of at the bedside.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from prolotrack.core.catalog import (
    AdverseEventCategory,
    Catalog,
    CatalogError,
    Condition,
    Depth,
    Laterality,
    MapPoint,
    Modality,
    Region,
    Site,
    Source,
    View,
    frozen,
)

Reader = Callable[[str], Any]
E = TypeVar("E", bound=StrEnum)

# The charting boundary: no single injection above 20 mL (charting.MAX_VOLUME_ML).
MAX_VOLUME_ML = 20.0
MIN_GAUGE, MAX_GAUGE = 18, 33
_CODE = re.compile(r"[a-z][a-z0-9_]*\Z")
_SOURCE_KEY = re.compile(r"[a-z]+(\.[A-Za-z0-9_]+)+\Z")
# Site codes say their modality, so a code read in a chart or an export is unambiguous.
_PREFIX = {Modality.NEURAL: "n_", Modality.CLASSIC: "c_"}


class _Entry:
    """One object of a catalog file; each accessor checks one field or raises naming it."""

    def __init__(self, file: str, index: int, raw: object, fields: tuple[str, ...]) -> None:
        self.file = file
        self.label = f"entry #{index}"
        if not isinstance(raw, dict):
            self.fail(None, "must be a JSON object")
        self.raw: dict[str, Any] = raw
        key = raw.get(fields[0])
        if isinstance(key, str) and key:
            self.label = repr(key)
        for field in fields:
            if field not in raw:
                self.fail(field, "is missing")
        for field in raw:
            if field not in fields:
                self.fail(field, "is not a known field")

    def fail(self, field: str | None, problem: str) -> NoReturn:
        where = f"{self.file}: {self.label}"
        raise CatalogError(
            f"{where}: {problem}" if field is None else f"{where}: {field}: {problem}"
        )

    def text(self, field: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.raw[field]
        if not isinstance(value, str) or not value.strip():
            self.fail(field, "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            self.fail(field, f"{value!r} is not a valid {field}")
        return value

    def flag(self, field: str) -> bool:
        value = self.raw[field]
        if not isinstance(value, bool):
            self.fail(field, "must be true or false")
        return value

    def number(self, field: str) -> float:
        return self.as_number(field, self.raw[field])

    def as_number(self, field: str, value: object) -> float:
        # bool is an int subclass in Python; true must not read as 1.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(field, "must be a number")
        if not math.isfinite(value):
            self.fail(field, "must be a finite number")
        return float(value)

    def integer(self, field: str) -> int:
        value = self.raw[field]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, "must be a whole number")
        return value

    def choice(self, field: str, enum: type[E]) -> E:
        return self.as_choice(field, enum, self.raw[field])

    def as_choice(self, field: str, enum: type[E], value: object) -> E:
        if isinstance(value, str) and value in {m.value for m in enum}:
            return enum(value)
        allowed = ", ".join(m.value for m in enum)
        self.fail(field, f"{value!r} is not one of: {allowed}")

    def texts(self, field: str) -> tuple[str, ...]:
        value = self.raw[field]
        if not isinstance(value, list) or not value:
            self.fail(field, "must be a non-empty list")
        if not all(isinstance(v, str) and v for v in value):
            self.fail(field, "must list non-empty strings")
        if len(set(value)) != len(value):
            self.fail(field, "lists a value twice")
        return tuple(value)

    def choices(self, field: str, enum: type[E]) -> tuple[E, ...]:
        return tuple(self.as_choice(field, enum, v) for v in self.texts(field))

    def refs(self, field: str, known: Mapping[str, object], what: str) -> tuple[str, ...]:
        values = self.texts(field)
        for value in values:
            if value not in known:
                self.fail(field, f"unknown {what} {value!r}")
        return values


def _entries(
    read: Reader, file: str, fields: tuple[str, ...], key_pattern: re.Pattern[str] = _CODE
) -> list[tuple[str, _Entry]]:
    """Each entry of ``file`` with its key (the first field), checked for shape and duplicates."""
    data = read(file)
    if not isinstance(data, list):
        raise CatalogError(f"{file}: must be a JSON list of objects")
    entries = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        entry = _Entry(file, index, raw, fields)
        key = entry.text(fields[0], key_pattern)
        if key in seen:
            entry.fail(fields[0], "is a duplicate")
        seen.add(key)
        entries.append((key, entry))
    return entries


def _sources(read: Reader) -> dict[str, Source]:
    out = {}
    for key, e in _entries(read, "sources.json", ("key", "citation"), _SOURCE_KEY):
        out[key] = Source(key=key, citation=e.text("citation"))
    return out


def _regions(read: Reader, sources: Mapping[str, Source]) -> dict[str, Region]:
    fields = ("code", "name", "modalities", "sources", "pneumothorax_risk")
    out = {}
    for code, e in _entries(read, "regions.json", fields):
        out[code] = Region(
            code=code,
            name=e.text("name"),
            modalities=e.choices("modalities", Modality),
            sources=e.refs("sources", sources, "source key"),
            pneumothorax_risk=e.flag("pneumothorax_risk"),
        )
    return out


def _map_point(e: _Entry, laterality: Laterality) -> MapPoint:
    raw = e.raw["map"]
    if not isinstance(raw, dict) or set(raw) != {"view", "x", "y"}:
        e.fail("map", "must be an object with exactly view, x and y")
    view = e.as_choice("map.view", View, raw["view"])
    x, y = e.as_number("map.x", raw["x"]), e.as_number("map.y", raw["y"])
    for name, value in (("map.x", x), ("map.y", y)):
        if not 0.0 <= value <= 1.0:
            e.fail(name, f"{value} is outside 0..1")
    # Paired sites are stored for the patient's RIGHT side: the viewer's left on the front view,
    # the viewer's right on the back view (SITES.md, "Body-map coordinates").
    if laterality is Laterality.MIDLINE and x != 0.5:
        e.fail("map.x", "a midline site must be drawn at x = 0.5")
    if laterality is Laterality.BILATERAL and (x >= 0.5 if view is View.FRONT else x <= 0.5):
        side = "below" if view is View.FRONT else "above"
        e.fail("map.x", f"the patient's right side is {side} 0.5 on the {view} view")
    return MapPoint(view=view, x=x, y=y)


def _sites(
    read: Reader, sources: Mapping[str, Source], regions: Mapping[str, Region]
) -> dict[str, Site]:
    fields = (
        "code", "name", "region", "modality", "laterality", "depth", "landmark", "volume_ml",
        "volume_ml_min", "volume_ml_max", "needle_gauge", "map", "sources", "needs_review",
        "pneumothorax_risk",
    )  # fmt: skip
    out = {}
    for code, e in _entries(read, "sites.json", fields):
        modality = e.choice("modality", Modality)
        if not code.startswith(_PREFIX[modality]):
            e.fail("code", f"a {modality} site code must start with {_PREFIX[modality]!r}")
        region_code = e.text("region")
        region = regions.get(region_code)
        if region is None:
            e.fail("region", f"unknown region {region_code!r}")
        if modality not in region.modalities:
            e.fail("modality", f"region {region_code!r} does not offer {modality} sites")
        low, high = e.number("volume_ml_min"), e.number("volume_ml_max")
        volume = e.number("volume_ml")
        if low <= 0:
            e.fail("volume_ml_min", "must be above 0")
        if high > MAX_VOLUME_ML:
            e.fail("volume_ml_max", f"must be at most {MAX_VOLUME_ML:g} mL")
        if high < low:
            e.fail("volume_ml_max", "must not be below volume_ml_min")
        if not low <= volume <= high:
            e.fail("volume_ml", f"{volume:g} is outside {low:g}..{high:g} mL")
        gauge = e.integer("needle_gauge")
        if not MIN_GAUGE <= gauge <= MAX_GAUGE:
            e.fail("needle_gauge", f"{gauge} is outside {MIN_GAUGE}..{MAX_GAUGE}")
        laterality = e.choice("laterality", Laterality)
        pneumothorax_risk = e.flag("pneumothorax_risk")
        if region.pneumothorax_risk and not pneumothorax_risk:
            e.fail("pneumothorax_risk", f"must be true in region {region_code!r}")
        out[code] = Site(
            code=code,
            name=e.text("name"),
            region=region_code,
            modality=modality,
            laterality=laterality,
            depth=e.choice("depth", Depth),
            landmark=e.text("landmark"),
            volume_ml=volume,
            volume_ml_min=low,
            volume_ml_max=high,
            needle_gauge=gauge,
            map=_map_point(e, laterality),
            sources=e.refs("sources", sources, "source key"),
            needs_review=e.flag("needs_review"),
            pneumothorax_risk=pneumothorax_risk,
        )
    return out


def _conditions(
    read: Reader, sources: Mapping[str, Source], regions: Mapping[str, Region]
) -> dict[str, Condition]:
    fields = ("code", "name", "modalities", "regions", "sources")
    out = {}
    for code, e in _entries(read, "conditions.json", fields):
        out[code] = Condition(
            code=code,
            name=e.text("name"),
            modalities=e.choices("modalities", Modality),
            regions=e.refs("regions", regions, "region"),
            sources=e.refs("sources", sources, "source key"),
        )
    return out


def _adverse_events(read: Reader, sources: Mapping[str, Source]) -> dict[str, AdverseEventCategory]:
    fields = ("code", "name", "serious_by_default", "sources")
    out = {}
    for code, e in _entries(read, "adverse_events.json", fields):
        out[code] = AdverseEventCategory(
            code=code,
            name=e.text("name"),
            serious_by_default=e.flag("serious_by_default"),
            sources=e.refs("sources", sources, "source key"),
        )
    return out


def build(read: Reader) -> Catalog:
    """Read, validate and freeze every catalog file; raise CatalogError at the first problem."""
    sources = _sources(read)
    regions = _regions(read, sources)
    return Catalog(
        regions=frozen(regions),
        sites=frozen(_sites(read, sources, regions)),
        conditions=frozen(_conditions(read, sources, regions)),
        adverse_events=frozen(_adverse_events(read, sources)),
        sources=frozen(sources),
    )
