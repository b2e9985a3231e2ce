"""/api/v1/patients: the list with pagination and allow-listed filters, read, create, change."""

from __future__ import annotations

import datetime as dt

import pytest

from prolotrack.patients.models import Patient
from tests.api.conftest import error_of
from tests.conftest import make_patient

STAFF = ("physician", "naturopathic_doctor", "nurse_practitioner", "front_desk", "clinic_admin")


def new_patient(**changes):
    body = {
        "chart_number": "A-100",
        "given_name": "Robin",
        "family_name": "Sample",
        "birth_date": "1980-06-15",
        "sex": "male",
        "weight_kg": 81.5,
        "diabetes": False,
        "allergies": ["corn"],
        "email": "robin@example.org",
    }
    body.update(changes)
    return body


def _many(world, count):
    for i in range(count):
        make_patient(world.clinic, f"L-{i:03d}", family_name=f"Family{i:03d}")


# The list -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_staff_list_their_clinics_patients_only(world, api, audit_log, role):
    mark = audit_log.mark()
    response = api(role).get("/patients")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [p["chart_number"] for p in body["results"]] == ["A-001"]
    [event] = audit_log.since(mark)
    assert (event.action, event.object_type, event.clinic_id) == (
        "list",
        "patient",
        world.clinic.pk,
    )


@pytest.mark.parametrize("role", ["patient", "auditor"])
def test_patients_and_auditors_do_not_list_patients(world, api, role):
    response = api(role).get("/patients")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_it_pages_the_list(world, api):
    _many(world, 30)
    client = api("front_desk")
    first = client.get("/patients", {"page_size": 10, "ordering": "chart_number"}).json()
    assert (first["count"], first["page"], first["page_size"]) == (31, 1, 10)
    assert [p["chart_number"] for p in first["results"]][:2] == ["A-001", "L-000"]
    last = client.get("/patients", {"page_size": 10, "page": 4, "ordering": "chart_number"}).json()
    assert [p["chart_number"] for p in last["results"]] == ["L-029"]
    beyond = client.get("/patients", {"page": 99}).json()
    assert beyond["results"] == [] and beyond["count"] == 31


def test_the_default_page_holds_25(world, api):
    _many(world, 30)
    assert len(api("front_desk").get("/patients").json()["results"]) == 25


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "false"}, "page"),
        ({"page": 10**30}, "page"),
        ({"ordering": "password"}, "ordering"),
        ({"ordering": "clinic__name"}, "ordering"),
        ({"ordering": "family_name,extractvalue(1,concat(0x7e,version()))"}, "ordering"),
    ],
)
def test_it_refuses_bad_page_and_sort_values_naming_the_field(world, api, params, field):
    response = api("front_desk").get("/patients", params)
    assert response.status_code == 422
    assert error_of(response)["field"] == field


@pytest.mark.parametrize(
    "name", ["family_name", "clinic", "clinic_id", "user__password", "q", "limit", "order_by"]
)
def test_it_refuses_unknown_parameters_naming_them(world, api, name):
    response = api("front_desk").get("/patients", {name: "x"})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("unknown_parameter", name)


@pytest.mark.parametrize(
    "ordering",
    ["family_name", "-family_name", "chart_number", "-chart_number", "birth_date", "-created_at"],
)
def test_it_sorts_by_the_allowed_keys(world, api, ordering):
    _many(world, 3)
    rows = api("front_desk").get("/patients", {"ordering": ordering}).json()["results"]
    key = ordering.lstrip("-")
    values = [r[key] if key != "created_at" else r["created_at"] for r in rows]
    assert values == sorted(values, reverse=ordering.startswith("-"))


def test_it_filters_by_chart_number_and_search(world, api):
    _many(world, 3)
    client = api("front_desk")
    exact = client.get("/patients", {"chart_number": "L-001"}).json()
    assert [p["chart_number"] for p in exact["results"]] == ["L-001"]
    assert client.get("/patients", {"chart_number": "L-00"}).json()["count"] == 0
    found = client.get("/patients", {"search": "family002"}).json()
    assert [p["family_name"] for p in found["results"]] == ["Family002"]


