"""Every route of the project is either public, exempt with a reason, or audited (T16).

A new route fails `test_every_route_is_public_exempt_or_audited` until it gets an entry here; an
audited GET route must write exactly one event with its action and patient when opened.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from prolotrack.treatment.models import Session
from tests.routes import routes
from tests.treatment.charting_helpers import acknowledging, record_session, session_post

# Open to anyone, signed in or not; no health information.
PUBLIC = {"login", "logout", "health", "static"}
# prolotrack's FHIR code systems and value sets: the catalog, never a record.
PUBLIC |= {"interop:fhir_code_system", "interop:fhir_value_set"}
# The definitions of prolotrack's FHIR extensions (issue 7): their shape, never a record.
PUBLIC |= {"interop:fhir_structure_definition"}
# The patient diary's sign-in by link and its information pages (text for anyone).
PUBLIC |= {"diary:signin_request", "diary:signin", "diary:info", "diary:info_topic"}
# The API's description and its documentation page, served to anyone as ninja serves them (token
# clients read them without a session; they describe operations, never a record), and its root,
# which answers 404 to everyone.
PUBLIC |= {"api-v1:openapi-json", "api-v1:openapi-view", "api-v1:api-root"}

# Signed-in routes that show no stored health information, each with the reason.
EXEMPT = {
    "home": "a redirect to the role's landing page",
    "accounts:second_factor": "the second sign-in step: a code field, before any record",
    "accounts:second_factor_enrol": "sets up the second factor; sign-ins are audited",
    "accounts:account": "the user's own account page: name, role, clinic",
    "accounts:sign_out_others": "ends the user's other sessions; recorded as a logout",
    "audit:list": "the audit log itself, for clinic admins and auditors",
    "api-v1:plans_check": "checks the submitted plan; reads and stores no record",
    "diary:settings": "the clinic's diary settings: an alert address and a reminder time",
    "api-tokens:list": "API tokens: names and prefixes, no record; creating one is recorded",
    "api-tokens:revoke": "revokes an API token; recorded as a change of the token",
    # Staff accounts (accounts.admin_views): no health information; each change is recorded as
    # a change of the user, with its reason and outcome (tests/accounts/test_user_admin.py).
    "accounts:users": "the clinic's staff accounts: names, roles, sign-in state",
    "accounts:user_deactivate": "deactivates a staff account; recorded as a change of the user",
    "accounts:user_reactivate": "reactivates a staff account; recorded as a change of the user",
    "accounts:user_second_factor_reset": "resets a second factor; recorded as a change",
}

# Route name -> (method, action) of the event one request writes.
AUDITED = {
    "patients:list": ("GET", "list"),
    "patients:create": ("POST", "create"),
    "patients:edit": ("GET", "read"),
    "patients:screening": ("GET", "read"),
    "patients:care_team": ("POST", "change"),
    "patients:break_glass": ("POST", "break_glass"),
    "audit:break_glass": ("GET", "list"),
    "audit:export": ("GET", "export"),
    "treatment:chart": ("GET", "read"),
    "treatment:condition_add": ("POST", "create"),
    "treatment:series_new": ("POST", "create"),
    "treatment:session_new": ("GET", "read"),
    "treatment:series_findings": ("POST", "read"),
    "treatment:session_detail": ("GET", "read"),
    "treatment:session_edit": ("GET", "read"),
    "treatment:session_findings": ("POST", "read"),
    "treatment:session_sign": ("POST", "sign"),
    "treatment:session_amend": ("POST", "amend"),
    "treatment:adverse_event_add": ("POST", "create"),
    "interop:patient_report": ("POST", "print"),
    "outcomes:dashboard": ("GET", "list"),
    "outcomes:breakdown": ("GET", "list"),
    "outcomes:export": ("GET", "export"),
    "outcomes:report": ("POST", "print"),
    "outcomes:progress": ("GET", "read"),
    "diary:today": ("GET", "read"),
    "diary:entry": ("GET", "read"),
    "diary:progress": ("GET", "read"),
    "diary:export_json": ("GET", "export"),
    "diary:export_csv": ("GET", "export"),
    "diary:alerts": ("GET", "list"),
    "diary:alert_ack": ("POST", "change"),
    "diary:patient_entries": ("GET", "read"),
    "diary:invite": ("POST", "create"),
    "api-v1:patient_list": ("GET", "list"),
    "api-v1:patient_create": ("POST", "create"),
    "api-v1:patient_detail": ("GET", "read"),
    "api-v1:patient_update": ("PATCH", "change"),
    "api-v1:condition_list": ("GET", "list"),
    "api-v1:condition_create": ("POST", "create"),
    "api-v1:series_list": ("GET", "list"),
    "api-v1:series_create": ("POST", "create"),
    "api-v1:series_detail": ("GET", "read"),
    "api-v1:session_list_for_series": ("GET", "list"),
    "api-v1:session_list_for_patient": ("GET", "list"),
    "api-v1:session_findings": ("POST", "read"),
    "api-v1:session_create": ("POST", "create"),
    "api-v1:session_detail": ("GET", "read"),
    "api-v1:session_sign": ("POST", "sign"),
    "api-v1:session_amend": ("POST", "amend"),
    "api-v1:adverse_event_list": ("GET", "list"),
    "api-v1:adverse_event_create": ("POST", "create"),
    "api-v1:patient_outcomes": ("GET", "read"),
    "api-v1:fhir_patient_everything": ("GET", "export"),
    # The patient diary (api.diary).
    "api-v1:diary_entry_list": ("GET", "list"),
    "api-v1:diary_entry_detail": ("GET", "read"),
    "api-v1:alert_list": ("GET", "list"),
    "api-v1:alert_detail": ("GET", "read"),
    "api-v1:alert_acknowledge": ("POST", "change"),
}

# Audited routes whose URL names a record the fixture world does not have: their one event is
# asserted by the tests named here instead of the generic tests below.
OWN_TESTS = {
    "diary:entry": "tests/diary/test_entry_page.py",
    "diary:alert_ack": "tests/diary/test_alerts.py",
    # The clinic's outcome report: aggregates, so its event names no patient.
    "outcomes:report": "tests/interop/test_clinic_report.py",
}
# The diary's API reads of one entry or alert, which the world has none of.
OWN_TESTS |= {
    "api-v1:diary_entry_detail": "tests/api/test_diary_api.py",
    "api-v1:alert_detail": "tests/api/test_diary_api.py",
}
# The API's writes take JSON, not a form: tests/api/test_audit.py posts each one.
OWN_TESTS |= {
    name: "tests/api/test_audit.py"
    for name, (method, _) in AUDITED.items()
    if name.startswith("api-v1:") and method != "GET"
}

# Routes a physician may not open: who requests them instead.
REQUESTED_BY = {"audit:export": "admin", "audit:break_glass": "admin"}
# The patient's own diary pages: the patient's, with no id in the URL.
REQUESTED_BY |= {
    name: "patient_user"
    for name in ("diary:today", "diary:progress", "diary:export_json", "diary:export_csv")
}


def _patterns() -> dict[str, str]:
    """Route name -> its path pattern."""
    return {route.name: route.pattern for route in routes()}


def test_every_route_is_public_exempt_or_audited():
    found = routes()
    assert len(found) > len(PUBLIC)  # the walk found the project's routes
    keys = {route.key for route in found}
    missing = sorted(keys - PUBLIC - set(EXEMPT) - set(AUDITED))
    assert not missing, f"routes with no audit entry: {missing}"
    # No stale entries either: every entry names a route that exists.
    assert not (set(EXEMPT) | set(AUDITED)) - keys


@pytest.mark.parametrize("name", ["api-v1:openapi-json", "api-v1:openapi-view"])
def test_the_apis_description_is_public(db, name):
    """Public as listed above: the signed out are answered, not sent to sign in."""
    assert Client().get(reverse(name)).status_code == 200


def _url(name: str, world: Any, session: Session) -> str:
    pattern = _patterns()[name]
    values = {
        "patient_id": world.patient.pk,
        "series_id": world.series.pk,
        "session_id": session.pk,
    }
    # The API's routes name their ids without a converter ("<patient_id>").
    wanted = {k: v for k, v in values.items() if f"<int:{k}>" in pattern or f"<{k}>" in pattern}
    return reverse(name, kwargs=wanted)


def _patient_id(name: str, world: Any) -> int | None:
    pattern = _patterns()[name]
    own = REQUESTED_BY.get(name) == "patient_user"
    ids = any(f"<{k}>" in pattern for k in ("patient_id", "series_id", "session_id"))
    return world.patient.pk if "<int:" in pattern or ids or own else None


@pytest.mark.parametrize(
    "name", sorted(n for n, (m, _) in AUDITED.items() if m == "GET" and n not in OWN_TESTS)
)
def test_each_audited_page_records_one_event(world, audit_log, name):
    session = record_session(world)
    client = world.client_for(getattr(world, REQUESTED_BY.get(name, "physician")))
    mark = audit_log.mark()
    response = client.get(_url(name, world, session))
    assert response.status_code == 200
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == (AUDITED[name][1], "ok")
    assert event.patient_id == _patient_id(name, world)
    assert event.clinic_id == world.clinic.pk


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, (m, _) in AUDITED.items()
        if m == "POST" and n != "patients:create" and n not in OWN_TESTS
    ),
)
def test_each_audited_action_records_one_event_even_when_nothing_is_saved(world, audit_log, name):
    session = record_session(world)
    client = world.client_for(world.physician)
    mark = audit_log.mark()
    response = client.post(_url(name, world, session), {})
    assert response.status_code in (200, 302)
    [event] = audit_log.since(mark)
    assert event.action == AUDITED[name][1]
    assert event.patient_id == world.patient.pk


@pytest.mark.parametrize(
    "name", sorted(n for n in AUDITED if n.startswith("treatment:") or n == "patients:screening")
)
def test_another_clinics_practitioner_is_refused_and_recorded(world, audit_log, name):
    session = record_session(world)
    client = world.client_for(world.other_physician)
    mark = audit_log.mark()
    method = AUDITED[name][0].lower()
    assert getattr(client, method)(_url(name, world, session)).status_code == 404
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.patient_id) == ("access_refused", "refused", None)
    assert event.clinic_id == world.other_clinic.pk


def test_front_desk_refused_a_clinical_page_is_recorded(world, audit_log):
    session = record_session(world)
    client = world.client_for(world.front_desk)
    mark = audit_log.mark()
    url = reverse("treatment:session_detail", args=[session.pk])
    assert client.get(url).status_code == 403
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.object_id) == (
        "access_refused",
        "session",
        str(session.pk),
    )


def test_a_saved_session_records_one_create_and_signing_one_sign(world, audit_log):
    client = world.client_for(world.physician)
    url = reverse("treatment:session_new", args=[world.series.pk])
    data = acknowledging(client, url, session_post())  # reads the findings: one event of its own
    mark = audit_log.mark()
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    session = Session.objects.get(series=world.series)
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_type) == ("create", "ok", "session")
    assert (event.object_id, event.patient_id) == (str(session.pk), world.patient.pk)

    mark = audit_log.mark()
    assert client.post(reverse("treatment:session_sign", args=[session.pk])).status_code == 302
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_id) == ("sign", "ok", str(session.pk))
