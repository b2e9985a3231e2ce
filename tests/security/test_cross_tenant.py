"""T6: another clinic's physician, given clinic A's ids, gets 404 on every route that takes an
id, whatever the method, and nothing of clinic A changes (row counts and the records' fields).
On the administrators' routes (a physician is refused them anywhere: 403), the one asking is
another clinic's administrator."""

from __future__ import annotations

import pytest

from prolotrack.accounts.models import Role
from tests.conftest import make_user
from tests.routes import Operation
from tests.security.conftest import changed_tables, row_state, table_state
from tests.security.endpoints import endpoints, send, url_of
from tests.security.matrix import MATRIX, PUBLIC, expected
from tests.security.payloads import protected_fields, write_data


def id_routes() -> list[tuple[str, str]]:
    """(entry, method) of every route and operation that takes an id and the method, as the
    matrix says (a method no one may use is 405 for everyone and is left out). The public
    routes' arguments name pages of text and codes, never a record: they are left out."""
    found = []
    for key, endpoint in endpoints().items():
        if not endpoint.kwargs or key not in MATRIX or key in PUBLIC:
            continue  # a missing entry fails the matrix's own test
        for method in MATRIX[key]:
            if expected(key, method)["physician"] != "405":
                found.append((key, method))
    return sorted(found)


def test_the_walk_finds_the_detail_routes():
    keys = {key for key, _ in id_routes()}
    assert {"patients:edit", "treatment:session_edit", "treatment:session_sign"} <= keys


@pytest.mark.parametrize(("key", "method"), id_routes())
def test_another_clinics_physician_gets_404_and_changes_nothing(actors, key, method):
    world = actors.world
    records = (world.patient, world.series, actors.session, world.clinic)
    records += (actors.signed, actors.entry, actors.alert, actors.token)
    if expected(key, method)["physician"] == "403":
        # An administrators' route: another clinic's administrator asks.
        client = world.client_for(make_user(world.other_clinic, "admin-b", Role.CLINIC_ADMIN))
    else:
        client = actors.client("other_clinic_physician")  # signing in sets up their device
    tables, rows = table_state(), row_state(*records)
    data = {**write_data(actors), **protected_fields(actors)}
    if isinstance(endpoints()[key], Operation):
        response = send(client, key, method, actors.url_values)
    elif method == "POST":
        response = client.post(url_of(key, actors.url_values), data)
    else:
        response = client.generic(method, url_of(key, actors.url_values))
    assert response.status_code == 404, f"{method} {key}: {response.status_code}"
    assert not changed_tables(tables)
    assert row_state(*records) == rows


def test_the_same_post_does_change_clinic_a_for_its_own_physician(actors):
    """The control: the payload is one that writes, so the 404s above protected something."""
    client = actors.client("physician")
    tables = table_state()
    response = client.post(url_of("treatment:session_amend", actors.url_values), write_data(actors))
    assert response.status_code == 200  # an unsigned session is edited, not amended
    response = client.post(
        url_of("treatment:adverse_event_add", actors.url_values), write_data(actors)
    )
    assert response.status_code == 302
    assert table_state() != tables
