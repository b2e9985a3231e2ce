"""Triage on every entry: what the patient reads, the clinic's alerts, their email and board."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import Alert, ClinicDiarySettings, DiaryEntry
from tests.diary.conftest import entry_post, patient_client, session_on, today_in_clinic

URL = "/diary/"
BOARD = "/diary/alerts/"


def _submit(world, django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client(world).post(URL, entry_post(world, **fields))
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def test_fever_with_intense_pain_raises_an_urgent_alert_and_emails_the_clinic(
    world, django_capture_on_commit_callbacks
):
    ClinicDiarySettings.objects.create(clinic=world.clinic, alert_email="alerts@clinic.example")
    session_on(world, today_in_clinic() - dt.timedelta(days=2))
    response = _submit(
        world,
        django_capture_on_commit_callbacks,
        side_effects=["fever"],
        **{f"area-{world.series.pk}": "8"},
    )
    [alert] = Alert.objects.all()
    assert (alert.level, alert.rule_code, alert.source) == (
        "urgent",
        "urgent.infection",
        "domain.2.4",
    )
    assert (alert.patient, alert.clinic) == (world.patient, world.clinic)
    [email] = mail.outbox
    assert email.to == ["alerts@clinic.example"]
    assert "Urgent diary alert" in email.subject and "A-001" in email.subject
    assert "/diary/alerts/" in email.body
    assert "8/10" not in email.body  # no clinical detail by email
    page = patient_client(world).get(response["Location"]).content.decode()
    assert "Call the clinic today" in page and "infection" in page


def test_without_an_alert_address_the_clinics_practitioners_are_emailed(
    world, django_capture_on_commit_callbacks
):
    world.physician.email = "phys@clinic.example"
    world.physician.save()
    _submit(world, django_capture_on_commit_callbacks, side_effects=["numbness_weakness"])
    [email] = mail.outbox
    assert email.to == ["phys@clinic.example"]
    assert Alert.objects.get().rule_code == "urgent.neuro"


def test_bladder_change_shows_the_emergency_message_first_and_alerts_the_clinic(
    world, django_capture_on_commit_callbacks
):
    response = _submit(
        world, django_capture_on_commit_callbacks, side_effects=["bladder_bowel", "soreness"]
    )
    page = patient_client(world).get(response["Location"]).content.decode()
    first_message = page.index('data-level="')
    assert page[first_message:].startswith('data-level="emergency"')
    assert "Go to an emergency department now" in page
    assert page.index("emergency department") < page.index("pain 4 of 10")
    assert Alert.objects.get().level == "emergency"


def test_the_entry_page_shows_the_emergency_notice_script_hook(world):
    body = patient_client(world).get(URL).content.decode()
    assert 'id="emergency-now"' in body and "data-emergency" in body


def test_a_quiet_entry_raises_no_alert(world, django_capture_on_commit_callbacks):
    response = _submit(world, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists() and not mail.outbox
    page = patient_client(world).get(response["Location"]).content.decode()
    assert "Nothing in today's answers needs the clinic's attention" in page


def test_a_flare_beyond_72_hours_raises_a_review_alert(world, django_capture_on_commit_callbacks):
    session_on(world, today_in_clinic() - dt.timedelta(days=5), pain_before=5)
    _submit(world, django_capture_on_commit_callbacks, **{f"area-{world.series.pk}": "7"})
    assert Alert.objects.get().rule_code == "review.flare"


def test_a_lasting_flare_keeps_one_open_review_alert(world, django_capture_on_commit_callbacks):
    session_on(world, today_in_clinic() - dt.timedelta(days=6), pain_before=5)
    area = {f"area-{world.series.pk}": "7"}
    yesterday = (today_in_clinic() - dt.timedelta(days=1)).isoformat()
    _submit(world, django_capture_on_commit_callbacks, entry_date=yesterday, **area)
    _submit(world, django_capture_on_commit_callbacks, **area)
    assert DiaryEntry.objects.count() == 2
    [alert] = Alert.objects.all()
    assert alert.rule_code == "review.flare"
    # Once a practitioner has dealt with it, a flare that goes on is news again.
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_at=timezone.now(), acknowledged_by=world.physician, acknowledged_note="Seen."
    )
    latest = DiaryEntry.objects.order_by("-entry_date").first()
    Alert.objects.filter(entry=latest).delete()
    DiaryEntry.objects.filter(pk=latest.pk).delete()
    _submit(world, django_capture_on_commit_callbacks, **area)
    assert Alert.objects.filter(rule_code="review.flare").count() == 2


def _alert(world, level="urgent", when=None, acknowledged=False):
    entry = DiaryEntry.objects.create(
        clinic=world.clinic, patient=world.patient, entry_date=today_in_clinic(), pain=8
    )
    alert = Alert.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        entry=entry,
        level=level,
        rule_code="urgent.infection",
        source="domain.2.4",
        message=f"{level} message",
    )
    if when is not None:
        Alert.objects.filter(pk=alert.pk).update(created_at=when)
    if acknowledged:
        Alert.objects.filter(pk=alert.pk).update(
            acknowledged_at=timezone.now(),
            acknowledged_by=world.physician,
            acknowledged_note="Called.",
        )
    return alert


def test_the_board_lists_open_alerts_first_then_newest_first(world):
    now = timezone.now()
    old_open = _alert(world, "review", now - dt.timedelta(days=3))
    new_done = _alert(world, "urgent", now, acknowledged=True)
    new_open = _alert(world, "emergency", now - dt.timedelta(hours=1))
    response = world.client_for(world.physician).get(BOARD)
    body = response.content.decode()
    assert response.status_code == 200
    order = [body.index(f'id="alert-{a.pk}"') for a in (new_open, old_open, new_done)]
    assert order == sorted(order)
    assert "2 open" in body
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_type, event.clinic_id) == ("list", "alert", world.clinic.pk)


def test_the_board_is_paginated(world, settings):
    settings.PAGE_SIZE = 5
    for _ in range(7):
        _alert(world)
    client = world.client_for(world.physician)
    assert client.get(BOARD).content.decode().count('class="alert-card') == 5
    assert client.get(BOARD + "?page=2").content.decode().count('class="alert-card') == 2


def test_acknowledging_needs_a_note_and_records_who_and_when(world):
    alert = _alert(world)
    client = world.client_for(world.nurse)
    url = reverse("diary:alert_ack", args=[alert.pk])
    assert client.post(url, {"note": "   "}).status_code == 302
    alert.refresh_from_db()
    assert alert.is_open
    assert client.post(url, {"note": "Called; seen at 16:00."}).status_code == 302
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledged_note) == (
        world.nurse,
        "Called; seen at 16:00.",
    )
    assert alert.acknowledged_at is not None
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_type, event.outcome) == ("change", "alert", "ok")
    # A second acknowledgement changes nothing.
    client.post(url, {"note": "Again."})
    alert.refresh_from_db()
    assert alert.acknowledged_note == "Called; seen at 16:00."


def test_front_desk_and_patients_cannot_open_the_board(world):
    assert world.client_for(world.front_desk).get(BOARD).status_code == 403
    assert patient_client(world).get(BOARD).status_code == 404
