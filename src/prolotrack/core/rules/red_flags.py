"""Red flags of serious spinal pathology (DOMAIN 3): refer, and stop or pause the injections.

DOMAIN 3.2, "Software rule": a positive cauda equina or myelopathy screen hard-stops the plan until
a clinician documents the referral or override; other flags are a soft stop with acknowledgement.
Meningitis signs (immediate, 3.2) and fever (infection: urgent or emergency, 3.1; systemic
illness: defer, 2.3) also block. The flags are checked whatever the region treated: a patient
with cauda equina signs needs the emergency department, not a knee injection.
"""

from __future__ import annotations

from collections.abc import Iterator

from prolotrack.core.rules.base import Check, Context, Finding, Kind, Rule, Severity
from prolotrack.core.rules.plan import Plan
from prolotrack.core.rules.vocabulary import History, Symptom, in_order, labels

CAUDA_EQUINA = Rule("red_flag.cauda_equina", Kind.RED_FLAG, Severity.BLOCK, "domain.3.1")
CERVICAL_MYELOPATHY = Rule(
    "red_flag.cervical_myelopathy", Kind.RED_FLAG, Severity.BLOCK, "domain.3.2"
)
MENINGITIS = Rule("red_flag.meningitis", Kind.RED_FLAG, Severity.BLOCK, "domain.3.2")
FEVER = Rule("red_flag.fever", Kind.RED_FLAG, Severity.BLOCK, "domain.3.1")
INFECTION_RISK = Rule("red_flag.infection_risk", Kind.RED_FLAG, Severity.WARN, "domain.3.1")
MALIGNANCY = Rule("red_flag.malignancy", Kind.RED_FLAG, Severity.WARN, "domain.3.1")
FRACTURE = Rule("red_flag.fracture", Kind.RED_FLAG, Severity.WARN, "domain.3.1")
PROGRESSIVE_DEFICIT = Rule(
    "red_flag.progressive_deficit", Kind.RED_FLAG, Severity.WARN, "domain.3.1"
)

# DOMAIN 3.1 [V]: bladder or bowel dysfunction, saddle anaesthesia, bilateral sciatica.
CAUDA_EQUINA_SIGNS = frozenset(
    {
        Symptom.BLADDER_DYSFUNCTION,
        Symptom.BOWEL_DYSFUNCTION,
        Symptom.SADDLE_ANAESTHESIA,
        Symptom.BILATERAL_SCIATICA,
    }
)
# DOMAIN 3.2 [V]: gait disturbance, hand clumsiness (bowel and bladder change is caught above).
MYELOPATHY_SIGNS = frozenset({Symptom.GAIT_DISTURBANCE, Symptom.HAND_CLUMSINESS})
# DOMAIN 3.1 [V]: history of cancer, unexplained weight loss, unremitting night pain.
MALIGNANCY_SYMPTOMS = frozenset({Symptom.UNEXPLAINED_WEIGHT_LOSS, Symptom.NIGHT_PAIN})
MALIGNANCY_HISTORY = frozenset({History.CANCER})
# DOMAIN 3.1 [V]: major trauma, osteoporosis, long-term steroid use.
FRACTURE_HISTORY = frozenset({History.MAJOR_TRAUMA, History.OSTEOPOROSIS, History.STEROID_USE})
# DOMAIN 3.1 and 3.2 [V]: IV drug use, immunosuppression.
INFECTION_HISTORY = frozenset({History.IV_DRUG_USE, History.IMMUNOSUPPRESSION})


def cauda_equina(plan: Plan, ctx: Context) -> Iterator[Finding]:
    signs = in_order(Symptom, plan.patient.symptoms & CAUDA_EQUINA_SIGNS)
    if signs:
        yield CAUDA_EQUINA.finding(
            f"Refer same day to emergency: suspected cauda equina syndrome ({labels(signs)}). "
            "Do not inject."
        )


def cervical_myelopathy(plan: Plan, ctx: Context) -> Iterator[Finding]:
    signs = in_order(Symptom, plan.patient.symptoms & MYELOPATHY_SIGNS)
    if signs:
        yield CERVICAL_MYELOPATHY.finding(
            f"Refer immediately to emergency: suspected cervical myelopathy ({labels(signs)}). "
            "Do not inject."
        )


def meningitis(plan: Plan, ctx: Context) -> Iterator[Finding]:
    if Symptom.SEVERE_HEADACHE_NECK_STIFFNESS in plan.patient.symptoms:
        yield MENINGITIS.finding(
            "Send to emergency now: severe headache with neck stiffness may be meningitis. "
            "Do not inject."
        )


def fever(plan: Plan, ctx: Context) -> Iterator[Finding]:
    if Symptom.FEVER in plan.patient.symptoms:
        yield FEVER.finding(
            "Defer the injections and assess for infection today: the patient has a fever. "
            "With back or neck pain, refer urgently for suspected spinal infection."
        )


def infection_risk(plan: Plan, ctx: Context) -> Iterator[Finding]:
    risks = in_order(History, plan.patient.history & INFECTION_HISTORY)
    if risks:
        yield INFECTION_RISK.finding(
            f"Check for signs of spinal infection (fever, feeling unwell, night pain) before "
            f"injecting, and refer urgently if there are any: {labels(risks)}."
        )


def malignancy(plan: Plan, ctx: Context) -> Iterator[Finding]:
    flags = [
        *in_order(History, plan.patient.history & MALIGNANCY_HISTORY),
        *in_order(Symptom, plan.patient.symptoms & MALIGNANCY_SYMPTOMS),
    ]
    if flags:
        yield MALIGNANCY.finding(
            f"Refer urgently (within days) to rule out malignancy before treating this as "
            f"mechanical pain: {labels(flags)}."
        )


def fracture(plan: Plan, ctx: Context) -> Iterator[Finding]:
    risks = in_order(History, plan.patient.history & FRACTURE_HISTORY)
    if risks:
        yield FRACTURE.finding(
            f"Arrange urgent imaging to rule out a fracture before injecting: {labels(risks)}."
        )


def progressive_deficit(plan: Plan, ctx: Context) -> Iterator[Finding]:
    if Symptom.PROGRESSIVE_WEAKNESS in plan.patient.symptoms:
        yield PROGRESSIVE_DEFICIT.finding(
            "Refer urgently to a specialist: progressive weakness suggests nerve root or cord "
            "compression. If both legs are weak, send to emergency the same day."
        )


RULES = (
    CAUDA_EQUINA, CERVICAL_MYELOPATHY, MENINGITIS, FEVER, INFECTION_RISK, MALIGNANCY, FRACTURE,
    PROGRESSIVE_DEFICIT,
)  # fmt: skip
CHECKS: tuple[Check, ...] = (
    cauda_equina, cervical_myelopathy, meningitis, fever, infection_risk, malignancy, fracture,
    progressive_deficit,
)  # fmt: skip
