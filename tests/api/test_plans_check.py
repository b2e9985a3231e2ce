from __future__ import annotations

import json

import pytest

from tests.core.rules.plan_helpers import injection, plan_data

URL = "/api/v1/plans/check"


def plan(**changes):
    """Two 15 ml syringes of plain 1% lidocaine (at most 20 ml go into one injection)."""
    lidocaine = injection(
        depth="deep",
        volume_ml=15.0,
        needle_gauge=25,
        solution={"dextrose_pct": 0, "lidocaine_pct": 1},
    )
    data = plan_data(
        injections=[lidocaine, {**lidocaine, "side": "right"}],
        series={"modality": "classic", "previous_session_date": "2026-10-08"},
    )
    data.update(changes)
    return data


def post(client, body):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json")


def codes(response):
    return {f["code"]: f["severity"] for f in response.json()["findings"]}


def test_it_checks_a_plan_like_the_cli(world):
    response = post(world.client_for(world.physician), plan())
    assert response.status_code == 200
    body = response.json()
    # DOMAIN 2.1 reference case: 70 kg, plain 1% lidocaine, 30 ml is exactly the 300 mg limit.
    assert body["totals"]["lidocaine_mg"] == pytest.approx(300.0)
    assert codes(response).get("dose_limit.lidocaine_max") is None


def test_it_reports_a_block_above_the_limit(world):
    over = plan()
    over["injections"][0]["volume_ml"] = 15.5
    response = post(world.client_for(world.physician), over)
    assert response.status_code == 200
    assert codes(response)["dose_limit.lidocaine_max"] == "block"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", ""),
        (plan(patient={"age": 54}), "patient"),
        ({**plan(), "extra": 1}, "extra"),
    ],
)
def test_it_names_the_field_of_invalid_input(world, body, field):
    response = post(world.client_for(world.physician), body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"].startswith(field)
    assert error["message"]


def test_it_refuses_a_boolean_where_a_number_is_expected(world):
    bad = plan()
    bad["injections"][0]["volume_ml"] = True
    response = post(world.client_for(world.physician), bad)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "injections[0].volume_ml"


def test_it_requires_sign_in(client, db):
    response = post(client, plan())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin", "patient"])
def test_it_is_for_practitioners_only(world, role):
    response = post(world.client_for(world.roles[role]), plan())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_it_refuses_a_post_without_the_csrf_token(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.physician)
    response = post(client, plan())
    assert response.status_code == 403


def test_the_openapi_description_declares_every_answer(world):
    response = world.client_for(world.physician).get("/api/v1/openapi.json")
    assert response.status_code == 200
    operation = response.json()["paths"][URL]["post"]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])


def test_the_interactive_docs_load_from_our_own_static_files(world):
    response = world.client_for(world.physician).get("/api/v1/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "cdn" not in body.lower()
