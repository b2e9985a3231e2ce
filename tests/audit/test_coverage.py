"""Every route of the project is either public, exempt with a reason, or audited (T16).

A new route fails `test_every_route_is_public_exempt_or_audited` until it gets an entry here; an
audited GET route must write exactly one event with its action and patient when opened.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from prolotrack.treatment.models import Session
from tests.treatment.charting_helpers import acknowledging, record_session, session_post

# Open to anyone, signed in or not; no health information.
PUBLIC = {"login", "logout", "health", "static"}

# Signed-in routes that show no stored health information, each with the reason.
EXEMPT = {
    "home": "a redirect to the role's landing page",
    "audit:list": "the audit log itself, for clinic admins and auditors",
    "api-v1:api-root": "the API's root",
    "api-v1:openapi-json": "the API's description",
    "api-v1:openapi-view": "the API's interactive documentation",
    "api-v1:plans_check": "checks the submitted plan; reads and stores no record",
}

# Route name -> (method, action) of the event one request writes.
AUDITED = {
    "patients:list": ("GET", "list"),
    "patients:create": ("POST", "create"),
    "patients:edit": ("GET", "read"),
    "patients:screening": ("GET", "read"),
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
}

# Routes a physician may not open: who requests them instead.
REQUESTED_BY = {"audit:export": "admin"}


def _routes(patterns: list[Any], namespace: str = "", prefix: str = "") -> list[tuple[str, str]]:
    """(name, path pattern) of every route; an unnamed route is known by its path."""
    found = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _routes(entry.url_patterns, inner, route)
        else:
            assert isinstance(entry, URLPattern)
            found.append((f"{namespace}{entry.name}" if entry.name else route, route))
    return found


def _key(name: str, route: str) -> str:
    static = settings.STATIC_URL.lstrip("/")
    return "static" if static and route.lstrip("^/").startswith(static) else name


def test_every_route_is_public_exempt_or_audited():
    routes = _routes(get_resolver().url_patterns)
    assert len(routes) > len(PUBLIC)  # the walk found the project's routes
    keys = {_key(name, route) for name, route in routes}
    missing = sorted(keys - PUBLIC - set(EXEMPT) - set(AUDITED))
    assert not missing, f"routes with no audit entry: {missing}"
    # No stale entries either: every entry names a route that exists.
    assert not (set(EXEMPT) | set(AUDITED)) - keys


def _url(name: str, world: Any, session: Session) -> str:
    pattern = dict(_routes(get_resolver().url_patterns))[name]
    values = {
        "patient_id": world.patient.pk,
        "series_id": world.series.pk,
        "session_id": session.pk,
    }
    return reverse(name, kwargs={k: v for k, v in values.items() if f"<int:{k}>" in pattern})


def _patient_id(name: str, world: Any) -> int | None:
    pattern = dict(_routes(get_resolver().url_patterns))[name]
    return world.patient.pk if "<int:" in pattern else None


@pytest.mark.parametrize("name", sorted(n for n, (m, _) in AUDITED.items() if m == "GET"))
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
    sorted(n for n, (m, _) in AUDITED.items() if m == "POST" and n != "patients:create"),
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
