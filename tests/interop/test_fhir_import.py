"""FHIR import: bad input is refused quickly, with a message naming where; nothing is written."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from prolotrack.accounts.models import Clinic
from prolotrack.audit.models import AuditEvent
from prolotrack.demo.services import clinic_delete
from prolotrack.interop.fhir.export import bulk_export, patient_bundle
from prolotrack.interop.fhir.importer import FhirImportError, import_fhir
from prolotrack.patients.models import Patient
from tests.interop.test_fhir_world import load_fhir_clinic

NAME = "FHIR Test Clinic"


@pytest.fixture
def exported(db, tmp_path):
    """A small clinic's bulk export and one patient's Bundle, with the clinic deleted after."""
    clinic = load_fhir_clinic(patients=3, name=NAME)
    bulk_export(clinic, tmp_path / "bulk")
    patient = Patient.objects.filter(clinic=clinic).order_by("pk").first()
    bundle = patient_bundle(patient, "https://clinic.example/api/v1/fhir")
    clinic_delete(clinic)
    return tmp_path / "bulk", bundle


def write_bundle(tmp_path, bundle):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def refused(path, **kwargs):
    with pytest.raises(FhirImportError) as info:
        import_fhir(path, clinic_name="Target", **kwargs)
    assert not Clinic.objects.filter(name="Target").exists()  # nothing written
    return str(info.value)


def entry(bundle, kind, index=0):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind][index]


def test_malformed_json_is_refused_with_its_line(tmp_path, db):
    path = tmp_path / "bundle.json"
    path.write_text('{"resourceType": "Bundle",\n "entry": [,]}', encoding="utf-8")
    assert refused(path).startswith("bundle.json: malformed JSON at line 2 column")


def test_an_unknown_resource_type_is_named(exported, tmp_path):
    _, bundle = exported
    bundle["entry"].append({"resource": {"resourceType": "Immunization", "id": "imm-1"}})
    message = refused(write_bundle(tmp_path, bundle))
    assert "Immunization/imm-1: resourceType: unknown resource type 'Immunization'" in message


def test_a_reference_to_a_missing_resource_is_named_with_its_path(exported, tmp_path):
    _, bundle = exported
    procedure = entry(bundle, "Procedure")
    procedure["basedOn"] = [{"reference": "CarePlan/careplan-999999"}]
    message = refused(write_bundle(tmp_path, bundle))
    assert (
        f"Procedure/{procedure['id']}: basedOn[0].reference: CarePlan/careplan-999999 is not in "
        "the import (a reference to a missing resource)"
    ) in message


def test_a_threshold_in_another_unit_is_refused_in_a_bulk_file_with_its_line(exported):
    folder, _ = exported
    path = folder / "Observation.ndjson"
    lines = path.read_text(encoding="utf-8").splitlines()
    number, resource = next(
        (i, json.loads(line)) for i, line in enumerate(lines) if '"ppt-' in line[:60]
    )
    resource["valueQuantity"]["unit"] = resource["valueQuantity"]["code"] = "N/cm2"
    lines[number] = json.dumps(resource)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = refused(folder)
    assert message == (
        f"Observation.ndjson line {number + 1}: Observation/{resource['id']}: "
        "valueQuantity.unit: expected kPa"
    )


def test_an_unknown_code_is_refused_with_its_path(exported, tmp_path):
    _, bundle = exported
    administration = entry(bundle, "MedicationAdministration")
    administration["dosage"]["site"]["coding"][0]["code"] = "nowhere"
    message = refused(write_bundle(tmp_path, bundle))
    assert f"MedicationAdministration/{administration['id']}: dosage.site.coding[0]:" in message
    assert "unknown code 'nowhere'" in message


def test_an_out_of_range_value_is_refused_with_the_charting_rule(exported, tmp_path):
    _, bundle = exported
    administration = entry(bundle, "MedicationAdministration")
    administration["dosage"]["dose"]["value"] = 25
    message = refused(write_bundle(tmp_path, bundle))
    assert "dosage.dose.value: Volume must be more than 0 and at most 20 ml" in message


def test_a_required_status_code_is_checked(exported, tmp_path):
    _, bundle = exported
    entry(bundle, "Procedure")["status"] = "bogus"
    assert "status: 'bogus' is not one of completed" in refused(write_bundle(tmp_path, bundle))


XXE = """<?xml version="1.0"?>
<!DOCTYPE Bundle [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Bundle xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Bundle>
"""
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]><lolz>&lol9;</lolz>"
).replace("&lol0;", "&lol;")


@pytest.mark.parametrize("text", [XXE, BILLION_LAUGHS, "  \n<Bundle/>"])
def test_xml_is_refused_unread(tmp_path, db, text):
    path = tmp_path / "bundle.xml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    message = refused(path)
    assert time.perf_counter() - started < 1
    assert message.startswith("bundle.xml: this looks like XML")
    assert "root:" not in message


def test_xml_in_a_bulk_folder_is_refused(exported):
    folder, _ = exported
    (folder / "Patient.ndjson").write_text(XXE, encoding="utf-8")
    assert refused(folder) == (
        "Patient.ndjson: this looks like XML; prolotrack reads FHIR JSON only and never parses XML"
    )


def test_other_non_json_is_refused(tmp_path, db):
    path = tmp_path / "bundle.json"
    path.write_bytes(b"\x89PNG\r\n")
    assert "not JSON" in refused(path)


def test_a_huge_bundle_is_refused_before_it_is_read(tmp_path, db):
    path = tmp_path / "bundle.json"
    with path.open("wb") as handle:
        handle.seek(3 * 1024 * 1024)
        handle.write(b"}")
    started = time.perf_counter()
    message = refused(path, max_bundle_bytes=1024 * 1024)
    assert time.perf_counter() - started < 1
    assert "over the Bundle size limit of 1048576 bytes" in message


def test_a_huge_bulk_folder_is_refused(exported):
    folder, _ = exported
    assert "over the limit of 1000 bytes" in refused(folder, max_ndjson_bytes=1000)


def test_deep_nesting_is_refused(tmp_path, db):
    path = tmp_path / "bundle.json"
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000, encoding="utf-8")
    assert "nested" in refused(path)


def test_an_error_late_in_the_import_leaves_nothing_behind(exported):
    folder, _ = exported
    with (folder / "Provenance.ndjson").open("a", encoding="utf-8") as handle:
        handle.write('{"resourceType": "Provenance", "id": "x", "target": []}\n')
    message = refused(folder)
    assert "Provenance/x: target[0].reference: required" in message
    assert not Patient.objects.exists()


def test_a_clinic_with_patients_is_not_imported_into(exported, world):
    folder, _ = exported
    with pytest.raises(FhirImportError, match="is not empty"):
        import_fhir(folder, clinic_name=world.clinic.name)


def test_the_commands_export_and_import_and_are_audited(db, tmp_path, capsys):
    clinic = load_fhir_clinic(patients=2, name=NAME)
    call_command("export_fhir", "--out", str(tmp_path / "out"), "--clinic", NAME)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [o["type"] for o in manifest["output"]][:3] == [
        "Organization",
        "Practitioner",
        "Patient",
    ]
    assert AuditEvent.objects.filter(
        action="export", object_type="clinic", object_id=str(clinic.pk)
    ).exists()
    clinic_delete(clinic)
    call_command("import_fhir", str(tmp_path / "out"), "--clinic", NAME)
    again = Clinic.objects.get(name=NAME)
    assert again.patients.count() == 2
    assert AuditEvent.objects.filter(action="create", object_id=str(again.pk)).exists()
    with pytest.raises(CommandError, match="not empty"):
        call_command("import_fhir", str(tmp_path / "out"), "--clinic", NAME)


def test_the_export_refuses_a_folder_that_is_not_empty(db, tmp_path):
    load_fhir_clinic(patients=1, name=NAME)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("export_fhir", "--out", str(tmp_path / "out"), "--clinic", NAME)
