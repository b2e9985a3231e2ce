"""T5, the authorization matrix, and T4, nothing but the public routes without signing in.

Every (route or API operation, method, role) triple of tests/security/matrix.py is requested
and its answer compared with the table; the table itself must name every route of the URL
configuration and every operation of the OpenAPI document, and nothing else.
"""

from __future__ import annotations

import re

import pytest

from tests.routes import Operation
from tests.security.conftest import ROLES
from tests.security.endpoints import body, endpoints, outcome, send
from tests.security.matrix import MATRIX, OUTCOMES, PUBLIC, WHERE, entries, expected, triples

ROUTE_METHODS = ("GET", "POST")


def test_every_route_and_operation_has_an_entry():
    live = endpoints()
    assert len(live) > len(PUBLIC)  # the walk found the project's routes
    missing = sorted(set(live) - set(MATRIX))
    assert not missing, "\n".join(
        [f"Routes or API operations without an entry in {WHERE}:"]
        + [
            f"  {key!r} ({live[key].pattern if hasattr(live[key], 'pattern') else 'OpenAPI'})"
            f": add the expected outcome of each method for the roles {', '.join(ROLES)}"
            for key in missing
        ]
    )
    stale = sorted(set(MATRIX) - set(live))
    assert not stale, f"{WHERE} has entries for routes that no longer exist: {stale}"


def test_every_entry_names_each_method_and_role_once():
    live = endpoints()
    for key, methods in MATRIX.items():
        endpoint = live.get(key)
        wanted = (endpoint.method,) if isinstance(endpoint, Operation) else ROUTE_METHODS
        assert tuple(methods) == wanted, f"{key}: give the methods {wanted} in {WHERE}"
        for method in methods:
            cells = expected(key, method)
            assert set(cells.values()) <= OUTCOMES, f"{key} {method}: unknown outcome in {cells}"


def test_only_the_public_routes_let_the_signed_out_through():
    """T4 in the table: every non-public entry sends the anonymous to sign in (a method the
    route does not take at all is 405 for everyone)."""
    # A new public route raises this on purpose, after review (14: the FHIR extensions).
    assert len(PUBLIC) <= 14
    for key, methods in MATRIX.items():
        if key in PUBLIC:
            continue
        for method in methods:
            cells = expected(key, method)
            if set(cells.values()) == {"405"}:
                continue
            assert cells["anonymous"] == "login", f"{key} {method} is open to the signed out"


def contains_phi(text: str, phi: list[str]) -> list[str]:
    return [item for item in phi if re.search(rf"(?<!\w){re.escape(item)}(?!\w)", text)]


@pytest.mark.parametrize(("key", "method"), entries())
def test_each_role_gets_the_expected_answer(actors, key, method):
    """Every role of one (entry, method): all ten triples asserted, every mismatch named."""
    problems = []
    for role, want in expected(key, method).items():
        response = send(actors.client(role), key, method, actors.url_values)
        got = outcome(response)
        if got != want:
            location = f" -> {response['Location']}" if response.has_header("Location") else ""
            problems.append(
                f"{method} {key} as {role}: expected {want}, got {got} "
                f"({response.status_code}{location})"
            )
        # A refusal, the signed out and another clinic's staff learn nothing of the patient (a
        # 400 is let through: the form again, for one allowed to fill it in).
        if got not in ("ok", "400") or role in ("anonymous", "other_clinic_physician"):
            leaked = contains_phi(body(response), actors.phi)
            if leaked:
                problems.append(f"{method} {key} as {role} shows {leaked}")
    assert not problems, "\n".join([*problems, f"fix the view or the entry in {WHERE}"])


def test_the_matrix_asserts_every_triple():
    assert len(triples()) == len(entries()) * len(ROLES)
