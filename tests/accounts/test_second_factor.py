"""Staff sign in with a TOTP code after the password; until then they see nothing (T21)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.otp import current_code
from prolotrack.audit.models import AuditEvent
from tests.accounts.conftest import sign_in
from tests.conftest import password_only_login, second_factor_device

SECOND = reverse("accounts:second_factor")
ENROL = reverse("accounts:second_factor_enrol")


def enrolment_code(user) -> str:
    return current_code(TOTPDevice.objects.get(user=user, confirmed=False))


def test_it_sends_staff_without_a_device_to_enrol_after_the_password(world):
    client = Client()
    response = sign_in(client, world.physician, next_url=reverse("patients:list"))
    assert response.status_code == 302
    assert response["Location"] == SECOND + "?next=%2Fpatients%2F"
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(ENROL)


def test_the_enrolment_page_shows_a_qr_code_without_style_and_the_secret_in_text(world):
    client = Client()
    sign_in(client, world.nurse)
    response = client.get(ENROL)
    html = response.content.decode()
    assert response.status_code == 200
    svg = re.search(r"<svg.*?</svg>", html, flags=re.S).group(0)
    assert "style" not in svg and "<script" not in svg
    assert "<title>QR code to add np to an authenticator app</title>" in svg
    device = TOTPDevice.objects.get(user=world.nurse)
    assert not device.confirmed
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")
    assert secret == __import__("base64").b32encode(device.bin_key).decode().rstrip("=")
    # Reloading shows the same device, so a half-done enrolment can be finished.
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=world.nurse).count() == 1


def test_enrolment_is_confirmed_with_a_code_and_goes_where_the_user_was_going(world):
    client = Client()
    sign_in(client, world.front_desk)
    client.get(ENROL)
    wrong = client.post(ENROL, {"code": "12345", "next": "/patients/"})
    assert wrong.status_code == 200
    assert b"Code from your authenticator app: Type the 6 digits" in wrong.content
    response = client.post(ENROL, {"code": enrolment_code(world.front_desk), "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert TOTPDevice.objects.get(user=world.front_desk).confirmed
    assert client.get("/patients/").status_code == 200


def test_enrolment_is_closed_once_a_device_is_confirmed(world):
    second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(SECOND)
    assert TOTPDevice.objects.filter(user=world.physician).count() == 1


def test_staff_with_a_device_type_its_code_and_get_a_new_session_id(world):
    device = second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    before = client.cookies["sessionid"].value
    response = client.post(SECOND, {"code": current_code(device), "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.cookies["sessionid"].value != before
    assert client.get("/patients/").status_code == 200


def test_a_replayed_code_is_refused(world):
    device = second_factor_device(world.physician)
    code = current_code(device)
    first, second = Client(), Client()
    sign_in(first, world.physician)
    sign_in(second, world.physician)
    assert first.post(SECOND, {"code": code}).status_code == 302
    replay = second.post(SECOND, {"code": code})
    assert replay.status_code == 200
    assert b"That code is not right or was already used" in replay.content
    assert second.get("/patients/").status_code == 302


def test_five_wrong_codes_lock_the_device_for_15_minutes_and_are_audited(world, clock):
    device = second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    right = current_code(device)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    mark = AuditEvent.objects.count()
    for _ in range(5):
        assert client.post(SECOND, {"code": wrong}).status_code == 200
    # Locked: even the right code is refused now, and says so.
    locked = client.post(SECOND, {"code": right})
    assert b"Too many wrong codes" in locked.content
    assert client.get("/patients/").status_code == 302
    failures = AuditEvent.objects.order_by("id")[mark:]
    assert [e.action for e in failures] == ["login_failed"] * 6
    assert {e.user_id for e in failures} == {world.physician.pk}
    assert failures[0].detail == {"step": "second_factor", "locked": False}
    assert failures[5].detail == {"step": "second_factor", "locked": True}
    assert right not in "".join(e.canonical().decode() for e in failures)
    # After 15 minutes the device takes a code again (the next step's, as the app shows it);
    # the half-signed-in session has ended idle meanwhile, so the password comes first.
    clock.advance(minutes=15, seconds=30)
    sign_in(client, world.physician)
    assert client.post(SECOND, {"code": current_code(device)}).status_code == 302
    assert client.get("/patients/").status_code == 200


@pytest.mark.parametrize("role", ["physician", "front_desk", "clinic_admin", "nurse_practitioner"])
def test_staff_between_the_two_steps_get_no_health_information(world, role):
    user = world.roles[role]
    client = Client()
    password_only_login(client, user)
    mark = AuditEvent.objects.count()
    for url in (
        reverse("home"),
        reverse("patients:list"),
        reverse("treatment:chart", args=[world.patient.pk]),
        reverse("patients:edit", args=[world.patient.pk]),
        reverse("audit:list"),
        reverse("accounts:account"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SECOND + "?next="), url
        assert b"Avery" not in response.content
    # Posting changes nothing either.
    response = client.post(reverse("patients:create"), {"given_name": "X"})
    assert response.status_code == 302
    assert AuditEvent.objects.count() == mark


def test_the_api_answers_401_in_its_error_shape_between_the_two_steps(world):
    client = Client()
    password_only_login(client, world.physician)
    response = client.post("/api/v1/plans/check", "{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "second_factor_required",
            "message": "Verify your second factor first.",
            "field": "",
        }
    }
    assert client.get("/api/v1/openapi.json").status_code == 401


def test_between_the_two_steps_sign_out_health_and_static_files_are_reachable(world):
    client = Client()
    password_only_login(client, world.physician)
    assert client.get(reverse("health")).status_code == 200
    assert client.get("/static/prolotrack/app.css").status_code == 200
    assert client.get(SECOND).status_code in (200, 302)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("patients:list"))["Location"].startswith(reverse("login"))


def test_patients_have_no_second_factor(world):
    client = Client()
    response = sign_in(client, world.patient_user)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not TOTPDevice.objects.filter(user=world.patient_user).exists()
    assert client.get(reverse("accounts:account")).status_code == 200


def test_a_code_of_another_users_device_is_refused(world):
    second_factor_device(world.physician)
    other = second_factor_device(world.naturopath)
    client = Client()
    sign_in(client, world.physician)
    assert client.post(SECOND, {"code": current_code(other)}).status_code == 200
    assert client.get("/patients/").status_code == 302


def test_an_outside_next_address_is_not_followed(world):
    device = second_factor_device(world.physician)
    client = Client()
    sign_in(client, world.physician)
    response = client.post(SECOND, {"code": current_code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
