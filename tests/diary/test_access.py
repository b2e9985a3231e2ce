"""No one reaches another patient's diary: every diary URL tried as another patient of the same
clinic, as another clinic's practitioner and as the wrong role; nothing is stored."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import Alert, DiaryEntry, SignInLink
from tests.diary.conftest import entry_post, patient_client, today_in_clinic


@pytest.fixture
def diary(world):
    entry = DiaryEntry.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        entry_date=today_in_clinic(),
        pain=8,
        note="Avery's private note",
    )
    alert = Alert.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        entry=entry,
        level="urgent",
        rule_code="urgent.infection",
        source="domain.2.4",
        message="Avery urgent message",
    )
    return entry, alert


def _routes(world, entry, alert):
    """(method, url) of every diary route that names a record of the world's patient."""
    return [
        ("get", reverse("diary:entry", args=[entry.pk])),
        ("get", reverse("diary:patient_entries", args=[world.patient.pk])),
        ("post", reverse("diary:invite", args=[world.patient.pk])),
        ("post", reverse("diary:alert_ack", args=[alert.pk])),
    ]


def _state(world):
    return (
        DiaryEntry.objects.count(),
        Alert.objects.filter(acknowledged_at__isnull=False).count(),
        SignInLink.objects.count(),
        len(mail.outbox),
    )


def test_another_patient_gets_404_on_every_route_naming_a_record(world, diary, neighbour):
    before = _state(world)
    for method, url in _routes(world, *diary):
        response = getattr(neighbour.client, method)(
            url, {"note": "x"} if method == "post" else None
        )
        assert response.status_code == 404, url
        assert "Avery" not in response.content.decode()
    assert _state(world) == before


def test_another_clinics_practitioner_gets_404_everywhere(world, diary):
    client = world.client_for(world.other_physician)
    before = _state(world)
    for method, url in _routes(world, *diary):
        response = getattr(client, method)(url, {"note": "x"} if method == "post" else None)
        assert response.status_code == 404, url
    for name in ("diary:today", "diary:progress"):
        assert client.get(reverse(name)).status_code == 404
    for fmt in ("json", "csv"):
        assert client.get(reverse(f"diary:export_{fmt}")).status_code == 404
    board = client.get(reverse("diary:alerts"))
    assert board.status_code == 200 and "Avery" not in board.content.decode()
    assert _state(world) == before
    refused = AuditEvent.objects.filter(action="access_refused", clinic_id=world.other_clinic.pk)
    assert refused.count() >= 4


def test_the_patients_own_pages_show_only_their_own_diary(world, diary, neighbour):
    for name in ("diary:today", "diary:progress"):
        body = neighbour.client.get(reverse(name)).content.decode()
        assert "Avery" not in body and "private note" not in body
    for fmt in ("json", "csv"):
        body = neighbour.client.get(reverse(f"diary:export_{fmt}")).content.decode()
        assert "Avery" not in body and "A-001" not in body and "private note" not in body


def test_a_patient_cannot_post_an_entry_for_anothers_series(world, neighbour):
    before = DiaryEntry.objects.count()
    data = entry_post(world)  # names the world patient's series
    response = neighbour.client.post(reverse("diary:today"), data)
    assert response.status_code == 400
    assert "that treatment is not one of yours" in response.content.decode()
    assert DiaryEntry.objects.count() == before


def test_staff_get_404_on_the_patients_pages(world):
    client = world.client_for(world.physician)
    for name in ("diary:today", "diary:progress"):
        assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse("diary:today"), entry_post(world)).status_code == 404
    assert not DiaryEntry.objects.exists()


def test_the_wrong_staff_roles_are_refused(world, diary):
    _, alert = diary
    desk = world.client_for(world.front_desk)
    assert desk.get(reverse("diary:patient_entries", args=[world.patient.pk])).status_code == 403
    assert desk.post(reverse("diary:alert_ack", args=[alert.pk]), {"note": "x"}).status_code == 403
    assert world.client_for(world.physician).get(reverse("diary:settings")).status_code == 403
    assert patient_client(world).get(reverse("diary:settings")).status_code == 404
    alert.refresh_from_db()
    assert alert.is_open


def test_a_practitioner_outside_the_patients_care_is_asked_to_break_the_glass(world, diary):
    client = world.client_for(world.outsider)
    response = client.get(reverse("diary:patient_entries", args=[world.patient.pk]))
    assert response.status_code == 403
    assert "private note" not in response.content.decode()