SQLI = [
    "' OR 1=1--",
    "' OR '1'='1",
    "1,extractvalue(1,concat(0x7e,version()))",
    "A-001'; DROP TABLE patients_patient;--",
    '{"$gt": ""}',
    "clinic__name__startswith",
    "%",
    "_",
    "\\",
    "Robert'); --",
]


@pytest.mark.parametrize("payload", SQLI)
@pytest.mark.parametrize("field", ["search", "chart_number"])
def test_injection_payloads_in_filters_find_nothing_extra(world, api, field, payload):
    response = api("front_desk").get("/patients", {field: payload})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert response.json()["count"] == 0  # no row matches, none of another clinic
    assert Patient.objects.count() == 2


@pytest.mark.parametrize("payload", ["\x00", "a\x00b", "\x1b[2J"])
def test_control_characters_in_a_filter_are_refused(world, api, payload):
    response = api("front_desk").get("/patients", {"search": payload})
    assert response.status_code == 422
    assert error_of(response)["field"] == "search"


# Reading one --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [*STAFF, "patient"])
def test_staff_and_the_patient_read_the_record(world, api, audit_log, role):
    client = api(role)
    mark = audit_log.mark()
    response = client.get(f"/patients/{world.patient.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["chart_number"], body["weight_kg"]) == (
        world.patient.pk,
        "A-001",
        68.0,
    )
    assert body["version"] == 1
    [event] = audit_log.since(mark)
    assert (event.action, event.patient_id, event.outcome) == ("read", world.patient.pk, "ok")


