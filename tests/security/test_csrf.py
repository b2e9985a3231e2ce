"""T12: every session-authenticated POST needs the session's own CSRF token (without one, or
with another session's, it is refused with 403 and stores nothing), and no GET changes state."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.routes import Operation
from tests.security.conftest import ROLES, changed_tables, row_state, table_state
from tests.security.endpoints import endpoints, send
from tests.security.matrix import MATRIX, expected
from tests.security.payloads import write_data

# Who sends each post: the first of these the matrix lets through.
POSTERS = ("physician", "clinic_admin", "front_desk", "patient", "anonymous")


def poster(key: str, method: str) -> str | None:
    cells = expected(key, method)
    return next((role for role in POSTERS if cells[role] == "ok"), None)


def unsafe_entries() -> list[tuple[str, str]]:
    return sorted(
        (key, method)
        for key, methods in MATRIX.items()
        for method in methods
        if method not in ("GET", "HEAD", "OPTIONS", "TRACE") and poster(key, method)
    )


def token_of(client: Client) -> str:
    """A CSRF token of ``client``'s own session, as its sign-in page carries it."""
    response = client.get(reverse("login"))
    assert response.status_code == 200
    return str(response.context["csrf_token"])


def post(actors, client: Client, key: str, method: str, token: str | None):
    data = write_data(actors)
    headers = {}
    if token is not None:
        data["csrfmiddlewaretoken"] = token
        headers["X-CSRFToken"] = token
    return send(client, key, method, actors.url_values, data=data, headers=headers)


def test_the_walk_finds_the_posts():
    assert {("login", "POST"), ("treatment:session_sign", "POST")} <= set(unsafe_entries())
    assert ("POST /api/v1/plans/check", "POST") in unsafe_entries()


@pytest.mark.parametrize(("key", "method"), unsafe_entries())
def test_a_post_without_its_own_token_is_refused(actors, key, method):
    role = poster(key, method)
    client = actors.client(role, enforce_csrf_checks=True)
    own = token_of(client)  # the client holds its CSRF cookie, as a browser would
    stranger = token_of(Client(enforce_csrf_checks=True))
    records = (actors.world.patient, actors.session)
    tables, rows = table_state(), row_state(*records)

    for token in (None, stranger):
        response = post(actors, client, key, method, token)
        assert response.status_code == 403, f"{method} {key} as {role}, token {token!r}"
    assert not changed_tables(tables)
    assert row_state(*records) == rows

    # The control: with its own token the same post goes through.
    response = post(actors, client, key, method, own)
    assert response.status_code != 403, f"{method} {key} as {role} with its own token"


def get_entries() -> list[tuple[str, str]]:
    return sorted(
        (key, role)
        for key, methods in MATRIX.items()
        if "GET" in methods and not isinstance(endpoints().get(key), Operation)
        for role in ROLES
        if expected(key, "GET")[role] == "ok"
    ) + sorted(
        (key, role)
        for key, methods in MATRIX.items()
        if "GET" in methods and isinstance(endpoints().get(key), Operation)
        for role in ROLES
        if expected(key, "GET")[role] == "ok"
    )


def test_crawling_every_page_changes_nothing(actors):
    """Every GET every role may make, then the database compared: only the audit trail and
    sign-in sessions grow."""
    world = actors.world
    clients = {role: actors.client(role) for role in ROLES}  # signing in sets up devices
    records = (world.patient, world.series, actors.session, world.clinic, *world.roles.values())
    tables, rows = table_state(), row_state(*records)
    crawled = 0
    for key, role in get_entries():
        response = send(clients[role], key, "GET", actors.url_values)
        assert response.status_code < 500, f"GET {key} as {role}"
        crawled += 1
    assert crawled > 20
    assert not changed_tables(tables)
    assert row_state(*records) == rows
