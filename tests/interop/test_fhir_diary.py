"""The patient diary in FHIR: each entry with its side effects, note and the pain of each treated
area; read back by the import, whose errors name the resource and the path."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from prolotrack.accounts.models import Clinic
from prolotrack.core.triage import SideEffect
from prolotrack.demo.services import clinic_delete
from prolotrack.diary.models import DiaryAreaPain, DiaryEntry
from prolotrack.interop.fhir.export import Scope, bulk_export, resources
from prolotrack.interop.fhir.importer import FhirImportError, import_fhir
from prolotrack.interop.fhir.terminology import codes, system_url
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AdverseEvent
from tests.interop.test_fhir_world import load_fhir_clinic, validate

NAME = "FHIR Diary Clinic"
PAIN = ("http://loinc.org", "72514-3")


def coded(concept: dict[str, Any]) -> tuple[str, str]:
    coding = concept["coding"][0]
    return coding["system"], coding["code"]


def diary_resources(clinic: Clinic) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: r
        for kind, r in resources(Scope(clinic))
        if kind == "Observation" and r["id"].startswith("diary")
    }


def test_an_entry_exports_its_side_effects_note_and_the_pain_of_each_area(db):
    clinic = load_fhir_clinic(patients=2, name=NAME)
    found = diary_resources(clinic)
    assert all(validate(r) == [] for r in found.values())
    for entry in DiaryEntry.objects.filter(clinic=clinic).exclude(side_effects=[]):
        obs = found[f"diary-{entry.pk}"]
        effects = [
            coded(c["valueCodeableConcept"])
            for c in obs["component"]
            if coded(c["code"]) == (system_url("prolotrack-observation"), "side-effect")
        ]
        assert effects == [(system_url("prolotrack-side-effect"), e) for e in entry.side_effects]
    [noted] = DiaryEntry.objects.filter(clinic=clinic).exclude(note="")
    assert found[f"diary-{noted.pk}"]["note"] == [{"text": noted.note}]
    areas = DiaryAreaPain.objects.filter(clinic=clinic).select_related("series", "entry")
    assert areas.count() == 4
    for area in areas:
        obs = found[f"diaryarea-{area.pk}"]
        assert coded(obs["code"]) == PAIN
        assert obs["valueQuantity"]["value"] == area.pain
        assert obs["basedOn"] == [{"reference": f"CarePlan/careplan-{area.series_id}"}]
        assert coded(obs["bodySite"]) == (system_url("prolotrack-region"), area.series.region)
        assert obs["effectiveDateTime"] == area.entry.entry_date.isoformat()
        assert obs["subject"] == {"reference": f"Patient/patient-{area.entry.patient_id}"}
        members = found[f"diary-{area.entry_id}"]["hasMember"]
        assert {"reference": f"Observation/diaryarea-{area.pk}"} in members
    # No AdverseEvent comes from the diary: those are the clinic's assessed events.
    events = [kind for kind, _ in resources(Scope(clinic)) if kind == "AdverseEvent"]
    assert len(events) == AdverseEvent.objects.filter(clinic=clinic).count()


def test_the_side_effect_code_system_is_the_diarys_answers():
    assert list(codes("prolotrack-side-effect")) == [s.value for s in SideEffect]


def test_the_diary_round_trips_with_its_areas_side_effects_and_note(db, tmp_path):
    clinic = load_fhir_clinic(patients=2, name=NAME)

    def rows(c: Clinic) -> list[tuple[Any, ...]]:
        entries = DiaryEntry.objects.filter(clinic=c).order_by("pk").prefetch_related("area_pains")
        return [
            (
                e.entry_date,
                e.pain,
                e.pain_back,
                e.pgic,
                e.psfs,
                e.side_effects,
                e.note,
                [(a.series.region, a.pain) for a in e.area_pains.order_by("series_id")],
            )
            for e in entries
        ]

    before = rows(clinic)
    assert any(r[5] for r in before) and any(r[6] for r in before) and any(r[7] for r in before)
    bulk_export(clinic, tmp_path / "first")
    clinic_delete(clinic)
    again = import_fhir(tmp_path / "first", clinic_name=NAME).clinic
    assert rows(again) == before
    # Each area belongs to its entry's patient's series.
    for area in DiaryAreaPain.objects.filter(clinic=again).select_related("entry", "series"):
        assert area.series.patient_id == area.entry.patient_id


# ----------------------------------------------------------------------------------------------
# Bad input: refused with the resource and the path, nothing written


@pytest.fixture
def folder(db, tmp_path):
    """A bulk export of a small clinic with diary areas and side effects, the clinic deleted."""
    clinic = load_fhir_clinic(patients=3, name=NAME)
    bulk_export(clinic, tmp_path / "bulk")
    clinic_delete(clinic)
    return tmp_path / "bulk"


class Observations:
    """Observation.ndjson of an export, to change one resource and name its line."""

    def __init__(self, folder: Any) -> None:
        self.path = folder / "Observation.ndjson"
        self.lines = [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines()]

    def find(self, test: Callable[[dict[str, Any]], bool]) -> tuple[int, dict[str, Any]]:
        """The first resource passing ``test``, with its line number (from 1)."""
        return next((i + 1, r) for i, r in enumerate(self.lines) if test(r))

    def entry_with_areas(self) -> tuple[int, dict[str, Any]]:
        return self.find(lambda r: "hasMember" in r)

    def area(self, index: int = 0) -> tuple[int, dict[str, Any]]:
        _, entry = self.entry_with_areas()
        wanted = entry["hasMember"][index]["reference"].split("/")[1]
        return self.find(lambda r: r["id"] == wanted)

    def save(self) -> None:
        text = "".join(json.dumps(r) + "\n" for r in self.lines)
        self.path.write_text(text, encoding="utf-8")


def refused(folder: Any) -> str:
    with pytest.raises(FhirImportError) as info:
        import_fhir(folder, clinic_name="Target")
    assert not Clinic.objects.filter(name="Target").exists()
    assert not Patient.objects.exists()
    assert not DiaryEntry.objects.exists() and not DiaryAreaPain.objects.exists()
    return str(info.value)


def side_effect_component(obs: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == "side-effect")


def test_an_unknown_side_effect_is_refused_with_its_path(folder):
    observations = Observations(folder)
    line, obs = observations.find(
        lambda r: any(
            c["code"]["coding"][0]["code"] == "side-effect" for c in r.get("component", [])
        )
    )
    component = side_effect_component(obs)
    index = obs["component"].index(component)
    component["valueCodeableConcept"]["coding"][0]["code"] = "hiccups"
    observations.save()
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{obs['id']}: "
        f"component[{index}].valueCodeableConcept.coding[0]: unknown code 'hiccups' in "
        f"{system_url('prolotrack-side-effect')}"
    )


def test_a_side_effect_reported_twice_is_refused(folder):
    observations = Observations(folder)
    line, obs = observations.find(
        lambda r: any(
            c["code"]["coding"][0]["code"] == "side-effect" for c in r.get("component", [])
        )
    )
    component = side_effect_component(obs)
    obs["component"].append(component)
    observations.save()
    code = component["valueCodeableConcept"]["coding"][0]["code"]
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{obs['id']}: "
        f"component[{len(obs['component']) - 1}].valueCodeableConcept: {code!r} appears twice"
    )


def test_an_entry_listing_a_missing_area_is_named_when_the_import_ends(folder):
    observations = Observations(folder)
    line, entry = observations.entry_with_areas()
    entry["hasMember"].append({"reference": "Observation/diaryarea-999999"})
    observations.save()
    index = len(entry["hasMember"]) - 1
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{entry['id']}: "
        f"hasMember[{index}].reference: Observation/diaryarea-999999 is not in the import (a "
        "reference to a missing resource)"
    )


def test_an_area_no_entry_lists_is_refused(folder):
    observations = Observations(folder)
    _, entry = observations.entry_with_areas()
    removed = entry["hasMember"].pop()["reference"].split("/")[1]
    observations.save()
    line, _ = observations.find(lambda r: r["id"] == removed)
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{removed}: id: no diary entry lists this "
        "area's pain in hasMember (the entry comes first)"
    )


def test_a_member_that_comes_before_its_entry_is_refused(folder):
    observations = Observations(folder)
    _, reading = observations.find(lambda r: r["id"].startswith("ppt-"))
    line, entry = observations.entry_with_areas()
    entry["hasMember"].append({"reference": f"Observation/{reading['id']}"})
    observations.save()
    index = len(entry["hasMember"]) - 1
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{entry['id']}: hasMember[{index}].reference: "
        f"Observation/{reading['id']} must come after the diary entry that lists it"
    )


def test_a_member_that_is_not_an_areas_pain_is_refused(folder):
    observations = Observations(folder)
    line, entry = observations.entry_with_areas()
    later = observations.lines[line]  # the next line: the entry's first area
    del later["basedOn"]
    observations.save()
    assert refused(folder) == (
        f"Observation.ndjson line {line + 1}: Observation/{later['id']}: basedOn: "
        f"Observation/{entry['id']} lists it in hasMember[0], but it is not the pain of a "
        "treated area (a pain score with basedOn, a CarePlan)"
    )


def _other_patients_careplan(folder: Any, patient: str) -> str:
    plans = [json.loads(x) for x in (folder / "CarePlan.ndjson").read_text().splitlines()]
    return next(p["id"] for p in plans if p["subject"]["reference"] != patient)


AREA_CHANGES: dict[str, tuple[Callable[[dict[str, Any], Any], None], str]] = {
    "out of range": (
        lambda obs, folder: obs["valueQuantity"].update(value=11),
        "valueQuantity.value: expected a whole number from 0 to 10",
    ),
    "another unit": (
        lambda obs, folder: obs["valueQuantity"].update(code="kPa", unit="kPa"),
        "valueQuantity.unit: expected {{score}}",
    ),
    "another day": (
        lambda obs, folder: obs.update(effectiveDateTime="2020-01-01"),
        "effectiveDateTime: not the day of the diary entry Observation/{entry}",
    ),
    "another region": (
        lambda obs, folder: obs["bodySite"]["coding"][0].update(code="face", display="Face"),
        "bodySite: 'face' is not the region of {plan} ({region!r})",
    ),
    "another patient's series": (
        lambda obs, folder: obs["basedOn"][0].update(
            reference="CarePlan/" + _other_patients_careplan(folder, obs["subject"]["reference"])
        ),
        "basedOn[0].reference: that CarePlan is another patient's",
    ),
    "a missing series": (
        lambda obs, folder: obs["basedOn"][0].update(reference="CarePlan/careplan-999999"),
        "basedOn[0].reference: CarePlan/careplan-999999 is not in the import (a reference to a "
        "missing resource)",
    ),
}


@pytest.mark.parametrize("change", sorted(AREA_CHANGES))
def test_a_bad_area_pain_is_refused_with_its_path(folder, change):
    observations = Observations(folder)
    _, entry = observations.entry_with_areas()
    line, area = observations.area()
    plan, region = area["basedOn"][0]["reference"], area["bodySite"]["coding"][0]["code"]
    edit, message = AREA_CHANGES[change]
    edit(area, folder)
    observations.save()
    expected = message.format(entry=entry["id"], plan=plan, region=region)
    assert (
        refused(folder) == f"Observation.ndjson line {line}: Observation/{area['id']}: {expected}"
    )


def test_two_pains_for_one_area_in_an_entry_are_refused(folder):
    observations = Observations(folder)
    _, entry = observations.entry_with_areas()
    _, first = observations.area(0)
    line, second = observations.area(1)
    second["basedOn"] = first["basedOn"]
    second["bodySite"] = first["bodySite"]
    observations.save()
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{second['id']}: basedOn[0].reference: "
        f"Observation/{entry['id']} already has a pain for this CarePlan"
    )


def test_a_note_over_the_diarys_limit_is_refused(folder):
    observations = Observations(folder)
    line, entry = observations.find(lambda r: "note" in r)
    entry["note"][0]["text"] = "x" * 2001
    observations.save()
    assert refused(folder) == (
        f"Observation.ndjson line {line}: Observation/{entry['id']}: note[0].text: at most 2000 "
        "characters"
    )


def test_the_patients_own_copy_keeps_their_diary_note(world):
    """The note is the patient's own words: their $everything holds it, as the practitioner's."""
    entry = DiaryEntry.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        entry_date=dt.date(2026, 11, 1),
        pain=3,
        side_effects=["bruising"],
        note="Knee better after the walk 5813",
    )
    DiaryAreaPain.objects.create(clinic=world.clinic, entry=entry, series=world.series, pain=3)
    for user in (world.patient_user, world.physician):
        response = world.client_for(user).get(
            f"/api/v1/fhir/Patient/{world.patient.pk}/$everything"
        )
        assert response.status_code == 200
        bundle = response.json()
        assert validate(bundle) == []
        [obs] = [
            e["resource"] for e in bundle["entry"] if e["resource"]["id"] == f"diary-{entry.pk}"
        ]
        assert obs["note"] == [{"text": "Knee better after the walk 5813"}]
        assert "bruising" in json.dumps(obs["component"])
        [area] = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["id"] in {m["reference"].split("/")[1] for m in obs["hasMember"]}
        ]
        assert area["basedOn"] == [{"reference": f"CarePlan/careplan-{world.series.pk}"}]
