"""A POST is always read as the form it sends: an empty one is refused with each missing field
named, never answered with the blank page as if nothing had been sent, and it saves nothing.

Each page keeps its own answer to an invalid form: 400 for the administrators' settings and
token pages (tests/diary/test_settings.py for the diary's), the page again (200) with the
fields marked for the patient form and the sign-in steps, as for their other invalid input.
"""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.api.models import ApiToken
from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import SignInLink
from prolotrack.patients.models import Patient
from tests.conftest import password_only_login, second_factor_device

REQUIRED = "This field is required."


def _mark() -> int:
    """The id of the latest audit event: the events after it are the request's."""
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _body(response) -> str:
    return response.content.decode()


def test_an_empty_token_form_is_refused_naming_its_fields(world):
    client = world.client_for(world.admin)
    mark = _mark()
    response = client.post(reverse("api-tokens:list"), {})
    assert response.status_code == 400
    assert f"Name: {REQUIRED}" in _body(response)
    assert f"Acts as: {REQUIRED}" in _body(response)
    assert "Copy it now" not in _body(response)
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(pk__gt=mark, action="create").exists()


def test_an_empty_new_patient_form_names_the_missing_fields_and_creates_no_one(world):
    before = Patient.objects.count()
    response = world.client_for(world.front_desk).post(reverse("patients:create"), {})
    assert response.status_code == 200
    body = _body(response)
    assert "Nothing was saved. Correct the fields marked below." in body
    for label in ("Given name", "Family name", "Chart number", "Birth date", "Sex"):
        assert f"{label}: {REQUIRED}" in body
    assert Patient.objects.count() == before


def test_an_empty_patient_edit_changes_nothing_and_is_recorded_as_failed(world):
    patient = world.patient
    before = (patient.given_name, patient.family_name, patient.version)
    client = world.client_for(world.front_desk)
    mark = _mark()
    response = client.post(reverse("patients:edit", args=[patient.pk]), {})
    assert response.status_code == 200
    body = _body(response)
    assert "Nothing was saved. Correct the fields marked below." in body
    assert f"Family name: {REQUIRED}" in body
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name, patient.version) == before
    [event] = AuditEvent.objects.filter(pk__gt=mark)
    assert (event.action, event.outcome, event.patient_id) == ("change", "failed", patient.pk)


def test_an_empty_request_for_a_sign_in_link_names_the_address_and_sends_nothing(world):
    response = Client().post(reverse("diary:signin_request"), {})
    assert response.status_code == 200
    assert f"Your email address: {REQUIRED}" in _body(response)
    assert not mail.outbox
    assert not SignInLink.objects.exists()


def test_an_empty_second_factor_code_is_named_and_signs_no_one_in(world):
    second_factor_device(world.physician)
    client = Client()
    password_only_login(client, world.physician)
    mark = _mark()
    response = client.post(reverse("accounts:second_factor"), {})
    assert response.status_code == 200
    assert f"Code from your authenticator app: {REQUIRED}" in _body(response)
    # Still between the two steps; an empty form is not a wrong code, so no attempt is used up.
    assert client.get(reverse("patients:list")).status_code == 302
    assert not AuditEvent.objects.filter(pk__gt=mark, action="login_failed").exists()


def test_an_empty_enrolment_code_is_named_and_confirms_nothing(world):
    client = Client()
    password_only_login(client, world.nurse)
    assert client.get(reverse("accounts:second_factor_enrol")).status_code == 200
    response = client.post(reverse("accounts:second_factor_enrol"), {})
    assert response.status_code == 200
    assert f"Code from your authenticator app: {REQUIRED}" in _body(response)
    assert not TOTPDevice.objects.filter(user=world.nurse, confirmed=True).exists()
    assert client.get(reverse("patients:list")).status_code == 302
