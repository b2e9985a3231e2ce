"""Doses and mixing: what a solution contains, what a session adds up to, how to mix a syringe.

Concentrations are percent weight per volume: % = g/100 mL, so 1% = 10 mg/mL (DOMAIN 2.1,
"Concentration math"). Algometer unit conversions live in ``core.units``.

These are plain calculators. Whether a dose is too much is a rule (``core.rules.dose_limits``),
which compares these numbers with the limits below.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# DOMAIN 2.1, "Concentration math": % = g/100 mL, so 1% = 10 mg/mL = 0.01 g/mL.
MG_PER_ML_PER_PCT = 10.0
G_PER_ML_PER_PCT = 0.01


@dataclass(frozen=True, slots=True)
class Solution:
    """One syringe's contents; percentages are w/v. The default is D5W (DOMAIN 1.2)."""

    dextrose_pct: float = 5.0
    lidocaine_pct: float = 0.0
    mannitol_pct: float = 0.0
    epinephrine: bool = False

    @property
    def has_lidocaine(self) -> bool:
        return self.lidocaine_pct > 0


def lidocaine_mg(volume_ml: float, lidocaine_pct: float) -> float:
    """Milligrams of lidocaine in ``volume_ml`` of a ``lidocaine_pct`` solution (DOMAIN 2.1)."""
    return volume_ml * lidocaine_pct * MG_PER_ML_PER_PCT


def dextrose_g(volume_ml: float, dextrose_pct: float) -> float:
    """Grams of glucose: 1 mL of 5% is 50 mg, 10 mL of 25% is 2.5 g (DOMAIN 2.2, Diabetics)."""
    return volume_ml * dextrose_pct * G_PER_ML_PER_PCT


@dataclass(frozen=True, slots=True)
class LidocaineLimit:
    """A per-kilogram limit with an absolute cap, as the lidocaine label states it (DOMAIN 2.1)."""

    mg_per_kg: float
    max_mg: float

    def __post_init__(self) -> None:
        if not (self.mg_per_kg > 0 and self.max_mg > 0):
            raise ValueError("a lidocaine limit needs a positive mg/kg and a positive cap")

    def limit_mg(self, weight_kg: float | None) -> float:
        """The most lidocaine allowed for ``weight_kg``; only the cap when the weight is unknown."""
        if weight_kg is None:
            return self.max_mg
        return min(self.mg_per_kg * weight_kg, self.max_mg)

    def max_volume_ml(self, weight_kg: float | None, lidocaine_pct: float) -> float:
        """DOMAIN 2.1, "Max volume formula": limit mg / (concentration % x 10)."""
        if lidocaine_pct <= 0:
            return math.inf
        return self.limit_mg(weight_kg) / (lidocaine_pct * MG_PER_ML_PER_PCT)

    def is_within(self, other: LidocaineLimit) -> bool:
        """True when this limit is at least as strict as ``other`` on both counts."""
        return self.mg_per_kg <= other.mg_per_kg and self.max_mg <= other.max_mg

    def describe(self) -> str:
        return f"{self.mg_per_kg:g} mg/kg, at most {self.max_mg:g} mg"


# DOMAIN 2.1 [V], lidocaine label: plain lidocaine <= 4.5 mg/kg and in general <= 300 mg in total.
PLAIN_LIDOCAINE = LidocaineLimit(mg_per_kg=4.5, max_mg=300.0)
# DOMAIN 2.1 [V], same label: with epinephrine <= 7 mg/kg and in general <= 500 mg in total.
LIDOCAINE_WITH_EPINEPHRINE = LidocaineLimit(mg_per_kg=7.0, max_mg=500.0)
# DOMAIN 2.1 [V]: some UK tables give 3 mg/kg (200 mg) for plain lidocaine; a conservative option.
UK_PLAIN_LIDOCAINE = LidocaineLimit(mg_per_kg=3.0, max_mg=200.0)


class Dosed(Protocol):
    """Anything with a volume of a solution: a planned injection, a charted one."""

    @property
    def volume_ml(self) -> float: ...

    @property
    def solution(self) -> Solution: ...


@dataclass(frozen=True, slots=True)
class SessionDoses:
    """The totals of a whole session; DOMAIN 2.1 "Cumulative dose": lidocaine adds up."""

    volume_ml: float = 0.0
    lidocaine_plain_mg: float = 0.0
    lidocaine_with_epinephrine_mg: float = 0.0
    dextrose_g: float = 0.0
    mannitol_g: float = 0.0

    @property
    def lidocaine_mg(self) -> float:
        return self.lidocaine_plain_mg + self.lidocaine_with_epinephrine_mg

    @property
    def all_lidocaine_has_epinephrine(self) -> bool:
        """True only when there is lidocaine and every milligram of it comes with epinephrine."""
        return self.lidocaine_with_epinephrine_mg > 0 and self.lidocaine_plain_mg == 0


