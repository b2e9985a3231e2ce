"""The demo's patient: one synthetic patient of the demo clinic who can sign in to the diary."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from prolotrack.accounts.models import Clinic
from prolotrack.diary.services.signin import patient_invite, sign_in_link_create, sign_in_url
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import SeriesStatus

# example.invalid can never receive mail (RFC 2606): the demo's emails go to the console.
DEMO_PATIENT_EMAIL = "demo.patient@example.invalid"


@dataclass(frozen=True)
class DemoPatientLogin:
    name: str
    email: str
    link: str


def demo_patient_login(*, clinic: Clinic, base_url: str) -> DemoPatientLogin | None:
    """A fresh one-time sign-in link for the demo patient, set up on first use.

    The demo patient is the clinic's patient with an active series and the longest diary (the
    one with the most to see), or the one who already has the demo address.
    """
    now = timezone.now()
    with transaction.atomic():
        patient = (
            Patient.objects.filter(clinic=clinic, email=DEMO_PATIENT_EMAIL).first()
            or Patient.objects.filter(clinic=clinic, series__status=SeriesStatus.ACTIVE)
            .annotate(entries=Count("diary_entries", distinct=True))
            .order_by("-entries", "pk")
            .first()
        )
        if patient is None:
            return None
        if patient.user_id is None:
            Patient.objects.filter(pk=patient.pk).update(email=DEMO_PATIENT_EMAIL)
            patient.email = DEMO_PATIENT_EMAIL
            patient_invite(patient=patient, by=None, now=now, base_url=base_url, send=False)
            patient.refresh_from_db()
        token = sign_in_link_create(patient=patient, user=patient.user, now=now)
    return DemoPatientLogin(patient.full_name, DEMO_PATIENT_EMAIL, sign_in_url(token, base_url))
