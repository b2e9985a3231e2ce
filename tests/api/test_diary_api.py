"""The diary through the API: a patient's diary entries (read-only) and the clinic's alert board."""

from __future__ import annotations

import datetime as dt

import pytest

from prolotrack.core.triage import SideEffect
from prolotrack.diary.forms import EntryInput
from prolotrack.diary.models import Alert, DiaryAreaPain, DiaryEntry
from prolotrack.diary.services.entries import diary_entry_add
from prolotrack.treatment.models import TreatmentSeries
from tests.api.conftest import ApiClient, error_of, token_for
from tests.conftest import make_patient

CLINICIANS = ("physician", "naturopathic_doctor", "nurse_practitioner")
NON_CLINICAL = ("front_desk", "clinic_admin", "patient", "auditor")
DAY = dt.date(2026, 11, 2)


def entry(world, day, pain, *, patient=None, series=None, **fields):
    """A diary entry of ``day``; with ``series``, it rates that series' area at ``pain``."""
    patient = patient or world.patient
    found = DiaryEntry.objects.create(
        clinic=patient.clinic, patient=patient, entry_date=day, pain=pain, **fields
    )
    if series is not None:
        DiaryAreaPain.objects.create(clinic=patient.clinic, entry=found, series=series, pain=pain)
    return found


def alert(found, level="urgent", rule_code="urgent.infection", **fields):
    return Alert.objects.create(
        clinic=found.clinic,
        patient=found.patient,
        entry=found,
        level=level,
        rule_code=rule_code,
        source="domain.2.4",
        message="Fever with intense pain: possible infection.",
        **fields,
    )


def second_series(world):
    return TreatmentSeries.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        modality="classic",
        region="shoulder",
        planned_sessions=4,
        planned_interval_days=28,
        started_on=dt.date(2026, 10, 15),
    )


def entries_url(world, patient=None):
    return f"/patients/{(patient or world.patient).pk}/diary-entries"


def send(client, method, path, body):
    return client.get(path) if method == "get" else client.post(path, body)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Diary entries ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", CLINICIANS)
def test_a_clinician_reads_the_patients_diary_newest_first(world, api, audit_log, role):
    older = entry(world, DAY, 6, series=world.series)
    newer = entry(
        world,
        DAY + dt.timedelta(days=1),
        8,
        series=world.series,
        pain_back=True,
        side_effects=["fever", "soreness", "retired_code"],
        note="Hot and swollen since last night.",
        pgic=5,
        psfs=[{"activity": "Stairs", "score": 3}, {"activity": "Kneeling", "score": 6}],
    )
    raised = alert(newer)
    mark = audit_log.mark()
    response = api(role).get(entries_url(world))
    assert ids(response) == [newer.pk, older.pk]
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 25)
    row = body["results"][0]
    assert row == {
        "id": newer.pk,
        "patient_id": world.patient.pk,
        "entry_date": "2026-11-03",
        "pain": 8,
        "area_pains": [{"series_id": world.series.pk, "pain": 8}],
        "pain_back": True,
        # A code the diary no longer asks about is left out, as on the page.
        "side_effects": ["fever", "soreness"],
        "note": "Hot and swollen since last night.",
        "pgic": 5,
        "psfs": [{"activity": "Stairs", "score": 3}, {"activity": "Kneeling", "score": 6}],
        "psfs_mean": 4.5,
        "alerts": [
            {"id": raised.pk, "level": "urgent", "rule_code": "urgent.infection", "status": "open"}
        ],
        "created_at": row["created_at"],
    }
    assert body["results"][1]["pain_back"] is None and body["results"][1]["pgic"] is None
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.patient_id, event.outcome) == (
        "list",
        "diaryentry",
        world.patient.pk,
        "ok",
    )
    assert event.detail["api"] is True and event.detail["api_token"]


def test_a_clinician_reads_one_entry_and_the_read_is_recorded(world, api, audit_log):
    found = entry(world, DAY, 4, series=world.series, note="Better.")
    mark = audit_log.mark()
    response = api("physician").get(f"{entries_url(world)}/{found.pk}")
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["note"]) == (found.pk, "Better.")
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.object_id, event.patient_id) == (
        "read",
        "diaryentry",
        str(found.pk),
        world.patient.pk,
    )


