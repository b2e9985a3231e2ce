"""The plan checker as a whole: the rule register, ordering, totals, output and properties."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_helpers import CLASSIC, check, codes, injection, plan_data

from prolotrack.core.catalog import load_catalog
from prolotrack.core.doses import dextrose_g, lidocaine_mg
from prolotrack.core.rules import RULES, Kind, Severity, check_plan, parse_plan


def test_it_finds_nothing_in_a_clean_plan() -> None:
    result = check()
    assert result.findings == ()
    assert not result.blocked
    assert result.as_dict() == {
        "findings": [],
        "totals": {"lidocaine_mg": 0.0, "dextrose_g": 0.025, "volume_ml": 0.5},
    }


def test_it_gives_every_rule_a_unique_code_named_after_its_kind() -> None:
    all_codes = [rule.code for rule in RULES]
    assert len(all_codes) == len(set(all_codes))
    for rule in RULES:
        assert rule.code.startswith(f"{rule.kind.value}.")
        assert rule.code.split(".", 1)[1].replace("_", "").isalnum()


def test_it_cites_a_domain_section_for_every_rule() -> None:
    sources = load_catalog().sources
    for rule in RULES:
        assert rule.source.startswith("domain."), rule.code
        assert rule.source in sources, rule.code


def test_it_has_rules_of_every_kind() -> None:
    assert {rule.kind for rule in RULES} == set(Kind)


def test_it_blocks_the_emergencies_of_the_issue() -> None:
    blocking = {rule.code for rule in RULES if rule.severity is Severity.BLOCK}
    assert {
        "red_flag.cauda_equina",
        "red_flag.cervical_myelopathy",
        "contraindication.infection_at_site",
        "allergy.local_anaesthetic",
        "dose_limit.lidocaine_max",
        "scope_of_practice.not_permitted",
        "scope_of_practice.certification_required",
    } <= blocking


def test_it_refuses_a_rule_code_outside_its_kind() -> None:
    from prolotrack.core.rules import Rule

    with pytest.raises(ValueError, match="must start with its kind"):
        Rule("allergy.corn", Kind.RED_FLAG, Severity.WARN, "domain.2.2")


def test_it_lists_blocks_first_then_warnings_then_information() -> None:
    result = check(
        patient={"diabetes": True, "pregnant": True, "symptoms": ["saddle_anaesthesia"]},
        practitioner={"profession": "naturopathic_doctor", "certifications": []},
        series=CLASSIC,
        injections=[injection(depth="deep", solution={"dextrose_pct": 15, "lidocaine_pct": 0.2})],
    )
    ranks = [f.severity.rank for f in result.findings]
    assert ranks == sorted(ranks)
    assert {f.severity for f in result.findings} == set(Severity)
    assert result.findings[0].code == "red_flag.cauda_equina"
    assert result.by_severity(Severity.INFO)


def test_it_reports_the_issue_example_plan() -> None:
    # The example plan of the issue, as a naturopathic doctor with Part A in British Columbia.
    result = check(
        practitioner={"profession": "naturopathic_doctor", "certifications": ["cnpbc_ait_a"]},
        patient={"weight_kg": 61.0, "diabetes": True, "allergies": ["corn"]},
        series={"session_number": 3, "previous_session_date": "2026-10-29"},
        injections=[injection(volume_ml=1.0)],
    )
    assert codes(result) == [
        "contraindication.diabetes_supervision",
        "allergy.corn_dextrose",
        "contraindication.diabetes_glucose_load",
    ]
    assert not result.blocked


def test_it_prints_findings_with_exactly_the_five_documented_fields() -> None:
    result = check(patient={"infection_at_site": True})
    (finding,) = result.as_dict()["findings"]  # type: ignore[misc]
    assert finding == {
        "code": "contraindication.infection_at_site",
        "kind": "contraindication",
        "severity": "block",
        "message": (
            "Do not inject through infected skin: defer until the infection at the site has "
            "cleared, or choose another site."
        ),
        "source": "domain.2.3",
    }


def test_it_is_deterministic() -> None:
    data = plan_data(
        patient={"symptoms": ["night_pain", "fever"], "history": ["cancer", "osteoporosis"]},
        injections=[injection(volume_ml=2), injection(needle_gauge=25)],
    )
    plan = parse_plan(data)
    assert check_plan(plan) == check_plan(plan)


SYMPTOMS = [
    "bladder_dysfunction", "saddle_anaesthesia", "progressive_weakness", "fever", "night_pain",
    "hand_clumsiness", "severe_headache_neck_stiffness",
]  # fmt: skip
REGIONS = list(load_catalog().regions)

injection_data = st.builds(
    lambda region, depth, volume, gauge, dextrose, lido, epi: injection(
        region=region,
        side="midline",
        depth=depth,
        volume_ml=volume,
        needle_gauge=gauge,
        solution={"dextrose_pct": dextrose, "lidocaine_pct": lido, "epinephrine": epi},
    ),
    st.sampled_from(REGIONS),
    st.sampled_from(["subcutaneous", "deep", "intra_articular"]),
    st.floats(min_value=0.05, max_value=20),
    st.integers(min_value=18, max_value=33),
    st.floats(min_value=0, max_value=50),
    st.floats(min_value=0, max_value=2),
    st.booleans(),
)
plans = st.builds(
    lambda injections, profession, jurisdiction, modality, symptoms, weight, diabetes: plan_data(
        injections=injections,
        jurisdiction=jurisdiction,
        practitioner={"profession": profession, "certifications": []},
        series={"modality": modality},
        patient={"symptoms": symptoms, "weight_kg": weight, "diabetes": diabetes},
    ),
    st.lists(injection_data, max_size=12),
    st.sampled_from(["physician", "naturopathic_doctor", "nurse_practitioner", "other"]),
    st.sampled_from(["CA-BC", "CA-ON", "US-ND", "US-CA"]),
    st.sampled_from(["neural", "classic"]),
    st.lists(st.sampled_from(SYMPTOMS), unique=True, max_size=3),
    st.none() | st.floats(min_value=1, max_value=400),
    st.booleans(),
)


@settings(max_examples=150)
@given(data=plans)
def test_it_checks_any_valid_plan_consistently(data: dict[str, Any]) -> None:
    result = check_plan(parse_plan(data))
    known = {rule.code: rule for rule in RULES}
    for finding in result.findings:
        rule = known[finding.code]
        assert (finding.kind, finding.severity, finding.source) == (
            rule.kind,
            rule.severity,
            rule.source,
        )
        assert finding.message and finding.message[0].isupper()
        assert finding.message.endswith(".")
        assert all(0 <= i < len(data["injections"]) for i in finding.injections)
    assert result.blocked == any(f.severity is Severity.BLOCK for f in result.findings)
    # Totals add up over the injections.
    shots = data["injections"]
    sol = [s["solution"] for s in shots]
    assert math.isclose(
        result.totals.lidocaine_mg,
        sum(
            lidocaine_mg(s["volume_ml"], x["lidocaine_pct"])
            for s, x in zip(shots, sol, strict=True)
        ),
        abs_tol=1e-9,
    )
    assert math.isclose(
        result.totals.dextrose_g,
        sum(dextrose_g(s["volume_ml"], x["dextrose_pct"]) for s, x in zip(shots, sol, strict=True)),
        abs_tol=1e-9,
    )
    assert math.isclose(result.totals.volume_ml, sum(s["volume_ml"] for s in shots), abs_tol=1e-9)


@settings(max_examples=50)
@given(data=plans, extra=injection_data)
def test_it_never_lowers_the_totals_when_an_injection_is_added(
    data: dict[str, Any], extra: dict[str, Any]
) -> None:
    before = check_plan(parse_plan(data)).totals
    data["injections"] = [*data["injections"], extra]
    after = check_plan(parse_plan(data)).totals
    assert after.lidocaine_mg >= before.lidocaine_mg
    assert after.dextrose_g >= before.dextrose_g
    assert after.volume_ml > before.volume_ml
