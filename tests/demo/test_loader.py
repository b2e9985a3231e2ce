"""Loading a synthetic clinic: every row written, with the right clinic, in one transaction."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import F

from prolotrack.accounts.models import Clinic, PractitionerProfile, User
from prolotrack.core import synth, units
from prolotrack.core.synth import SynthClinic, generate_clinic, generate_registry
from prolotrack.demo.loader import LoadError, clinic_load, patients_load
from prolotrack.patients.models import Condition, Patient
from prolotrack.treatment.models import (
    AdverseEvent,
    AlgometerReading,
    Injection,
    Session,
    TreatmentSeries,
)

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def synthetic() -> SynthClinic:
    # Enough patients that adverse events and unsigned sessions are sure to appear.
    return generate_clinic(seed=7, patients=60, today=TODAY, name="Synthetic Test Clinic")


@pytest.fixture
def loaded(db: None, synthetic: SynthClinic) -> Clinic:
    return clinic_load(synthetic)


def expected_counts(clinic: SynthClinic) -> dict[str, int]:
    sessions = [s for p in clinic.patients for s in p.sessions]
    return {
        "patients": len(clinic.patients),
        "conditions": sum(len(p.conditions) for p in clinic.patients),
        "series": sum(len(p.series) for p in clinic.patients),
        "sessions": len(sessions),
        "injections": sum(len(s.injections) for s in sessions),
        "readings": sum(len(s.readings) for s in sessions),
        "adverse_events": sum(len(s.adverse_events) for s in sessions),
        "signed": sum(s.signed for s in sessions),
    }


def stored_counts(clinic: Clinic) -> dict[str, int]:
    return {
        "patients": Patient.objects.filter(clinic=clinic).count(),
        "conditions": Condition.objects.filter(clinic=clinic).count(),
        "series": TreatmentSeries.objects.filter(clinic=clinic).count(),
        "sessions": Session.objects.filter(clinic=clinic).count(),
        "injections": Injection.objects.filter(clinic=clinic).count(),
        "readings": AlgometerReading.objects.filter(clinic=clinic).count(),
        "adverse_events": AdverseEvent.objects.filter(clinic=clinic).count(),
        "signed": Session.objects.filter(clinic=clinic, signed_at__isnull=False).count(),
    }


def test_it_writes_as_many_rows_as_the_synthetic_clinic_has(
    loaded: Clinic, synthetic: SynthClinic
) -> None:
    expected = expected_counts(synthetic)
    assert stored_counts(loaded) == expected
    assert expected["adverse_events"] > 0
    assert expected["signed"] < expected["sessions"]
    assert (loaded.name, loaded.time_zone, loaded.jurisdiction) == (
        "Synthetic Test Clinic",
        synth.TIME_ZONE,
        synth.JURISDICTION,
    )


def test_it_stores_every_reading_in_kpa_within_the_algometer_range(loaded: Clinic) -> None:
    readings = list(AlgometerReading.objects.filter(clinic=loaded))
    assert readings
    for reading in readings:
        assert 0 < reading.value_kpa <= units.MAX_PPT_KPA
        assert reading.value_kpa == pytest.approx(units.to_kpa(float(reading.value), reading.unit))
    assert {r.unit for r in readings} == {"kg/cm2", "N/cm2", "kPa"}


@pytest.mark.parametrize(
    ("model", "patient_path"),
    [
        (Condition, "patient"),
        (TreatmentSeries, "patient"),
        (Session, "series__patient"),
        (Injection, "session__series__patient"),
        (AlgometerReading, "session__series__patient"),
        (AdverseEvent, "session__series__patient"),
    ],
)
def test_it_gives_every_child_row_its_patients_clinic(
    loaded: Clinic, model: type, patient_path: str
) -> None:
    rows = model.objects.all()
    assert rows.filter(clinic=loaded).exists()
    assert not rows.exclude(clinic_id=F(f"{patient_path}__clinic_id")).exists()


def test_it_links_each_series_to_its_condition(loaded: Clinic) -> None:
    for series in TreatmentSeries.objects.filter(clinic=loaded).select_related("condition"):
        assert series.condition is not None
        assert series.condition.patient_id == series.patient_id
        assert series.condition.region == series.region


def test_it_signs_sessions_half_an_hour_later_as_their_practitioner(loaded: Clinic) -> None:
    signed = Session.objects.filter(clinic=loaded, signed_at__isnull=False)
    assert signed.exists()
    for session in signed:
        assert session.signed_by_id == session.practitioner_id
        assert session.signed_at - session.performed_at == dt.timedelta(minutes=30)
    assert not Session.objects.filter(clinic=loaded, signed_at__isnull=True).exclude(signed_by=None)


def test_it_makes_each_practitioner_a_user_with_a_profile(loaded: Clinic) -> None:
    users = {u.username: u for u in User.objects.filter(clinic=loaded)}
    assert set(users) == {p.key for p in synth.PRACTITIONERS}
    for practitioner in synth.PRACTITIONERS:
        user = users[practitioner.key]
        assert user.role == practitioner.profession
        assert user.first_name == practitioner.given_name
        assert not user.has_usable_password()
        profile = PractitionerProfile.objects.get(user=user)
        assert profile.clinic == loaded
        assert profile.profession == practitioner.profession
        assert profile.certifications == list(practitioner.certifications)
    assert Session.objects.filter(clinic=loaded, practitioner=users["physician"]).exists()


def test_it_gives_every_practitioner_the_password_when_given_one(db: None) -> None:
    clinic = clinic_load(
        generate_clinic(seed=1, patients=2, today=TODAY), password="a-long-test-password-1"
    )
    for user in User.objects.filter(clinic=clinic):
        assert user.check_password("a-long-test-password-1")


def test_it_refuses_a_taken_username_and_writes_nothing(world, synthetic: SynthClinic) -> None:
    User.objects.create_user(username="nurse", clinic=world.other_clinic)
    with pytest.raises(LoadError, match="nurse"):
        clinic_load(synthetic)
    assert not Clinic.objects.filter(name=synthetic.name).exists()
    assert Patient.objects.count() == 2  # the fixture world's own two patients


def test_it_loads_a_registry_stream_into_a_clinic(db: None) -> None:
    clinic = clinic_load(generate_clinic(seed=1, patients=0, today=TODAY, name="Registry"))
    practitioners = {u.username: u for u in User.objects.filter(clinic=clinic)}
    count = patients_load(
        clinic=clinic,
        practitioners=practitioners,
        patients=generate_registry(seed=2, readings_target=3000, today=TODAY),
    )
    expected = list(generate_registry(seed=2, readings_target=3000, today=TODAY))
    assert count == len(expected) == Patient.objects.filter(clinic=clinic).count()
    readings = AlgometerReading.objects.filter(clinic=clinic).count()
    assert readings == sum(len(s.readings) for p in expected for s in p.sessions) >= 3000


def test_it_loads_the_40_patient_demo_clinic_in_a_couple_of_seconds(db: None) -> None:
    started = time.perf_counter()
    clinic_load(generate_clinic(seed=2026, patients=40, today=TODAY))
    # About a fifth of a second on a laptop; the bound leaves room for slow CI machines.
    assert time.perf_counter() - started < 5