def test_an_entry_written_by_the_diary_service_reads_as_stored(world, api):
    """The path the patient's page takes: the entry, its area pain and its triage alert."""
    from tests.diary.conftest import session_on

    session_on(world, DAY - dt.timedelta(days=2))
    result = diary_entry_add(
        patient=world.patient,
        user=world.patient_user,
        values=EntryInput(
            key="k" * 32,
            entry_date=DAY,
            pain=8,
            area_pains={world.series.pk: 8},
            side_effects=[SideEffect.FEVER],
        ),
    )
    [raised] = result.alerts
    body = api("physician").get(f"{entries_url(world)}/{result.entry.pk}").json()
    assert body["area_pains"] == [{"series_id": world.series.pk, "pain": 8}]
    assert [a["id"] for a in body["alerts"]] == [raised.pk]


def test_the_entries_come_a_page_at_a_time(world, api):
    made = [entry(world, DAY + dt.timedelta(days=i), i % 11) for i in range(30)]
    client = api("physician")
    first = client.get(entries_url(world), {"page_size": 10, "ordering": "entry_date"}).json()
    assert (first["count"], first["page"], first["page_size"]) == (30, 1, 10)
    assert [r["id"] for r in first["results"]] == [e.pk for e in made[:10]]
    last = client.get(entries_url(world), {"page_size": 10, "page": 3}).json()
    assert [r["id"] for r in last["results"]] == [e.pk for e in reversed(made[:10])]
    beyond = client.get(entries_url(world), {"page": 99}).json()
    assert (beyond["count"], beyond["results"]) == (30, [])
    assert len(client.get(entries_url(world)).json()["results"]) == 25


def test_the_entries_filter_by_day_and_by_series(world, api):
    shoulder = second_series(world)
    first = entry(world, DAY, 5, series=world.series)
    second = entry(world, DAY + dt.timedelta(days=1), 4, series=shoulder)
    both = entry(world, DAY + dt.timedelta(days=2), 3, series=world.series)
    DiaryAreaPain.objects.create(clinic=world.clinic, entry=both, series=shoulder, pain=2)
    client = api("physician")
    url = entries_url(world)
    assert ids(client.get(url, {"date_from": "2026-11-03"})) == [both.pk, second.pk]
    assert ids(client.get(url, {"date_to": "2026-11-03"})) == [second.pk, first.pk]
    one_day = {"date_from": "2026-11-03", "date_to": "2026-11-03"}
    assert ids(client.get(url, one_day)) == [second.pk]
    assert ids(client.get(url, {"series_id": world.series.pk})) == [both.pk, first.pk]
    assert ids(client.get(url, {"series_id": shoulder.pk})) == [both.pk, second.pk]
    # Another clinic's series, or none at all: nothing, never another patient's rows.
    other = TreatmentSeries.objects.create(
        clinic=world.other_clinic,
        patient=world.other_patient,
        modality="neural",
        region="knee",
        planned_sessions=6,
        planned_interval_days=7,
        started_on=DAY,
    )
    entry(world, DAY, 9, patient=world.other_patient, series=other)
    assert ids(client.get(url, {"series_id": other.pk})) == []
    assert ids(client.get(url, {"series_id": 2**53})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-02-30"}, "date_from"),
        # Seconds since 1970 and a date with a time are not a day, though pydantic reads them.
        ({"date_from": "1699920000"}, "date_from"),
        ({"date_to": "2026-11-05T00:00:00"}, "date_to"),
        ({"date_to": "0001-01-01"}, "date_to"),
        ({"date_from": "2026-11-05", "date_to": "2026-11-04"}, "date_to"),
        ({"series_id": "knee"}, "series_id"),
        ({"series_id": "1.5"}, "series_id"),
        ({"series_id": "true"}, "series_id"),
        ({"series_id": 0}, "series_id"),
        ({"series_id": 2**63}, "series_id"),
        ({"ordering": "pain"}, "ordering"),
        ({"ordering": "entry_date,extractvalue(1,concat(0x7e,version()))"}, "ordering"),
        ({"page": 0}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"date_from": "2026-11-01\x00"}, "date_from"),
    ],
)
def test_a_bad_entry_filter_is_refused_naming_it(world, api, params, field):
    entry(world, DAY, 5)
    response = api("physician").get(entries_url(world), params)
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid", field)


@pytest.mark.parametrize("name", ["patient_id", "clinic", "pain", "note__contains", "q"])
def test_an_unknown_entry_filter_is_refused_naming_it(world, api, name):
    response = api("physician").get(entries_url(world), {name: "1"})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("unknown_parameter", name)


