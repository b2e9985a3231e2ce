"""Dose and mixing calculators: DOMAIN 2.1 and 2.2 reference cases, and their properties."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.core import doses
from prolotrack.core.doses import (
    LIDOCAINE_WITH_EPINEPHRINE,
    PLAIN_LIDOCAINE,
    UK_PLAIN_LIDOCAINE,
    LidocaineLimit,
    MixError,
    Recipe,
    Solution,
    StockBottles,
    mix,
    session_doses,
)


@dataclass(frozen=True)
class Shot:
    volume_ml: float
    solution: Solution


volumes = st.floats(min_value=0.01, max_value=20, allow_nan=False)
lidocaine_pcts = st.floats(min_value=0, max_value=2, allow_nan=False)
dextrose_pcts = st.floats(min_value=0, max_value=50, allow_nan=False)
solutions = st.builds(
    Solution,
    dextrose_pct=dextrose_pcts,
    lidocaine_pct=lidocaine_pcts,
    mannitol_pct=st.floats(min_value=0, max_value=20, allow_nan=False),
    epinephrine=st.booleans(),
)
shots = st.builds(Shot, volume_ml=volumes, solution=solutions)


@pytest.mark.parametrize(
    ("pct", "mg_per_ml"),
    # DOMAIN 2.1, "Concentration math": 1% = 10 mg/mL, 2% = 20, 0.5% = 5, 0.25% = 2.5.
    [(1, 10), (2, 20), (0.5, 5), (0.25, 2.5)],
)
def test_it_converts_lidocaine_percent_to_mg_per_ml(pct: float, mg_per_ml: float) -> None:
    assert doses.lidocaine_mg(1, pct) == pytest.approx(mg_per_ml)


def test_it_gives_the_glucose_loads_of_domain_2_2() -> None:
    # 1 mL of 5% = 50 mg; 1 mL of 25% = 250 mg; a 10-mL 25% session is about 2.5 g.
    assert doses.dextrose_g(1, 5) == pytest.approx(0.05)
    assert doses.dextrose_g(1, 25) == pytest.approx(0.25)
    assert doses.dextrose_g(10, 25) == pytest.approx(2.5)


def test_it_caps_plain_lidocaine_at_300_mg_for_70_kg() -> None:
    # DOMAIN 2.1 example: 4.5 x 70 = 315 mg -> capped at 300 mg -> 30 mL of 1%.
    assert PLAIN_LIDOCAINE.limit_mg(70) == 300
    assert PLAIN_LIDOCAINE.max_volume_ml(70, 1) == pytest.approx(30)


def test_it_uses_the_per_kg_limit_below_the_cap() -> None:
    assert PLAIN_LIDOCAINE.limit_mg(61) == pytest.approx(274.5)
    assert PLAIN_LIDOCAINE.limit_mg(66.66) == pytest.approx(299.97)


def test_it_allows_7_mg_per_kg_capped_at_500_with_epinephrine() -> None:
    assert LIDOCAINE_WITH_EPINEPHRINE.limit_mg(70) == pytest.approx(490)
    assert LIDOCAINE_WITH_EPINEPHRINE.limit_mg(80) == 500
    assert LIDOCAINE_WITH_EPINEPHRINE.max_volume_ml(80, 1) == pytest.approx(50)


def test_it_offers_the_conservative_uk_limit() -> None:
    # DOMAIN 2.1: 3 mg/kg, at most 200 mg.
    assert UK_PLAIN_LIDOCAINE.limit_mg(60) == pytest.approx(180)
    assert UK_PLAIN_LIDOCAINE.limit_mg(70) == 200
    assert UK_PLAIN_LIDOCAINE.is_within(PLAIN_LIDOCAINE)
    assert not PLAIN_LIDOCAINE.is_within(UK_PLAIN_LIDOCAINE)


def test_it_falls_back_to_the_cap_when_the_weight_is_unknown() -> None:
    assert PLAIN_LIDOCAINE.limit_mg(None) == 300
    assert PLAIN_LIDOCAINE.max_volume_ml(70, 0) == math.inf


def test_it_refuses_a_limit_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LidocaineLimit(mg_per_kg=0, max_mg=300)


def test_it_totals_the_domain_prolotherapy_mix() -> None:
    # DOMAIN 2.1: 15% dextrose / 0.2% lidocaine, 40 mL in total -> 80 mg lidocaine (OK).
    mix_ = Solution(dextrose_pct=15, lidocaine_pct=0.2)
    totals = session_doses([Shot(20, mix_), Shot(20, mix_)])
    assert totals.lidocaine_mg == pytest.approx(80)
    assert totals.dextrose_g == pytest.approx(6)
    assert totals.volume_ml == 40
    assert totals.lidocaine_mg <= PLAIN_LIDOCAINE.limit_mg(70)


def test_it_keeps_plain_and_epinephrine_lidocaine_apart() -> None:
    totals = session_doses(
        [
            Shot(10, Solution(lidocaine_pct=1, epinephrine=True)),
            Shot(5, Solution(lidocaine_pct=1)),
            Shot(3, Solution(mannitol_pct=5, dextrose_pct=0)),
        ]
    )
    assert totals.lidocaine_with_epinephrine_mg == pytest.approx(100)
    assert totals.lidocaine_plain_mg == pytest.approx(50)
    assert totals.lidocaine_mg == pytest.approx(150)
    assert totals.mannitol_g == pytest.approx(0.15)
    assert not totals.all_lidocaine_has_epinephrine


def test_it_says_all_lidocaine_has_epinephrine_only_when_there_is_some() -> None:
    assert not session_doses([]).all_lidocaine_has_epinephrine
    assert not session_doses([Shot(1, Solution(epinephrine=True))]).all_lidocaine_has_epinephrine
    with_epi = session_doses([Shot(1, Solution(lidocaine_pct=1, epinephrine=True))])
    assert with_epi.all_lidocaine_has_epinephrine


@given(volume=volumes, more=volumes, pct=lidocaine_pcts, stronger=lidocaine_pcts)
def test_it_gives_more_lidocaine_for_more_volume_or_concentration(
    volume: float, more: float, pct: float, stronger: float
) -> None:
    low_v, high_v = sorted((volume, more))
    low_c, high_c = sorted((pct, stronger))
    assert doses.lidocaine_mg(low_v, low_c) <= doses.lidocaine_mg(high_v, low_c)
    assert doses.lidocaine_mg(low_v, low_c) <= doses.lidocaine_mg(low_v, high_c)


@given(volume=volumes, more=volumes, pct=dextrose_pcts, stronger=dextrose_pcts)
def test_it_gives_more_glucose_for_more_volume_or_concentration(
    volume: float, more: float, pct: float, stronger: float
) -> None:
    low_v, high_v = sorted((volume, more))
    low_c, high_c = sorted((pct, stronger))
    assert doses.dextrose_g(low_v, low_c) <= doses.dextrose_g(high_v, low_c)
    assert doses.dextrose_g(low_v, low_c) <= doses.dextrose_g(low_v, high_c)


@given(items=st.lists(shots, max_size=30))
def test_it_adds_up_the_session_over_its_injections(items: list[Shot]) -> None:
    totals = session_doses(items)
    lidocaine = sum(doses.lidocaine_mg(i.volume_ml, i.solution.lidocaine_pct) for i in items)
    glucose = sum(doses.dextrose_g(i.volume_ml, i.solution.dextrose_pct) for i in items)
    assert totals.lidocaine_mg == pytest.approx(lidocaine, abs=1e-9)
    assert totals.dextrose_g == pytest.approx(glucose, abs=1e-9)
    assert totals.volume_ml == pytest.approx(sum(i.volume_ml for i in items), abs=1e-9)
    assert session_doses(reversed(items)) == totals


@given(items=st.lists(shots, max_size=10), extra=shots)
def test_it_never_lowers_a_total_when_an_injection_is_added(items: list[Shot], extra: Shot) -> None:
    before, after = session_doses(items), session_doses([*items, extra])
    assert after.lidocaine_mg >= before.lidocaine_mg
    assert after.dextrose_g >= before.dextrose_g
    assert after.volume_ml > before.volume_ml


def test_it_mixes_the_example_syringe_from_stock_bottles() -> None:
    # 10 mL of 15% dextrose with 0.2% lidocaine from 50% dextrose and 2% lidocaine.
    recipe = mix(Solution(dextrose_pct=15, lidocaine_pct=0.2), 10)
    assert recipe.dextrose_ml == pytest.approx(3)
    assert recipe.lidocaine_ml == pytest.approx(1)
    assert recipe.mannitol_ml == 0
    assert recipe.saline_ml == pytest.approx(6)
    assert recipe.total_ml == pytest.approx(10)


def test_it_mixes_mannitol_when_the_clinic_keeps_a_bottle() -> None:
    stocks = StockBottles(mannitol_pct=20)
    recipe = mix(Solution(dextrose_pct=0, mannitol_pct=5), 8, stocks)
    assert recipe.mannitol_ml == pytest.approx(2)
    assert recipe.saline_ml == pytest.approx(6)


def test_it_mixes_lidocaine_with_epinephrine_from_an_epinephrine_bottle() -> None:
    stocks = StockBottles(lidocaine_pct=1, lidocaine_has_epinephrine=True)
    target = Solution(dextrose_pct=12.5, lidocaine_pct=0.5, epinephrine=True)
    recipe = mix(target, 20, stocks)
    assert recipe.lidocaine_ml == pytest.approx(10)
    assert recipe.solution(stocks).epinephrine


@pytest.mark.parametrize(
    ("target", "total_ml", "stocks", "message"),
    [
        (Solution(dextrose_pct=60), 10, StockBottles(), "stronger than the 50% stock"),
        (Solution(dextrose_pct=50, lidocaine_pct=1), 10, StockBottles(), "more than the 10 mL"),
        (Solution(mannitol_pct=5), 10, StockBottles(), "no mannitol stock bottle"),
        (Solution(lidocaine_pct=1, epinephrine=True), 10, StockBottles(), "epinephrine comes"),
        (
            Solution(lidocaine_pct=1),
            10,
            StockBottles(lidocaine_has_epinephrine=True),
            "contains epinephrine",
        ),
        (Solution(), 0, StockBottles(), "more than 0 mL"),
        (Solution(dextrose_pct=-1), 10, StockBottles(), "cannot be negative"),
    ],
)
def test_it_refuses_a_mix_it_cannot_make(
    target: Solution, total_ml: float, stocks: StockBottles, message: str
) -> None:
    with pytest.raises(MixError, match=message):
        mix(target, total_ml, stocks)


def test_it_refuses_stock_bottles_without_a_concentration() -> None:
    with pytest.raises(MixError, match="positive concentration"):
        StockBottles(dextrose_pct=0)


def test_it_refuses_to_describe_an_empty_recipe() -> None:
    with pytest.raises(MixError, match="no volume"):
        Recipe(0, 0, 0, 0).solution(StockBottles())


@given(
    dextrose=st.floats(min_value=0, max_value=25),
    # No vanishing lidocaine: 1e-320 % would draw 0 mL and lose its epinephrine.
    lidocaine=st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=0.5)),
    mannitol=st.floats(min_value=0, max_value=5),
    total_ml=st.floats(min_value=0.5, max_value=60),
    epinephrine=st.booleans(),
)
def test_it_round_trips_a_mix(
    dextrose: float, lidocaine: float, mannitol: float, total_ml: float, epinephrine: bool
) -> None:
    # Stocks of 50% dextrose, 2% lidocaine and 20% mannitol can always make these targets.
    stocks = StockBottles(mannitol_pct=20, lidocaine_has_epinephrine=epinephrine)
    target = Solution(dextrose, lidocaine, mannitol, epinephrine=epinephrine and lidocaine > 0)
    recipe = mix(target, total_ml, stocks)
    made = recipe.solution(stocks)
    assert recipe.total_ml == pytest.approx(total_ml)
    assert min(recipe.dextrose_ml, recipe.lidocaine_ml, recipe.mannitol_ml) >= 0
    assert recipe.saline_ml >= 0
    assert made.dextrose_pct == pytest.approx(dextrose, abs=1e-9)
    assert made.lidocaine_pct == pytest.approx(lidocaine, abs=1e-9)
    assert made.mannitol_pct == pytest.approx(mannitol, abs=1e-9)
    assert made.epinephrine == target.epinephrine
    # The doses of the mixed syringe are the doses of the target.
    assert doses.lidocaine_mg(recipe.total_ml, made.lidocaine_pct) == pytest.approx(
        doses.lidocaine_mg(total_ml, lidocaine), abs=1e-9
    )
