"""Shared set-up for the diary tests: the fixture world's patient keeps a diary of their knee."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from prolotrack.accounts.models import Role
from prolotrack.diary.models import DiaryEntry
from prolotrack.treatment.models import Session, TreatmentSeries
from tests.conftest import make_patient, make_user

VANCOUVER_NOON = dt.time(12, 0)


def today_in_clinic() -> dt.date:
    """Today in the fixture clinic's zone (America/Vancouver)."""
    import zoneinfo

    return timezone.now().astimezone(zoneinfo.ZoneInfo("America/Vancouver")).date()


def session_on(world: Any, day: dt.date, pain_before: int = 6, series: Any = None) -> Session:
    """A session at noon (clinic time) on ``day``, with no injections: enough for the diary."""
    import zoneinfo

    when = dt.datetime.combine(day, VANCOUVER_NOON, tzinfo=zoneinfo.ZoneInfo("America/Vancouver"))
    return Session.objects.create(
        clinic=world.clinic,
        series=series or world.series,
        performed_at=when,
        practitioner=world.physician,
        pain_before=pain_before,
    )


def entry_post(world: Any, **overrides: Any) -> dict[str, Any]:
    """A valid entry form for the world's patient (one treated area: the knee series)."""
    data: dict[str, Any] = {
        "key": uuid.uuid4().hex,
        f"area-{world.series.pk}": "4",
        "entry_date": today_in_clinic().isoformat(),
        "note": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def patient_client(world: Any) -> Client:
    client = Client()
    client.force_login(world.patient_user)
    return client


@pytest.fixture
def neighbour(world: Any) -> Any:
    """Another patient of the same clinic, with a diary sign-in and a series of their own."""
    user = make_user(world.clinic, "neighbour", Role.PATIENT)
    patient = make_patient(world.clinic, "A-002", given_name="Noor", family_name="Next", user=user)
    series = TreatmentSeries.objects.create(
        clinic=world.clinic,
        patient=patient,
        modality="classic",
        region="knee",
        planned_sessions=4,
        planned_interval_days=28,
        started_on=dt.date(2026, 10, 1),
    )
    entry = DiaryEntry.objects.create(
        clinic=world.clinic, patient=patient, entry_date=today_in_clinic(), pain=5
    )
    client = Client()
    client.force_login(user)
    return type(
        "Neighbour",
        (),
        {"user": user, "patient": patient, "series": series, "entry": entry, "client": client},
    )
