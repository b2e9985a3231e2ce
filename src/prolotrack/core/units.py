"""Pressure units of algometer readings (DOMAIN 4.1).

1 kgf/cm2 = 9.80665 N/cm2 = 98.0665 kPa, and 1 N/cm2 = 10 kPa: SI definitions (1 kgf = 9.80665 N,
1 kPa = 0.1 N/cm2). Always convert numerically; never copy published paired numbers.
"""

from __future__ import annotations

from enum import StrEnum

KPA_PER_KG_CM2 = 98.0665
KPA_PER_N_CM2 = 10.0
# A hand-held algometer reads up to about 20 kg/cm2; a larger value is a typing error.
MAX_PPT_KG_CM2 = 20.0
MAX_PPT_KPA = MAX_PPT_KG_CM2 * KPA_PER_KG_CM2


class PressureUnit(StrEnum):
    KG_CM2 = "kg/cm2"
    N_CM2 = "N/cm2"
    KPA = "kPa"

    @property
    def kpa_per_unit(self) -> float:
        return {"kg/cm2": KPA_PER_KG_CM2, "N/cm2": KPA_PER_N_CM2, "kPa": 1.0}[self.value]

    @property
    def maximum(self) -> float:
        """The largest accepted reading in this unit (20 kg/cm2)."""
        return MAX_PPT_KPA / self.kpa_per_unit


def to_kpa(value: float, unit: PressureUnit | str) -> float:
    return float(value) * PressureUnit(unit).kpa_per_unit


def from_kpa(value_kpa: float, unit: PressureUnit | str) -> float:
    return float(value_kpa) / PressureUnit(unit).kpa_per_unit


def kpa_to_kg_cm2(value_kpa: float) -> float:
    return float(value_kpa) / KPA_PER_KG_CM2


def check_reading(value: float, unit: PressureUnit | str) -> str | None:
    """None when ``value`` is a plausible threshold; otherwise a message naming the range."""
    u = PressureUnit(unit)
    if value < 0 or value > u.maximum + 1e-9:
        return (
            f"An algometer reading must be between 0 and {u.maximum:g} {u.value} "
            f"(0-{MAX_PPT_KG_CM2:g} kg/cm2)."
        )
    return None
