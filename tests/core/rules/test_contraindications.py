"""Contraindications, precautions and allergies (DOMAIN 2.2 and 2.3)."""

from __future__ import annotations

import pytest
from plan_helpers import CLASSIC, check, codes, injection, only

from prolotrack.core.rules import Kind, Severity


def test_it_blocks_an_injection_through_infected_skin() -> None:
    finding = only(check(patient={"infection_at_site": True}), "contraindication.infection_at_site")
    assert finding.severity is Severity.BLOCK
    assert finding.kind is Kind.CONTRAINDICATION
    assert finding.source == "domain.2.3"
    assert "contraindication.infection_at_site" not in codes(check())


@pytest.mark.parametrize(
    ("patient", "wording"),
    [
        ({"anticoagulant": True}, "takes an anticoagulant"),
        ({"bleeding_disorder": True}, "has a bleeding disorder"),
        (
            {"anticoagulant": True, "bleeding_disorder": True},
            "takes an anticoagulant and has a bleeding disorder",
        ),
    ],
)
def test_it_warns_about_bleeding_risk(patient: dict[str, bool], wording: str) -> None:
    finding = only(check(patient=patient), "contraindication.bleeding_risk")
    assert finding.severity is Severity.WARN
    assert wording in finding.message
    assert finding.message.startswith("Modify or defer the injections")


def test_it_warns_about_pregnancy() -> None:
    finding = only(check(patient={"pregnant": True}), "contraindication.pregnancy")
    assert finding.severity is Severity.WARN
    assert "contraindication.pregnancy" not in codes(check())


def test_it_blocks_lidocaine_for_a_local_anaesthetic_allergy_naming_the_injections() -> None:
    result = check(
        patient={"allergies": ["local_anaesthetic"]},
        injections=[
            injection(solution={"lidocaine_pct": 0.1}),
            injection(),
            injection(solution={"lidocaine_pct": 0.2}),
        ],
    )
    finding = only(result, "allergy.local_anaesthetic")
    assert finding.severity is Severity.BLOCK
    assert finding.kind is Kind.ALLERGY
    assert finding.injections == (0, 2)
    assert finding.message.startswith("Remove the lidocaine")
    assert finding.message.endswith("(injections 1, 3).")


def test_it_lets_a_local_anaesthetic_allergy_pass_without_lidocaine() -> None:
    result = check(patient={"allergies": ["local_anaesthetic"]})
    assert "allergy.local_anaesthetic" not in codes(result)
    assert not result.blocked


def test_it_warns_about_corn_allergy_only_when_there_is_dextrose() -> None:
    with_dextrose = check(patient={"allergies": ["corn"]})
    finding = only(with_dextrose, "allergy.corn_dextrose")
    # DOMAIN 2.2: a precaution, not a contraindication.
    assert finding.severity is Severity.WARN
    assert "precaution" in finding.message
    mannitol_only = check(
        patient={"allergies": ["corn"]},
        injections=[injection(solution={"dextrose_pct": 0, "mannitol_pct": 5})],
    )
    assert "allergy.corn_dextrose" not in codes(mannitol_only)


def test_it_gives_a_diabetic_patient_the_glucose_load_in_grams() -> None:
    # DOMAIN 2.2: a 10-mL 25% session is 2.5 g of glucose.
    result = check(
        patient={"diabetes": True},
        series=CLASSIC,
        injections=[injection(depth="deep", volume_ml=10, solution={"dextrose_pct": 25})],
    )
    finding = only(result, "contraindication.diabetes_glucose_load")
    assert finding.severity is Severity.INFO
    assert "2.5 g of glucose" in finding.message
    assert result.totals.dextrose_g == pytest.approx(2.5)


def test_it_gives_small_glucose_loads_to_the_hundredth_of_a_gram() -> None:
    # 0.5 mL of 5% is 25 mg.
    finding = only(check(patient={"diabetes": True}), "contraindication.diabetes_glucose_load")
    assert "0.03 g of glucose" in finding.message


@pytest.mark.parametrize("profession", ["naturopathic_doctor", "nurse_practitioner", "other"])
def test_it_asks_a_non_physician_to_record_the_supervising_doctor(profession: str) -> None:
    result = check(
        patient={"diabetes": True},
        practitioner={"profession": profession, "certifications": []},
    )
    finding = only(result, "contraindication.diabetes_supervision")
    assert finding.severity is Severity.WARN
    assert "under the supervision of a doctor" in finding.message


def test_it_does_not_ask_a_physician_for_supervision() -> None:
    result = check(patient={"diabetes": True})
    assert "contraindication.diabetes_supervision" not in codes(result)


def test_it_says_nothing_about_glucose_without_dextrose_or_diabetes() -> None:
    no_dextrose = check(
        patient={"diabetes": True},
        practitioner={"profession": "naturopathic_doctor", "certifications": []},
        injections=[injection(solution={"dextrose_pct": 0, "mannitol_pct": 5})],
    )
    assert not [c for c in codes(no_dextrose) if c.startswith("contraindication.diabetes")]
    assert not [c for c in codes(check()) if c.startswith("contraindication.diabetes")]
