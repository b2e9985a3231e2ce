"""Contraindications, precautions and allergies (DOMAIN 2.2 and 2.3)."""

from __future__ import annotations

from collections.abc import Iterator

from prolotrack.core.rules.base import Check, Context, Finding, Kind, Rule, Severity, number
from prolotrack.core.rules.plan import Injection, Plan
from prolotrack.core.rules.vocabulary import Allergy, Profession

INFECTION_AT_SITE = Rule(
    "contraindication.infection_at_site", Kind.CONTRAINDICATION, Severity.BLOCK, "domain.2.3"
)
BLEEDING_RISK = Rule(
    "contraindication.bleeding_risk", Kind.CONTRAINDICATION, Severity.WARN, "domain.2.3"
)
PREGNANCY = Rule("contraindication.pregnancy", Kind.CONTRAINDICATION, Severity.WARN, "domain.2.3")
GLUCOSE_LOAD = Rule(
    "contraindication.diabetes_glucose_load", Kind.CONTRAINDICATION, Severity.INFO, "domain.2.2"
)
DIABETES_SUPERVISION = Rule(
    "contraindication.diabetes_supervision", Kind.CONTRAINDICATION, Severity.WARN, "domain.2.2"
)
LOCAL_ANAESTHETIC = Rule("allergy.local_anaesthetic", Kind.ALLERGY, Severity.BLOCK, "domain.2.3")
CORN = Rule("allergy.corn_dextrose", Kind.ALLERGY, Severity.WARN, "domain.2.2")


def infection_at_site(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.3 [V]: infection at or near the injection site: exclude or defer.
    if plan.patient.infection_at_site:
        yield INFECTION_AT_SITE.finding(
            "Do not inject through infected skin: defer until the infection at the site has "
            "cleared, or choose another site."
        )


def bleeding_risk(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.3 [P/V]: anticoagulants and bleeding disorders: caution, modify or defer.
    patient = plan.patient
    reasons = [
        *(["takes an anticoagulant"] if patient.anticoagulant else []),
        *(["has a bleeding disorder"] if patient.bleeding_disorder else []),
    ]
    if reasons:
        yield BLEEDING_RISK.finding(
            f"Modify or defer the injections: the patient {' and '.join(reasons)}. Agree any "
            "change to anticoagulants with the prescriber and record it."
        )


def pregnancy(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.3 [V]: pregnancy is commonly excluded from trials, so safety is not established.
    if plan.patient.pregnant:
        yield PREGNANCY.finding(
            "Discuss and record the risks before injecting: the patient is pregnant, and trials "
            "exclude pregnancy, so safety has not been studied."
        )


def diabetes_glucose_load(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.2 [P/U]: 1 mL of 5% is 50 mg of glucose; no glucose-monitoring study was found.
    if plan.patient.diabetes and ctx.doses.dextrose_g > 0:
        yield GLUCOSE_LOAD.finding(
            f"Tell the patient this session gives {number(ctx.doses.dextrose_g, 2)} g of glucose "
            "and to check blood glucose as usual: no study has measured its effect."
        )


def diabetes_supervision(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.2 [P]: the clinics that give dextrose to diabetics do so under a doctor's care.
    if (
        plan.patient.diabetes
        and ctx.doses.dextrose_g > 0
        and plan.practitioner.profession is not Profession.PHYSICIAN
    ):
        yield DIABETES_SUPERVISION.finding(
            "Record the supervising physician before injecting dextrose: clinics that offer it "
            "treat diabetic patients under the supervision of a doctor."
        )


def local_anaesthetic_allergy(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.3: local anaesthetic allergy: use a solution without one (PIT D5W needs none).
    def problem(inj: Injection) -> str | None:
        if not inj.solution.has_lidocaine:
            return None
        return (
            "Remove the lidocaine, as the patient is allergic to local anaesthetics; plain 5% "
            "dextrose needs none."
        )

    if Allergy.LOCAL_ANAESTHETIC in plan.patient.allergies:
        yield from LOCAL_ANAESTHETIC.each(plan.injections, problem)


def corn_allergy(plan: Plan, ctx: Context) -> Iterator[Finding]:
    # DOMAIN 2.2 [P]: dextrose is usually made from corn; a precaution, not a contraindication.
    if Allergy.CORN in plan.patient.allergies and ctx.doses.dextrose_g > 0:
        yield CORN.finding(
            "Warn the patient and watch for an allergic reaction: dextrose is usually made from "
            "corn and the patient reports a corn allergy (a precaution; the risk is unproven)."
        )


RULES = (
    INFECTION_AT_SITE, BLEEDING_RISK, PREGNANCY, GLUCOSE_LOAD, DIABETES_SUPERVISION,
    LOCAL_ANAESTHETIC, CORN,
)  # fmt: skip
CHECKS: tuple[Check, ...] = (
    infection_at_site, bleeding_risk, pregnancy, diabetes_glucose_load, diabetes_supervision,
    local_anaesthetic_allergy, corn_allergy,
)  # fmt: skip
