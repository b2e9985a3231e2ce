"""Scope of practice (DOMAIN 6): the shipped table's decisions, the findings, and the loader."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

import pytest
from plan_helpers import CLASSIC, check, codes, injection, only

from prolotrack.core.catalog import CatalogError, Depth, load_catalog
from prolotrack.core.rules import Profession, Severity
from prolotrack.core.rules.scope_table import Outcome, build_scope_table, load_scope_table

ND = "naturopathic_doctor"
NP = "nurse_practitioner"
PART_A = "cnpbc_ait_a"
PART_B = "cnpbc_ait_b"


def outcome(
    jurisdiction: str,
    profession: str,
    region: str,
    depth: str,
    certifications: tuple[str, ...] = (),
    site: str | None = None,
) -> Outcome:
    return (
        load_scope_table()
        .decide(
            jurisdiction=jurisdiction,
            profession=Profession(profession),
            certifications=frozenset(certifications),
            region=region,
            depth=Depth(depth),
            site=site,
        )
        .outcome
    )


@pytest.mark.parametrize(
    ("jurisdiction", "profession", "region", "depth", "certs", "expected"),
    [
        # British Columbia: NDs inject subcutaneously; joints need AIT Part A, the spine Part B.
        ("CA-BC", ND, "knee", "subcutaneous", (), Outcome.ALLOWED),
        ("CA-BC", ND, "knee", "deep", (), Outcome.CERTIFICATION_REQUIRED),
        ("CA-BC", ND, "knee", "intra_articular", (PART_A,), Outcome.ALLOWED),
        ("CA-BC", ND, "neck_shoulder", "deep", (PART_A,), Outcome.ALLOWED),
        ("CA-BC", ND, "lower_leg_foot", "intra_articular", (), Outcome.CERTIFICATION_REQUIRED),
        ("CA-BC", ND, "lumbar_spine", "deep", (PART_A,), Outcome.CERTIFICATION_REQUIRED),
        ("CA-BC", ND, "thoracic_spine", "deep", (PART_B,), Outcome.ALLOWED),
        ("CA-BC", ND, "sacroiliac_pelvis", "deep", (PART_B,), Outcome.ALLOWED),
        # Part B includes Part A.
        ("CA-BC", ND, "knee", "deep", (PART_B,), Outcome.ALLOWED),
        # The face is in neither part: deep injections there fall back to Canada's rule.
        ("CA-BC", ND, "face", "deep", (PART_B,), Outcome.NOT_ALLOWED),
        ("CA-BC", "physician", "cervical_spine", "deep", (), Outcome.ALLOWED),
        # Canada: deep injections are for physicians; other subcutaneous scopes are unknown.
        ("CA-BC", NP, "knee", "deep", (), Outcome.NOT_ALLOWED),
        ("CA-BC", NP, "knee", "subcutaneous", (), Outcome.NOT_KNOWN),
        ("CA-ON", ND, "knee", "deep", (PART_B,), Outcome.NOT_ALLOWED),
        ("CA-ON", ND, "knee", "subcutaneous", (), Outcome.NOT_KNOWN),
        ("CA-AB", "other", "hip_low_back", "intra_articular", (), Outcome.NOT_ALLOWED),
        ("CA-ON", "physician", "lumbar_spine", "deep", (), Outcome.ALLOWED),
        ("CA", "physician", "knee", "deep", (), Outcome.ALLOWED),
        # North Dakota bars naturopaths from intra-articular and intraspinal injections.
        ("US-ND", ND, "knee", "intra_articular", (), Outcome.NOT_ALLOWED),
        ("US-ND", ND, "knee", "deep", (), Outcome.NOT_KNOWN),
        ("US-ND", "physician", "knee", "intra_articular", (), Outcome.ALLOWED),
        # Nowhere else is known.
        ("US-CA", "physician", "knee", "deep", (), Outcome.UNKNOWN_JURISDICTION),
        ("GB", "physician", "knee", "deep", (), Outcome.UNKNOWN_JURISDICTION),
    ],
)
def test_it_decides_from_the_shipped_table(
    jurisdiction: str,
    profession: str,
    region: str,
    depth: str,
    certs: tuple[str, ...],
    expected: Outcome,
) -> None:
    assert outcome(jurisdiction, profession, region, depth, certs) is expected


def test_it_bars_a_north_dakota_naturopath_from_a_caudal_epidural() -> None:
    site = "n_caudal_epidural"
    assert outcome("US-ND", ND, "sacroiliac_pelvis", "deep", site=site) is Outcome.NOT_ALLOWED
    assert outcome("US-ND", ND, "sacroiliac_pelvis", "deep") is Outcome.NOT_KNOWN


def _nd(*certifications: str) -> dict[str, Any]:
    return {"profession": ND, "certifications": list(certifications)}


def test_it_blocks_a_deep_injection_by_an_uncertified_bc_naturopath() -> None:
    result = check(
        practitioner=_nd(),
        series=CLASSIC,
        injections=[injection(depth="deep"), injection(depth="deep", side="right")],
    )
    finding = only(result, "scope_of_practice.certification_required")
    assert finding.severity is Severity.BLOCK
    assert finding.source == "domain.6"
    assert finding.injections == (0, 1)
    assert finding.message == (
        "Refer to a physician for injections 1, 2, or record the certification: in CA-BC, a "
        "naturopathic doctor needs CNPBC Advanced Injection Therapies, Part A (peripheral "
        "joints) to give deep injections in the knee."
    )


def test_it_lets_a_certified_bc_naturopath_inject_a_joint() -> None:
    result = check(practitioner=_nd(PART_A), series=CLASSIC, injections=[injection(depth="deep")])
    assert not [c for c in codes(result) if c.startswith("scope_of_practice.")]


def test_it_asks_for_part_b_for_the_spine() -> None:
    spine = injection(region="lumbar_spine", side="midline", depth="deep")
    blocked = check(practitioner=_nd(PART_A), series=CLASSIC, injections=[spine])
    finding = only(blocked, "scope_of_practice.certification_required")
    assert "Part B (axial skeleton" in finding.message
    allowed = check(practitioner=_nd(PART_B), series=CLASSIC, injections=[spine])
    assert "scope_of_practice.certification_required" not in codes(allowed)


def test_it_blocks_deep_injections_by_non_physicians_elsewhere_in_canada() -> None:
    result = check(
        jurisdiction="CA-ON",
        practitioner=_nd(),
        series=CLASSIC,
        injections=[injection(depth="intra_articular")],
    )
    finding = only(result, "scope_of_practice.not_permitted")
    assert finding.severity is Severity.BLOCK
    assert finding.message.startswith(
        "Refer to a physician for injection 1: in CA-ON, a naturopathic doctor may not give "
        "intra-articular injections in the knee. In Canada only physicians"
    )


def test_it_warns_when_the_table_does_not_know_the_scope() -> None:
    result = check(jurisdiction="CA-ON", practitioner=_nd())
    finding = only(result, "scope_of_practice.not_known")
    assert finding.severity is Severity.WARN
    assert finding.message.startswith("Confirm with the regulator before giving injection 1")
    assert "O. Reg. 168/15" in finding.message
    assert not result.blocked


def test_it_warns_once_for_a_jurisdiction_it_does_not_know() -> None:
    result = check(jurisdiction="US-CA", injections=[injection(), injection(side="right")])
    finding = only(result, "scope_of_practice.unknown_jurisdiction")
    assert finding.severity is Severity.WARN
    assert finding.injections == (0, 1)
    assert "no scope rules for US-CA" in finding.message


def test_it_says_nothing_about_scope_without_injections() -> None:
    assert codes(check(jurisdiction="US-CA", injections=[])) == []


def test_it_finds_nothing_for_a_physician_in_bc() -> None:
    spine = injection(region="cervical_spine", side="midline", depth="deep")
    result = check(series=CLASSIC, injections=[spine])
    assert not [c for c in codes(result) if c.startswith("scope_of_practice.")]


# --- the loader --------------------------------------------------------------------------------


@cache
def _shipped_text() -> str:
    return resources.files("prolotrack.core.data").joinpath("scope_of_practice.json").read_text()


def shipped() -> dict[str, Any]:
    return copy.deepcopy(json.loads(_shipped_text()))


def test_it_loads_the_shipped_table_with_every_rule_cited() -> None:
    table = load_scope_table()
    sources = load_catalog().sources
    assert table.rules
    assert {PART_A, PART_B} <= set(table.certifications)
    assert all(set(rule.sources) <= set(sources) for rule in table.rules)
    assert table.held(frozenset({PART_B})) == {PART_A, PART_B}


def _rule0(data: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = data["rules"][0]
    return rule


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: _rule0(d).update(regions=["elbow"]), "rules[0]: regions: unknown region"),
        (lambda d: _rule0(d).update(sites=["n_nowhere"]), "rules[0]: sites: unknown site"),
        (lambda d: _rule0(d).update(depths=[]), "rules[0]: depths: must not be empty"),
        (lambda d: _rule0(d).update(depths="every"), "rules[0]: depths: must be a list"),
        (
            lambda d: _rule0(d).update(professions=["chiropractor"]),
            "rules[0]: professions: unknown profession 'chiropractor'",
        ),
        (lambda d: _rule0(d).update(decision="maybe"), "rules[0]: decision: 'maybe' is not"),
        (
            lambda d: _rule0(d).update(decision="not_allowed", certifications=[PART_A]),
            "rules[0]: certifications: only an allowed rule can require a certification",
        ),
        (
            lambda d: _rule0(d).update(certifications=["ait"]),
            "rules[0]: certifications: unknown certification 'ait'",
        ),
        (lambda d: _rule0(d).update(sources=["domain.99"]), "rules[0]: sources: unknown source"),
        (lambda d: _rule0(d).update(sources=[]), "rules[0]: sources: must not be empty"),
        (
            lambda d: _rule0(d).update(jurisdiction="ca-bc"),
            "rules[0]: jurisdiction: 'ca-bc' is not",
        ),
        (lambda d: _rule0(d).update(note=""), "rules[0]: note: must be a non-empty string"),
        (lambda d: _rule0(d).update(colour="red"), "rules[0]: colour: is not a known field"),
        (lambda d: _rule0(d).pop("note"), "rules[0]: note: is missing"),
        (
            lambda d: d["certifications"][0].update(includes=[PART_A]),
            "certifications[0]: includes: a certification cannot include itself",
        ),
        (
            lambda d: d["certifications"][0].update(includes=["x"]),
            "certifications[0]: includes: unknown certification 'x'",
        ),
        (
            lambda d: d["certifications"].append(d["certifications"][0]),
            "certifications[2]: code: is a duplicate",
        ),
        (lambda d: d.update(rules={}), "(file): rules: must be a list"),
        (lambda d: d.pop("rules"), "(file): rules: is missing"),
    ],
)
def test_it_refuses_a_broken_table_naming_the_entry_and_field(change: Any, error: str) -> None:
    data = shipped()
    change(data)
    with pytest.raises(CatalogError) as caught:
        build_scope_table(data, load_catalog())
    assert str(caught.value).startswith(f"scope_of_practice.json: {error}")
