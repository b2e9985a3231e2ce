"""Series, sessions, amendments and adverse events through the API, as on the pages."""

from __future__ import annotations

import datetime as dt

import pytest

from prolotrack.patients.models import Condition
from prolotrack.treatment.models import AdverseEvent, Session, SessionAmendment, TreatmentSeries
from tests.api.conftest import ApiClient, error_of, token_for
from tests.treatment.charting_helpers import INFRAPATELLAR, SAPHENOUS, record_session

CLINICIANS = ("physician", "naturopathic_doctor", "nurse_practitioner")
NON_CLINICAL = ("front_desk", "clinic_admin", "patient", "auditor")
WHEN = "2026-11-02T09:30:00-08:00"


def session_body(**changes):
    body = {
        "performed_at": WHEN,
        "pain_before": 7,
        "pain_after": 3,
        "notes": "Medial knee pain on stairs.",
        "injections": [
            {
                "site": SAPHENOUS,
                "side": "left",
                "depth": "subcutaneous",
                "volume_ml": 0.5,
                "needle_gauge": 27,
                "lot": "D5-2291",
            },
            {
                "site": INFRAPATELLAR,
                "side": "right",
                "depth": "subcutaneous",
                "volume_ml": "1.0",
                "needle_gauge": 30,
                "dextrose_pct": 5,
            },
        ],
        "readings": [
            {
                "site": SAPHENOUS,
                "side": "left",
                "phase": "baseline",
                "value": 2.5,
                "unit": "kg/cm2",
            },
            {"site": SAPHENOUS, "side": "left", "phase": "1min", "value": 310, "unit": "kPa"},
        ],
    }
    body.update(changes)
    return body


def acknowledged(client, series_id, body):
    """The body with the cautions' key, read from the findings operation as the page does."""
    plan = {"performed_at": body["performed_at"], "injections": body["injections"]}
    response = client.post(f"/series/{series_id}/sessions/findings", plan)
    assert response.status_code == 200, response.content
    return {**body, "acknowledge": response.json()["warnings_key"]}


# Conditions and series ----------------------------------------------------------------------


def test_a_clinician_adds_and_lists_conditions(world, api, audit_log):
    client = api("physician")
    response = client.post(
        f"/patients/{world.patient.pk}/conditions",
        {"code": "knee_problems", "region": "knee", "side": "left", "onset": "2026-01-10"},
    )
    assert response.status_code == 201, response.content
    condition = Condition.objects.get(patient=world.patient)
    assert (condition.code, condition.side, condition.onset) == (
        "knee_problems",
        "left",
        dt.date(2026, 1, 10),
    )
    mark = audit_log.mark()
    listed = client.get(f"/patients/{world.patient.pk}/conditions")
    assert [c["id"] for c in listed.json()] == [condition.pk]
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.patient_id) == (
        "list",
        "condition",
        world.patient.pk,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "headache", "region": "knee"}, "code"),
        ({"code": "knee_problems", "region": "moon"}, "region"),
        ({"code": "knee_problems", "region": "knee", "side": "up"}, "side"),
        ({"code": "knee_problems", "region": "knee", "onset": 20260110}, "onset"),
        ({"code": "knee_problems", "region": "knee", "patient_id": 9}, "patient_id"),
    ],
)
def test_a_bad_condition_is_refused_naming_the_field(world, api, body, field):
    response = api("physician").post(f"/patients/{world.patient.pk}/conditions", body)
    assert response.status_code == 422
    assert error_of(response)["field"] == field
    assert not Condition.objects.exists()


def test_a_clinician_starts_and_reads_a_series(world, api):
    client = api("naturopathic_doctor")
    response = client.post(
        f"/patients/{world.patient.pk}/series",
        {
            "modality": "classic",
            "region": "knee",
            "planned_sessions": 6,
            "planned_interval_days": 28,
            "started_on": "2026-11-01",
        },
    )
    assert response.status_code == 201, response.content
    series = TreatmentSeries.objects.get(pk=response.json()["id"])
    assert (series.patient, series.modality, series.planned_interval_days) == (
        world.patient,
        "classic",
        28,
    )
    assert client.get(f"/series/{series.pk}").json()["modality"] == "classic"
    ids = [s["id"] for s in client.get(f"/patients/{world.patient.pk}/series").json()]
    assert set(ids) == {series.pk, world.series.pk}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"planned_sessions": False}, "planned_sessions"),
        ({"planned_sessions": 31}, "planned_sessions"),
        ({"planned_sessions": "6"}, "planned_sessions"),
        ({"planned_interval_days": True}, "planned_interval_days"),
        ({"modality": "mixed"}, "modality"),
        ({"region": "moon"}, "region"),
        ({"condition_id": 999999}, "condition_id"),
    ],
)
def test_a_bad_series_is_refused_naming_the_field(world, api, changes, field):
    body = {
        "modality": "neural",
        "region": "knee",
        "planned_sessions": 6,
        "planned_interval_days": 7,
        "started_on": "2026-11-01",
        **changes,
    }
    response = api("physician").post(f"/patients/{world.patient.pk}/series", body)
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field
    assert TreatmentSeries.objects.count() == 1


