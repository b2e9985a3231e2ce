"""The plan parser: strict JSON in, frozen values out, and every error naming its field."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plan_helpers import CLEAN, Data, injection, plan_data

from prolotrack.core.catalog import Depth, Modality, Side
from prolotrack.core.doses import Solution
from prolotrack.core.rules import (
    Allergy,
    History,
    Patient,
    PlanError,
    Profession,
    Sex,
    Symptom,
    parse_plan,
    parse_plan_json,
)


def test_it_parses_the_clean_plan_into_plain_values() -> None:
    plan = parse_plan(plan_data())
    assert plan.jurisdiction == "CA-BC"
    assert plan.practitioner.profession is Profession.PHYSICIAN
    assert plan.practitioner.certifications == frozenset()
    assert plan.patient.age == 54
    assert plan.patient.sex is Sex.FEMALE
    assert plan.patient.weight_kg == 70.0
    assert plan.series.modality is Modality.NEURAL
    assert plan.series.date == dt.date(2026, 11, 5)
    assert plan.series.interval_days == 7
    assert plan.series.sessions_done == 1
    (only,) = plan.injections
    assert only.region == "knee"
    assert only.side is Side.LEFT
    assert only.depth is Depth.SUBCUTANEOUS
    assert only.site is None
    assert only.solution == Solution(dextrose_pct=5.0)


def test_it_parses_the_issue_example() -> None:
    data = plan_data(
        practitioner={"profession": "naturopathic_doctor", "certifications": ["cnpbc_ait_a"]},
        patient={
            "weight_kg": 61.0,
            "allergies": ["corn", "local_anaesthetic"],
            "symptoms": ["night_pain"],
            "history": ["osteoporosis"],
        },
        series={"session_number": 3, "pain_history": [7, 6], "relief_days_history": [2, 4]},
        injections=[injection(site="n_infrapatellar_saphenous", side="right")],
    )
    plan = parse_plan(data)
    assert plan.practitioner.certifications == {"cnpbc_ait_a"}
    assert plan.patient.allergies == {Allergy.CORN, Allergy.LOCAL_ANAESTHETIC}
    assert plan.patient.symptoms == {Symptom.NIGHT_PAIN}
    assert plan.patient.history == {History.OSTEOPOROSIS}
    assert plan.series.pain_history == (7.0, 6.0)
    assert plan.series.relief_days_history == (2.0, 4.0)
    assert plan.injections[0].site == "n_infrapatellar_saphenous"


def test_it_accepts_an_unknown_weight_a_first_session_and_no_site() -> None:
    data = plan_data(patient={"weight_kg": None}, injections=[injection(site=None)])
    del data["series"]["previous_session_date"]
    plan = parse_plan(data)
    assert plan.patient.weight_kg is None
    assert plan.series.interval_days is None
    assert plan.injections[0].site is None


def test_it_accepts_a_plan_without_injections() -> None:
    assert parse_plan(plan_data(injections=[])).injections == ()


def _set(path: str, value: Any) -> Callable[[Data], None]:
    """A change to the clean plan: set the value at a dotted path (``injections.0.volume_ml``)."""

    def change(data: Data) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _drop(path: str) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return change


INVALID = [
    # Strict types: true is not 1, "1.0" is not 1.0, 54.0 is not a whole number.
    (_set("patient.weight_kg", True), "patient.weight_kg: must be a number, not a boolean"),
    (
        _set("injections.0.volume_ml", "1.0"),
        "injections[0].volume_ml: must be a number, not a string",
    ),
    (_set("patient.age", 54.0), "patient.age: must be a whole number, not a number"),
    (_set("patient.age", True), "patient.age: must be a whole number, not a boolean"),
    (_set("injections.0.needle_gauge", 27.5), "injections[0].needle_gauge: must be a whole number"),
    (_set("patient.pregnant", 0), "patient.pregnant: must be true or false, not a number"),
    (
        _set("injections.0.solution.epinephrine", "no"),
        "injections[0].solution.epinephrine: must be true or false",
    ),
    (_set("patient.weight_kg", float("nan")), "patient.weight_kg: must be a finite number"),
    # Unknown and missing keys.
    (_set("colour", "red"), "colour: unknown field"),
    (_set("patient.smoker", False), "patient.smoker: unknown field"),
    (
        _set("injections.0.solution.saline_pct", 0.9),
        "injections[0].solution.saline_pct: unknown field",
    ),
    (_set("series.pain", [1]), "series.pain: unknown field"),
    (_drop("patient.pregnant"), "patient.pregnant: is missing"),
    (_drop("patient.weight_kg"), "patient.weight_kg: is missing"),
    (_drop("injections.0.solution"), "injections[0].solution: is missing"),
    (_drop("jurisdiction"), "jurisdiction: is missing"),
    # Closed vocabularies.
    (
        _set("patient.symptoms", ["fever", "night_pain", "headache"]),
        "patient.symptoms[2]: unknown symptom 'headache'",
    ),
    (_set("patient.history", ["smoking"]), "patient.history[0]: unknown history item 'smoking'"),
    (_set("patient.allergies", ["latex"]), "patient.allergies[0]: unknown allergy 'latex'"),
    (_set("patient.symptoms", ["fever", "fever"]), "patient.symptoms[1]: 'fever' is listed twice"),
    (_set("patient.symptoms", "fever"), "patient.symptoms: must be a list, not a string"),
    (
        _set("patient.symptoms", [1]),
        "patient.symptoms[0]: must be a non-empty string, not a number",
    ),
    (_set("patient.sex", "f"), "patient.sex: unknown sex 'f'"),
    (
        _set("practitioner.profession", "chiropractor"),
        "practitioner.profession: unknown profession 'chiropractor'",
    ),
    (
        _set("practitioner.certifications", ["ait"]),
        "practitioner.certifications[0]: unknown certification 'ait'",
    ),
    (
        _set("practitioner.certifications", ["cnpbc_ait_a", "cnpbc_ait_a"]),
        "practitioner.certifications[1]: 'cnpbc_ait_a' is listed twice",
    ),
    (
        _set("series.modality", "hydrodissection"),
        "series.modality: unknown modality 'hydrodissection'",
    ),
    (
        _set("injections.0.depth", "intramuscular"),
        "injections[0].depth: unknown depth 'intramuscular'",
    ),
    (_set("injections.0.side", "both"), "injections[0].side: unknown side 'both'"),
    (_set("jurisdiction", "bc"), "jurisdiction: 'bc' is not a code such as CA-BC"),
    # The catalog: regions, sites, and a site's region and side.
    (_set("injections.0.region", "elbow"), "injections[0].region: unknown region 'elbow'"),
    (_set("injections.0.site", "n_nowhere"), "injections[0].site: unknown site 'n_nowhere'"),
    (
        _set("injections.0.site", "n_supraorbital"),
        "injections[0].site: site 'n_supraorbital' is in region 'face', not 'knee'",
    ),
    # Ranges, on both sides.
    (_set("patient.age", -1), "patient.age: must be 0 to 120, not -1"),
    (_set("patient.age", 121), "patient.age: must be 0 to 120, not 121"),
    (_set("patient.weight_kg", 0.5), "patient.weight_kg: must be at least 1 and at most 400"),
    (_set("patient.weight_kg", 400.1), "patient.weight_kg: must be at least 1 and at most 400"),
    (
        _set("injections.0.volume_ml", 0),
        "injections[0].volume_ml: must be more than 0 and at most 20, not 0",
    ),
    (
        _set("injections.0.volume_ml", 20.01),
        "injections[0].volume_ml: must be more than 0 and at most 20",
    ),
    (_set("injections.0.needle_gauge", 17), "injections[0].needle_gauge: must be 18 to 33, not 17"),
    (_set("injections.0.needle_gauge", 34), "injections[0].needle_gauge: must be 18 to 33, not 34"),
    (
        _set("injections.0.solution.dextrose_pct", 50.5),
        "injections[0].solution.dextrose_pct: must be at least 0 and at most 50",
    ),
    (
        _set("injections.0.solution.lidocaine_pct", 2.1),
        "injections[0].solution.lidocaine_pct: must be at least 0 and at most 2",
    ),
    (
        _set("injections.0.solution.lidocaine_pct", -0.1),
        "injections[0].solution.lidocaine_pct: must be at least 0",
    ),
    (
        _set("injections.0.solution.mannitol_pct", 21),
        "injections[0].solution.mannitol_pct: must be at least 0 and at most 20",
    ),
    (_set("series.session_number", 0), "series.session_number: must be 1 to 100, not 0"),
    # Dates and histories.
    (_set("series.date", "2026/11/05"), "series.date: must be a date written YYYY-MM-DD"),
    (_set("series.date", "20261105"), "series.date: must be a date written YYYY-MM-DD"),
    (_set("series.date", "2026-02-30"), "series.date: '2026-02-30' is not a calendar date"),
    (
        _set("series.previous_session_date", "2026-11-06"),
        "series.previous_session_date: is after the session's date",
    ),
    (
        _set("series.pain_history", [5, 4]),
        "series.pain_history: has 2 values, more than the 1 earlier session",
    ),
    (
        _set("series.pain_history", [11]),
        "series.pain_history[0]: must be at least 0 and at most 10, not 11",
    ),
    (_set("series.relief_days_history", [-1]), "series.relief_days_history[0]: must be at least 0"),
    (
        _set("series.pain_history", [True]),
        "series.pain_history[0]: must be a number, not a boolean",
    ),
    # Shapes.
    (_set("injections", {}), "injections: must be a list, not an object"),
    (_set("injections.0", []), "injections[0]: must be a JSON object"),
    (_set("patient", None), "patient: must be a JSON object"),
]


@pytest.mark.parametrize(("change", "error"), INVALID)
def test_it_names_the_field_of_every_invalid_input(
    change: Callable[[Data], None], error: str
) -> None:
    data = copy.deepcopy(CLEAN)
    change(data)
    with pytest.raises(PlanError) as caught:
        parse_plan(data)
    assert str(caught.value).startswith(error)
    assert caught.value.path == error.split(":")[0]


def test_it_refuses_a_side_the_site_does_not_have() -> None:
    data = plan_data(
        injections=[
            injection(region="lumbar_spine", site="c_lumbar_interspinous_ligaments", side="left")
        ]
    )
    with pytest.raises(PlanError, match=r"injections\[0\]\.side: .* midline side only"):
        parse_plan(data)


@pytest.mark.parametrize("data", [[], "plan", None, 3])
def test_it_refuses_a_plan_that_is_not_an_object(data: object) -> None:
    with pytest.raises(PlanError, match=r"^plan: must be a JSON object"):
        parse_plan(data)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{", "plan: not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ('{"patient": 1, "patient": 2}', "plan: the key 'patient' appears twice in one object"),
        ('{"age": NaN}', "plan: NaN is not a number JSON allows"),
        ('{"age": -Infinity}', "plan: -Infinity is not a number JSON allows"),
        ("[" * 100_000 + "]" * 100_000, "plan: the JSON is nested too deeply"),
    ],
)
def test_it_refuses_text_that_is_not_strict_json(text: str, error: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan_json(text)
    assert str(caught.value).startswith(error)


def test_it_parses_json_text() -> None:
    assert parse_plan_json(json.dumps(plan_data())) == parse_plan(plan_data())


def test_it_reports_a_huge_number_as_not_finite() -> None:
    text = json.dumps(plan_data()).replace('"weight_kg": 70.0', '"weight_kg": 1e999')
    with pytest.raises(PlanError, match=r"^patient\.weight_kg: must be a finite number"):
        parse_plan_json(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))] or [path]
    return [path]


LEAVES = _leaf_paths(CLEAN)


@given(value=json_values)
def test_it_never_fails_other_than_with_a_plan_error(value: object) -> None:
    with contextlib.suppress(PlanError):
        parse_plan(value)


@given(leaf=st.sampled_from(LEAVES), value=json_values)
def test_it_never_crashes_when_one_field_holds_anything(leaf: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(CLEAN)
    target: Any = data
    for key in leaf[:-1]:
        target = target[key]
    target[leaf[-1]] = value
    try:
        parse_plan(data)
    except PlanError as exc:
        assert exc.path and exc.message


def test_it_needs_every_screening_answer_when_a_patient_is_built_in_code() -> None:
    # A form that forgets a question must fail loudly, not read as "no infection".
    with pytest.raises(TypeError, match="infection_at_site"):
        Patient(  # type: ignore[call-arg]
            age=54,
            sex=Sex.FEMALE,
            weight_kg=70.0,
            diabetes=False,
            anticoagulant=False,
            bleeding_disorder=False,
            pregnant=False,
            allergies=frozenset(),
            symptoms=frozenset(),
            history=frozenset(),
        )
