"""Intake screenings, amendments of signed sessions and physicians' overrides in FHIR: how each
is exported, that it comes back the same from an import, that a bad one is refused with the
resource and the path named and nothing written, and what the patient's own copy leaves out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from prolotrack.accounts.models import Clinic
from prolotrack.core.rules import RULES
from prolotrack.demo.services import clinic_delete
from prolotrack.interop.fhir.export import Scope, bulk_export, patient_bundle, resources
from prolotrack.interop.fhir.importer import FhirImportError, import_fhir
from prolotrack.interop.fhir.terminology import (
    ACT_CODE,
    DATA_OPERATION,
    codes,
    extension_url,
    system_url,
)
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient, Screening
from prolotrack.treatment import services
from prolotrack.treatment.models import Session, SessionAmendment
from prolotrack.treatment.safety import Override
from tests.interop.test_fhir_world import (
    clinician,
    load_fhir_clinic,
    normalize,
    override,
    read_ndjson,
    validate,
)
from tests.treatment.charting_helpers import WHEN, record_session

NAME = "FHIR Safety Clinic"
REASON = extension_url("override-reason")


def by_id(clinic: Clinic) -> dict[str, tuple[str, dict[str, Any]]]:
    return {r["id"]: (kind, r) for kind, r in resources(Scope(clinic))}


def coded(concept: dict[str, Any]) -> tuple[str, str]:
    coding = concept["coding"][0]
    return coding["system"], coding["code"]


# ----------------------------------------------------------------------------------------------
# Export


def test_code_systems_hold_every_rule_and_every_screening_question():
    assert list(codes("prolotrack-rule")) == [rule.code for rule in RULES]
    rule = codes("prolotrack-rule")["red_flag.cauda_equina"]
    assert (rule.display, rule.properties["severity"]) == ("Red flag: cauda equina", "block")
    assert rule.definition.startswith("DOMAIN.md 3.1")
    questions = codes("prolotrack-screening")
    assert list(questions)[-1] == "infection_at_site"
    assert questions["cancer"].properties == {"answers": "history"}
    assert questions["fever"].properties == {"answers": "symptoms"}
    assert questions["fever"].definition.startswith('The screening asks: "Fever')


def test_a_screening_exports_every_question_answered(db):
    clinic = load_fhir_clinic(patients=2, name=NAME)
    found = by_id(clinic)
    screenings = Screening.objects.filter(clinic=clinic).order_by("pk")
    assert screenings.count() == 3
    for screening in screenings:
        kind, obs = found[f"screening-{screening.pk}"]
        assert kind == "Observation" and validate(obs) == []
        assert coded(obs["code"]) == (system_url("prolotrack-observation"), "intake-screening")
        assert obs["subject"] == {"reference": f"Patient/patient-{screening.patient_id}"}
        assert obs["performer"] == [
            {"reference": f"Practitioner/practitioner-{screening.recorded_by_id}"}
        ]
        answers = {coded(c["code"])[1]: c["valueBoolean"] for c in obs["component"]}
        assert list(answers) == list(codes("prolotrack-screening"))
        yes = {*screening.symptoms, *screening.history}
        if screening.infection_at_site:
            yes.add("infection_at_site")
        assert {code for code, answer in answers.items() if answer} == yes
        assert obs.get("note") == ([{"text": screening.notes}] if screening.notes else None)
    assert any(s.is_clear for s in screenings) and any(s.infection_at_site for s in screenings)


def test_an_amendment_is_a_note_of_the_procedure_and_a_provenance(db):
    clinic = load_fhir_clinic(patients=2, name=NAME)
    found = by_id(clinic)
    amendments = SessionAmendment.objects.filter(clinic=clinic).order_by("created_at", "pk")
    assert amendments.count() == 3
    for amendment in amendments:
        kind, provenance = found[f"amendment-{amendment.pk}"]
        assert kind == "Provenance" and validate(provenance) == []
        when = amendment.created_at.astimezone(dt.UTC).isoformat()
        author = {"reference": f"Practitioner/practitioner-{amendment.author_id}"}
        assert provenance["target"] == [
            {"reference": f"Procedure/procedure-{amendment.session_id}"}
        ]
        assert provenance["recorded"] == when
        assert coded(provenance["activity"]) == (DATA_OPERATION, "UPDATE")
        assert provenance["agent"][0]["who"] == author
        assert coded(provenance["agent"][0]["type"])[1] == "author"
        _, procedure = found[f"procedure-{amendment.session_id}"]
        assert {"authorReference": author, "time": when, "text": amendment.text} in procedure[
            "note"
        ]
    # The original note stays first, as signed; the amendments follow in the order written.
    session = amendments[0].session
    _, procedure = found[f"procedure-{session.pk}"]
    assert procedure["note"][0] == {"text": session.notes}
    assert [n["text"] for n in procedure["note"][1:]] == [
        a.text for a in amendments if a.session_id == session.pk
    ]
    # A session without a note of its own: the amendments only.
    bare = next(a.session for a in amendments if not a.session.notes)
    assert all("time" in n for n in found[f"procedure-{bare.pk}"][1]["note"])


def test_an_override_is_a_detected_issue_per_finding_mitigated_by_the_physician(db):
    clinic = load_fhir_clinic(patients=2, name=NAME)
    found = by_id(clinic)
    sessions = Session.objects.filter(clinic=clinic, override_at__isnull=False)
    assert sessions.count() == 2
    for session in sessions.select_related("series"):
        issues = [
            found[f"override-{session.pk}-{i + 1}"] for i in range(len(session.override_codes))
        ]
        assert f"override-{session.pk}-{len(session.override_codes) + 1}" not in found
        for code, (kind, issue) in zip(session.override_codes, issues, strict=True):
            assert kind == "DetectedIssue" and validate(issue) == []
            assert coded(issue["code"]) == (system_url("prolotrack-rule"), code)
            assert issue["severity"] == "high"  # the findings that block
            assert issue["implicated"] == [{"reference": f"Procedure/procedure-{session.pk}"}]
            assert issue["patient"] == {"reference": f"Patient/patient-{session.series.patient_id}"}
            [mitigation] = issue["mitigation"]
            assert coded(mitigation["action"]) == (ACT_CODE, "1")
            assert mitigation["date"] == session.override_at.astimezone(dt.UTC).isoformat()
            assert mitigation["author"] == {
                "reference": f"Practitioner/practitioner-{session.override_by_id}"
            }
            assert mitigation["extension"] == [
                {"url": REASON, "valueString": session.override_reason}
            ]
    assert {len(s.override_codes) for s in sessions} == {1, 2}


def test_an_override_of_a_retired_rule_or_of_no_finding_is_kept(db, tmp_path):
    """A rule code the catalog no longer holds stays as text; an override that names no finding
    is one DetectedIssue without a code. Both come back from an import as they were."""
    clinic = load_fhir_clinic(patients=1, name=NAME)
    sessions = list(Session.objects.filter(clinic=clinic).order_by("pk"))
    retired, nothing = sessions[0], sessions[1]
    physician = clinician(clinic)
    override(retired, physician, ["red_flag.retired_rule", "red_flag.fever"], "Reviewed at length.")
    override(nothing, physician, [], "Went ahead after a call.")
    found = by_id(clinic)
    _, issue = found[f"override-{retired.pk}-1"]
    assert issue["code"] == {"text": "red_flag.retired_rule"} and "severity" not in issue
    assert validate(issue) == []
    _, plain = found[f"override-{nothing.pk}-1"]
    assert "code" not in plain and validate(plain) == []
    assert f"override-{nothing.pk}-2" not in found

    bulk_export(clinic, tmp_path / "first")
    clinic_delete(clinic)
    again = import_fhir(tmp_path / "first", clinic_name=NAME).clinic
    stored = {
        s.override_reason: s.override_codes
        for s in Session.objects.filter(clinic=again, override_at__isnull=False)
    }
    assert stored["Reviewed at length."] == ["red_flag.retired_rule", "red_flag.fever"]
    assert stored["Went ahead after a call."] == []
    bulk_export(again, tmp_path / "second")
    assert normalize(read_ndjson(tmp_path / "first")) == normalize(read_ndjson(tmp_path / "second"))


# ----------------------------------------------------------------------------------------------
# Round trip


def test_screenings_amendments_and_overrides_come_back_as_they_were(db, tmp_path):
    clinic = load_fhir_clinic(patients=3, name=NAME)

    def rows(c: Clinic) -> dict[str, list[tuple[Any, ...]]]:
        def who(user_id: int | None) -> str | None:
            return c.users.get(pk=user_id).username if user_id else None

        return {
            "screenings": [
                (s.patient.chart_number, s.recorded_at, who(s.recorded_by_id), s.symptoms,
                 s.history, s.infection_at_site, s.notes)
                for s in Screening.objects.filter(clinic=c).order_by("recorded_at", "pk")
            ],
            "amendments": [
                (a.session.performed_at, who(a.author_id), a.created_at, a.text)
                for a in SessionAmendment.objects.filter(clinic=c).order_by("created_at", "pk")
            ],
            "overrides": [
                (s.performed_at, who(s.override_by_id), s.override_at, s.override_codes,
                 s.override_reason)
                for s in Session.objects.filter(clinic=c, override_at__isnull=False).order_by(
                    "performed_at", "pk"
                )
            ],
        }  # fmt: skip

    before = rows(clinic)
    assert all(before.values())
    bulk_export(clinic, tmp_path / "first")
    clinic_delete(clinic)
    again = import_fhir(tmp_path / "first", clinic_name=NAME)
    assert rows(again.clinic) == before
    assert again.counts["DetectedIssue"] == sum(len(o[3]) for o in before["overrides"])
    bulk_export(again.clinic, tmp_path / "second")
    assert normalize(read_ndjson(tmp_path / "first")) == normalize(read_ndjson(tmp_path / "second"))


# ----------------------------------------------------------------------------------------------
# The patient's own copy


@pytest.fixture
def charted(world):
    """A signed, overridden session of the world's patient, amended by another practitioner,
    and a screening recorded by a third: each with a clinician's text marked 4711."""
    session = record_session(
        world,
        signed=True,
        override=Override(world.physician, "Override 4711 reviewed", ("red_flag.fever",), WHEN),
    )
    services.session_amend(session=session, author=world.nurse, text="Amendment 4711")
    patient_services.screening_record(
        patient=world.patient,
        recorded_by=world.naturopath,
        symptoms=["fever"],
        notes="Screening 4711",
        recorded_at=WHEN - dt.timedelta(days=1),
    )
    return session