def test_another_patients_entry_is_404_under_this_patient(world, api, audit_log):
    neighbour = make_patient(world.clinic, "A-002")
    theirs = entry(world, DAY, 5, patient=neighbour)
    mark = audit_log.mark()
    response = api("physician").get(f"{entries_url(world)}/{theirs.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("access_refused", "refused")
    # Named by the entry and by the patient of the URL, for a search of the trail by patient.
    assert (event.object_type, event.object_id) == ("diaryentry", str(theirs.pk))
    assert event.patient_id == world.patient.pk


def test_another_clinics_patient_and_entry_are_404(world, api, audit_log):
    theirs = entry(world, DAY, 5, patient=world.other_patient)
    client = api("physician")
    for path in (entries_url(world, world.other_patient), f"{entries_url(world)}/{theirs.pk}"):
        mark = audit_log.mark()
        response = client.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
        [event] = audit_log.since(mark)
        assert (event.action, event.clinic_id) == ("access_refused", world.clinic.pk)
    # ... and so are clinic A's to clinic B's physician.
    mine = entry(world, DAY, 5)
    other = ApiClient(token_for(world.other_physician))
    assert other.get(entries_url(world)).status_code == 404
    assert other.get(f"{entries_url(world)}/{mine.pk}").status_code == 404


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_only_practitioners_read_diary_entries(world, api, audit_log, role):
    found = entry(world, DAY, 5, note="Private note.")
    client = api(role)
    for path in (entries_url(world), f"{entries_url(world)}/{found.pk}"):
        mark = audit_log.mark()
        response = client.get(path)
        assert response.status_code == 403, (role, path)
        assert error_of(response)["code"] == "forbidden"
        assert b"Private note." not in response.content
        [event] = audit_log.since(mark)
        assert (event.action, event.outcome) == ("access_refused", "refused")


def test_a_practitioner_outside_the_care_must_break_the_glass(world):
    found = entry(world, DAY, 5)
    client = ApiClient(token_for(world.outsider))
    assert client.get(entries_url(world)).status_code == 403
    assert client.get(f"{entries_url(world)}/{found.pk}").status_code == 403


def test_no_operation_writes_a_diary_entry(world, api):
    client = api("physician")
    body = {"entry_date": "2026-11-02", "pain": 5}
    assert client.post(entries_url(world), body).status_code == 405
    assert not DiaryEntry.objects.exists()


# The alert board ----------------------------------------------------------------------------


@pytest.fixture
def board(world):
    """Three alerts of the patient, one acknowledged, and one of another clinic's patient."""
    first = entry(world, DAY, 6, series=world.series)
    second = entry(world, DAY + dt.timedelta(days=1), 8, series=world.series)
    handled = alert(
        first,
        level="review",
        rule_code="review.flare",
        acknowledged_by=world.nurse,
        acknowledged_at=dt.datetime(2026, 11, 2, 18, 0, tzinfo=dt.UTC),
        acknowledged_note="Called: settling.",
    )
    urgent = alert(first)
    emergency = alert(second, level="emergency", rule_code="emergency.cauda_equina")
    elsewhere = alert(entry(world, DAY, 9, patient=world.other_patient))
    return type(
        "Board",
        (),
        {
            "handled": handled,
            "urgent": urgent,
            "emergency": emergency,
            "elsewhere": elsewhere,
            "entry": second,
        },
    )


@pytest.mark.parametrize("role", [*CLINICIANS, "outsider"])
def test_every_practitioner_of_the_clinic_reads_its_board_open_first(
    world, api, audit_log, board, role
):
    client = ApiClient(token_for(world.outsider)) if role == "outsider" else api(role)
    mark = audit_log.mark()
    response = client.get("/alerts")
    assert ids(response) == [board.emergency.pk, board.urgent.pk, board.handled.pk]
    body = response.json()
    assert (body["count"], body["open_count"]) == (3, 2)
    assert body["results"][0] == {
        "id": board.emergency.pk,
        "patient_id": world.patient.pk,
        "chart_number": "A-001",
        "entry_id": board.entry.pk,
        "entry_date": "2026-11-03",
        "level": "emergency",
        "rule_code": "emergency.cauda_equina",
        "source": "domain.2.4",
        "message": "Fever with intense pain: possible infection.",
        "status": "open",
        "created_at": body["results"][0]["created_at"],
        "acknowledged_at": None,
        "acknowledged_by_id": None,
        "acknowledged_note": "",
    }
    handled = body["results"][2]
    assert (handled["status"], handled["acknowledged_by_id"], handled["acknowledged_note"]) == (
        "acknowledged",
        world.nurse.pk,
        "Called: settling.",
    )
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.clinic_id) == ("list", "alert", world.clinic.pk)
    assert (event.detail["page"], event.detail["shown"], event.detail["api"]) == (1, 3, True)