def session_doses(injections: Iterable[Dosed]) -> SessionDoses:
    """Add up every injection of a session (math.fsum keeps long sums exact to the last bit)."""
    items = list(injections)
    with_epi = [i for i in items if i.solution.epinephrine]
    plain = [i for i in items if not i.solution.epinephrine]
    return SessionDoses(
        volume_ml=math.fsum(i.volume_ml for i in items),
        lidocaine_plain_mg=math.fsum(
            lidocaine_mg(i.volume_ml, i.solution.lidocaine_pct) for i in plain
        ),
        lidocaine_with_epinephrine_mg=math.fsum(
            lidocaine_mg(i.volume_ml, i.solution.lidocaine_pct) for i in with_epi
        ),
        dextrose_g=math.fsum(dextrose_g(i.volume_ml, i.solution.dextrose_pct) for i in items),
        mannitol_g=math.fsum(
            i.volume_ml * i.solution.mannitol_pct * G_PER_ML_PER_PCT for i in items
        ),
    )


class MixError(ValueError):
    """The target cannot be mixed from these bottles; the message says why."""


@dataclass(frozen=True, slots=True)
class StockBottles:
    """The bottles a syringe is drawn from; the rest of the volume is normal saline.

    The defaults are the usual clinic stocks: 50% dextrose and 2% lidocaine. ``mannitol_pct``
    is None when the clinic keeps no mannitol.
    """

    dextrose_pct: float = 50.0
    lidocaine_pct: float = 2.0
    lidocaine_has_epinephrine: bool = False
    mannitol_pct: float | None = None

    def __post_init__(self) -> None:
        stocks = [self.dextrose_pct, self.lidocaine_pct]
        if self.mannitol_pct is not None:
            stocks.append(self.mannitol_pct)
        if not all(math.isfinite(s) and s > 0 for s in stocks):
            raise MixError("every stock bottle needs a positive concentration")


@dataclass(frozen=True, slots=True)
class Recipe:
    """How many millilitres to draw from each bottle."""

    dextrose_ml: float
    lidocaine_ml: float
    mannitol_ml: float
    saline_ml: float

    @property
    def total_ml(self) -> float:
        return math.fsum((self.dextrose_ml, self.lidocaine_ml, self.mannitol_ml, self.saline_ml))

    def solution(self, stocks: StockBottles) -> Solution:
        """What this recipe makes from ``stocks``: the inverse of ``mix``."""
        total = self.total_ml
        if total <= 0:
            raise MixError("a recipe with no volume makes no solution")
        mannitol_stock = stocks.mannitol_pct or 0.0
        return Solution(
            dextrose_pct=self.dextrose_ml * stocks.dextrose_pct / total,
            lidocaine_pct=self.lidocaine_ml * stocks.lidocaine_pct / total,
            mannitol_pct=self.mannitol_ml * mannitol_stock / total,
            epinephrine=stocks.lidocaine_has_epinephrine and self.lidocaine_ml > 0,
        )


def _draw(target_pct: float, stock_pct: float | None, total_ml: float, name: str) -> float:
    """Millilitres of stock for ``target_pct`` in ``total_ml``: C1 x V1 = C2 x V2."""
    if target_pct < 0:
        raise MixError(f"the target {name} concentration cannot be negative")
    if target_pct == 0:
        return 0.0
    if stock_pct is None:
        raise MixError(f"there is no {name} stock bottle to mix {target_pct:g}% {name} from")
    if target_pct > stock_pct:
        raise MixError(
            f"{target_pct:g}% {name} is stronger than the {stock_pct:g}% stock: "
            "it cannot be mixed from it"
        )
    return target_pct * total_ml / stock_pct


def _check_epinephrine(target: Solution, stocks: StockBottles) -> None:
    if target.epinephrine and not (stocks.lidocaine_has_epinephrine and target.has_lidocaine):
        raise MixError(
            "epinephrine comes only with lidocaine from a lidocaine-with-epinephrine bottle"
        )
    if stocks.lidocaine_has_epinephrine and target.has_lidocaine and not target.epinephrine:
        raise MixError("the lidocaine bottle contains epinephrine, but the target has none")


def mix(target: Solution, total_ml: float, stocks: StockBottles | None = None) -> Recipe:
    """The volumes to draw for ``total_ml`` of ``target``, topped up with saline.

    Example: 10 mL of 15% dextrose with 0.2% lidocaine from 50% dextrose and 2% lidocaine is
    3 mL dextrose, 1 mL lidocaine and 6 mL saline.
    """
    stocks = stocks or StockBottles()
    if not (math.isfinite(total_ml) and total_ml > 0):
        raise MixError("the total volume must be more than 0 mL")
    _check_epinephrine(target, stocks)
    dextrose_ml = _draw(target.dextrose_pct, stocks.dextrose_pct, total_ml, "dextrose")
    lidocaine_ml = _draw(target.lidocaine_pct, stocks.lidocaine_pct, total_ml, "lidocaine")
    mannitol_ml = _draw(target.mannitol_pct, stocks.mannitol_pct, total_ml, "mannitol")
    drawn = math.fsum((dextrose_ml, lidocaine_ml, mannitol_ml))
    # A relative tolerance: the stocks may fill the syringe exactly (a float hair over is fine).
    if drawn > total_ml * (1 + 1e-9):
        raise MixError(
            f"the stock bottles alone need {drawn:.3g} mL, more than the {total_ml:g} mL "
            "total: use stronger stocks or a weaker target"
        )
    return Recipe(
        dextrose_ml=dextrose_ml,
        lidocaine_ml=lidocaine_ml,
        mannitol_ml=mannitol_ml,
        saline_ml=max(total_ml - drawn, 0.0),
    )