def everything(world, user):
    response = world.client_for(user).get(f"/api/v1/fhir/Patient/{world.patient.pk}/$everything")
    assert response.status_code == 200
    return response


def test_the_patients_copy_keeps_who_and_when_but_not_the_clinicians_texts(world, charted):
    own = everything(world, world.patient_user)
    assert "4711" not in own.content.decode()
    bundle = own.json()
    assert validate(bundle) == []
    found = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    [amendment] = SessionAmendment.objects.filter(session=charted)
    provenance = found[f"amendment-{amendment.pk}"]
    assert provenance["agent"][0]["who"] == {
        "reference": f"Practitioner/practitioner-{world.nurse.pk}"
    }
    issue = found[f"override-{charted.pk}-1"]
    assert coded(issue["code"])[1] == "red_flag.fever" and "extension" not in issue["mitigation"][0]
    assert issue["mitigation"][0]["author"] == {
        "reference": f"Practitioner/practitioner-{world.physician.pk}"
    }
    [screening] = [r for i, r in found.items() if i.startswith("screening-")]
    assert "note" not in screening
    assert {coded(c["code"])[1] for c in screening["component"] if c["valueBoolean"]} == {"fever"}
    for resource in found.values():
        assert validate(resource) == []


def test_the_practitioners_copy_has_the_texts_and_every_author(world, charted):
    bundle = everything(world, world.physician).json()
    text = json.dumps(bundle)
    for note in ("Override 4711 reviewed", "Amendment 4711", "Screening 4711"):
        assert note in text
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    for user in (world.physician, world.nurse, world.naturopath):
        assert f"Practitioner/practitioner-{user.pk}" in present
    # Every reference names a resource of the Bundle.
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str) and not node["reference"].startswith("#"):
                refs.add(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([e["resource"] for e in bundle["entry"]])
    assert refs <= present


# ----------------------------------------------------------------------------------------------
# Refused imports


@pytest.fixture
def exported(db):
    """One patient's Bundle, from a clinic whose first patient has screenings, amended sessions
    and an override; the clinic is deleted, so the Bundle imports into an empty database."""
    clinic = load_fhir_clinic(patients=2, name=NAME)
    patient = Patient.objects.filter(clinic=clinic).order_by("pk").first()
    bundle = patient_bundle(patient, "https://clinic.example/api/v1/fhir")
    clinic_delete(clinic)
    return bundle


def refused(tmp_path, bundle: dict[str, Any]) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(FhirImportError) as info:
        import_fhir(path, clinic_name="Target")
    assert not Clinic.objects.filter(name="Target").exists()  # nothing written
    assert not Patient.objects.exists()
    return str(info.value)


def first(bundle: dict[str, Any], test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if test(e["resource"]))


def amendment(r: dict[str, Any]) -> bool:
    return r["resourceType"] == "Provenance" and r["id"].startswith("amendment-")


def amended(r: dict[str, Any]) -> bool:
    return r["resourceType"] == "Procedure" and any("time" in n for n in r.get("note", []))


def issue(r: dict[str, Any]) -> bool:
    return r["resourceType"] == "DetectedIssue"


def screening(r: dict[str, Any]) -> bool:
    return r["id"].startswith("screening-")


def drop(bundle: dict[str, Any], resource: dict[str, Any]) -> None:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"] is not resource]


def test_the_patients_bundle_imports(exported, tmp_path):
    """The fixture is good: each refusal below comes from the one change it makes."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    result = import_fhir(path, clinic_name="Target")

    def count(test: Callable[[dict[str, Any]], bool]) -> int:
        return sum(1 for e in exported["entry"] if test(e["resource"]))

    assert result.counts["DetectedIssue"] == count(issue) == 2
    assert SessionAmendment.objects.filter(clinic=result.clinic).count() == count(amendment) == 3
    assert Screening.objects.filter(clinic=result.clinic).count() == count(screening) == 2


def test_an_amendment_without_its_provenance_is_refused(exported, tmp_path):
    procedure = first(exported, amended)
    for provenance in [e["resource"] for e in exported["entry"] if amendment(e["resource"])][:1]:
        drop(exported, provenance)
    message = refused(tmp_path, exported)
    assert f"Procedure/{procedure['id']}: note[1]: no Provenance records this amendment" in message


def test_a_provenance_without_its_amendment_is_refused(exported, tmp_path):
    provenance = first(exported, amendment)
    provenance["recorded"] = "2020-01-01T00:00:00+00:00"
    message = refused(tmp_path, exported)
    target = provenance["target"][0]["reference"]
    assert (
        f"Provenance/{provenance['id']}: target[0].reference: {target} has no amendment by "
    ) in message
    assert "at 2020-01-01T00:00:00+00:00" in message


def test_an_amendment_of_an_unsigned_session_is_refused(exported, tmp_path):
    provenance = first(exported, amendment)
    target = provenance["target"][0]["reference"]
    signature = first(
        exported,
        lambda r: (
            r["resourceType"] == "Provenance"
            and "activity" not in r
            and r["target"][0]["reference"] == target
        ),
    )
    drop(exported, signature)
    message = refused(tmp_path, exported)
    assert f"Provenance/{provenance['id']}: target[0].reference: {target} is not signed" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda n: n.insert(1, {"text": "A second own note."}),
            "note[1]: the session's own note comes first",
        ),
        (
            lambda n: n[-1]["authorReference"].update(reference="Practitioner/practitioner-999999"),
            "authorReference.reference: Practitioner/practitioner-999999 is not in the import",
        ),
        (lambda n: n[-1].update(time="yesterday"), "time: expected a date and time"),
        (lambda n: n[-1].pop("text"), "text: required text"),
    ],
)
def test_a_bad_amendment_note_is_refused_with_its_path(exported, tmp_path, change, expected):
    procedure = first(exported, amended)
    change(procedure["note"])
    message = refused(tmp_path, exported)
    assert f"Procedure/{procedure['id']}: note[" in message and expected in message


def test_an_unknown_activity_is_refused(exported, tmp_path):
    provenance = first(exported, amendment)
    provenance["activity"]["coding"][0]["code"] = "DELETE"
    message = refused(tmp_path, exported)
    assert f"Provenance/{provenance['id']}: activity.coding[0]: code 'DELETE'" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda i: i["mitigation"][0].pop("extension"),
            "mitigation[0].extension(override-reason): required",
        ),
        (
            lambda i: i["mitigation"][0]["extension"][0].update(valueString=" "),
            "mitigation[0].extension(override-reason).valueString: required text",
        ),
        (lambda i: i.update(severity="low"), "severity: expected high, the severity of"),
        (
            lambda i: i.update(severity="bogus"),
            "severity: 'bogus' is not one of high, low, moderate",
        ),
        (
            lambda i: i["code"]["coding"][0].update(code="red_flag.nope"),
            "code.coding[0]: unknown code 'red_flag.nope'",
        ),
        (
            lambda i: i["mitigation"][0]["action"]["coding"][0].update(
                system="http://terminology.hl7.org/CodeSystem/v3-ActReason"
            ),
            "is not one prolotrack reads",
        ),
        (lambda i: i["mitigation"][0]["action"].pop("coding"), "mitigation[0].action: required"),
        (lambda i: i["mitigation"][0].pop("date"), "mitigation[0].date: required text"),
        (lambda i: i.update(mitigation=[]), "mitigation: required: one mitigation"),
        (
            lambda i: i.update(patient={"reference": "Patient/patient-999999"}),
            "patient.reference: Patient/patient-999999 is not in the import",
        ),
        (lambda i: i.pop("implicated"), "implicated[0].reference: required"),
    ],
)
def test_a_bad_override_is_refused_with_its_path(exported, tmp_path, change, expected):
    detected = first(exported, issue)
    change(detected)
    message = refused(tmp_path, exported)
    assert f"DetectedIssue/{detected['id']}: " in message and expected in message, message


def test_two_findings_of_one_session_must_share_its_override(exported, tmp_path):
    issues = [e["resource"] for e in exported["entry"] if issue(e["resource"])]
    assert len(issues) == 2
    issues[1]["mitigation"][0]["extension"][0]["valueString"] = "Another reason entirely."
    message = refused(tmp_path, exported)
    assert (
        f"DetectedIssue/{issues[1]['id']}: mitigation[0]: not the override of "
        f"DetectedIssue/{issues[0]['id']} on the same Procedure"
    ) in message


def test_of_several_findings_each_is_coded(exported, tmp_path):
    issues = [e["resource"] for e in exported["entry"] if issue(e["resource"])]
    del issues[1]["code"], issues[1]["severity"]
    message = refused(tmp_path, exported)
    assert (
        f"DetectedIssue/{issues[1]['id']}: code: required, as the session has several "
        f"DetectedIssues (DetectedIssue/{issues[0]['id']}): the finding overridden"
    ) in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["component"].append(s["component"][0]),
            "'bladder_dysfunction' is answered twice",
        ),
        (
            lambda s: s["component"][2].update(valueBoolean="yes"),
            "component[2].valueBoolean: expected true or false",
        ),
        (
            lambda s: s["component"][0]["code"]["coding"][0].update(code="dizziness"),
            "component[0].code.coding[0]: unknown code 'dizziness'",
        ),
        (lambda s: s.update(note=[{"text": "x" * 5001}]), "note[0].text: at most 5000 characters"),
        (lambda s: s.pop("performer"), "performer: required"),
        (
            lambda s: s.update(effectiveDateTime="2026-05-04"),
            "effectiveDateTime: expected a time zone",
        ),
    ],
)
def test_a_bad_screening_is_refused_with_its_path(exported, tmp_path, change, expected):
    found = first(exported, screening)
    change(found)
    message = refused(tmp_path, exported)
    assert f"Observation/{found['id']}: " in message and expected in message, message


def test_a_question_left_out_is_not_a_yes(exported, tmp_path):
    """The screening stores the yes answers: a question without a component reads as no."""
    found = first(exported, screening)
    fever = {"system": system_url("prolotrack-screening"), "code": "fever"}
    found["component"] = [{"code": {"coding": [fever]}, "valueBoolean": True}]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    result = import_fhir(path, clinic_name="Target")
    oldest = Screening.objects.filter(clinic=result.clinic).order_by("recorded_at").first()
    assert (oldest.symptoms, oldest.history, oldest.infection_at_site) == (["fever"], [], False)
