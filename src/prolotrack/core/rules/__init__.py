"""Clinical safety rules over an injection plan: red flags, contraindications, allergies, doses,
scope of practice, intervals, solutions, sites and series.

Public API::

    plan = parse_plan_json(text)    # or parse_plan(data); raises PlanError(path, message)
    result = check_plan(plan, clinic_limits=ClinicLimits())
    result.blocked, result.findings, result.totals, result.as_dict()

Every rule (``RULES``) has a stable code, a kind, a severity and a source key into DOMAIN.md.
"""

from prolotrack.core.rules.base import Finding, Kind, Rule, Severity
from prolotrack.core.rules.checker import RULES, PlanResult, Totals, check_plan
from prolotrack.core.rules.limits import ClinicLimits, Range
from prolotrack.core.rules.plan import (
    Injection,
    Patient,
    Plan,
    PlanError,
    Practitioner,
    Series,
    parse_plan,
    parse_plan_json,
)
from prolotrack.core.rules.vocabulary import Allergy, History, Profession, Sex, Symptom

__all__ = [
    "RULES",
    "Allergy",
    "ClinicLimits",
    "Finding",
    "History",
    "Injection",
    "Kind",
    "Patient",
    "Plan",
    "PlanError",
    "PlanResult",
    "Practitioner",
    "Profession",
    "Range",
    "Rule",
    "Series",
    "Severity",
    "Sex",
    "Symptom",
    "Totals",
    "check_plan",
    "parse_plan",
    "parse_plan_json",
]