# Sessions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", CLINICIANS)
def test_a_clinician_charts_a_session_like_the_form(world, api, audit_log, role):
    client = api(role)
    body = acknowledged(client, world.series.pk, session_body())
    mark = audit_log.mark()
    response = client.post(f"/series/{world.series.pk}/sessions", body)
    assert response.status_code == 201, response.content
    session = Session.objects.get(series=world.series)
    assert (session.pain_before, session.pain_after, session.practitioner) == (
        7,
        3,
        world.roles[role],
    )
    assert session.performed_at == dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)
    assert [(i.site, i.side, str(i.volume_ml)) for i in session.injections.all()] == [
        (SAPHENOUS, "left", "0.50"),
        (INFRAPATELLAR, "right", "1.00"),
    ]
    kpa = {r.phase: round(r.value_kpa, 1) for r in session.readings.all()}
    assert kpa == {"baseline": 245.2, "1min": 310.0}
    out = response.json()
    assert out["id"] == session.pk and len(out["injections"]) == 2 and out["signed_at"] is None
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.object_id) == (
        "create",
        "session",
        str(session.pk),
    )


def test_the_findings_answer_what_the_page_shows(world, api, audit_log):
    client = api("physician")
    mark = audit_log.mark()
    plan = {"performed_at": WHEN, "injections": session_body()["injections"]}
    response = client.post(f"/series/{world.series.pk}/sessions/findings", plan)
    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["volume_ml"] == pytest.approx(1.5)
    assert body["blocked"] is False
    assert isinstance(body["warnings_key"], str)
    [event] = audit_log.since(mark)
    assert (event.action, event.patient_id) == ("read", world.patient.pk)
    assert not Session.objects.exists()


def test_unacknowledged_cautions_stop_the_save(world, api):
    client = api("physician")
    body = session_body()
    key = client.post(
        f"/series/{world.series.pk}/sessions/findings",
        {"performed_at": WHEN, "injections": body["injections"]},
    ).json()["warnings_key"]
    if not key:
        pytest.skip("no caution for this plan")
    response = client.post(f"/series/{world.series.pk}/sessions", {**body, "acknowledge": "x"})
    assert response.status_code == 422
    assert error_of(response)["field"] == "acknowledge"
    assert not Session.objects.exists()


def test_a_blocking_finding_needs_a_physicians_override(world, api, audit_log):
    world.patient.allergies = ["local_anaesthetic"]
    world.patient.save(update_fields=["allergies"])
    body = session_body()
    body["injections"][0]["lidocaine_pct"] = 1
    nd = api("naturopathic_doctor")
    refused = nd.post(
        f"/series/{world.series.pk}/sessions",
        acknowledged(nd, world.series.pk, {**body, "override_reason": "Patient insists strongly."}),
    )
    assert refused.status_code == 422
    error = error_of(refused)
    assert (error["code"], error["field"]) == ("safety_refused", "override_reason")
    assert not Session.objects.exists()

    physician = api("physician")
    body = acknowledged(physician, world.series.pk, body)
    assert physician.post(f"/series/{world.series.pk}/sessions", body).status_code == 422
    mark = audit_log.mark()
    saved = physician.post(
        f"/series/{world.series.pk}/sessions",
        {**body, "override_reason": "Tolerated lidocaine before; allergy history doubtful."},
    )
    assert saved.status_code == 201, saved.content
    session = Session.objects.get()
    assert session.is_overridden and session.override_by == world.physician
    assert [e.action for e in audit_log.since(mark)] == ["override", "create"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pain_before": False}, "pain_before"),
        ({"pain_before": True}, "pain_before"),
        ({"pain_before": 11}, "pain_before"),
        ({"pain_before": 6.5}, "pain_before"),
        ({"pain_before": "6"}, "pain_before"),
        ({"performed_at": "2026-11-02T09:30:00"}, "performed_at"),
        ({"performed_at": "2999-01-01T09:30:00Z"}, "performed_at"),
        ({"performed_at": 1700000000}, "performed_at"),
        ({"notes": "x" * 20001}, "notes"),
        ({"series": 3}, "series"),
        ({"version": 3}, "version"),
        ({"signed_at": "2026-11-02T09:30:00Z"}, "signed_at"),
    ],
)
def test_a_bad_session_is_refused_naming_the_field(world, api, changes, field):
    response = api("physician").post(f"/series/{world.series.pk}/sessions", session_body(**changes))
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("index", "changes", "field"),
    [
        (0, {"needle_gauge": False}, "injections.0.needle_gauge"),
        (0, {"needle_gauge": 40}, "injections.0.needle_gauge"),
        (0, {"volume_ml": True}, "injections.0.volume_ml"),
        (0, {"volume_ml": 0}, "injections.0.volume_ml"),
        (0, {"volume_ml": 20.5}, "injections.0.volume_ml"),
        (0, {"volume_ml": 0.125}, "injections.0.volume_ml"),
        (1, {"site": "n_nowhere"}, "injections.1.site"),
        (1, {"side": "midline"}, "injections.1.side"),
        (1, {"depth": "very deep"}, "injections.1.depth"),
        (1, {"epinephrine": 0}, "injections.1.epinephrine"),
        (1, {"lidocaine_pct": 3}, "injections.1.lidocaine_pct"),
        (1, {"clinic_id": 2}, "injections.1.clinic_id"),
    ],
)
def test_a_bad_injection_is_refused_naming_its_path(world, api, index, changes, field):
    body = session_body()
    body["injections"][index].update(changes)
    response = api("physician").post(f"/series/{world.series.pk}/sessions", body)
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"value": 25, "unit": "kg/cm2"}, "readings.0.value"),
        ({"value": False}, "readings.0.value"),
        ({"unit": "psi"}, "readings.0.unit"),
        ({"phase": "5min"}, "readings.0.phase"),
        ({"phase": "1min"}, "readings.1.phase"),  # the same site, side and phase twice
    ],
)
def test_a_bad_reading_is_refused_naming_its_path(world, api, changes, field):
    body = session_body()
    body["readings"][0].update(changes)
    response = api("physician").post(f"/series/{world.series.pk}/sessions", body)
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field


