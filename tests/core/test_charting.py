from __future__ import annotations

from decimal import Decimal

import pytest

from prolotrack.core.catalog import load_catalog
from prolotrack.core.charting import InjectionInput, ReadingInput, Solution, check_session


def a_site(laterality: str = "bilateral"):
    return next(s for s in load_catalog().sites.values() if s.laterality == laterality)


def injection(**changes) -> InjectionInput:
    site = a_site()
    fields = {
        "site": site.code,
        "side": "left",
        "depth": "subcutaneous",
        "volume_ml": Decimal("0.5"),
        "needle_gauge": 27,
    }
    fields.update(changes)
    return InjectionInput(**fields)


def reading(**changes) -> ReadingInput:
    fields = {
        "site": a_site().code,
        "side": "right",
        "phase": "baseline",
        "value": Decimal("3.2"),
        "unit": "kg/cm2",
    }
    fields.update(changes)
    return ReadingInput(**fields)


def fields_of(errors):
    return [e.field for e in errors]


def test_it_accepts_a_valid_session():
    assert (
        check_session(pain_before=7, pain_after=3, injections=[injection()], readings=[reading()])
        == []
    )


@pytest.mark.parametrize("pain", [-1, 11])
def test_it_refuses_pain_outside_0_to_10(pain):
    errors = check_session(pain_before=pain, pain_after=None, injections=[], readings=[])
    assert fields_of(errors) == ["pain_before"]
    assert "0 (none) to 10" in errors[0].message


@pytest.mark.parametrize(
    ("volume", "ok"), [("0", False), ("0.01", True), ("20", True), ("20.01", False)]
)
def test_it_bounds_volume_per_injection(volume, ok):
    errors = check_session(
        pain_before=None,
        pain_after=None,
        injections=[injection(volume_ml=Decimal(volume))],
        readings=[],
    )
    assert (errors == []) is ok
    if not ok:
        assert fields_of(errors) == ["injections.0.volume_ml"]


def test_it_refuses_a_site_not_in_the_catalog():
    errors = check_session(
        pain_before=None, pain_after=None, injections=[injection(site="n_made_up")], readings=[]
    )
    assert fields_of(errors) == ["injections.0.site"]
    assert "'n_made_up' is not a site of the catalog" in errors[0].message


def test_it_refuses_a_side_the_site_does_not_have():
    midline = a_site("midline")
    errors = check_session(
        pain_before=None,
        pain_after=None,
        injections=[injection(site=midline.code, side="left")],
        readings=[],
    )
    assert fields_of(errors) == ["injections.0.side"]
    assert "midline side only" in errors[0].message
    bilateral = a_site()
    errors = check_session(
        pain_before=None,
        pain_after=None,
        injections=[injection(site=bilateral.code, side="midline")],
        readings=[],
    )
    assert fields_of(errors) == ["injections.0.side"]


@pytest.mark.parametrize(
    ("value", "unit", "ok"),
    [
        ("20", "kg/cm2", True),
        ("20.5", "kg/cm2", False),
        ("1961", "kPa", True),
        ("2500", "kPa", False),
    ],
)
def test_it_bounds_readings_in_every_unit(value, unit, ok):
    errors = check_session(
        pain_before=None,
        pain_after=None,
        injections=[],
        readings=[reading(value=Decimal(value), unit=unit)],
    )
    assert (errors == []) is ok


def test_it_refuses_two_readings_for_the_same_site_side_and_phase():
    errors = check_session(
        pain_before=None, pain_after=None, injections=[], readings=[reading(), reading()]
    )
    assert fields_of(errors) == ["readings.1.phase"]


def test_it_bounds_solution_percentages():
    bad = injection(solution=Solution(dextrose_pct=Decimal("60")))
    errors = check_session(pain_before=None, pain_after=None, injections=[bad], readings=[])
    assert fields_of(errors) == ["injections.0.dextrose_pct"]
