"""One shared, named fixture world (STYLE.md habit 13).

Clinic A has a physician, a naturopathic doctor, a nurse practitioner, a front-desk user, a clinic
admin and a patient with a chart; clinic B has a physician who must never see clinic A's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client

from prolotrack.accounts.models import Clinic, PractitionerProfile, Role, User
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import TreatmentSeries

PASSWORD = "correct-horse-battery-9"


@dataclass
class World:
    clinic: Clinic
    other_clinic: Clinic
    physician: User
    naturopath: User
    nurse: User
    front_desk: User
    admin: User
    patient_user: User
    other_physician: User
    patient: Patient
    other_patient: Patient
    series: TreatmentSeries

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    @property
    def roles(self) -> dict[str, User]:
        return {
            "physician": self.physician,
            "naturopathic_doctor": self.naturopath,
            "nurse_practitioner": self.nurse,
            "front_desk": self.front_desk,
            "clinic_admin": self.admin,
            "patient": self.patient_user,
            "other_clinic_physician": self.other_physician,
        }


def make_user(clinic: Clinic, username: str, role: str, profession: str | None = None) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        clinic=clinic,
        role=role,
        first_name=username.title(),
        last_name="Test",
    )
    if profession:
        PractitionerProfile.objects.create(
            user=user, clinic=clinic, profession=profession, licence_jurisdiction="CA-BC"
        )
    return user


def make_patient(clinic: Clinic, chart_number: str, **extra: object) -> Patient:
    fields: dict[str, object] = {
        "given_name": "Avery",
        "family_name": "Example",
        "birth_date": dt.date(1971, 4, 2),
        "sex": "female",
        "weight_kg": Decimal("68.0"),
    }
    fields.update(extra)
    return Patient.objects.create(clinic=clinic, chart_number=chart_number, **fields)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """PBKDF2's deliberate slowness protects real passwords; test users need none of it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture
def world(db: None) -> World:
    clinic = Clinic.objects.create(name="Harbour Prolotherapy", jurisdiction="CA-BC")
    other = Clinic.objects.create(name="Other Clinic", jurisdiction="CA-ON")
    patient_user = make_user(clinic, "pat", Role.PATIENT)
    patient = make_patient(clinic, "A-001", user=patient_user)
    series = TreatmentSeries.objects.create(
        clinic=clinic,
        patient=patient,
        modality="neural",
        region="knee",
        planned_sessions=6,
        planned_interval_days=7,
        started_on=dt.date(2026, 10, 1),
    )
    return World(
        clinic=clinic,
        other_clinic=other,
        physician=make_user(clinic, "drphys", Role.PHYSICIAN, "physician"),
        naturopath=make_user(clinic, "drnd", Role.NATUROPATHIC_DOCTOR, "naturopathic_doctor"),
        nurse=make_user(clinic, "np", Role.NURSE_PRACTITIONER, "nurse_practitioner"),
        front_desk=make_user(clinic, "desk", Role.FRONT_DESK),
        admin=make_user(clinic, "boss", Role.CLINIC_ADMIN),
        patient_user=patient_user,
        other_physician=make_user(other, "otherdoc", Role.PHYSICIAN, "physician"),
        patient=patient,
        other_patient=make_patient(other, "B-001", given_name="Blake", family_name="Elsewhere"),
        series=series,
    )
