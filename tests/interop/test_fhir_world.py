"""The synthetic clinic the FHIR tests export, and the checks every exported resource must pass.

Helpers, not tests: the FHIR test modules import them (test_fhir_*.py is the FHIR tests' room).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from prolotrack.accounts.models import Clinic
from prolotrack.core.synth import generate_clinic
from prolotrack.demo.loader import clinic_load
from prolotrack.diary.models import DiaryAreaPain
from prolotrack.interop.fhir.export import diary_model
from prolotrack.interop.fhir.terminology import binding_errors, coding_errors
from prolotrack.patients.models import Condition
from prolotrack.treatment.models import AdverseEvent, Injection, Session, TreatmentSeries

TODAY = dt.date(2026, 11, 20)


def load_fhir_clinic(
    *, patients: int = 12, seed: int = 11, name: str = "FHIR Test Clinic"
) -> Clinic:
    """A generated clinic, with the facts the generator leaves empty filled in on a few rows:
    PGIC, condition onsets and notes, lots, adverse-event notes, phones and e-mails, and the
    first patient's diary entries with PGIC, PSFS, side effects, a note and the pain of two
    treated areas."""
    clinic = clinic_load(generate_clinic(seed=seed, patients=patients, today=TODAY, name=name))
    for i, session in enumerate(Session.objects.filter(clinic=clinic).order_by("pk")[:40]):
        if i % 3 == 0:
            session.pgic = 1 + i % 7
            session.save(update_fields=["pgic"])
    for condition in Condition.objects.filter(clinic=clinic).order_by("pk")[:3]:
        condition.onset = TODAY - dt.timedelta(days=400)
        condition.notes = "Worse on stairs <b>&</b> after sitting."
        condition.save(update_fields=["onset", "notes"])
    for injection in Injection.objects.filter(clinic=clinic).order_by("pk")[:5]:
        injection.lot = "LOT-2026-17"
        injection.epinephrine = True
        injection.lidocaine_pct = Decimal("0.5")
        injection.save(update_fields=["lot", "epinephrine", "lidocaine_pct"])
    for event in AdverseEvent.objects.filter(clinic=clinic).order_by("pk")[:2]:
        event.notes = "Settled with paracetamol."
        event.save(update_fields=["notes"])
    patient = clinic.patients.order_by("pk").first()
    assert patient is not None
    diary = diary_model()
    if diary is not None:
        # Two treated areas: the patient's series, and a second one if they have one only.
        series = list(TreatmentSeries.objects.filter(patient=patient).order_by("pk")[:2])
        if len(series) < 2:
            series.append(
                TreatmentSeries.objects.create(
                    clinic=clinic,
                    patient=patient,
                    modality="classic",
                    region="neck_shoulder" if series[0].region != "neck_shoulder" else "knee",
                    planned_sessions=4,
                    planned_interval_days=21,
                    status="active",
                    started_on=TODAY - dt.timedelta(days=30),
                )
            )
        effects = [["soreness", "bruising"], [], ["fever", "redness_warmth", "other"]]
        for day in range(3):
            extra: dict[str, Any] = {}
            if day == 1:
                extra["pgic"] = 2
                extra["note"] = "Slept badly <i>&</i> walked 2 km; \u00e9t\u00e9 \U0001f642."
            if day == 2:
                extra["psfs"] = [
                    {"activity": "Climbing stairs", "score": 4},
                    {"activity": "Gardening", "score": 7},
                ]
            entry = diary.objects.create(
                clinic=clinic,
                patient=patient,
                entry_date=TODAY - dt.timedelta(days=3 - day),
                pain=5 - day,
                pain_back=None if day == 0 else day == 2,
                side_effects=effects[day],
                **extra,
            )
            # The pain of each treated area, the entry's pain the highest; none on day 0 (an
            # entry from before the areas were asked).
            for i, one in enumerate(series if day else []):
                DiaryAreaPain.objects.create(
                    clinic=clinic, entry=entry, series=one, pain=entry.pain - i
                )
    patient.phone = "+1 604 555 0100"
    patient.email = "invented@example.org"
    patient.allergies = ["corn"]
    patient.save(update_fields=["phone", "email", "allergies"])
    return clinic


def validate(resource: dict[str, Any]) -> list[str]:
    """Problems with one resource: the R4B model's, then prolotrack's own code checks."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)  # raises on any structural problem
    return [*binding_errors(resource), *coding_errors(resource)]


def normalize(items: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Resources with server-assigned ids replaced by their type and position ("Patient-3"),
    references rewritten to match: what must survive a round trip."""
    ids: dict[str, str] = {}
    counts: dict[str, int] = {}
    for kind, resource in items:
        counts[kind] = counts.get(kind, 0) + 1
        ids[f"{kind}/{resource['id']}"] = f"{kind}/{kind}-{counts[kind]}"

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, str) and value in ids:
            return ids[value]
        return value

    out = []
    for kind, resource in items:
        copy = rewrite(resource)
        copy["id"] = ids[f"{kind}/{resource['id']}"].split("/")[1]
        out.append(copy)
    return out


def read_ndjson(folder: Any) -> list[tuple[str, dict[str, Any]]]:
    import json

    from prolotrack.interop.fhir.export import RESOURCE_TYPES

    items = []
    for kind in RESOURCE_TYPES:
        path = folder / f"{kind}.ndjson"
        for line in path.read_text(encoding="utf-8").splitlines():
            items.append((kind, json.loads(line)))
    return items
