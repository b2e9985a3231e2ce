"""The patient pages write exactly one audit event per access, refusals included (T16)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from prolotrack.patients.models import Patient

UA = "Mozilla/5.0 (tablet) audit-test"

VALID = {
    "chart_number": "A-900",
    "given_name": "Robin",
    "family_name": "Quarry",
    "birth_date": "1980-05-17",
    "sex": "male",
    "weight_kg": "81,5",
    "email": "",
    "phone": "",
}


def assert_actor(event, user, clinic):
    assert event.user_id == user.pk and event.username == user.username
    assert event.role == user.role and event.clinic_id == clinic.pk
    assert event.source_ip == "127.0.0.1" and event.user_agent == UA
    assert event.break_glass is False


def test_the_list_records_one_list_event(world, audit_log):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    response = client.get(reverse("patients:list"), headers={"user-agent": UA})
    assert response.status_code == 200
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_type) == ("list", "ok", "patient")
    assert event.object_id == "" and event.patient_id is None
    assert_actor(event, world.front_desk, world.clinic)


def test_creating_a_patient_records_one_create_event(world, audit_log):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    response = client.post(reverse("patients:create"), VALID, headers={"user-agent": UA})
    assert response.status_code == 302
    patient = Patient.objects.get(chart_number="A-900")
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_type) == ("create", "ok", "patient")
    assert event.object_id == str(patient.pk) and event.patient_id == patient.pk
    assert_actor(event, world.front_desk, world.clinic)


def test_the_empty_new_patient_form_records_nothing(world, audit_log):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    assert client.get(reverse("patients:create")).status_code == 200
    assert audit_log.since(mark) == []


def test_opening_a_patient_records_one_read_event(world, audit_log):
    client = world.client_for(world.physician)
    mark = audit_log.mark()
    url = reverse("patients:edit", args=[world.patient.pk])
    assert client.get(url, headers={"user-agent": UA}).status_code == 200
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("read", "ok")
    assert event.object_id == str(world.patient.pk) and event.patient_id == world.patient.pk
    assert_actor(event, world.physician, world.clinic)


def test_saving_a_patient_records_one_change_event(world, audit_log):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    data = {**VALID, "chart_number": "A-001", "family_name": "Renamed", "version": "1"}
    url = reverse("patients:edit", args=[world.patient.pk])
    assert client.post(url, data, headers={"user-agent": UA}).status_code == 302
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.patient_id) == ("change", "ok", world.patient.pk)
    assert_actor(event, world.front_desk, world.clinic)
    # The new name is health information: it is nowhere in the event.
    assert "Renamed" not in event.canonical().decode()


@pytest.mark.parametrize(
    "change",
    [{"weight_kg": "0", "version": "1"}, {"version": "0"}],
    ids=["invalid", "stale"],
)
def test_a_save_that_saves_nothing_records_one_failed_change(world, audit_log, change):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    data = {**VALID, "chart_number": "A-001", **change}
    response = client.post(reverse("patients:edit", args=[world.patient.pk]), data)
    assert response.status_code in (200, 409)
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.patient_id) == ("change", "failed", world.patient.pk)


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_clinics_patient_records_one_refusal_with_the_requested_id(
    world, audit_log, method
):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    url = reverse("patients:edit", args=[world.other_patient.pk])
    response = getattr(client, method)(url, headers={"user-agent": UA})
    assert response.status_code == 404
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("access_refused", "refused")
    assert (event.object_type, event.object_id) == ("patient", str(world.other_patient.pk))
    # Filed under the clinic of the user who tried; the patient id stays the clinic's own.
    assert event.patient_id is None and event.detail == {"status": 404}
    assert_actor(event, world.front_desk, world.clinic)


def test_a_patient_refused_the_list_is_recorded(world, audit_log):
    client = world.client_for(world.patient_user)
    mark = audit_log.mark()
    assert client.get(reverse("patients:list")).status_code == 403
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.role) == ("access_refused", "refused", "patient")
    assert event.detail == {"status": 403}


def test_a_missing_patient_is_recorded_like_another_clinics(world, audit_log):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    assert client.get(reverse("patients:edit", args=[999999])).status_code == 404
    [event] = audit_log.since(mark)
    assert (event.action, event.object_id) == ("access_refused", "999999")