def test_the_board_filters_by_status_level_rule_and_patient(world, api, board):
    neighbour = make_patient(world.clinic, "A-002")
    theirs = alert(
        entry(world, DAY, 7, patient=neighbour), level="review", rule_code="review.fever"
    )
    client = api("physician")
    assert ids(client.get("/alerts", {"status": "open"})) == [
        theirs.pk,
        board.emergency.pk,
        board.urgent.pk,
    ]
    assert ids(client.get("/alerts", {"status": "acknowledged"})) == [board.handled.pk]
    assert ids(client.get("/alerts", {"level": "review"})) == [theirs.pk, board.handled.pk]
    assert ids(client.get("/alerts", {"rule_code": "urgent.infection"})) == [board.urgent.pk]
    assert ids(client.get("/alerts", {"patient_id": neighbour.pk})) == [theirs.pk]
    combined = {"patient_id": world.patient.pk, "status": "open", "level": "urgent"}
    assert ids(client.get("/alerts", combined)) == [board.urgent.pk]
    # Another clinic's patient: nothing of theirs reaches this clinic's board.
    assert ids(client.get("/alerts", {"patient_id": world.other_patient.pk})) == []


def test_the_board_comes_a_page_at_a_time(world, api):
    found = entry(world, DAY, 8)
    made = [alert(found) for _ in range(12)]
    client = api("physician")
    first = client.get("/alerts", {"page_size": 5}).json()
    assert (first["count"], first["open_count"]) == (12, 12)
    assert [r["id"] for r in first["results"]] == [a.pk for a in reversed(made)][:5]
    last = client.get("/alerts", {"page_size": 5, "page": 3}).json()
    assert [r["id"] for r in last["results"]] == [made[1].pk, made[0].pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"status": "OPEN"}, "status"),
        ({"level": "reassure"}, "level"),
        ({"level": "critical"}, "level"),
        ({"rule_code": ""}, "rule_code"),
        ({"rule_code": "x" * 65}, "rule_code"),
        ({"rule_code": "urgent.infection\x00"}, "rule_code"),
        ({"patient_id": "A-001"}, "patient_id"),
        ({"patient_id": -1}, "patient_id"),
        ({"page_size": 0}, "page_size"),
    ],
)
def test_a_bad_board_filter_is_refused_naming_it(world, api, params, field):
    response = api("physician").get("/alerts", params)
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid", field)


@pytest.mark.parametrize("name", ["kind", "clinic_id", "ordering", "acknowledged_by"])
def test_an_unknown_board_filter_is_refused_naming_it(world, api, name):
    response = api("physician").get("/alerts", {name: "1"})
    assert response.status_code == 400
    assert error_of(response)["field"] == name


def test_a_practitioner_reads_one_alert_and_the_read_is_recorded(world, api, audit_log, board):
    mark = audit_log.mark()
    response = api("naturopathic_doctor").get(f"/alerts/{board.urgent.pk}")
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["status"]) == (board.urgent.pk, "open")
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.object_id, event.patient_id) == (
        "read",
        "alert",
        str(board.urgent.pk),
        world.patient.pk,
    )


def test_another_clinics_alert_is_404_and_recorded(world, api, audit_log, board):
    client = api("physician")
    calls = (
        ("get", f"/alerts/{board.elsewhere.pk}"),
        ("post", f"/alerts/{board.elsewhere.pk}/acknowledge"),
        ("get", "/alerts/999999"),
    )
    for method, path in calls:
        mark = audit_log.mark()
        response = send(client, method, path, {"note": "Not mine."})
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
        [event] = audit_log.since(mark)
        assert (event.action, event.outcome) == ("access_refused", "refused")
    assert Alert.objects.get(pk=board.elsewhere.pk).is_open
    # Clinic B's physician sees their own board, with none of clinic A's alerts.
    other = ApiClient(token_for(world.other_physician))
    assert ids(other.get("/alerts")) == [board.elsewhere.pk]
    assert other.get(f"/alerts/{board.urgent.pk}").status_code == 404


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_only_practitioners_see_and_acknowledge_alerts(world, api, audit_log, board, role):
    client = api(role)
    calls = (
        ("get", "/alerts"),
        ("get", f"/alerts/{board.urgent.pk}"),
        ("post", f"/alerts/{board.urgent.pk}/acknowledge"),
    )
    for method, path in calls:
        mark = audit_log.mark()
        response = send(client, method, path, {"note": "Seen."})
        assert response.status_code == 403, (role, path, response.content)
        assert error_of(response)["code"] == "forbidden"
        assert b"A-001" not in response.content
        [event] = audit_log.since(mark)
        assert (event.action, event.outcome) == ("access_refused", "refused")
    assert Alert.objects.get(pk=board.urgent.pk).is_open


