"""Round trips: export, import into an empty clinic, export again: the same resources."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.accounts.models import Clinic
from prolotrack.core.rules import RULES
from prolotrack.core.triage import SideEffect
from prolotrack.demo.services import clinic_delete
from prolotrack.diary.models import DiaryAreaPain, DiaryEntry
from prolotrack.interop.fhir.export import Scope, bulk_export, patient_bundle, resources
from prolotrack.interop.fhir.importer import import_fhir
from prolotrack.interop.fhir.terminology import codes
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AlgometerReading, Injection, Session, TreatmentSeries
from tests.interop.test_fhir_world import (
    TODAY,
    amend,
    clinician,
    load_fhir_clinic,
    normalize,
    override,
    read_ndjson,
    screen,
)

NAME = "FHIR Test Clinic"


@pytest.fixture
def clinic(db):
    return load_fhir_clinic(name=NAME)


def test_a_clinic_round_trips_through_bulk_ndjson(clinic, tmp_path):
    bulk_export(clinic, tmp_path / "first")

    def counted(c: Clinic) -> dict[str, int]:
        return {
            "sessions": Session.objects.filter(clinic=c).count(),
            "injections": Injection.objects.filter(clinic=c).count(),
            "readings": AlgometerReading.objects.filter(clinic=c).count(),
            "diary entries": DiaryEntry.objects.filter(clinic=c).count(),
            "area pains": DiaryAreaPain.objects.filter(clinic=c).count(),
            "with side effects": DiaryEntry.objects.filter(clinic=c)
            .exclude(side_effects=[])
            .count(),
            "with a note": DiaryEntry.objects.filter(clinic=c).exclude(note="").count(),
        }

    counts = counted(clinic)
    assert counts["area pains"] and counts["with side effects"] and counts["with a note"]
    clinic_delete(clinic)

    result = import_fhir(tmp_path / "first", clinic_name=NAME)
    again = result.clinic
    assert again.pk != clinic.pk
    assert counts == counted(again)
    bulk_export(again, tmp_path / "second")
    first, second = read_ndjson(tmp_path / "first"), read_ndjson(tmp_path / "second")
    assert len(first) == len(second)
    assert normalize(first) == normalize(second)


def test_an_imported_clinic_has_the_same_outcomes_at_once(clinic, tmp_path):
    """The import refreshes the per-session summary the outcome numbers read: no rebuild."""
    from prolotrack.outcomes.models import SessionOutcome
    from prolotrack.outcomes.queries import outcomes_compute

    before = outcomes_compute(clinic)
    assert before["patients"] and SessionOutcome.objects.filter(clinic=clinic).exists()
    bulk_export(clinic, tmp_path / "first")
    clinic_delete(clinic)
    again = import_fhir(tmp_path / "first", clinic_name=NAME).clinic
    assert (
        SessionOutcome.objects.filter(clinic=again).count()
        == Session.objects.filter(clinic=again).count()
    )
    assert outcomes_compute(again) == before


def test_a_patient_bundle_round_trips(clinic, tmp_path):
    patient = Patient.objects.filter(clinic=clinic).order_by("pk").first()
    bundle = patient_bundle(patient, "https://clinic.example/api/v1/fhir")
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    before = [(e["resource"]["resourceType"], e["resource"]) for e in bundle["entry"]]
    clinic_delete(clinic)

    result = import_fhir(path, clinic_name="Imported Clinic")
    assert Clinic.objects.filter(name="Imported Clinic").exists()
    [again] = Patient.objects.filter(clinic=result.clinic)
    after = list(resources(Scope(result.clinic, again.pk)))
    first, second = normalize(before), normalize(after)
    # The Organization carries the clinic's name, which the import chose.
    assert first[0]["name"] == NAME and second[0]["name"] == "Imported Clinic"
    first[0]["name"] = second[0]["name"]
    assert first == second


# RELIABILITY.md T28 asks for at least 500 examples; each one loads, exports, deletes and
# imports a clinic, so the suite runs a few and a nightly run raises the number:
# PROLOTRACK_FHIR_EXAMPLES=500 uv run pytest tests/interop/test_fhir_roundtrip.py
EXAMPLES = int(os.environ.get("PROLOTRACK_FHIR_EXAMPLES", "8"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    patients=st.integers(min_value=1, max_value=3),
    pgic=st.lists(st.integers(min_value=1, max_value=7), max_size=4),
    effects=st.lists(st.sampled_from(list(SideEffect)), unique=True, max_size=4),
    areas=st.lists(st.integers(min_value=0, max_value=10), max_size=3),
    note=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip),
    answers=st.sets(st.sampled_from(sorted(codes("prolotrack-screening")))),
    amendments=st.lists(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
        .map(str.strip)
        .filter(bool),
        max_size=3,
    ),
    # None: no override; a retired rule's code is kept as text.
    overridden=st.none()
    | st.lists(
        st.sampled_from([*(rule.code for rule in RULES), "red_flag.retired_rule"]),
        unique=True,
        max_size=3,
    ),
)
def test_any_small_generated_clinic_round_trips(
    db,
    tmp_path_factory,
    seed,
    patients,
    pgic,
    effects,
    areas,
    note,
    answers,
    amendments,
    overridden,
):
    clinic = load_fhir_clinic(patients=patients, seed=seed, name="Property Clinic")
    for session, value in zip(
        Session.objects.filter(clinic=clinic).order_by("-pk"), pgic, strict=False
    ):
        session.pgic = value
        session.save(update_fields=["pgic"])
    # A diary entry of the last patient: the side effects, note and area pains drawn.
    patient = Patient.objects.filter(clinic=clinic).order_by("-pk").first()
    entry = DiaryEntry.objects.create(
        clinic=clinic,
        patient=patient,
        entry_date=TODAY,
        pain=max(areas, default=4),
        side_effects=[e.value for e in effects],
        note=note,
    )
    series = TreatmentSeries.objects.filter(patient=patient).order_by("pk")
    DiaryAreaPain.objects.bulk_create(
        DiaryAreaPain(clinic=clinic, entry=entry, series=one, pain=pain)
        for one, pain in zip(series, areas, strict=False)
    )
    # A screening of the drawn answers, amendments of the latest signed session and an
    # override of the latest session, besides the test world's.
    physician = clinician(clinic)
    questions = codes("prolotrack-screening")
    screen(
        patient,
        physician,
        dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC),
        symptoms=[c for c in answers if questions[c].properties["answers"] == "symptoms"],
        history=[c for c in answers if questions[c].properties["answers"] == "history"],
        infection_at_site="infection_at_site" in answers,
        notes=note,
    )
    signed = Session.objects.filter(clinic=clinic, signed_at__isnull=False).order_by("-pk")
    if (latest := signed.first()) is not None and latest.signed_at is not None:
        for i, text in enumerate(amendments):
            amend(latest, physician, latest.signed_at + dt.timedelta(minutes=i + 1), text)
    if overridden is not None:
        last = Session.objects.filter(clinic=clinic).order_by("-pk").first()
        override(last, physician, overridden, f"Reviewed: {note or 'no deficit'}")
    folder = tmp_path_factory.mktemp("roundtrip")
    bulk_export(clinic, folder / "first")
    clinic_delete(clinic)
    again = import_fhir(folder / "first", clinic_name="Property Clinic").clinic
    try:
        bulk_export(again, folder / "second")
        assert normalize(read_ndjson(folder / "first")) == normalize(read_ndjson(folder / "second"))
    finally:
        clinic_delete(again)
