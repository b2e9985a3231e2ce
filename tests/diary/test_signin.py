"""Patients sign in with a one-time link: invitations, using a link, and asking for a new one."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prolotrack.accounts.models import Role, User
from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import SignInLink, hash_token
from prolotrack.diary.services import signin
from tests.conftest import make_patient

LINK = re.compile(r"http://testserver(/diary/signin/[A-Za-z0-9_-]+/)")


def _invite(world, patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client_for(world.physician).post(
            reverse("diary:invite", args=[patient.pk])
        )
    return response


def test_a_clinician_invites_a_patient_who_gets_a_user_and_a_link_by_email(
    world, django_capture_on_commit_callbacks
):
    patient = make_patient(world.clinic, "A-010", email="river@example.org")
    patient.care_members.create(clinic=world.clinic, user=world.physician)
    response = _invite(world, patient, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/patients/{patient.pk}/#diary")
    patient.refresh_from_db()
    user = patient.user
    assert (user.role, user.clinic, user.email) == (Role.PATIENT, world.clinic, "river@example.org")
    assert not user.has_usable_password()
    [email] = mail.outbox
    assert email.to == ["river@example.org"]
    [path] = LINK.findall(email.body)
    token = path.rstrip("/").rsplit("/", 1)[1]
    link = SignInLink.objects.get(user=user)
    assert link.token_hash == hash_token(token) and token not in link.token_hash
    assert link.expires_at - link.created_at == dt.timedelta(minutes=30)
    event = AuditEvent.objects.filter(object_type="diary_invitation").get()
    assert (event.action, event.outcome, event.patient_id) == ("create", "ok", patient.pk)


def test_an_invitation_without_an_email_address_says_so_and_creates_nothing(
    world, django_capture_on_commit_callbacks
):
    patient = make_patient(world.clinic, "A-011")
    patient.care_members.create(clinic=world.clinic, user=world.physician)
    response = _invite(world, patient, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.user is None and not mail.outbox
    assert not SignInLink.objects.exists()


def _link(world, *, minutes_ago=0):
    now = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return signin.sign_in_link_create(patient=world.patient, user=world.patient_user, now=now)


def test_a_link_shows_a_button_and_signs_the_patient_in_for_30_days(world):
    token = _link(world)
    client = Client()
    url = reverse("diary:signin", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and "Sign in to my diary" in page.content.decode()
    assert SignInLink.objects.get().used_at is None  # opening the link does not use it
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("diary:today")
    assert client.session.get_expiry_age() == 30 * 24 * 60 * 60
    assert client.get(reverse("diary:today")).status_code == 200
    event = AuditEvent.objects.filter(action="login").order_by("-id").first()
    assert event.user_id == world.patient_user.pk and event.detail == {"method": "link"}


def test_a_used_link_shows_a_clear_page_with_a_form_for_a_new_one(world):
    token = _link(world)
    url = reverse("diary:signin", args=[token])
    Client().post(url)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        body = response.content.decode()
        assert response.status_code == 410
        assert "already been used" in body and 'name="email"' in body


def test_an_expired_link_is_refused_with_the_form(world):
    token = _link(world, minutes_ago=31)
    client = Client()
    response = client.post(reverse("diary:signin", args=[token]))
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unknown_link_is_refused(world):
    response = Client().get(reverse("diary:signin", args=["not-a-real-token-at-all-xxxxxxxx"]))
    assert response.status_code == 404 and 'name="email"' in response.content.decode()


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(world):
    world.patient_user.email = "avery@example.org"
    world.patient_user.save()
    url = reverse("diary:signin_request")
    known = Client().post(url, {"email": "Avery@example.org"})
    unknown = Client().post(url, {"email": "nobody@example.org"})
    staff = Client().post(url, {"email": world.physician.email or "drphys@example.org"})
    assert known.status_code == unknown.status_code == staff.status_code == 200
    assert known.content == unknown.content == staff.content
    [email] = mail.outbox
    assert email.to == ["avery@example.org"]
    assert SignInLink.objects.filter(user=world.patient_user).count() == 1


def test_staff_never_get_a_link(world):
    world.physician.email = "doc@example.org"
    world.physician.save()
    Client().post(reverse("diary:signin_request"), {"email": "doc@example.org"})
    assert not mail.outbox


def test_signed_out_patients_are_sent_to_ask_for_a_link(world):
    response = Client().get(reverse("diary:today"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("diary:signin_request"))


def test_home_takes_a_patient_to_their_diary(world):
    client = Client()
    client.force_login(world.patient_user)
    assert client.get("/")["Location"] == reverse("diary:today")


def test_a_deactivated_patient_cannot_use_a_link(world):
    token = _link(world)
    User.objects.filter(pk=world.patient_user.pk).update(is_active=False)
    assert Client().post(reverse("diary:signin", args=[token])).status_code == 410


def test_asking_for_links_is_rate_limited_per_address(world, settings):
    settings.SIGN_IN_RATE_PER_MINUTE = 3
    client = Client()
    url = reverse("diary:signin_request")
    answers = [client.post(url, {"email": f"p{i}@example.org"}).status_code for i in range(5)]
    assert answers[:3] == [200, 200, 200]
    assert answers[3:] == [429, 429]
    assert len(mail.outbox) == 0  # none of these addresses is a patient's
