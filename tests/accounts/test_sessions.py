"""Session lifetimes, renewal and revocation (RELIABILITY.md T15)."""

from __future__ import annotations

from django.contrib.sessions.models import Session as StoredSession
from django.test import Client
from django.urls import reverse

from prolotrack.accounts.services import user_deactivate
from prolotrack.audit.models import AuditEvent
from tests.accounts.conftest import sign_in
from tests.conftest import pass_second_factor

PATIENTS = "/patients/"
LOGIN = reverse("login")


def signed_in(user) -> Client:
    """Both steps through the pages, as a person signs in."""
    client = Client()
    sign_in(client, user)
    if user.needs_second_factor:
        pass_second_factor(client, user)
    return client


def test_the_session_id_changes_at_sign_in_and_the_old_one_is_gone(world):
    client = Client()
    session = client.session
    session["visited"] = True
    session.save()
    before = session.session_key
    client.cookies["sessionid"] = before
    sign_in(client, world.physician)
    after_password = client.cookies["sessionid"].value
    assert after_password != before
    assert not StoredSession.objects.filter(session_key=before).exists()
    pass_second_factor(client, world.physician)
    assert client.cookies["sessionid"].value not in (before, after_password)
    assert client.get(PATIENTS).status_code == 200


def test_staff_are_signed_out_after_15_minutes_without_activity(world, clock):
    client = signed_in(world.physician)
    clock.advance(minutes=14, seconds=50)
    assert client.get(PATIENTS).status_code == 200  # activity: the 15 minutes start again
    clock.advance(minutes=14, seconds=50)
    assert client.get(PATIENTS).status_code == 200
    clock.advance(minutes=15, seconds=1)
    response = client.get(PATIENTS)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?signed_out=idle&next=%2Fpatients%2F"
    page = client.get(response["Location"])
    assert b"signed out after 15 minutes without activity" in page.content
    # Signed out for good, and recorded as a sign-out.
    assert client.get(PATIENTS)["Location"].startswith(f"{LOGIN}?next=")
    assert AuditEvent.objects.filter(action="logout", user_id=world.physician.pk).exists()


def test_staff_are_signed_out_12_hours_after_signing_in_however_active(world, clock):
    client = signed_in(world.physician)
    for _ in range(71):  # a request every 10 minutes: never idle
        clock.advance(minutes=10)
        assert client.get(PATIENTS).status_code == 200
    clock.advance(minutes=10, seconds=1)  # 12 hours and a second
    response = client.get(PATIENTS)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?signed_out=expired")
    # Signing in again, both steps, opens it again.
    again = signed_in(world.physician)
    assert again.get(PATIENTS).status_code == 200


def test_an_ended_session_answers_the_api_with_401(world, clock):
    client = signed_in(world.physician)
    clock.advance(minutes=16)
    response = client.post("/api/v1/plans/check", "{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthenticated",
        "message": "Your session ended. Sign in again.",
        "field": "",
    }


def test_patients_have_no_idle_limit_and_their_own_lifetime(world, clock, settings):
    settings.PATIENT_SESSION_DAYS = 3
    client = signed_in(world.patient_user)
    assert client.cookies["sessionid"]["max-age"] == 3 * 24 * 60 * 60
    account = reverse("accounts:account")
    clock.advance(days=2, hours=23)  # idle for almost three days: still signed in
    assert client.get(account).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert client.get(account)["Location"].startswith(LOGIN)


def test_the_patient_session_days_setting_defaults_to_30():
    from prolotrack import settings as project_settings

    assert project_settings.PATIENT_SESSION_DAYS == 30


def test_an_old_cookie_is_refused_after_signing_out(world):
    client = signed_in(world.physician)
    cookie = client.cookies["sessionid"].value
    assert client.post(reverse("logout")).status_code == 302
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(PATIENTS)["Location"].startswith(LOGIN)


def test_sign_out_other_devices_ends_every_other_session_and_keeps_this_one(world):
    here, laptop, tablet = (signed_in(world.physician) for _ in range(3))
    colleague = signed_in(world.naturopath)
    old_key = here.cookies["sessionid"].value
    response = here.post(reverse("accounts:sign_out_others"))
    assert response.status_code == 302
    assert here.cookies["sessionid"].value != old_key
    assert here.get(PATIENTS).status_code == 200
    for other in (laptop, tablet):
        response = other.get(PATIENTS)
        assert response["Location"].startswith(f"{LOGIN}?signed_out=revoked")
        assert other.get(PATIENTS)["Location"].startswith(LOGIN)
    assert colleague.get(PATIENTS).status_code == 200
    [event] = [e for e in AuditEvent.objects.filter(action="logout") if e.detail]
    assert (event.user_id, event.detail) == (world.physician.pk, {"scope": "other_devices"})


def test_the_account_page_offers_sign_out_other_devices(world):
    html = signed_in(world.front_desk).get(reverse("accounts:account")).content.decode()
    assert f'action="{reverse("accounts:sign_out_others")}"' in html
    assert "Sign out other devices" in html


def test_sign_out_other_devices_takes_only_a_post(world):
    client = signed_in(world.physician)
    assert client.get(reverse("accounts:sign_out_others")).status_code == 405


def test_deactivating_a_user_ends_every_session_at_once_and_is_audited(world):
    phone, desk = signed_in(world.physician), signed_in(world.physician)
    cookie = desk.cookies["sessionid"].value
    user_deactivate(user=world.physician, by=world.admin)
    for client in (phone, desk):
        assert client.get(PATIENTS)["Location"].startswith(LOGIN)
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(PATIENTS)["Location"].startswith(LOGIN)
    assert sign_in(Client(), world.physician).status_code == 200  # cannot sign in
    event = AuditEvent.objects.filter(action="change", object_type="user").get()
    assert (event.user_id, event.object_id) == (world.admin.pk, str(world.physician.pk))
    assert event.detail == {"change": "deactivated", "tokens_revoked": 0}
    # Reactivated, the old sessions stay ended.
    world.physician.refresh_from_db()
    world.physician.is_active = True
    world.physician.save(update_fields=["is_active"])
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(PATIENTS)["Location"].startswith(LOGIN)
