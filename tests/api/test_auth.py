"""Who may call the API: a token (its own factor) or a browser session with its CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from prolotrack.api.models import ApiToken
from prolotrack.api.tokens import token_revoke
from tests.api.conftest import ApiClient, error_of, token_for

# One operation of each kind: a list, a read and a write.
PROBES = [
    ("get", "/patients", None),
    ("get", "/patients/{patient}", None),
    ("post", "/patients/{patient}/conditions", {"code": "x", "region": "knee"}),
]


def _call(client, world, method, path, body):
    path = path.format(patient=world.patient.pk)
    return client.get(path) if method == "get" else client.post(path, body)


@pytest.mark.parametrize(("method", "path", "body"), PROBES)
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Bearer ptk_deadbeef_notatoken",
        "Token abc",
        "Basic ZHJwaHlzOmNvcnJlY3Q=",
    ],
)
def test_it_answers_401_without_a_valid_token(world, method, path, body, header):
    client = Client(headers={"Authorization": header} if header else {})
    response = _call(ApiClient(client=client), world, method, path, body)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path", "body"), PROBES)
def test_a_revoked_token_answers_401(world, method, path, body):
    secret = token_for(world.physician)
    token_revoke(token=ApiToken.objects.get())
    response = _call(ApiClient(secret), world, method, path, body)
    assert response.status_code == 401


def test_a_bad_token_is_not_rescued_by_a_session_cookie(world):
    client = world.client_for(world.physician)
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer ptk_deadbeef_notatoken"
    assert ApiClient(client=client).get("/patients").status_code == 401


def test_a_token_acts_as_its_user(world, audit_log):
    mark = audit_log.mark()
    response = ApiClient(token_for(world.front_desk)).get(f"/patients/{world.patient.pk}")
    assert response.status_code == 200
    [event] = audit_log.since(mark)
    assert (event.username, event.role, event.action) == ("desk", "front_desk", "read")
    token = ApiToken.objects.get()
    assert event.detail == {"api": True, "api_token": token.pk}


def test_a_token_needs_no_csrf_token_to_write(world):
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": "Bearer " + token_for(world.physician)}
    )
    response = ApiClient(client=client).post(
        f"/patients/{world.patient.pk}/conditions", {"code": "knee_oa", "region": "knee"}
    )
    assert response.status_code in (201, 422), response.content
    assert response.status_code != 403


def test_a_session_write_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.physician)
    response = ApiClient(client=client).post(
        f"/patients/{world.patient.pk}/conditions", {"code": "x", "region": "knee"}
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_a_session_reads_without_a_token(world):
    response = ApiClient(client=world.client_for(world.physician)).get("/patients")
    assert response.status_code == 200


def test_a_read_only_token_reads_but_is_refused_every_write(world, audit_log):
    client = ApiClient(token_for(world.physician, read_only=True))
    assert client.get("/patients").status_code == 200
    mark = audit_log.mark()
    response = client.post(
        f"/patients/{world.patient.pk}/conditions", {"code": "x", "region": "knee"}
    )
    assert response.status_code == 403
    assert "read-only" in error_of(response)["message"]
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("access_refused", "refused")
    assert not world.patient.conditions.exists()


def test_a_deactivated_users_token_stops_working(world):
    secret = token_for(world.physician)
    world.physician.is_active = False
    world.physician.save(update_fields=["is_active"])
    assert ApiClient(secret).get("/patients").status_code == 401


def test_a_staff_session_without_a_verified_second_factor_is_refused(world, monkeypatch):
    """When the second factor is on (django-otp gives the user `is_verified`), a staff
    session that has not passed it does not reach the API; a token still does."""
    from prolotrack.api import auth

    seen = []

    def unverified(request, key):
        request.user.is_verified = lambda: False
        seen.append(request.user.username)
        return auth.StaffSessionAuth.authenticate(auth.session_auth, request, key)

    monkeypatch.setattr(auth.session_auth, "authenticate", unverified)
    response = ApiClient(client=world.client_for(world.physician)).get("/patients")
    assert seen == ["drphys"]
    assert response.status_code == 401
