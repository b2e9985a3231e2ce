"""Red flags (DOMAIN 3): emergencies block, urgent referrals warn, and each names what to do."""

from __future__ import annotations

import pytest
from plan_helpers import check, codes, only

from prolotrack.core.rules import Kind, Severity


@pytest.mark.parametrize(
    ("symptom", "code"),
    [
        # DOMAIN 3.1: cauda equina syndrome, emergency, same day.
        ("bladder_dysfunction", "red_flag.cauda_equina"),
        ("bowel_dysfunction", "red_flag.cauda_equina"),
        ("saddle_anaesthesia", "red_flag.cauda_equina"),
        ("bilateral_sciatica", "red_flag.cauda_equina"),
        # DOMAIN 3.2: cervical myelopathy and meningitis, immediate emergency referral.
        ("gait_disturbance", "red_flag.cervical_myelopathy"),
        ("hand_clumsiness", "red_flag.cervical_myelopathy"),
        ("severe_headache_neck_stiffness", "red_flag.meningitis"),
        # DOMAIN 3.1 spinal infection (urgent/emergency) and 2.3 febrile illness (defer).
        ("fever", "red_flag.fever"),
    ],
)
def test_it_blocks_on_an_emergency_sign(symptom: str, code: str) -> None:
    result = check(patient={"symptoms": [symptom]})
    finding = only(result, code)
    assert finding.severity is Severity.BLOCK
    assert finding.kind is Kind.RED_FLAG
    assert result.blocked


@pytest.mark.parametrize(
    ("patient", "code"),
    [
        # DOMAIN 3.1: malignancy, urgent (days); fracture, urgent imaging; progressive deficit,
        # urgent specialist referral; infection risk factors.
        ({"history": ["cancer"]}, "red_flag.malignancy"),
        ({"symptoms": ["unexplained_weight_loss"]}, "red_flag.malignancy"),
        ({"symptoms": ["night_pain"]}, "red_flag.malignancy"),
        ({"history": ["major_trauma"]}, "red_flag.fracture"),
        ({"history": ["osteoporosis"]}, "red_flag.fracture"),
        ({"history": ["steroid_use"]}, "red_flag.fracture"),
        ({"history": ["iv_drug_use"]}, "red_flag.infection_risk"),
        ({"history": ["immunosuppression"]}, "red_flag.infection_risk"),
        ({"symptoms": ["progressive_weakness"]}, "red_flag.progressive_deficit"),
    ],
)
def test_it_warns_on_an_urgent_flag(patient: dict[str, list[str]], code: str) -> None:
    result = check(patient=patient)
    assert only(result, code).severity is Severity.WARN
    assert not result.blocked


def test_it_finds_no_red_flag_without_symptoms_or_history() -> None:
    assert not [c for c in codes(check()) if c.startswith("red_flag.")]


def test_it_tells_the_practitioner_to_send_cauda_equina_to_emergency_the_same_day() -> None:
    result = check(patient={"symptoms": ["saddle_anaesthesia", "bladder_dysfunction"]})
    message = only(result, "red_flag.cauda_equina").message
    assert message.startswith("Refer same day to emergency: suspected cauda equina")
    # The signs are listed in a fixed order, whatever order they were entered in.
    assert "(bladder dysfunction, saddle anaesthesia)" in message
    assert only(result, "red_flag.cauda_equina").source == "domain.3.1"


def test_it_tells_the_practitioner_to_send_myelopathy_to_emergency_immediately() -> None:
    result = check(patient={"symptoms": ["hand_clumsiness", "gait_disturbance"]})
    finding = only(result, "red_flag.cervical_myelopathy")
    assert finding.message.startswith("Refer immediately to emergency: suspected cervical")
    assert "(gait disturbance, hand clumsiness)" in finding.message
    assert finding.source == "domain.3.2"


def test_it_gathers_every_malignancy_flag_into_one_finding() -> None:
    result = check(
        patient={"history": ["cancer"], "symptoms": ["night_pain", "unexplained_weight_loss"]}
    )
    message = only(result, "red_flag.malignancy").message
    assert message.startswith("Refer urgently (within days)")
    assert "history of cancer, unexplained weight loss, night pain" in message


def test_it_checks_red_flags_whatever_the_region() -> None:
    # A knee plan still blocks: the patient needs the emergency department, not an injection.
    result = check(patient={"symptoms": ["bilateral_sciatica"]})
    assert result.findings[0].code == "red_flag.cauda_equina"
