"""The clinical catalog: body regions, injection sites, conditions and adverse-event categories.

The catalog is data (JSON files under ``core/data/``), loaded once and validated at load time so
that a bad entry fails loudly at start-up instead of at the bedside. Every entry carries one or
more source keys; ``sources.json`` maps each key to the section of the project's domain reference
(DOMAIN.md) or the site catalog draft (SITES.md) it rests on.

Body-map coordinates are drawing positions on a stylised figure, never anatomy (SITES.md, "Body-map
coordinates"). They are stored for the patient's right side; the left side mirrors x.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file, the entry and the field."""


class Modality(StrEnum):
    NEURAL = "neural"
    CLASSIC = "classic"

    @property
    def label(self) -> str:
        return {"neural": "Neural prolotherapy", "classic": "Classic prolotherapy"}[self.value]


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    MIDLINE = "midline"


class Laterality(StrEnum):
    """Whether a site is paired (treated left, right or both) or lies on the midline."""

    BILATERAL = "bilateral"
    MIDLINE = "midline"

    def sides(self) -> tuple[Side, ...]:
        if self is Laterality.MIDLINE:
            return (Side.MIDLINE,)
        return (Side.LEFT, Side.RIGHT)


class Depth(StrEnum):
    SUBCUTANEOUS = "subcutaneous"
    DEEP = "deep"
    INTRA_ARTICULAR = "intra_articular"

    @property
    def label(self) -> str:
        return {
            "subcutaneous": "Subcutaneous",
            "deep": "Deep",
            "intra_articular": "Intra-articular",
        }[self.value]


class View(StrEnum):
    FRONT = "front"
    BACK = "back"


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A drawing position for the patient's RIGHT side; x and y run 0..1 on the figure's canvas."""

    view: View
    x: float
    y: float

    def for_side(self, side: Side) -> MapPoint:
        """The position of this point for ``side``: the left side mirrors x (SITES.md)."""
        if side is Side.LEFT:
            return MapPoint(self.view, round(1.0 - self.x, 4), self.y)
        return self


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    modalities: tuple[Modality, ...]
    sources: tuple[str, ...]
    # Thoracic and chest-wall regions carry a pneumothorax warning (DOMAIN 2.4, Dagenais 2006).
    pneumothorax_risk: bool = False


@dataclass(frozen=True, slots=True)
class Site:
    code: str
    name: str
    region: str
    modality: Modality
    laterality: Laterality
    depth: Depth
    landmark: str
    volume_ml: float
    volume_ml_min: float
    volume_ml_max: float
    needle_gauge: int
    map: MapPoint
    sources: tuple[str, ...]
    # True where SITES.md marks the row [U]: a trained clinician must review it before the
    # product shows it as guidance (DOMAIN 1.3, SITES.md "How to read this").
    needs_review: bool
    pneumothorax_risk: bool = False

    def sides(self) -> tuple[Side, ...]:
        return self.laterality.sides()

    def allows_side(self, side: Side | str) -> bool:
        return Side(side) in self.sides()


@dataclass(frozen=True, slots=True)
class Condition:
    code: str
    name: str
    modalities: tuple[Modality, ...]
    regions: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdverseEventCategory:
    code: str
    name: str
    # Serious by nature (hospitalisation or permanent injury is likely): DOMAIN 2.4.
    serious_by_default: bool
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    citation: str


@dataclass(frozen=True)
class Catalog:
    regions: Mapping[str, Region]
    sites: Mapping[str, Site]
    conditions: Mapping[str, Condition]
    adverse_events: Mapping[str, AdverseEventCategory]
    sources: Mapping[str, Source]

    def sites_in_region(self, region: str) -> tuple[Site, ...]:
        return tuple(s for s in self.sites.values() if s.region == region)

    def site(self, code: str) -> Site:
        try:
            return self.sites[code]
        except KeyError:
            raise KeyError(f"unknown site {code!r}: not in the catalog") from None


def _read(name: str) -> Any:
    text = resources.files("prolotrack.core.data").joinpath(name).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{name}: not valid JSON: {exc}") from exc


@cache
def load_catalog() -> Catalog:
    """Load and validate every catalog file; raise CatalogError naming the first problem."""
    from prolotrack.core import catalog_loader

    return catalog_loader.build(_read)


def frozen(mapping: dict[str, T]) -> Mapping[str, T]:
    """A read-only view of ``mapping``: the catalog is shared by every request."""
    return MappingProxyType(mapping)
