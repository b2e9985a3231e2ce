"""Lidocaine over the whole session against the label's limits (DOMAIN 2.1).

The label gives one limit for plain lidocaine (4.5 mg/kg, at most 300 mg) and one for lidocaine
with epinephrine (7 mg/kg, at most 500 mg), and says the dose is the session's total. It gives no
rule for a session that mixes both, so such a session is held to the stricter, plain limit.
"""

from __future__ import annotations

from collections.abc import Iterator

from prolotrack.core.doses import LidocaineLimit, SessionDoses
from prolotrack.core.rules.base import Check, Context, Finding, Kind, Rule, Severity, number
from prolotrack.core.rules.plan import Plan

LIDOCAINE_MAX = Rule("dose_limit.lidocaine_max", Kind.DOSE_LIMIT, Severity.BLOCK, "domain.2.1")
LIDOCAINE_TOTAL = Rule("dose_limit.lidocaine_total", Kind.DOSE_LIMIT, Severity.INFO, "domain.2.1")
WEIGHT_UNKNOWN = Rule("dose_limit.weight_unknown", Kind.DOSE_LIMIT, Severity.WARN, "domain.2.1")
REDUCE_FOR_AGE = Rule("dose_limit.reduce_for_age", Kind.DOSE_LIMIT, Severity.WARN, "domain.2.1")

# Decimal volumes are inexact in binary floating point (0.1 + 0.2 is 0.30000000000000004), so a
# total can land a hair above an exact limit; a millionth of a milligram is no dose and must not
# block a plan that is at the limit.
TOLERANCE_MG = 1e-6


def applicable_limit(doses: SessionDoses, ctx: Context) -> tuple[LidocaineLimit, str]:
    """The limit for this session's lidocaine, and its name for messages."""
    if doses.all_lidocaine_has_epinephrine:
        return ctx.limits.lidocaine_with_epinephrine, "with epinephrine"
    if doses.lidocaine_with_epinephrine_mg > 0:
        return ctx.limits.lidocaine_plain, "plain and with epinephrine mixed, so the plain limit"
    return ctx.limits.lidocaine_plain, "plain"


def _describe(plan: Plan, limit: LidocaineLimit, name: str) -> str:
    weight = plan.patient.weight_kg
    for_whom = "weight unknown" if weight is None else f"{number(weight)} kg"
    limit_mg = limit.limit_mg(weight)
    return f"{number(limit_mg)} mg allowed ({for_whom}; {name}: {limit.describe()})"


def lidocaine_max(plan: Plan, ctx: Context) -> Iterator[Finding]:
    total = ctx.doses.lidocaine_mg
    limit, name = applicable_limit(ctx.doses, ctx)
    if total > limit.limit_mg(plan.patient.weight_kg) + TOLERANCE_MG:
        yield LIDOCAINE_MAX.finding(
            f"Reduce the lidocaine: {number(total)} mg this session is over the "
            f"{_describe(plan, limit, name)}. Use less volume or a weaker mix."
        )


def lidocaine_total(plan: Plan, ctx: Context) -> Iterator[Finding]:
    total = ctx.doses.lidocaine_mg
    limit, name = applicable_limit(ctx.doses, ctx)
    if 0 < total <= limit.limit_mg(plan.patient.weight_kg) + TOLERANCE_MG:
        yield LIDOCAINE_TOTAL.finding(
            f"Lidocaine this session: {number(total)} mg of the {_describe(plan, limit, name)}."
        )


def weight_unknown(plan: Plan, ctx: Context) -> Iterator[Finding]:
    if plan.patient.weight_kg is None and ctx.doses.lidocaine_mg > 0:
        limit, _ = applicable_limit(ctx.doses, ctx)
        yield WEIGHT_UNKNOWN.finding(
            f"Weigh the patient: the lidocaine limit is per kilogram, so only the "
            f"{number(limit.max_mg)} mg cap could be checked."
        )


def reduce_for_age(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.1 [V]: reduce doses in children and the elderly (ages are clinic settings [U]).
    age = plan.patient.age
    limits = ctx.limits
    if ctx.doses.lidocaine_mg > 0 and (
        age < limits.lidocaine_reduce_under_age or age >= limits.lidocaine_reduce_from_age
    ):
        who = "children" if age < limits.lidocaine_reduce_under_age else "elderly patients"
        yield REDUCE_FOR_AGE.finding(
            f"Use a lower lidocaine dose than the limit: the label asks for reduced doses in "
            f"{who} (the patient is {age})."
        )


RULES = (LIDOCAINE_MAX, LIDOCAINE_TOTAL, WEIGHT_UNKNOWN, REDUCE_FOR_AGE)
CHECKS: tuple[Check, ...] = (lidocaine_max, lidocaine_total, weight_unknown, reduce_for_age)
