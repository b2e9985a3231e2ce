"""One shared, named fixture world (STYLE.md habit 13).

Clinic A has a physician, a naturopathic doctor, a nurse practitioner, a front-desk user, a clinic
admin and a patient with a chart in the three practitioners' care, and an outsider: a physician of
clinic A who does not have the patient in their care; clinic B has a physician who must never see
clinic A's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.models import Clinic, PractitionerProfile, Role, User
from prolotrack.accounts.otp import current_code
from prolotrack.ops.scoping import scopes_disabled
from prolotrack.patients.models import CareTeamMember, Patient
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
    outsider: User
    patient: Patient
    other_patient: Patient
    series: TreatmentSeries

    def client_for(self, user: User) -> Client:
        """A client signed in as `user`, second factor verified for staff."""
        client = Client()
        login_verified(client, user)
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


# Django's own force_login: the password step only, as a staff user is between the two steps.
password_only_login = Client.force_login


def second_factor_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator device, made when they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def login_verified(client: Client, user: User, backend: str | None = None) -> None:
    """Sign `client` in as `user` as both steps of signing in would: the password, and for
    staff the second factor, marked in the session as django_otp.login() marks it."""
    password_only_login(client, user, backend)
    if user.needs_second_factor:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
        session.save()


def pass_second_factor(client: Client, user: User, next_url: str = "") -> HttpResponse:
    """After the password step, type the current code of the user's device on the page, as
    a person would; the answer is the redirect to where they were going."""
    device = second_factor_device(user)
    url = reverse("accounts:second_factor")
    return client.post(url, {"code": current_code(device), "next": next_url})


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`client.force_login(user)` skips the password; in these tests it skips the second factor
    too, so a test about anything else need not sign in twice. Tests of the second factor
    itself use `password_only_login` or the sign-in pages."""
    monkeypatch.setattr(Client, "force_login", login_verified)


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
def _scopes_off_outside_requests() -> Iterator[None]:
    """Tests set up and inspect rows of several clinics directly, as the command line does
    (ops.scoping); a request through the test client or the browser opens a scope of its own,
    so pages and the API are tested inside it."""
    with scopes_disabled():
        yield


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
    physician = make_user(clinic, "drphys", Role.PHYSICIAN, "physician")
    naturopath = make_user(clinic, "drnd", Role.NATUROPATHIC_DOCTOR, "naturopathic_doctor")
    nurse = make_user(clinic, "np", Role.NURSE_PRACTITIONER, "nurse_practitioner")
    # The patient is in the care of the clinic's three practitioners; the outsider, a physician
    # of the same clinic, is not, and breaks the glass to open the chart (patients.break_glass).
    for member in (physician, naturopath, nurse):
        CareTeamMember.objects.create(clinic=clinic, patient=patient, user=member)
    return World(
        clinic=clinic,
        other_clinic=other,
        physician=physician,
        naturopath=naturopath,
        nurse=nurse,
        front_desk=make_user(clinic, "desk", Role.FRONT_DESK),
        admin=make_user(clinic, "boss", Role.CLINIC_ADMIN),
        patient_user=patient_user,
        other_physician=make_user(other, "otherdoc", Role.PHYSICIAN, "physician"),
        outsider=make_user(clinic, "drout", Role.PHYSICIAN, "physician"),
        patient=patient,
        other_patient=make_patient(other, "B-001", given_name="Blake", family_name="Elsewhere"),
        series=series,
    )
