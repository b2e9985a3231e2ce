"""The synthetic clinic the FHIR tests export, and the checks every exported resource must pass.

Helpers, not tests: the FHIR test modules import them (test_fhir_*.py is the FHIR tests' room).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from prolotrack.accounts.models import Clinic, Role, User
from prolotrack.core.synth import generate_clinic
from prolotrack.demo.loader import clinic_load
from prolotrack.diary.models import DiaryAreaPain
from prolotrack.interop.fhir.export import diary_model
from prolotrack.interop.fhir.terminology import binding_errors, coding_errors
from prolotrack.patients.models import Condition, Patient
from prolotrack.patients.services import screening_record
from prolotrack.treatment.models import (
    AdverseEvent,
    Injection,
    Session,
    SessionAmendment,
    TreatmentSeries,
)

TODAY = dt.date(2026, 11, 20)


def load_fhir_clinic(
    *, patients: int = 12, seed: int = 11, name: str = "FHIR Test Clinic"
) -> Clinic:
    """A generated clinic, with the facts the generator leaves empty filled in on a few rows:
    PGIC, condition onsets and notes, lots, adverse-event notes, phones and e-mails, the first
    patient's diary entries with PGIC, PSFS, side effects, a note and the pain of two treated
    areas, and the records of ``add_safety_records``: intake screenings, amendments of signed
    sessions and physicians' overrides."""
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
    add_safety_records(clinic)
    return clinic


def clinician(clinic: Clinic, role: str = Role.PHYSICIAN) -> User:
    """A practitioner of ``clinic``: its first of ``role``, or one made for the test."""
    found = User.objects.filter(clinic=clinic, role=role, is_active=True).order_by("pk").first()
    return found or User.objects.create_user(
        username=f"{role}-{clinic.pk}", password=None, clinic=clinic, role=role
    )


def screen(patient: Patient, by: User, at: dt.datetime, **answers: Any) -> None:
    screening_record(patient=patient, recorded_by=by, recorded_at=at, **answers)


def amend(session: Session, author: User, at: dt.datetime, text: str) -> SessionAmendment:
    """An amendment of a signed session, dated ``at`` (created_at is set on insert)."""
    row = SessionAmendment.objects.create(
        clinic_id=session.clinic_id, session=session, author=author, text=text
    )
    SessionAmendment.objects.filter(pk=row.pk).update(created_at=at)
    row.refresh_from_db()
    return row


def override(session: Session, by: User, codes: list[str], reason: str) -> None:
    """A physician's override of the findings that blocked ``session``, as the session form
    stores it."""
    session.override_by = by
    session.override_at = session.performed_at
    session.override_codes = codes
    session.override_reason = reason
    session.save(update_fields=["override_by", "override_at", "override_codes", "override_reason"])


def add_safety_records(clinic: Clinic) -> None:
    """Intake screenings (one all clear, one with red flags, infection at the site and a note,
    a later one for the same patient), amendments of signed sessions (two on a session with a
    note, by two practitioners; one on a session without a note) and overrides (two findings
    overridden on one session, one on another)."""
    physician = clinician(clinic)
    other = clinician(clinic, Role.NURSE_PRACTITIONER)
    patients = list(Patient.objects.filter(clinic=clinic).order_by("pk")[:2])
    start = dt.datetime.combine(TODAY, dt.time(9, 30), tzinfo=dt.UTC) - dt.timedelta(days=200)
    screen(patients[0], physician, start)
    screen(
        patients[-1],
        other,
        start + dt.timedelta(days=1, microseconds=250),
        symptoms=["saddle_anaesthesia", "fever"],
        history=["cancer", "iv_drug_use"],
        infection_at_site=True,
        notes="Referred to <b>emergency</b> & told to return after review.",
    )
    screen(patients[0], other, start + dt.timedelta(days=30), history=["osteoporosis"])
    sessions = list(Session.objects.filter(clinic=clinic).select_related("series").order_by("pk"))
    signed = [one for one in sessions if one.signed_at is not None]
    for one, notes in zip(signed, ("Tolerated well.", ""), strict=False):
        one.notes = notes
        one.save(update_fields=["notes"])
    if signed:
        first = signed[0]
        assert first.signed_at is not None
        amend(first, physician, first.signed_at + dt.timedelta(hours=2), "Lot was LOT-9.")
        amend(
            first,
            other,
            first.signed_at + dt.timedelta(days=1, microseconds=17),
            "Patient phoned: <i>bruising</i> & mild ache, settled.",
        )
    if len(signed) > 1 and signed[1].signed_at is not None:
        amend(signed[1], physician, signed[1].signed_at + dt.timedelta(minutes=5), "Added.")
    # The first patient's latest session and the clinic's latest, signed or not.
    own = [one for one in sessions if one.series.patient_id == patients[0].pk][-1:]
    targets = list(dict.fromkeys([*own, *reversed(sessions)]))
    reasons = [
        (
            ["red_flag.cauda_equina", "allergy.local_anaesthetic"],
            "Screen answers were misread; reviewed with the patient, no deficit.",
        ),
        (["dose_limit.lidocaine_max"], "Weight confirmed at 96 kg."),
    ]
    for one, (codes, reason) in zip(targets, reasons, strict=False):
        override(one, physician, codes, reason)


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