def test_sessions_list_per_series_and_per_patient_with_their_rows(world, api, audit_log):
    session = record_session(world)
    client = api("physician")
    mark = audit_log.mark()
    by_series = client.get(f"/series/{world.series.pk}/sessions").json()
    by_patient = client.get(f"/patients/{world.patient.pk}/sessions").json()
    assert by_series == by_patient
    [row] = by_series
    assert (row["id"], row["pain_before"], len(row["injections"]), len(row["readings"])) == (
        session.pk,
        6,
        2,
        2,
    )
    baseline = next(r for r in row["readings"] if r["phase"] == "baseline")
    assert baseline["value_kpa"] == pytest.approx(2.5 * 98.0665)
    events = audit_log.since(mark)
    assert [(e.action, e.patient_id) for e in events] == [("list", world.patient.pk)] * 2


def test_a_clinician_reads_signs_and_amends_a_session(world, api, audit_log):
    session = record_session(world)
    client = api("physician")
    mark = audit_log.mark()
    detail = client.get(f"/sessions/{session.pk}")
    assert detail.status_code == 200 and detail.json()["notes"] == "Tender medial knee."
    assert client.post(f"/sessions/{session.pk}/amendments", {"text": "Early"}).status_code == 409
    signed = client.post(f"/sessions/{session.pk}/sign")
    assert signed.status_code == 200 and signed.json()["signed_by_id"] == world.physician.pk
    again = client.post(f"/sessions/{session.pk}/sign")
    assert again.status_code == 409
    assert error_of(again)["code"] == "signed"
    amended = client.post(f"/sessions/{session.pk}/amendments", {"text": "Left knee, not right."})
    assert amended.status_code == 201
    assert SessionAmendment.objects.get().text == "Left knee, not right."
    assert client.get(f"/sessions/{session.pk}").json()["amendments"][0]["text"] == (
        "Left knee, not right."
    )
    actions = [(e.action, e.outcome) for e in audit_log.since(mark)]
    assert actions == [
        ("read", "ok"),
        ("amend", "failed"),
        ("sign", "ok"),
        ("sign", "failed"),
        ("amend", "ok"),
        ("read", "ok"),
    ]


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": 5}, {}])
def test_an_empty_amendment_is_refused(world, api, body):
    session = record_session(world, signed=True)
    response = api("physician").post(f"/sessions/{session.pk}/amendments", body)
    assert response.status_code == 422
    assert error_of(response)["field"] == "text"


