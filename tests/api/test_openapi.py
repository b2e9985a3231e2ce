"""The API's description: every operation listed with all its answers, and its docs page."""

from __future__ import annotations

import pytest
from django.test import Client

from prolotrack.web.middleware import CONTENT_SECURITY_POLICY

# Every operation of the API (method, path): the test fails when one is added or lost
# without this list (and the audit coverage table) knowing.
OPERATIONS = {
    ("post", "/api/v1/plans/check"),
    ("get", "/api/v1/patients"),
    ("post", "/api/v1/patients"),
    ("get", "/api/v1/patients/{patient_id}"),
    ("patch", "/api/v1/patients/{patient_id}"),
    ("get", "/api/v1/patients/{patient_id}/conditions"),
    ("post", "/api/v1/patients/{patient_id}/conditions"),
    ("get", "/api/v1/patients/{patient_id}/series"),
    ("post", "/api/v1/patients/{patient_id}/series"),
    ("get", "/api/v1/patients/{patient_id}/sessions"),
    ("get", "/api/v1/series/{series_id}"),
    ("get", "/api/v1/series/{series_id}/sessions"),
    ("post", "/api/v1/series/{series_id}/sessions"),
    ("post", "/api/v1/series/{series_id}/sessions/findings"),
    ("get", "/api/v1/sessions/{session_id}"),
    ("post", "/api/v1/sessions/{session_id}/sign"),
    ("post", "/api/v1/sessions/{session_id}/amendments"),
    ("get", "/api/v1/sessions/{session_id}/adverse-events"),
    ("post", "/api/v1/sessions/{session_id}/adverse-events"),
    ("get", "/api/v1/patients/{patient_id}/outcomes"),
    # The patient diary (api.diary).
    ("get", "/api/v1/patients/{patient_id}/diary-entries"),
    ("get", "/api/v1/patients/{patient_id}/diary-entries/{entry_id}"),
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/alerts/{alert_id}"),
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"),
}


@pytest.fixture
def description(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(description):
    for path, item in description["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_it_lists_every_operation(description):
    # Other parts of the API (FHIR) add their own operations under their own prefix.
    found = {(m, p) for m, p, _ in _operations(description) if not p.startswith("/api/v1/fhir")}
    assert found == OPERATIONS


def test_every_operation_declares_its_refusals_in_the_one_error_shape(description):
    error_ref = "#/components/schemas/ErrorOut"
    for method, path, operation in _operations(description):
        if path.startswith("/api/v1/fhir"):
            continue
        responses = operation["responses"]
        codes = set(responses)
        assert {"401", "403", "422"} <= codes, (method, path, codes)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in {"post", "patch"} and "requestBody" in operation and "plans" not in path:
            assert "400" in codes, (method, path)
        for code, answer in responses.items():
            if code.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": error_ref}, (method, path, code)
        assert any(c.startswith("2") for c in codes)


def test_both_ways_of_signing_in_are_described(description):
    schemes = description["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    for method, path, operation in _operations(description):
        if not path.startswith("/api/v1/fhir"):
            assert len(operation["security"]) == 2, (method, path)


def test_integers_and_yes_no_fields_are_strictly_typed(description):
    schemas = description["components"]["schemas"]
    patient_change = schemas["PatientChange"]["properties"]
    assert patient_change["version"]["type"] == "integer"
    injection = schemas["InjectionIn"]
    assert injection["properties"]["needle_gauge"]["type"] == "integer"
    assert injection["additionalProperties"] is False


def test_the_docs_page_loads_our_own_scripts_under_the_strict_csp(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    body = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "/static/ninja/swagger-ui-init.js" in body
    # The settings ride in a JSON data block, which the browser never runs; no other inline
    # script or style is on the page.
    assert body.count("<script") == 3
    assert 'type="application/json" id="swagger-settings"' in body
    assert "<style" not in body and " style=" not in body
    assert "cdn" not in body.lower()
