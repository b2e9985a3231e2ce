"""Sign-in, sign-out and failed sign-in are recorded, and no credential ever is (ASVS 16.3.1)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from prolotrack.audit.models import AuditEvent

UA = "Mozilla/5.0 (tablet) audit-test"
PASSWORD = "sign-in-secret-4711-xyz"


def with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def all_stored_text():
    """Every event as stored, to search for what must never be there."""
    return "\n".join(e.canonical().decode() + repr(e.detail) for e in AuditEvent.objects.all())


def test_it_records_a_sign_in(world, audit_log):
    with_password(world.physician)
    mark = audit_log.mark()
    client = Client(HTTP_USER_AGENT=UA)
    response = client.post(reverse("login"), {"username": "drphys", "password": PASSWORD})
    assert response.status_code == 302
    [event] = audit_log.since(mark)
    assert event.action == "login" and event.outcome == "ok"
    assert event.user_id == world.physician.pk and event.username == "drphys"
    assert event.role == "physician" and event.clinic_id == world.clinic.pk
    assert event.source_ip == "127.0.0.1" and event.user_agent == UA
    assert PASSWORD not in all_stored_text()


def test_it_records_a_failed_sign_in_with_the_name_tried_and_never_the_password(world, audit_log):
    with_password(world.physician)
    mark = audit_log.mark()
    wrong = "wrong-password-Tr0ub4dor"
    response = Client().post(reverse("login"), {"username": "drphys", "password": wrong})
    assert response.status_code == 200
    [event] = audit_log.since(mark)
    assert event.action == "login_failed" and event.outcome == "failed"
    assert event.username == "drphys" and event.user_id is None
    # The attempt shows on the page of the account's clinic.
    assert event.clinic_id == world.clinic.pk
    assert event.detail == {}
    stored = all_stored_text()
    assert wrong not in stored and PASSWORD not in stored


def test_it_records_a_failed_sign_in_for_an_unknown_name_under_no_clinic(world, audit_log):
    mark = audit_log.mark()
    Client().post(reverse("login"), {"username": "nobody", "password": "whatever-it-is"})
    [event] = audit_log.since(mark)
    assert (event.action, event.username, event.clinic_id) == ("login_failed", "nobody", None)


def test_it_neutralises_cr_lf_in_a_tried_username(world, audit_log):
    mark = audit_log.mark()
    forged = "mallory\r\n2026-01-01T00:00:00Z boss login ok"
    Client().post(reverse("login"), {"username": forged, "password": "x"})
    [event] = audit_log.since(mark)
    assert "\r" not in event.username and "\n" not in event.username
    assert event.username == "mallory2026-01-01T00:00:00Z boss login ok"


def test_it_records_a_sign_out(world, audit_log):
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    client.post(reverse("logout"))
    [event] = audit_log.since(mark)
    assert (event.action, event.user_id, event.username) == ("logout", world.front_desk.pk, "desk")
