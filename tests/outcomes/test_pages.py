"""The outcome dashboard and the patient's progress page: who sees them, and only their clinic."""

from __future__ import annotations

import pytest
from django.urls import reverse

from prolotrack.accounts.models import Role
from prolotrack.audit.models import AuditEvent
from tests.conftest import make_user
from tests.outcomes.helpers import synth_clinic_load
from tests.treatment.charting_helpers import record_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(world):
    """World's clinic B gets a generated practice: none of it may reach clinic A's pages."""
    clinic = synth_clinic_load("Busy Other", seed=3, patients=25)
    return clinic


@pytest.mark.parametrize("role", ["physician", "naturopathic_doctor", "clinic_admin"])
def test_the_dashboard_opens_for_clinicians_and_admins(world, role):
    record_session(world)
    response = world.client_for(world.roles[role]).get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "The claims beside the measured numbers" in body
    assert "Not enough data" in body  # one session: every claim honestly undecided
    assert "How the numbers are defined" in body


def test_an_auditor_opens_the_dashboard(world):
    auditor = make_user(world.clinic, "aud", Role.AUDITOR)
    assert world.client_for(auditor).get(reverse("outcomes:dashboard")).status_code == 200


@pytest.mark.parametrize("role", ["front_desk", "patient"])
def test_front_desk_and_patients_are_refused(world, role):
    client = world.client_for(world.roles[role])
    assert client.get(reverse("outcomes:dashboard")).status_code == 403
    assert client.get(reverse("outcomes:export") + "?table=summary").status_code == 403
    assert client.get(reverse("outcomes:progress", args=[world.patient.pk])).status_code in (
        403,
        404,
    )
    assert AuditEvent.objects.filter(action="access_refused").count() == 3


def test_another_clinics_data_is_never_included(world, busy):
    record_session(world)
    response = world.client_for(world.physician).get(reverse("outcomes:dashboard"))
    report = response.context["report"]
    assert (report["patients"], report["sessions"]) == (1, 1)
    csv = world.client_for(world.physician).get(reverse("outcomes:export") + "?table=by_region")
    assert csv.status_code == 200
    assert csv.content.decode().count("\n") == 2  # header and the one region of clinic A


def test_the_dashboard_of_a_generated_clinic_shows_a_curve_and_breakdowns(world, busy):
    doctor = make_user(busy, "busydoc", Role.PHYSICIAN)
    client = world.client_for(doctor)
    response = client.get(reverse("outcomes:dashboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="line-chart"' in body and "Kaplan-Meier" in body
    assert "By modality" in body
    for by, heading in (
        ("region", "By region"),
        ("condition", "By condition"),
        ("practitioner", "By practitioner"),
        ("period", "By quarter"),
    ):
        page = client.get(reverse("outcomes:dashboard"), {"by": by}).content.decode()
        assert heading in page  # fmt: skip
    assert response.context["report"]["patients"] == 25


def test_filters_are_validated(world):
    client = world.client_for(world.physician)
    response = client.get(reverse("outcomes:dashboard"), {"date_from": "2026-13-01"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    bad = client.get(reverse("outcomes:export"), {"table": "secrets"})
    assert bad.status_code == 400


@pytest.mark.parametrize("table", ["summary", "claims", "relief", "by_modality", "by_period"])
def test_every_table_downloads_as_csv_and_is_audited(world, table):
    record_session(world)
    response = world.client_for(world.admin).get(reverse("outcomes:export"), {"table": table})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    event = AuditEvent.objects.filter(action="export").get()
    assert (event.object_type, event.detail["table"]) == ("outcomes", table)


def test_the_progress_page_shows_the_patient_and_is_linked_from_the_chart(world):
    record_session(world)
    client = world.client_for(world.physician)
    chart = client.get(reverse("treatment:chart", args=[world.patient.pk])).content.decode()
    url = reverse("outcomes:progress", args=[world.patient.pk])
    assert url in chart
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Responder status" in body and "Algometer thresholds per site" in body
    event = AuditEvent.objects.filter(action="read", patient_id=world.patient.pk).last()
    assert event is not None


def test_the_progress_page_of_another_clinics_patient_is_404(world):
    client = world.client_for(world.other_physician)
    assert client.get(reverse("outcomes:progress", args=[world.patient.pk])).status_code == 404


def test_progress_in_a_generated_clinic_has_thresholds_against_the_band(busy):
    from zoneinfo import ZoneInfo

    from prolotrack.outcomes.progress import patient_progress
    from prolotrack.patients.models import Patient

    patient = Patient.objects.filter(clinic=busy).order_by("pk").first()
    progress = patient_progress(patient, ZoneInfo("America/Vancouver"))
    assert progress.sessions
    assert progress.sites and progress.sites[0].rows
    assert progress.sites[0].rows[0][2] in ("below", "within", "above")
    assert progress.status
