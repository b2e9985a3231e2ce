"""GET /api/v1/fhir/Patient/{id}/$everything, and the published code systems."""

from __future__ import annotations

import json

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.interop.fhir.terminology import CODE_SYSTEMS, codes, system_url
from tests.interop.test_fhir_world import validate
from tests.treatment.charting_helpers import record_session


def everything(world, user, patient_id):
    return world.client_for(user).get(f"/api/v1/fhir/Patient/{patient_id}/$everything")


@pytest.fixture
def charted(world):
    return record_session(world)


def test_a_practitioner_gets_a_valid_bundle_of_their_patient_and_it_is_audited(world, charted):
    last = AuditEvent.objects.order_by("-id").first()
    response = everything(world, world.physician, world.patient.pk)
    assert response.status_code == 200
    bundle = response.json()
    assert validate(bundle) == []
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:3] == ["Organization", "Practitioner", "Patient"]
    assert {"Procedure", "MedicationAdministration", "CarePlan"} <= set(kinds)
    for entry in bundle["entry"]:
        assert validate(entry["resource"]) == []
        assert entry["fullUrl"].startswith("http://testserver/api/v1/fhir/")
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert [p["id"] for p in patients] == [f"patient-{world.patient.pk}"]
    [event] = AuditEvent.objects.filter(id__gt=last.id if last else 0, action="export")
    assert (event.action, event.outcome, event.patient_id) == ("export", "ok", world.patient.pk)
    assert event.detail["resources"] == len(bundle["entry"])


def test_it_holds_no_record_of_another_patient(world, charted):
    bundle = everything(world, world.physician, world.patient.pk).json()
    assert f'"Patient/patient-{world.other_patient.pk}"' not in json.dumps(bundle)
    subjects = {
        e["resource"]["subject"]["reference"] for e in bundle["entry"] if "subject" in e["resource"]
    }
    assert subjects == {f"Patient/patient-{world.patient.pk}"}


def test_the_patient_fetches_their_own_bundle(world, charted):
    response = everything(world, world.patient_user, world.patient.pk)
    assert response.status_code == 200
    assert response.json()["entry"][2]["resource"]["id"] == f"patient-{world.patient.pk}"


def test_the_patients_own_bundle_leaves_out_the_clinician_only_notes(world):
    from decimal import Decimal

    from prolotrack.core.charting import InjectionInput
    from prolotrack.patients import services as patient_services
    from prolotrack.treatment import services
    from tests.treatment.charting_helpers import SAPHENOUS

    lot = InjectionInput(SAPHENOUS, "left", "subcutaneous", Decimal("0.5"), 27, lot="LOT-4711")
    session = record_session(world, notes="Session note 4711", injections=[lot])
    services.adverse_event_add(
        session=session,
        category="local_pain_flare",
        serious=False,
        onset=session.performed_at.date(),
        notes="Adverse event note 4711",
    )
    patient_services.condition_add(
        patient=world.patient, code="neck_pain", region="neck_shoulder", notes="Condition 4711"
    )
    own = everything(world, world.patient_user, world.patient.pk)
    assert own.status_code == 200
    assert "4711" not in own.content.decode()
    practitioners = [
        e["resource"]
        for e in own.json()["entry"]
        if e["resource"]["resourceType"] == "Practitioner"
    ]
    assert practitioners and not [p for p in practitioners if "identifier" in p]
    assert validate(own.json()) == []
    kinds = {e["resource"]["resourceType"] for e in own.json()["entry"]}
    assert {"Condition", "Procedure", "MedicationAdministration", "AdverseEvent"} <= kinds
    # The practitioner's copy keeps them.
    text = everything(world, world.physician, world.patient.pk).content.decode()
    for note in ("Session note 4711", "LOT-4711", "Adverse event note 4711", "Condition 4711"):
        assert note in text


def test_a_patient_cannot_fetch_another_patient(world, charted):
    response = everything(world, world.patient_user, world.other_patient.pk)
    assert response.status_code == 404


def test_another_clinics_practitioner_gets_404_and_it_is_recorded(world, charted):
    response = everything(world, world.other_physician, world.patient.pk)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome) == ("access_refused", "refused")
    assert not AuditEvent.objects.filter(action="export", patient_id=world.patient.pk).exists()


@pytest.mark.parametrize("role", ["front_desk", "admin"])
def test_staff_who_see_no_clinical_notes_are_refused(world, charted, role):
    response = everything(world, getattr(world, role), world.patient.pk)
    assert response.status_code == 403


def test_signed_out_callers_are_refused(client, world):
    response = client.get(f"/api/v1/fhir/Patient/{world.patient.pk}/$everything")
    assert response.status_code == 401


def test_the_operation_is_in_the_openapi_description(world):
    paths = world.client_for(world.physician).get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/fhir/Patient/{patient_id}/$everything" in paths


@pytest.mark.parametrize("name", sorted(CODE_SYSTEMS))
def test_each_code_system_and_value_set_is_published_and_valid(client, db, name):
    response = client.get(f"/interop/fhir/CodeSystem/{name}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    resource = response.json()
    assert validate(resource) == []
    assert resource["url"] == system_url(name)
    assert [c["code"] for c in resource["concept"]] == list(codes(name))
    value_set = client.get(f"/interop/fhir/ValueSet/{name}").json()
    assert validate(value_set) == []
    assert value_set["compose"]["include"][0]["system"] == resource["url"]


def test_the_site_code_system_is_the_catalog(client, db):
    from prolotrack.core.catalog import load_catalog

    concepts = client.get("/interop/fhir/CodeSystem/prolotrack-site").json()["concept"]
    assert len(concepts) == len(load_catalog().sites)
    knee = next(c for c in concepts if c["code"] == "n_infrapatellar_saphenous")
    assert {"code": "region", "valueCode": "knee"} in knee["property"]


def test_an_unknown_code_system_is_404(client, db):
    assert client.get("/interop/fhir/CodeSystem/nope").status_code == 404
