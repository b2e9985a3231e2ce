"""What a charted session must satisfy before it is stored, as plain values and plain messages.

These checks are the boundary rules of DEVELOPERS' "Bad input" list for charting: pain 0-10,
volumes above 0 and at most 20 ml, algometer readings 0-20 kg/cm2 in any unit, sites from the
catalog with a side the site has. The clinical safety rules (doses, red flags, scope) are a
separate layer that reports findings instead of refusing input.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from prolotrack.core import units
from prolotrack.core.catalog import Catalog, Depth, Side, load_catalog

MAX_VOLUME_ML = Decimal("20")
PHASES = ("baseline", "1min", "15min")


@dataclass(frozen=True, slots=True)
class Solution:
    dextrose_pct: Decimal = Decimal("5")
    lidocaine_pct: Decimal = Decimal("0")
    mannitol_pct: Decimal = Decimal("0")
    epinephrine: bool = False


@dataclass(frozen=True, slots=True)
class InjectionInput:
    site: str
    side: str
    depth: str
    volume_ml: Decimal
    needle_gauge: int
    solution: Solution = Solution()
    lot: str = ""


@dataclass(frozen=True, slots=True)
class ReadingInput:
    site: str
    side: str
    phase: str
    value: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class FieldError:
    """``field`` is a dotted path such as ``injections.2.volume_ml``."""

    field: str
    message: str


def check_pain(field: str, value: int | None) -> list[FieldError]:
    if value is None:
        return []
    if not 0 <= value <= 10:
        return [FieldError(field, "Pain must be a whole number from 0 (none) to 10 (worst).")]
    return []


def check_site_side(prefix: str, site: str, side: str, catalog: Catalog) -> list[FieldError]:
    entry = catalog.sites.get(site)
    if entry is None:
        return [FieldError(f"{prefix}.site", f"{site!r} is not a site of the catalog.")]
    try:
        side_value = Side(side)
    except ValueError:
        return [FieldError(f"{prefix}.side", "Side must be left, right or midline.")]
    if not entry.allows_side(side_value):
        allowed = " or ".join(s.value for s in entry.sides())
        return [
            FieldError(f"{prefix}.side", f"{entry.name} is treated on the {allowed} side only.")
        ]
    return []


def check_injection(index: int, item: InjectionInput, catalog: Catalog) -> list[FieldError]:
    prefix = f"injections.{index}"
    errors = check_site_side(prefix, item.site, item.side, catalog)
    if item.depth not in {d.value for d in Depth}:
        errors.append(
            FieldError(f"{prefix}.depth", "Depth must be subcutaneous, deep or intra-articular.")
        )
    if not Decimal("0") < item.volume_ml <= MAX_VOLUME_ML:
        errors.append(
            FieldError(
                f"{prefix}.volume_ml",
                f"Volume must be more than 0 and at most {MAX_VOLUME_ML} ml per injection.",
            )
        )
    if not 18 <= item.needle_gauge <= 33:
        errors.append(FieldError(f"{prefix}.needle_gauge", "Needle gauge must be 18 to 33."))
    sol = item.solution
    for name, value, top in (
        ("dextrose_pct", sol.dextrose_pct, Decimal("50")),
        ("lidocaine_pct", sol.lidocaine_pct, Decimal("2")),
        ("mannitol_pct", sol.mannitol_pct, Decimal("20")),
    ):
        if not Decimal("0") <= value <= top:
            errors.append(FieldError(f"{prefix}.{name}", f"Must be between 0 and {top}%."))
    if sol.dextrose_pct + sol.lidocaine_pct + sol.mannitol_pct > 100:
        errors.append(FieldError(f"{prefix}.dextrose_pct", "The solution adds up to over 100%."))
    return errors


def check_reading(index: int, item: ReadingInput, catalog: Catalog) -> list[FieldError]:
    prefix = f"readings.{index}"
    errors = check_site_side(prefix, item.site, item.side, catalog)
    if item.phase not in PHASES:
        errors.append(FieldError(f"{prefix}.phase", "Phase must be baseline, 1min or 15min."))
    try:
        unit = units.PressureUnit(item.unit)
    except ValueError:
        return [*errors, FieldError(f"{prefix}.unit", "Unit must be kg/cm2, N/cm2 or kPa.")]
    message = units.check_reading(float(item.value), unit)
    if message:
        errors.append(FieldError(f"{prefix}.value", message))
    return errors


def check_session(
    *,
    pain_before: int | None,
    pain_after: int | None,
    injections: list[InjectionInput],
    readings: list[ReadingInput],
    catalog: Catalog | None = None,
) -> list[FieldError]:
    """Every boundary problem of a session, in form order; empty when it may be stored."""
    catalog = catalog or load_catalog()
    errors = [*check_pain("pain_before", pain_before), *check_pain("pain_after", pain_after)]
    for i, injection in enumerate(injections):
        errors.extend(check_injection(i, injection, catalog))
    seen: set[tuple[str, str, str]] = set()
    for i, reading in enumerate(readings):
        errors.extend(check_reading(i, reading, catalog))
        key = (reading.site, reading.side, reading.phase)
        if key in seen:
            errors.append(
                FieldError(
                    f"readings.{i}.phase",
                    "This site, side and phase already has a reading in this session.",
                )
            )
        seen.add(key)
    return errors
