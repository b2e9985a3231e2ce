"""The demo clinic's care teams: each practitioner sees the patients they treat, and breaks the
glass for the others (patients.access)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from prolotrack.accounts.models import Clinic
from prolotrack.core.synth import generate_clinic
from prolotrack.demo.loader import clinic_load
from prolotrack.patients.models import CareTeamMember
from prolotrack.treatment.models import Session


@pytest.fixture
def loaded(db: None) -> Clinic:
    return clinic_load(
        generate_clinic(seed=7, patients=30, today=dt.date(2026, 11, 20), name="Care Team Clinic")
    )


def test_it_puts_each_patient_in_the_care_of_their_sessions_practitioners(loaded: Clinic) -> None:
    treating = set(
        Session.objects.filter(clinic=loaded).values_list("series__patient_id", "practitioner_id")
    )
    team = set(CareTeamMember.objects.filter(clinic=loaded).values_list("patient_id", "user_id"))
    assert team == treating
    assert len(team) > 30  # some patients have more than one practitioner


def test_a_demo_practitioner_opens_their_patients_and_breaks_glass_for_the_others(
    loaded: Clinic,
) -> None:
    members = CareTeamMember.objects.filter(clinic=loaded).select_related("user")
    by_user: dict[int, set[int]] = {}
    for member in members:
        by_user.setdefault(member.user_id, set()).add(member.patient_id)
    patients = set(loaded.patients.values_list("pk", flat=True))
    user = next(m.user for m in members if patients - by_user[m.user_id])
    client = Client()
    client.force_login(user)
    mine = min(by_user[user.pk])
    theirs = min(patients - by_user[user.pk])
    assert client.get(reverse("treatment:chart", args=[mine])).status_code == 200
    response = client.get(reverse("treatment:chart", args=[theirs]))
    assert response.status_code == 403
    assert 'name="reason"' in response.content.decode()