# Acknowledging ------------------------------------------------------------------------------


def test_a_practitioner_acknowledges_an_alert_with_a_note(world, api, audit_log, board):
    mark = audit_log.mark()
    response = api("nurse_practitioner").post(
        f"/alerts/{board.urgent.pk}/acknowledge", {"note": "  Called; seen today at 16:00.  "}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["acknowledged_by_id"], body["acknowledged_note"]) == (
        "acknowledged",
        world.nurse.pk,
        "Called; seen today at 16:00.",
    )
    assert body["acknowledged_at"] is not None
    stored = Alert.objects.get(pk=board.urgent.pk)
    assert (stored.acknowledged_by, stored.acknowledged_note) == (
        world.nurse,
        "Called; seen today at 16:00.",
    )
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_type, event.patient_id) == (
        "change",
        "ok",
        "alert",
        world.patient.pk,
    )
    assert event.detail["acknowledged"] is True and event.detail["api_token"]
    # The board now counts one open alert.
    assert api("physician").get("/alerts").json()["open_count"] == 1


def test_a_practitioner_outside_the_care_acknowledges_too(world, board):
    """An emergency must reach whoever is on duty: the board is the clinic's."""
    client = ApiClient(token_for(world.outsider))
    response = client.post(f"/alerts/{board.emergency.pk}/acknowledge", {"note": "Called 911."})
    assert response.status_code == 200, response.content


def test_acknowledging_twice_answers_409_and_keeps_the_first_note(world, api, audit_log, board):
    path = f"/alerts/{board.urgent.pk}/acknowledge"
    assert api("physician").post(path, {"note": "Called the patient."}).status_code == 200
    mark = audit_log.mark()
    response = api("naturopathic_doctor").post(path, {"note": "Also called."})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "already_acknowledged"
    assert "already acknowledged" in error["message"]
    stored = Alert.objects.get(pk=board.urgent.pk)
    assert (stored.acknowledged_by, stored.acknowledged_note) == (
        world.physician,
        "Called the patient.",
    )
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_id) == (
        "change",
        "failed",
        str(board.urgent.pk),
    )


def test_a_read_only_token_is_refused_the_acknowledgement(world, audit_log, board):
    client = ApiClient(token_for(world.physician, read_only=True))
    assert client.get(f"/alerts/{board.urgent.pk}").status_code == 200
    mark = audit_log.mark()
    response = client.post(f"/alerts/{board.urgent.pk}/acknowledge", {"note": "Called."})
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden" and "read-only" in error["message"]
    assert Alert.objects.get(pk=board.urgent.pk).is_open
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("access_refused", "refused")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "note"),
        ({"note": ""}, "note"),
        ({"note": "   \n\t"}, "note"),
        ({"note": None}, "note"),
        ({"note": 42}, "note"),
        ({"note": "x" * 1001}, "note"),
        ({"note": "Called.\x00"}, "note"),
        ({"note": "Called.", "acknowledged_by": 1}, "acknowledged_by"),
        ({"note": "Called.", "acknowledged_at": "2020-01-01T00:00:00Z"}, "acknowledged_at"),
    ],
)
def test_a_bad_acknowledgement_is_refused_naming_the_field(world, api, board, body, field):
    response = api("physician").post(f"/alerts/{board.urgent.pk}/acknowledge", body)
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid", field)
    stored = Alert.objects.get(pk=board.urgent.pk)
    assert (stored.acknowledged_at, stored.acknowledged_note) == (None, "")


def test_a_blank_note_is_recorded_as_a_failed_change(world, api, audit_log, board):
    mark = audit_log.mark()
    response = api("physician").post(f"/alerts/{board.urgent.pk}/acknowledge", {"note": "  "})
    assert response.status_code == 422
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.patient_id) == ("change", "failed", world.patient.pk)


def test_a_body_that_is_not_json_is_refused(world, api, board):
    response = api("physician").post(f"/alerts/{board.urgent.pk}/acknowledge", "note=Called")
    assert response.status_code in (400, 422)
    error_of(response)
    assert Alert.objects.get(pk=board.urgent.pk).is_open
