"""T16 for the API's writes: one event per call, saved or not, with its action and patient.

The reads are covered by tests/audit/test_coverage.py, which opens every audited GET route.
"""

from __future__ import annotations

import datetime as dt

import pytest

from prolotrack.diary.models import Alert, DiaryEntry
from tests.audit.test_coverage import AUDITED
from tests.treatment.charting_helpers import record_session

WHEN = "2026-11-02T09:30:00-08:00"


def _alert(world):
    """An open diary alert of the world's patient."""
    entry = DiaryEntry.objects.create(
        clinic=world.clinic, patient=world.patient, entry_date=dt.date(2026, 11, 2), pain=8
    )
    return Alert.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        entry=entry,
        level="urgent",
        rule_code="urgent.infection",
        source="domain.2.4",
        message="Fever with intense pain.",
    )


def _calls(world, session, signed):
    """Route name -> (path, a body that succeeds, a body the services refuse)."""
    p, s = world.patient.pk, world.series.pk
    series = {
        "modality": "neural",
        "region": "knee",
        "planned_sessions": 6,
        "planned_interval_days": 7,
        "started_on": "2026-11-01",
    }
    return {
        "api-v1:patient_create": (
            "/patients",
            {"chart_number": "N-1", "given_name": "A", "family_name": "B",
             "birth_date": "1990-01-01"},
            {"chart_number": "A-001", "given_name": "A", "family_name": "B",
             "birth_date": "1990-01-01"},
        ),
        "api-v1:patient_update": (
            f"/patients/{p}", {"version": 1, "phone": "1"}, {"version": 99, "phone": "2"}
        ),
        "api-v1:condition_create": (
            f"/patients/{p}/conditions",
            {"code": "knee_problems", "region": "knee"},
            {"code": "hiccups", "region": "knee"},
        ),
        "api-v1:series_create": (
            f"/patients/{p}/series", series, {**series, "region": "moon"}
        ),
        "api-v1:session_findings": (
            f"/series/{s}/sessions/findings", {"performed_at": WHEN, "injections": []}, None
        ),
        "api-v1:session_create": (
            f"/series/{s}/sessions",
            {"performed_at": WHEN, "pain_before": 5},
            {"performed_at": "2150-01-01T00:00:00Z", "pain_before": 5},
        ),
        "api-v1:session_sign": (f"/sessions/{session.pk}/sign", None, None),
        "api-v1:session_amend": (
            f"/sessions/{signed.pk}/amendments", {"text": "Correction."}, {"text": " "}
        ),
        "api-v1:adverse_event_create": (
            f"/sessions/{session.pk}/adverse-events",
            {"category": "local_pain_flare", "onset": "2026-11-03"},
            {"category": "hiccups", "onset": "2026-11-03"},
        ),
        "api-v1:alert_acknowledge": (
            f"/alerts/{_alert(world).pk}/acknowledge", {"note": "Called."}, {"note": " "}
        ),
    }  # fmt: skip


WRITES = sorted(n for n, (m, _) in AUDITED.items() if n.startswith("api-v1:") and m != "GET")


def test_every_api_write_is_listed_here(world):
    session = record_session(world)
    assert set(_calls(world, session, session)) == set(WRITES)


def _send(client, name, path, body):
    if AUDITED[name][0] == "PATCH":
        return client.patch(path, body)
    return client.post(path, body)


@pytest.mark.parametrize("name", WRITES)
def test_each_api_write_records_one_event(world, api, audit_log, name):
    session = record_session(world)
    signed = record_session(world, signed=True, when=session.performed_at.replace(day=3))
    path, good, _ = _calls(world, session, signed)[name]
    client = api("physician")
    if name == "api-v1:session_create":
        plan = {"performed_at": WHEN, "injections": []}
        findings = client.post(f"/series/{world.series.pk}/sessions/findings", plan).json()
        good = {**good, "acknowledge": findings["warnings_key"]}
    mark = audit_log.mark()
    response = _send(client, name, path, good)
    assert response.status_code in (200, 201), response.content
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == (AUDITED[name][1], "ok")
    expected_patient = response.json()["id"] if name == "api-v1:patient_create" else None
    assert event.patient_id == (expected_patient or world.patient.pk)
    assert event.detail["api"] is True and event.detail["api_token"]


@pytest.mark.parametrize("name", WRITES)
def test_each_refused_api_write_records_one_failed_event(world, api, audit_log, name):
    session = record_session(world)
    signed = record_session(world, signed=True, when=session.performed_at.replace(day=3))
    path, _, bad = _calls(world, session, signed)[name]
    if bad is None:
        if name != "api-v1:session_sign":
            pytest.skip("stores nothing, so nothing to refuse")
        path = f"/sessions/{signed.pk}/sign"  # signing twice
    client = api("physician")
    mark = audit_log.mark()
    response = _send(client, name, path, bad)
    assert response.status_code in (409, 422), response.content
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == (AUDITED[name][1], "failed")