def test_adverse_events_are_recorded_and_listed(world, api):
    session = record_session(world)
    client = api("physician")
    response = client.post(
        f"/sessions/{session.pk}/adverse-events",
        {"category": "local_pain_flare", "serious": False, "onset": "2026-11-03"},
    )
    assert response.status_code == 201, response.content
    event = AdverseEvent.objects.get()
    assert (event.session, event.category, event.onset) == (
        session,
        "local_pain_flare",
        dt.date(2026, 11, 3),
    )
    assert [e["id"] for e in client.get(f"/sessions/{session.pk}/adverse-events").json()] == [
        event.pk
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "hiccups"}, "category"),
        ({"onset": "2026-10-01"}, "onset"),  # before the session
        ({"serious": 1}, "serious"),
        ({"resolved_on": "2026-11-01"}, "resolved_on"),
    ],
)
def test_a_bad_adverse_event_is_refused(world, api, changes, field):
    session = record_session(world)
    body = {"category": "local_pain_flare", "onset": "2026-11-03", **changes}
    response = api("physician").post(f"/sessions/{session.pk}/adverse-events", body)
    assert response.status_code == 422
    assert error_of(response)["field"] == field
    assert not AdverseEvent.objects.exists()


# Who is refused -----------------------------------------------------------------------------


def _clinical_calls(world, session):
    p, s, x = world.patient.pk, world.series.pk, session.pk
    return [
        ("get", f"/patients/{p}/conditions", None),
        ("post", f"/patients/{p}/conditions", {"code": "knee_problems", "region": "knee"}),
        ("get", f"/patients/{p}/series", None),
        ("post", f"/patients/{p}/series", {"modality": "neural", "region": "knee",
                                           "planned_sessions": 6, "planned_interval_days": 7,
                                           "started_on": "2026-11-01"}),
        ("get", f"/patients/{p}/sessions", None),
        ("get", f"/series/{s}", None),
        ("get", f"/series/{s}/sessions", None),
        ("post", f"/series/{s}/sessions/findings", {"performed_at": WHEN, "injections": []}),
        ("post", f"/series/{s}/sessions", session_body()),
        ("get", f"/sessions/{x}", None),
        ("post", f"/sessions/{x}/sign", None),
        ("post", f"/sessions/{x}/amendments", {"text": "x"}),
        ("get", f"/sessions/{x}/adverse-events", None),
        ("post", f"/sessions/{x}/adverse-events", {"category": "infection", "onset": "2026-11-03"}),
    ]  # fmt: skip


def _state(world):
    return (
        Condition.objects.count(),
        TreatmentSeries.objects.count(),
        Session.objects.count(),
        Session.objects.filter(signed_at__isnull=False).count(),
        SessionAmendment.objects.count(),
        AdverseEvent.objects.count(),
    )


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_everyone_but_practitioners_is_refused_clinical_records(world, api, audit_log, role):
    session = record_session(world)
    client = api(role)
    before = _state(world)
    for method, path, body in _clinical_calls(world, session):
        mark = audit_log.mark()
        response = client.get(path) if method == "get" else client.post(path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert error_of(response)["code"] == "forbidden"
        [event] = audit_log.since(mark)
        assert (event.action, event.outcome) == ("access_refused", "refused")
    assert _state(world) == before


def test_another_clinics_practitioner_gets_404_everywhere(world, audit_log):
    session = record_session(world)
    client = ApiClient(token_for(world.other_physician))
    before = _state(world)
    for method, path, body in _clinical_calls(world, session):
        mark = audit_log.mark()
        response = client.get(path) if method == "get" else client.post(path, body)
        assert response.status_code == 404, (method, path, response.content)
        [event] = audit_log.since(mark)
        assert (event.action, event.clinic_id) == ("access_refused", world.other_clinic.pk)
    assert _state(world) == before


def test_a_practitioner_outside_the_patients_care_is_refused(world):
    session = record_session(world)
    client = ApiClient(token_for(world.outsider))
    for method, path, body in _clinical_calls(world, session):
        response = client.get(path) if method == "get" else client.post(path, body)
        assert response.status_code == 403, (method, path)


# Outcomes -----------------------------------------------------------------------------------


def test_a_clinician_reads_the_patients_outcomes(world, api, audit_log):
    first = record_session(world, pain_before=8)
    second = record_session(world, when=first.performed_at + dt.timedelta(days=7), pain_before=4)
    client = api("physician")
    mark = audit_log.mark()
    response = client.get(f"/patients/{world.patient.pk}/outcomes")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["baseline_pain"], body["latest_pain"], body["improvement"]) == (8, 4, 0.5)
    assert body["responder_50"] is True
    assert [s["session_id"] for s in body["sessions"]] == [first.pk, second.pk]
    [event] = audit_log.since(mark)
    assert (event.action, event.patient_id) == ("read", world.patient.pk)


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_outcomes_are_for_practitioners(world, api, role):
    response = api(role).get(f"/patients/{world.patient.pk}/outcomes")
    assert response.status_code == 403


def test_another_clinics_outcomes_are_404(world, api):
    response = api("physician").get(f"/patients/{world.other_patient.pk}/outcomes")
    assert response.status_code == 404
