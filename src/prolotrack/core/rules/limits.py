"""The thresholds the rules use, as one per-clinic settings object with cited defaults.

DOMAIN's preamble: "Every default must be overridable per clinic". The lidocaine label limits are
the exception in one direction only: a clinic may choose a stricter limit (DOMAIN 2.1 suggests a
conservative "UK mode"), never a looser one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from prolotrack.core.doses import (
    LIDOCAINE_WITH_EPINEPHRINE,
    PLAIN_LIDOCAINE,
    UK_PLAIN_LIDOCAINE,
    LidocaineLimit,
)


@dataclass(frozen=True, slots=True)
class Range:
    """A closed range low..high."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"a range's low end {self.low:g} is above its high end {self.high:g}")

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self, unit: str = "") -> str:
        return f"{self.low:g}-{self.high:g}{unit}"


@dataclass(frozen=True, slots=True)
class ClinicLimits:
    # DOMAIN 2.1 [V]: the label's limits; a clinic may only tighten them (checked below).
    lidocaine_plain: LidocaineLimit = PLAIN_LIDOCAINE
    lidocaine_with_epinephrine: LidocaineLimit = LIDOCAINE_WITH_EPINEPHRINE
    # DOMAIN 2.1 [V] "Reduce doses: children, elderly". The label names no ages: under 18 and 65 or
    # over are the usual conventions [U], so both are settings.
    lidocaine_reduce_under_age: int = 18
    lidocaine_reduce_from_age: int = 65
    # DOMAIN 1.2 [V]: neural prolotherapy weekly; warn under 5 days. The upper end is ours [U]:
    # a fortnight (the ulnar trial's 2-week spacing) before the course loses its weekly rhythm.
    neural_interval_days: Range = Range(5, 14)
    # DOMAIN 1.1: classic every 2-6 weeks [P/V]; rule suggestion: warn under 2 or over 8 weeks.
    classic_interval_days: Range = Range(14, 56)
    # DOMAIN 1.2: neural courses are typically 4-8 sessions [P; Lyftogt mean 7 weeks V].
    neural_typical_sessions: int = 8
    # DOMAIN 1.1: classic takes "four to twelve sessions" [P].
    classic_typical_sessions: int = 12
    # DOMAIN 4.2 [V]: a 30% fall in pain is the moderately important change (Farrar, IMMPACT);
    # the brief's review point is after the third session.
    review_after_sessions: int = 3
    responder_improvement_pct: float = 30.0
    # DOMAIN 1.2 rule suggestion: 0.1-1.0 mL per subcutaneous point, warn above 1 mL.
    neural_subcutaneous_volume_ml: Range = Range(0.1, 1.0)
    # DOMAIN 1.2 [V] deep perineural trials: 1, 2, 4 or 5 mL per injection (Wu 2017; Lin 2020).
    neural_deep_volume_ml: Range = Range(0.1, 5.0)
    # DOMAIN 1.2 rule suggestion: 27-30 G; warn for 25 G or larger.
    neural_needle_gauge: Range = Range(27, 30)
    # DOMAIN 1.1 rule suggestion: range-check classic dextrose 5-25%, warn outside it.
    classic_dextrose_pct: Range = Range(5, 25)
    # DOMAIN 1.2: D5W is the PIT solution; Lyftogt's early work used 20% glucose [V].
    neural_dextrose_pct: Range = Range(5, 20)

    def __post_init__(self) -> None:
        for name, label in (
            ("lidocaine_plain", PLAIN_LIDOCAINE),
            ("lidocaine_with_epinephrine", LIDOCAINE_WITH_EPINEPHRINE),
        ):
            limit: LidocaineLimit = getattr(self, name)
            if not limit.is_within(label):
                raise ValueError(
                    f"{name}: {limit.describe()} is looser than the label's {label.describe()}"
                )
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, int | float) and value < 0:
                raise ValueError(f"{field.name}: must not be negative")

    @classmethod
    def conservative_uk(cls) -> ClinicLimits:
        """DOMAIN 2.1: the lower 3 mg/kg (200 mg) plain-lidocaine limit of some UK tables."""
        return cls(lidocaine_plain=UK_PLAIN_LIDOCAINE)