def test_another_clinics_patient_is_404_and_recorded(world, api, audit_log):
    mark = audit_log.mark()
    response = api("physician").get(f"/patients/{world.other_patient.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    [event] = audit_log.since(mark)
    assert (event.action, event.object_id, event.patient_id) == (
        "access_refused",
        str(world.other_patient.pk),
        None,
    )


def test_a_missing_patient_is_404(world, api):
    assert api("physician").get("/patients/999999").status_code == 404


def test_a_patient_sees_only_their_own_record(world, api):
    other = make_patient(world.clinic, "A-002")
    assert api("patient").get(f"/patients/{other.pk}").status_code == 404


def test_the_auditor_is_refused(world, api):
    assert api("auditor").get(f"/patients/{world.patient.pk}").status_code == 403


def test_a_practitioner_outside_the_patients_care_is_refused(world):
    from tests.api.conftest import ApiClient, token_for

    response = ApiClient(token_for(world.outsider)).get(f"/patients/{world.patient.pk}")
    assert response.status_code == 403


# Creating -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["front_desk", "physician"])
def test_staff_create_a_patient(world, api, audit_log, role):
    mark = audit_log.mark()
    response = api(role).post("/patients", new_patient())
    assert response.status_code == 201, response.content
    created = Patient.objects.get(chart_number="A-100")
    assert created.clinic == world.clinic
    assert (created.given_name, created.birth_date, str(created.weight_kg)) == (
        "Robin",
        dt.date(1980, 6, 15),
        "81.5",
    )
    assert created.allergies == ["corn"]
    assert response.json()["id"] == created.pk
    [event] = audit_log.since(mark)
    assert (event.action, event.patient_id) == ("create", created.pk)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"chart_number": "A-001"}, "chart_number"),  # taken in this clinic
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": 0}, "birth_date"),
        ({"birth_date": "15/06/1980"}, "birth_date"),
        ({"weight_kg": 0.5}, "weight_kg"),
        ({"weight_kg": True}, "weight_kg"),
        ({"weight_kg": 70.25}, "weight_kg"),
        ({"diabetes": 0}, "diabetes"),
        ({"diabetes": "yes"}, "diabetes"),
        ({"sex": "f"}, "sex"),
        ({"allergies": ["peanut"]}, "allergies.0"),
        ({"email": "not-an-email"}, "email"),
        ({"given_name": ""}, "given_name"),
        ({"given_name": 12}, "given_name"),
        ({"given_name": "A\x00B"}, "given_name"),
        ({"clinic_id": 1}, "clinic_id"),
        ({"version": 7}, "version"),
        ({"user": 1}, "user"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(world, api, changes, field):
    response = api("front_desk").post("/patients", new_patient(**changes))
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid", field)
    assert error["message"]
    assert not Patient.objects.filter(chart_number="A-100").exists()


def test_a_missing_field_is_named(world, api):
    body = new_patient()
    del body["birth_date"]
    response = api("front_desk").post("/patients", body)
    assert response.status_code == 422
    assert error_of(response)["field"] == "birth_date"


@pytest.mark.parametrize("raw", ["{not json", "", "[]", "null"])
def test_an_unreadable_body_is_refused(world, api, raw):
    response = api("front_desk").post("/patients", raw)
    assert response.status_code in (400, 422)
    error_of(response)


@pytest.mark.parametrize("role", ["patient", "auditor"])
def test_patients_and_auditors_do_not_create_patients(world, api, role):
    assert api(role).post("/patients", new_patient()).status_code == 403
    assert not Patient.objects.filter(chart_number="A-100").exists()


# Changing -----------------------------------------------------------------------------------


def test_staff_change_a_record_with_its_version(world, api, audit_log):
    mark = audit_log.mark()
    response = api("front_desk").patch(
        f"/patients/{world.patient.pk}", {"version": 1, "phone": "555-0101", "weight_kg": None}
    )
    assert response.status_code == 200, response.content
    world.patient.refresh_from_db()
    assert (world.patient.phone, world.patient.weight_kg, world.patient.version) == (
        "555-0101",
        None,
        2,
    )
    assert world.patient.given_name == "Avery"  # left out, left as it was
    assert response.json()["version"] == 2
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("change", "ok")


def test_a_stale_version_answers_409_and_overwrites_nothing(world, api, audit_log):
    client = api("front_desk")
    assert (
        client.patch(f"/patients/{world.patient.pk}", {"version": 1, "phone": "1"}).status_code
        == 200
    )
    mark = audit_log.mark()
    response = client.patch(f"/patients/{world.patient.pk}", {"version": 1, "phone": "2"})
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["field"]) == ("stale_version", "version")
    assert "version 2" in error["message"]
    world.patient.refresh_from_db()
    assert world.patient.phone == "1"
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome) == ("change", "failed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "1"}, "version"),
        ({"version": False, "phone": "1"}, "version"),
        ({"version": "1", "phone": "1"}, "version"),
        ({"version": 1.0, "phone": "1"}, "version"),
        ({"version": 1, "clinic": 2}, "clinic"),
        ({"version": 1, "pregnant": 1}, "pregnant"),
        ({"version": 1, "chart_number": None}, "chart_number"),
    ],
)
def test_a_change_refuses_bad_input_naming_the_field(world, api, body, field):
    response = api("front_desk").patch(f"/patients/{world.patient.pk}", body)
    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field
    world.patient.refresh_from_db()
    assert world.patient.version == 1


def test_another_clinic_cannot_change_the_record(world, api):
    from tests.api.conftest import ApiClient, token_for

    client = ApiClient(token_for(world.other_physician))
    response = client.patch(f"/patients/{world.patient.pk}", {"version": 1, "phone": "x"})
    assert response.status_code == 404
    world.patient.refresh_from_db()
    assert world.patient.phone == ""


def test_a_patient_cannot_change_their_record_through_the_api(world, api):
    response = api("patient").patch(f"/patients/{world.patient.pk}", {"version": 1, "phone": "x"})
    assert response.status_code == 403
