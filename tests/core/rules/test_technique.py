"""Each injection's solution, volume, needle, depth and site (DOMAIN 1, 2.4)."""

from __future__ import annotations

from typing import Any

import pytest
from plan_helpers import CLASSIC, check, codes, injection, only

from prolotrack.core.rules import Kind, Severity


def neural(**changes: Any) -> list[str]:
    return codes(check(injections=[injection(**changes)]))


def classic(**changes: Any) -> list[str]:
    changes.setdefault("depth", "deep")
    return codes(check(series=CLASSIC, injections=[injection(**changes)]))


@pytest.mark.parametrize(
    ("dextrose_pct", "warns"),
    # DOMAIN 1.1: range-check classic dextrose 5-25%.
    [(0, True), (4.9, True), (5, False), (15, False), (25, False), (25.1, True)],
)
def test_it_checks_the_classic_dextrose_range(dextrose_pct: float, warns: bool) -> None:
    found = classic(solution={"dextrose_pct": dextrose_pct})
    assert ("solution.classic_dextrose" in found) is warns


@pytest.mark.parametrize(
    ("solution", "warns"),
    [
        # DOMAIN 1.2: D5W, or 5% mannitol; Lyftogt's early work used 20% glucose.
        ({"dextrose_pct": 5}, False),
        ({"dextrose_pct": 0, "mannitol_pct": 5}, False),
        ({"dextrose_pct": 20, "lidocaine_pct": 0.1}, False),
        ({"dextrose_pct": 20.5}, True),
        ({"dextrose_pct": 4}, True),
        ({"dextrose_pct": 0}, True),
    ],
)
def test_it_checks_the_neural_solution(solution: dict[str, float], warns: bool) -> None:
    assert ("solution.neural_agent" in neural(solution=solution)) is warns


def test_it_says_what_is_wrong_with_a_neural_mix() -> None:
    result = check(injections=[injection(solution={"dextrose_pct": 0})])
    finding = only(result, "solution.neural_agent")
    assert finding.kind is Kind.SOLUTION
    assert finding.message == (
        "Check the mix: it has neither dextrose nor mannitol; neural uses 5% of either "
        "(injection 1)."
    )


@pytest.mark.parametrize(
    ("depth", "volume_ml", "warns"),
    [
        # DOMAIN 1.2: 0.1-1.0 mL per subcutaneous point; deep perineural trials up to 5 mL.
        ("subcutaneous", 0.09, True),
        ("subcutaneous", 0.1, False),
        ("subcutaneous", 1.0, False),
        ("subcutaneous", 1.01, True),
        ("deep", 5.0, False),
        ("deep", 5.1, True),
    ],
)
def test_it_checks_the_neural_volume_per_point(depth: str, volume_ml: float, warns: bool) -> None:
    assert ("site.neural_volume" in neural(depth=depth, volume_ml=volume_ml)) is warns


@pytest.mark.parametrize(("volume_ml", "warns"), [(0.9, True), (1, False), (5, False), (5.1, True)])
def test_it_checks_a_catalog_sites_own_volume_range(volume_ml: float, warns: bool) -> None:
    # The carpal tunnel site: 1-5 mL (SITES.md, Wu 2017 and Lin 2020).
    found = neural(
        region="arm_hand", site="n_median_carpal_tunnel", depth="deep", volume_ml=volume_ml
    )
    assert ("site.site_volume" in found) is warns
    assert "site.neural_volume" not in found


@pytest.mark.parametrize(
    ("gauge", "warns"), [(25, True), (26, True), (27, False), (30, False), (31, True)]
)
def test_it_checks_the_needle_for_subcutaneous_neural_injections(gauge: int, warns: bool) -> None:
    # DOMAIN 1.2: 27-30 G; warn for 25 G or larger.
    assert ("site.neural_needle" in neural(needle_gauge=gauge)) is warns


def test_it_leaves_the_needle_of_a_deep_injection_alone() -> None:
    assert "site.neural_needle" not in neural(depth="deep", needle_gauge=25)
    assert "site.neural_needle" not in classic(needle_gauge=22)


def test_it_warns_when_the_depth_differs_from_the_catalog_site() -> None:
    found = neural(site="n_infrapatellar_saphenous", depth="deep")
    assert "site.depth_differs" in found
    assert "site.depth_differs" not in neural(site="n_infrapatellar_saphenous")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"site": "c_hip_joint", "region": "hip_low_back", "depth": "intra_articular"},
            "Check the plan: the hip joint is not a neural prolotherapy site (injection 1).",
        ),
        (
            {"region": "thoracic_spine", "side": "midline"},
            "Check the plan: the catalog has no neural prolotherapy sites in the thoracic spine "
            "(injection 1).",
        ),
        (
            {"depth": "intra_articular"},
            "Check the plan: intra-articular injection is classic, not neural, prolotherapy "
            "(injection 1).",
        ),
    ],
)
def test_it_warns_about_an_injection_of_the_other_modality(
    changes: dict[str, str], message: str
) -> None:
    result = check(injections=[injection(**changes)])
    assert only(result, "site.other_modality").message == message


def test_it_notes_a_site_that_awaits_clinical_review() -> None:
    result = check(injections=[injection(region="face", site="n_mental")])
    finding = only(result, "site.needs_review")
    assert finding.severity is Severity.INFO
    assert "the mental nerve" in finding.message
    assert "site.needs_review" not in neural(site="n_infrapatellar_saphenous")


@pytest.mark.parametrize(
    ("changes", "warns"),
    [
        ({"region": "thoracic_spine", "side": "midline", "depth": "deep"}, True),
        ({"region": "neck_shoulder", "site": "n_intercostobrachial"}, True),
        ({"region": "neck_shoulder"}, False),
        ({}, False),
    ],
)
def test_it_warns_about_pneumothorax_over_the_chest_wall(
    changes: dict[str, str], warns: bool
) -> None:
    # DOMAIN 2.4: thoracic and chest-wall sites (Dagenais 2006).
    result = check(series=CLASSIC, injections=[injection(**changes)])
    assert ("site.pneumothorax" in codes(result)) is warns
    if warns:
        assert only(result, "site.pneumothorax").source == "domain.2.4"


def test_it_gathers_injections_with_the_same_problem_into_one_finding() -> None:
    result = check(
        injections=[
            injection(volume_ml=1.5),
            injection(),
            injection(volume_ml=1.5, side="right"),
            injection(volume_ml=2),
        ]
    )
    findings = [f for f in result.findings if f.code == "site.neural_volume"]
    assert [f.injections for f in findings] == [(0, 2), (3,)]
    assert findings[0].message.endswith("neural prolotherapy (injections 1, 3).")
