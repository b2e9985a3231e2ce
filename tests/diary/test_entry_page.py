"""The patient's daily entry: what it stores, what it refuses, and replays of one submission."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import Alert, DiaryAreaPain, DiaryEntry
from prolotrack.treatment.models import TreatmentSeries
from tests.diary.conftest import entry_post, patient_client, session_on, today_in_clinic

URL = "/diary/"


def test_it_shows_one_pain_scale_per_treated_area_with_big_buttons(world):
    second = TreatmentSeries.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        modality="classic",
        region="shoulder",
        planned_sessions=4,
        planned_interval_days=28,
        started_on=dt.date(2026, 10, 5),
    )
    response = patient_client(world).get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count(f'name="area-{world.series.pk}"') == 11
    assert body.count(f'name="area-{second.pk}"') == 11
    assert "Pain now in your knee" in body and "Pain now in your shoulder" in body
    assert 'name="key"' in body
    assert "prolotrack/diary.css" in body and "prolotrack/diary.js" in body


def test_it_asks_if_the_pain_is_back_only_after_a_session(world):
    client = patient_client(world)
    assert 'name="pain_back"' not in client.get(URL).content.decode()
    session_on(world, today_in_clinic() - dt.timedelta(days=2))
    assert 'name="pain_back"' in client.get(URL).content.decode()


def test_it_stores_an_entry_with_its_area_pains_and_answers_with_the_entry_page(world):
    session_on(world, today_in_clinic() - dt.timedelta(days=1))
    second = TreatmentSeries.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        modality="classic",
        region="shoulder",
        planned_sessions=4,
        planned_interval_days=28,
        started_on=dt.date(2026, 10, 5),
    )
    data = entry_post(
        world,
        **{f"area-{second.pk}": "7"},
        pain_back="no",
        side_effects=["soreness", "bruising"],
        note="Stairs were easier.",
        pgic="2",
        **{"psfs-0-activity": "Climbing stairs", "psfs-0-score": "6"},
    )
    response = patient_client(world).post(URL, data)
    entry = DiaryEntry.objects.get(patient=world.patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("diary:entry", args=[entry.pk])
    assert (entry.pain, entry.pain_back, entry.pgic) == (7, False, 2)  # the highest area
    assert entry.side_effects == ["soreness", "bruising"]
    assert entry.psfs == [{"activity": "Climbing stairs", "score": 6}]
    assert entry.note == "Stairs were easier."
    assert entry.clinic_id == world.clinic.pk and entry.submitted_by == world.patient_user
    assert dict(DiaryAreaPain.objects.values_list("series_id", "pain")) == {
        world.series.pk: 4,
        second.pk: 7,
    }
    page = patient_client(world).get(response["Location"]).content.decode()
    assert "Saved" in page and "This is expected" in page  # soreness on day 1: reassured


def _refused(world, data, field_text):
    mark = DiaryEntry.objects.count()
    response = patient_client(world).post(URL, data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in body
    assert field_text in body
    assert DiaryEntry.objects.count() == mark
    assert not Alert.objects.exists()
    return body


def test_it_refuses_pain_above_10_naming_the_area(world):
    _refused(world, entry_post(world, **{f"area-{world.series.pk}": "11"}), "Pain in your knee")


def test_it_refuses_negative_or_missing_pain(world):
    _refused(world, entry_post(world, **{f"area-{world.series.pk}": "-1"}), "Pain in your knee")
    _refused(world, entry_post(world, **{f"area-{world.series.pk}": None}), "Pain in your knee")


def test_it_refuses_a_future_date_in_the_clinics_zone(world):
    tomorrow = today_in_clinic() + dt.timedelta(days=1)
    _refused(
        world,
        entry_post(
            world,
            entry_date=tomorrow.isoformat(),
            side_effects=["fever"],
            **{f"area-{world.series.pk}": "9"},
        ),
        "Date: the entry cannot be for a future day.",
    )


def test_it_refuses_a_pain_for_a_series_that_is_not_the_patients(world, neighbour):
    _refused(
        world,
        entry_post(world, **{f"area-{neighbour.series.pk}": "3"}),
        "Treated area: that treatment is not one of yours.",
    )
    assert not DiaryAreaPain.objects.filter(series=neighbour.series).exists()


def test_it_refuses_an_unknown_side_effect_and_a_bad_pgic(world):
    body = _refused(world, entry_post(world, side_effects=["hiccups"], pgic="9"), "Side effects")
    assert "Overall change" in body


def test_it_refuses_a_form_without_its_key(world):
    _refused(world, entry_post(world, key=""), "This form has expired")


def test_a_refused_entry_is_recorded_as_a_failed_create(world):
    client = patient_client(world)
    client.post(URL, entry_post(world, **{f"area-{world.series.pk}": "12"}))
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome, event.patient_id) == ("create", "failed", world.patient.pk)


def test_ten_replays_of_one_submission_store_one_entry_and_answer_the_same(world):
    client = patient_client(world)
    data = entry_post(world, side_effects=["fever"], **{f"area-{world.series.pk}": "9"})
    answers = {client.post(URL, data)["Location"] for _ in range(10)}
    entry = DiaryEntry.objects.get(patient=world.patient)
    assert answers == {reverse("diary:entry", args=[entry.pk])}
    assert Alert.objects.filter(entry=entry).count() == 1
    creates = AuditEvent.objects.filter(action="create", object_type="diaryentry")
    assert creates.count() == 1


def test_the_same_key_from_another_patient_is_another_entry(world, neighbour):
    data = entry_post(world)
    assert patient_client(world).post(URL, data).status_code == 302
    theirs = {"key": data["key"], f"area-{neighbour.series.pk}": "2"}
    assert neighbour.client.post(URL, theirs).status_code == 302
    stored = DiaryEntry.objects.filter(idempotency_key=data["key"])
    assert sorted(stored.values_list("patient_id", flat=True)) == sorted(
        [world.patient.pk, neighbour.patient.pk]
    )


def test_opening_a_saved_entry_records_one_read(world):
    client = patient_client(world)
    location = client.post(URL, entry_post(world))["Location"]
    mark = AuditEvent.objects.order_by("-id").first().id
    assert client.get(location).status_code == 200
    [event] = AuditEvent.objects.filter(id__gt=mark)
    assert (event.action, event.object_type, event.patient_id) == (
        "read",
        "diaryentry",
        world.patient.pk,
    )
