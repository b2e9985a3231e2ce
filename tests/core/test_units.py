from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.core import units


def test_it_uses_the_si_conversion_constants():
    # DOMAIN 4.1: 1 kgf/cm2 = 9.80665 N/cm2 = 98.0665 kPa; 1 N/cm2 = 10 kPa.
    assert units.to_kpa(1, "kg/cm2") == pytest.approx(98.0665)
    assert units.to_kpa(1, "N/cm2") == pytest.approx(10.0)
    assert units.from_kpa(98.0665, "N/cm2") == pytest.approx(9.80665)


@given(
    value=st.floats(min_value=0, max_value=2000, allow_nan=False),
    unit=st.sampled_from(list(units.PressureUnit)),
)
def test_conversions_round_trip(value, unit):
    assert math.isclose(units.from_kpa(units.to_kpa(value, unit), unit), value, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("value", "unit", "ok"),
    [
        (0, "kg/cm2", True),
        (20, "kg/cm2", True),
        (20.01, "kg/cm2", False),
        (-0.1, "kg/cm2", False),
        (196.13, "N/cm2", True),
        (196.2, "N/cm2", False),
        (1961.3, "kPa", True),
        (1962, "kPa", False),
    ],
)
def test_it_accepts_readings_up_to_20_kg_cm2_in_every_unit(value, unit, ok):
    message = units.check_reading(value, unit)
    assert (message is None) is ok
    if not ok:
        assert unit in message and "kg/cm2" in message
