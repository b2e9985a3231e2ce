"""The synthetic clinic generator: deterministic, plausible (DOMAIN 1.1, 1.2, 2.4, 4.1, 4.2) and
always acceptable to the charting checks."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prolotrack.core import synth
from prolotrack.core.catalog import Modality, load_catalog
from prolotrack.core.charting import check_session
from prolotrack.core.synth import (
    DROP_OUT,
    NON_RESPONDER,
    RESPONDER,
    SynthClinic,
    SynthPatient,
    SynthSeries,
    SynthSession,
    generate_clinic,
    generate_registry,
)
from prolotrack.core.units import KPA_PER_KG_CM2, MAX_PPT_KG_CM2

TODAY = dt.date(2026, 11, 20)
TZ = ZoneInfo(synth.TIME_ZONE)


@pytest.fixture(scope="module")
def clinic() -> SynthClinic:
    return generate_clinic(seed=2026, patients=150, today=TODAY)


def all_series(clinic: SynthClinic) -> list[SynthSeries]:
    return [s for p in clinic.patients for s in p.series]


def all_sessions(clinic: SynthClinic) -> list[SynthSession]:
    return [s for p in clinic.patients for s in p.sessions]


def local_day(session: SynthSession) -> dt.date:
    return session.performed_at.astimezone(TZ).date()


def charting_errors(session: SynthSession) -> list:
    return check_session(
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        injections=[i.as_input() for i in session.injections],
        readings=[r.as_input() for r in session.readings],
    )


def kg_cm2(reading: synth.SynthReading) -> float:
    per_unit = {"kg/cm2": 1.0, "N/cm2": 10 / KPA_PER_KG_CM2, "kPa": 1 / KPA_PER_KG_CM2}
    return float(reading.value) * per_unit[reading.unit]


# Determinism -------------------------------------------------------------------------------------


def test_it_gives_the_same_clinic_for_the_same_arguments() -> None:
    one = generate_clinic(seed=11, patients=20, today=TODAY)
    two = generate_clinic(seed=11, patients=20, today=TODAY)
    assert one == two


def test_it_gives_another_clinic_for_another_seed() -> None:
    one = generate_clinic(seed=11, patients=20, today=TODAY)
    two = generate_clinic(seed=12, patients=20, today=TODAY)
    assert one.patients != two.patients
    assert [p.family_name for p in one.patients] != [p.family_name for p in two.patients]


def test_it_keeps_each_patient_the_same_whatever_the_clinic_size() -> None:
    small = generate_clinic(seed=5, patients=3, today=TODAY)
    large = generate_clinic(seed=5, patients=30, today=TODAY)
    assert large.patients[:3] == small.patients


def test_it_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="patients"):
        generate_clinic(seed=1, patients=-1, today=TODAY)
    with pytest.raises(ValueError, match="readings_target"):
        generate_registry(seed=1, readings_target=-1, today=TODAY)


# Charting boundary -------------------------------------------------------------------------------


def test_it_passes_every_session_through_the_charting_checks(clinic: SynthClinic) -> None:
    failures = [(i, e) for i, s in enumerate(all_sessions(clinic)) if (e := charting_errors(s))]
    assert failures == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**63))
def test_it_passes_the_charting_checks_for_any_seed(seed: int) -> None:
    for patient in generate_clinic(seed=seed, patients=4, today=TODAY).patients:
        for session in patient.sessions:
            assert charting_errors(session) == []


def test_it_keeps_every_date_in_the_past(clinic: SynthClinic) -> None:
    for patient in clinic.patients:
        assert patient.birth_date < TODAY - dt.timedelta(days=18 * 365)
        for series in patient.series:
            assert series.started_on == local_day(series.sessions[0])
            for session in series.sessions:
                assert session.performed_at.utcoffset() == dt.timedelta(0)
                assert local_day(session) < TODAY
                for event in session.adverse_events:
                    assert local_day(session) <= event.onset <= TODAY
                    assert event.resolved_on is None or event.onset <= event.resolved_on < TODAY
        assert all(entry.date <= TODAY for entry in patient.diary)


def test_it_holds_sessions_in_clinic_hours_on_weekdays_and_saturdays(clinic: SynthClinic) -> None:
    for session in all_sessions(clinic):
        local = session.performed_at.astimezone(TZ)
        assert 8 <= local.hour <= 16
        assert local.weekday() != 6


# Protocols (DOMAIN 1.1, 1.2) ---------------------------------------------------------------------


def intervals(series: SynthSeries) -> list[int]:
    days = [local_day(s) for s in series.sessions]
    return [(b - a).days for a, b in itertools.pairwise(days)]


def test_it_spaces_neural_sessions_6_to_8_days_apart(clinic: SynthClinic) -> None:
    gaps = [g for s in all_series(clinic) if s.modality is Modality.NEURAL for g in intervals(s)]
    assert gaps
    assert min(gaps) >= 6
    assert max(gaps) <= 8


def test_it_spaces_classic_sessions_2_to_6_weeks_apart(clinic: SynthClinic) -> None:
    gaps = [g for s in all_series(clinic) if s.modality is Modality.CLASSIC for g in intervals(s)]
    assert gaps
    assert min(gaps) >= 14
    assert max(gaps) <= 42


def test_it_plans_4_to_8_neural_and_3_to_6_classic_sessions(clinic: SynthClinic) -> None:
    for series in all_series(clinic):
        low, high = (4, 8) if series.modality is Modality.NEURAL else (3, 6)
        assert low <= series.planned_sessions <= high
        assert 1 <= len(series.sessions) <= series.planned_sessions
        if series.status == "completed":
            assert len(series.sessions) == series.planned_sessions
        if series.status == "active":
            assert len(series.sessions) < series.planned_sessions


def test_it_gives_neural_prolotherapy_as_subcutaneous_5pct_dextrose_or_mannitol(
    clinic: SynthClinic,
) -> None:
    catalog = load_catalog()
    mannitol = 0
    for series in all_series(clinic):
        if series.modality is not Modality.NEURAL:
            continue
        for session in series.sessions:
            assert 5 <= len(session.injections) <= 14
            for item in session.injections:
                site = catalog.site(item.site)
                assert (site.modality, site.region) == (Modality.NEURAL, series.region)
                assert item.depth == "subcutaneous"
                assert Decimal("0.2") <= item.volume_ml <= Decimal("1.0")
                assert 27 <= item.needle_gauge <= 30
                assert item.lidocaine_pct == 0
                solution = (item.dextrose_pct, item.mannitol_pct)
                assert solution in ((Decimal(5), Decimal(0)), (Decimal(0), Decimal(5)))
                mannitol += item.mannitol_pct > 0
    assert mannitol > 0


def test_it_gives_classic_prolotherapy_as_hypertonic_dextrose_with_lidocaine(
    clinic: SynthClinic,
) -> None:
    catalog = load_catalog()
    for patient in clinic.patients:
        for series in patient.series:
            if series.modality is not Modality.CLASSIC:
                continue
            for session in series.sessions:
                for item in session.injections:
                    site = catalog.site(item.site)
                    assert (site.modality, site.region) == (Modality.CLASSIC, series.region)
                    assert Decimal("12.5") <= item.dextrose_pct <= Decimal("25")
                    assert Decimal("0.5") <= item.volume_ml <= Decimal("6")
                    assert 22 <= item.needle_gauge <= 27
                    if "local_anaesthetic" in patient.allergies:
                        assert item.lidocaine_pct == 0
                    else:
                        assert Decimal("0.1") <= item.lidocaine_pct <= Decimal("0.2")
                # 1% = 10 mg/ml; the label's limit is 4.5 mg/kg (DOMAIN 2.1): stay well under.
                mg = sum(float(i.volume_ml * i.lidocaine_pct * 10) for i in session.injections)
                assert mg <= 1.5 * float(patient.weight_kg)


def test_it_gives_axial_and_facial_classic_injections_only_by_the_physician(
    clinic: SynthClinic,
) -> None:
    for series in all_series(clinic):
        if series.modality is Modality.CLASSIC:
            for session in series.sessions:
                if series.region in synth.PHYSICIAN_ONLY_CLASSIC_REGIONS:
                    assert session.practitioner_key == "physician"
                else:
                    assert session.practitioner_key in ("physician", "naturopath")


def test_it_gives_pregnant_patients_no_classic_prolotherapy() -> None:
    patients = generate_clinic(seed=3, patients=800, today=TODAY).patients
    pregnant = [p for p in patients if p.pregnant]
    assert pregnant
    assert all(s.modality is Modality.NEURAL for p in pregnant for s in p.series)


# Outcomes (DOMAIN 4.1, 4.2, 5) -------------------------------------------------------------------


def falls_30pct(series: SynthSeries) -> bool:
    first, last = series.sessions[0].pain_before, series.sessions[-1].pain_before
    assert first is not None and last is not None
    return last <= 0.7 * first


def test_it_makes_responders_and_non_responders(clinic: SynthClinic) -> None:
    done = [s for s in all_series(clinic) if s.status == "completed"]
    responders = [s for s in done if s.response == RESPONDER]
    others = [s for s in done if s.response == NON_RESPONDER]
    assert responders
    assert others
    assert all(falls_30pct(s) for s in responders)
    assert not any(falls_30pct(s) for s in others)
    share = sum(s.response == RESPONDER for s in all_series(clinic)) / len(all_series(clinic))
    assert 0.45 <= share <= 0.65


def test_it_makes_a_few_drop_outs_after_the_first_session(clinic: SynthClinic) -> None:
    series = all_series(clinic)
    drop_outs = [s for s in series if s.response == DROP_OUT]
    assert 0 < len(drop_outs) < 0.15 * len(series)
    assert all(len(s.sessions) == 1 and s.status == "stopped" for s in drop_outs)


def reading_rise(series: SynthSeries, phase: str) -> list[float]:
    rises = []
    for session in series.sessions:
        base = {(r.site, r.side): kg_cm2(r) for r in session.readings if r.phase == "baseline"}
        rises += [kg_cm2(r) - base[r.site, r.side] for r in session.readings if r.phase == phase]
    return rises


def test_it_raises_pressure_thresholds_after_injections_in_responders(clinic: SynthClinic) -> None:
    by_response: dict[str, dict[str, list[float]]] = {}
    for series in all_series(clinic):
        for phase in ("1min", "15min"):
            rises = by_response.setdefault(series.response, {}).setdefault(phase, [])
            rises += reading_rise(series, phase)
    responders = by_response[RESPONDER]
    assert 0.2 < statistics.mean(responders["1min"]) < statistics.mean(responders["15min"]) < 2
    assert abs(statistics.mean(by_response[NON_RESPONDER]["15min"])) < 0.2


def test_it_keeps_readings_in_range_with_one_unit_per_session(clinic: SynthClinic) -> None:
    units = set()
    for session in all_sessions(clinic):
        assert 2 * 3 <= len(session.readings) <= 4 * 3
        assert len({r.unit for r in session.readings}) == 1
        units |= {r.unit for r in session.readings}
        assert all(0 < kg_cm2(r) <= MAX_PPT_KG_CM2 for r in session.readings)
    assert units == {"kg/cm2", "N/cm2", "kPa"}


def test_it_starts_painful_sites_at_1_5_to_4_kg_cm2(clinic: SynthClinic) -> None:
    firsts = []
    for patient in clinic.patients:
        for series in patient.series:
            (condition,) = [
                c
                for c in patient.conditions
                if (c.code, c.region) == (series.condition_code, series.region)
            ]
            if condition.side in ("left", "right"):
                firsts += [
                    kg_cm2(r)
                    for r in series.sessions[0].readings
                    if r.phase == "baseline" and r.side == condition.side
                ]
    assert firsts
    # Measurement noise (sd 0.15 kg/cm2) is added around the drawn 1.5-4.
    assert min(firsts) >= 1.5 - 0.6
    assert max(firsts) <= 4.0 + 0.6


def relief_days(patient: SynthPatient, series: SynthSeries) -> list[int]:
    """Days from each session until the diary first says the pain is back (or the next visit)."""
    days = [local_day(s) for s in series.sessions]
    result = []
    for start, end in itertools.pairwise(days):
        back = [e.date for e in patient.diary if start < e.date < end and e.pain_back]
        result.append(((back[0] if back else end) - start).days)
    return result


def test_it_lengthens_relief_over_a_neural_responders_series(clinic: SynthClinic) -> None:
    first, late = [], []
    for patient in clinic.patients:
        if len(patient.series) != 1:
            continue
        series = patient.series[0]
        if series.modality is Modality.NEURAL and series.response == RESPONDER and patient.diary:
            relief = relief_days(patient, series)
            if len(relief) >= 3:
                first.append(relief[0])
                late.append(relief[-1])
    assert len(first) >= 5
    # Hours to a couple of days after the first session, most of a week later on (DOMAIN 1.2).
    assert statistics.mean(first) <= 3
    assert statistics.mean(late) >= statistics.mean(first) + 2


def test_it_marks_pain_back_when_pain_reaches_the_last_sessions_level(clinic: SynthClinic) -> None:
    checked = 0
    for patient in clinic.patients:
        if len(patient.series) != 1:
            continue
        sessions = patient.series[0].sessions
        for entry in patient.diary:
            last = [s for s in sessions if local_day(s) < entry.date][-1]
            assert last.pain_before is not None
            assert entry.pain_back == (entry.pain >= last.pain_before)
            assert 0 <= entry.pain <= 10
            checked += 1
    assert checked > 500


def test_it_keeps_a_daily_ish_diary_between_sessions(clinic: SynthClinic) -> None:
    with_diary = [p for p in clinic.patients if p.diary]
    assert 0.7 * len(clinic.patients) <= len(with_diary) < len(clinic.patients)
    for patient in with_diary:
        dates = [e.date for e in patient.diary]
        assert dates == sorted(set(dates))


# Safety events and signatures (DOMAIN 2.4) -------------------------------------------------------


def test_it_records_a_few_mostly_minor_adverse_events() -> None:
    sessions = list(
        itertools.chain.from_iterable(
            p.sessions for p in generate_clinic(seed=9, patients=600, today=TODAY).patients
        )
    )
    events = [e for s in sessions for e in s.adverse_events]
    assert 0.015 <= len(events) / len(sessions) <= 0.05
    minor = sum(e.category in ("local_pain_flare", "bruising_haematoma") for e in events)
    assert minor >= 0.7 * len(events)
    assert sum(e.serious for e in events) <= 0.1 * len(events)
    known = load_catalog().adverse_events
    assert all(e.serious == known[e.category].serious_by_default for e in events)


def test_it_leaves_only_the_latest_session_of_an_active_series_unsigned(
    clinic: SynthClinic,
) -> None:
    unsigned = 0
    for series in all_series(clinic):
        for session in series.sessions[:-1]:
            assert session.signed
        if series.status != "active":
            assert series.sessions[-1].signed
        unsigned += not series.sessions[-1].signed
    assert unsigned > 0


# People ------------------------------------------------------------------------------------------


def test_it_invents_people_with_unique_chart_numbers(clinic: SynthClinic) -> None:
    charts = [p.chart_number for p in clinic.patients]
    assert len(set(charts)) == len(charts)
    assert len({p.key for p in clinic.patients}) == len(clinic.patients)
    assert {p.sex for p in clinic.patients} >= {"female", "male"}
    for patient in clinic.patients:
        assert patient.given_name and patient.family_name
        assert Decimal(45) <= patient.weight_kg <= Decimal(140)
        assert set(patient.allergies) <= {"corn", "local_anaesthetic"}
        assert not (patient.pregnant and patient.sex != "female")
        codes = [(c.code, c.region) for c in patient.conditions]
        assert len(codes) == len(set(codes))
        assert {(s.condition_code, s.region) for s in patient.series} <= set(codes)
    assert [p.profession for p in clinic.practitioners] == [
        "physician",
        "naturopathic_doctor",
        "nurse_practitioner",
    ]


# Registry stream ---------------------------------------------------------------------------------


def test_it_streams_about_the_target_number_of_readings() -> None:
    patients = list(generate_registry(seed=4, readings_target=2000, today=TODAY))
    made = sum(len(s.readings) for p in patients for s in p.sessions)
    largest = max(sum(len(s.readings) for s in p.sessions) for p in patients)
    assert 2000 <= made < 2000 + largest
    assert sum(len(p.diary) for p in patients) > 0
    assert all(charting_errors(s) == [] for p in patients for s in p.sessions)


def test_it_streams_lazily() -> None:
    stream = generate_registry(seed=4, readings_target=10**12, today=TODAY)
    assert isinstance(stream, Iterator)
    first_three = list(itertools.islice(stream, 3))
    assert [p.chart_number for p in first_three] == ["R-0000001", "R-0000002", "R-0000003"]


def test_it_streams_the_same_registry_for_the_same_seed() -> None:
    one = list(generate_registry(seed=4, readings_target=500, today=TODAY))
    two = list(generate_registry(seed=4, readings_target=500, today=TODAY))
    assert one == two
