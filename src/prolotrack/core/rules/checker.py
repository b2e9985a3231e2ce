"""The plan checker: every rule over one plan, in one call.

The session form, the API and the CLI all call ``check_plan`` so that their answers cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from prolotrack.core.catalog import load_catalog
from prolotrack.core.doses import session_doses
from prolotrack.core.rules import (
    contraindications,
    dose_limits,
    red_flags,
    scope,
    series,
    technique,
)
from prolotrack.core.rules.base import Check, Context, Finding, Rule, Severity
from prolotrack.core.rules.limits import ClinicLimits
from prolotrack.core.rules.plan import Plan
from prolotrack.core.rules.scope_table import load_scope_table

# In the order findings of equal severity are listed: the most urgent topics first.
_MODULES = (red_flags, contraindications, dose_limits, scope, series, technique)
RULES: tuple[Rule, ...] = tuple(rule for module in _MODULES for rule in module.RULES)
CHECKS: tuple[Check, ...] = tuple(check for module in _MODULES for check in module.CHECKS)


@dataclass(frozen=True, slots=True)
class Totals:
    lidocaine_mg: float
    dextrose_g: float
    volume_ml: float

    def as_dict(self) -> dict[str, float]:
        # Rounded for reading; the rules compare the unrounded values.
        return {
            "lidocaine_mg": round(self.lidocaine_mg, 3),
            "dextrose_g": round(self.dextrose_g, 3),
            "volume_ml": round(self.volume_ml, 3),
        }


@dataclass(frozen=True, slots=True)
class PlanResult:
    findings: tuple[Finding, ...]
    totals: Totals

    @property
    def blocked(self) -> bool:
        """True when a finding must stop the plan until a physician documents an override."""
        return any(f.severity is Severity.BLOCK for f in self.findings)

    def by_severity(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is severity)

    def as_dict(self) -> dict[str, object]:
        return {
            "findings": [f.as_dict() for f in self.findings],
            "totals": self.totals.as_dict(),
        }


def check_plan(plan: Plan, *, clinic_limits: ClinicLimits | None = None) -> PlanResult:
    """Every finding for ``plan``, blocks first, then warnings, then information."""
    doses = session_doses(plan.injections)
    ctx = Context(
        limits=clinic_limits or ClinicLimits(),
        doses=doses,
        catalog=load_catalog(),
        scope=load_scope_table(),
    )
    findings = [finding for check in CHECKS for finding in check(plan, ctx)]
    findings.sort(key=lambda f: f.severity.rank)  # stable: rule order within a severity
    return PlanResult(
        findings=tuple(findings),
        totals=Totals(
            lidocaine_mg=doses.lidocaine_mg, dextrose_g=doses.dextrose_g, volume_ml=doses.volume_ml
        ),
    )
