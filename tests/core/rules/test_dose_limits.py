"""Lidocaine over the whole session against the label (DOMAIN 2.1), on both sides of each limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plan_helpers import CLASSIC, check, codes, injection, lidocaine, only

from prolotrack.core.doses import LidocaineLimit
from prolotrack.core.rules import ClinicLimits, Severity

MAX = "dose_limit.lidocaine_max"


@pytest.mark.parametrize(
    ("weight_kg", "volume_ml", "pct", "epinephrine", "blocks"),
    [
        # DOMAIN 2.1 example: 70 kg, plain 1%: 315 mg capped at 300 mg -> 30 mL is the limit.
        (70, 30, 1, False, False),
        (70, 30.1, 1, False, True),
        # Below the cap the per-kg limit rules: 61 kg x 4.5 = 274.5 mg.
        (61, 27.45, 1, False, False),
        (61, 27.5, 1, False, True),
        # With epinephrine, 7 mg/kg: 70 kg -> 490 mg.
        (70, 49, 1, True, False),
        (70, 49.1, 1, True, True),
        # ... capped at 500 mg: 80 kg -> 560 mg capped -> 50 mL of 1%.
        (80, 50, 1, True, False),
        (80, 50.1, 1, True, True),
        # 2% lidocaine: 15 mL is 300 mg.
        (70, 15, 2, False, False),
        (70, 15.05, 2, False, True),
    ],
)
def test_it_blocks_lidocaine_above_the_label_limit(
    weight_kg: float, volume_ml: float, pct: float, epinephrine: bool, blocks: bool
) -> None:
    result = check(
        patient={"weight_kg": weight_kg},
        series=CLASSIC,
        injections=lidocaine(volume_ml, pct, epinephrine=epinephrine),
    )
    assert (MAX in codes(result)) is blocks
    assert result.blocked is blocks
    if blocks:
        finding = only(result, MAX)
        assert finding.severity is Severity.BLOCK
        assert finding.source == "domain.2.1"
        assert finding.message.startswith("Reduce the lidocaine")


def test_it_passes_the_domain_prolotherapy_mix() -> None:
    # DOMAIN 2.1: 15% dextrose / 0.2% lidocaine, 40 mL in total -> 80 mg (OK).
    mix = {"dextrose_pct": 15, "lidocaine_pct": 0.2}
    result = check(
        series=CLASSIC,
        injections=[injection(depth="deep", volume_ml=20, solution=mix)] * 2,
    )
    assert result.totals.lidocaine_mg == pytest.approx(80)
    assert result.totals.dextrose_g == pytest.approx(6)
    assert result.totals.volume_ml == 40
    assert MAX not in codes(result)
    total = only(result, "dose_limit.lidocaine_total")
    assert total.severity is Severity.INFO
    assert total.message == (
        "Lidocaine this session: 80 mg of the 300 mg allowed "
        "(70 kg; plain: 4.5 mg/kg, at most 300 mg)."
    )


def test_it_states_the_limit_it_blocked_against() -> None:
    result = check(series=CLASSIC, injections=lidocaine(30.1))
    assert only(result, MAX).message == (
        "Reduce the lidocaine: 301 mg this session is over the 300 mg allowed "
        "(70 kg; plain: 4.5 mg/kg, at most 300 mg). Use less volume or a weaker mix."
    )


def test_it_adds_lidocaine_up_over_the_whole_session() -> None:
    # Twenty 1.5 mL syringes of 1%: none is large, together they are 300 mg, then 310 mg.
    at_limit = [injection(depth="deep", volume_ml=1.5, solution={"lidocaine_pct": 1})] * 20
    assert MAX not in codes(check(series=CLASSIC, injections=at_limit))
    one_more = [*at_limit, injection(depth="deep", volume_ml=1, solution={"lidocaine_pct": 1})]
    assert MAX in codes(check(series=CLASSIC, injections=one_more))


def test_it_does_not_block_a_plan_at_the_limit_by_a_rounding_hair() -> None:
    # 0.1 mL steps do not add up exactly in binary: 3000 x 0.1 mL of 0.1% is 300 mg to the
    # clinician, and a hair over 300 to the machine.
    shots = [injection(depth="deep", volume_ml=0.1, solution={"lidocaine_pct": 0.1})] * 3000
    result = check(series=CLASSIC, injections=shots)
    assert result.totals.lidocaine_mg == pytest.approx(300)
    assert MAX not in codes(result)


def test_it_holds_a_session_that_mixes_plain_and_epinephrine_to_the_plain_limit() -> None:
    # 200 mg with epinephrine + 101 mg plain = 301 mg: within 490 mg, over the plain 300 mg.
    shots = [*lidocaine(20, epinephrine=True), *lidocaine(10.1)]
    finding = only(check(series=CLASSIC, injections=shots), MAX)
    assert "mixed, so the plain limit" in finding.message


def test_it_applies_a_clinics_more_conservative_limit() -> None:
    # DOMAIN 2.1's UK mode: 3 mg/kg, at most 200 mg -> 20 mL of 1% for 70 kg.
    uk = ClinicLimits.conservative_uk()
    assert MAX not in codes(check(limits=uk, series=CLASSIC, injections=lidocaine(20)))
    assert MAX in codes(check(limits=uk, series=CLASSIC, injections=lidocaine(20.1)))
    stricter = ClinicLimits(lidocaine_plain=LidocaineLimit(mg_per_kg=4.5, max_mg=250))
    assert MAX in codes(check(limits=stricter, series=CLASSIC, injections=lidocaine(25.1)))


def test_it_checks_only_the_cap_when_the_weight_is_unknown() -> None:
    at_cap = check(patient={"weight_kg": None}, series=CLASSIC, injections=lidocaine(30))
    warning = only(at_cap, "dose_limit.weight_unknown")
    assert warning.severity is Severity.WARN
    assert warning.message.startswith("Weigh the patient")
    assert "300 mg cap" in warning.message
    assert MAX not in codes(at_cap)
    over = check(patient={"weight_kg": None}, series=CLASSIC, injections=lidocaine(30.1))
    assert MAX in codes(over)


def test_it_needs_no_weight_without_lidocaine() -> None:
    result = check(patient={"weight_kg": None})
    assert not [c for c in codes(result) if c.startswith("dose_limit.")]


@pytest.mark.parametrize(("age", "warns"), [(17, True), (18, False), (64, False), (65, True)])
def test_it_asks_for_a_lower_dose_in_children_and_the_elderly(age: int, warns: bool) -> None:
    result = check(patient={"age": age}, series=CLASSIC, injections=lidocaine(5))
    assert ("dose_limit.reduce_for_age" in codes(result)) is warns
    no_lidocaine = check(patient={"age": age})
    assert "dose_limit.reduce_for_age" not in codes(no_lidocaine)


@given(
    weight_kg=st.floats(min_value=1, max_value=400),
    volumes=st.lists(st.floats(min_value=0.1, max_value=20), min_size=1, max_size=8),
    pct=st.floats(min_value=0.05, max_value=2),
    epinephrine=st.booleans(),
)
def test_it_blocks_exactly_when_the_total_exceeds_the_limit(
    weight_kg: float, volumes: list[float], pct: float, epinephrine: bool
) -> None:
    mix = {"lidocaine_pct": pct, "epinephrine": epinephrine}
    shots = [injection(depth="deep", volume_ml=v, solution=mix) for v in volumes]
    result = check(patient={"weight_kg": weight_kg}, series=CLASSIC, injections=shots)
    limits = ClinicLimits()
    limit = limits.lidocaine_with_epinephrine if epinephrine else limits.lidocaine_plain
    total = sum(volumes) * pct * 10
    if total > limit.limit_mg(weight_kg) * (1 + 1e-9):
        assert MAX in codes(result)
    elif total < limit.limit_mg(weight_kg) * (1 - 1e-9):
        assert MAX not in codes(result)


@given(
    volume=st.floats(min_value=0.1, max_value=19.8),
    more=st.floats(min_value=0.0, max_value=0.1),
    pct=st.floats(min_value=0.05, max_value=2),
)
def test_it_never_unblocks_when_the_volume_grows(volume: float, more: float, pct: float) -> None:
    def blocks(v: float) -> bool:
        shots = [injection(depth="deep", volume_ml=v, solution={"lidocaine_pct": pct})] * 16
        return MAX in codes(check(series=CLASSIC, injections=shots))

    if blocks(volume):
        assert blocks(volume + more)
