"""Patient workflows: create, change with optimistic locking, add conditions, screen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from prolotrack.accounts.models import CLINICIAN_ROLES, Clinic, User
from prolotrack.core.catalog import load_catalog
from prolotrack.core.charting import FieldError
from prolotrack.core.rules.vocabulary import History, Symptom, in_order
from prolotrack.patients.models import CareTeamMember, Condition, Patient, Screening
from prolotrack.treatment.services import ChartingError, StaleEdit

# The fields a patient form may write; anything else (clinic, version, user) is never taken
# from input (mass assignment, RELIABILITY.md T8).
PATIENT_FIELDS = (
    "chart_number",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "weight_kg",
    "diabetes",
    "anticoagulant",
    "bleeding_disorder",
    "pregnant",
    "allergies",
    "email",
    "phone",
)


def patient_create(*, clinic: Clinic, created_by: User | None = None, **fields: Any) -> Patient:
    """Create a patient; a practitioner who creates one has them in their care from the start."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"patient_create() got fields it does not take: {sorted(unknown)}")
    with transaction.atomic():
        patient = Patient.objects.create(clinic=clinic, **fields)
        if created_by is not None and created_by.role in CLINICIAN_ROLES:
            care_team_add(patient=patient, user=created_by, added_by=created_by)
    return patient


def care_team_add(*, patient: Patient, user: User, added_by: User | None) -> CareTeamMember:
    """Put ``user``, a practitioner of the patient's clinic, on the patient's care team.

    Adding someone already on the team changes nothing and returns their membership.
    """
    if user.role not in CLINICIAN_ROLES or user.clinic_id != patient.clinic_id:
        raise ChartingError(
            [FieldError("clinician", "Only a practitioner of the patient's clinic can be added.")]
        )
    member, _ = CareTeamMember.objects.get_or_create(
        patient=patient,
        user=user,
        defaults={"clinic_id": patient.clinic_id, "added_by": added_by},
    )
    return member


def patient_update(*, patient: Patient, expected_version: int, **fields: Any) -> Patient:
    """Change a patient's record if nobody else changed it since ``expected_version``."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"patient_update() got fields it does not take: {sorted(unknown)}")
    with transaction.atomic():
        updated = Patient.objects.filter(pk=patient.pk, version=expected_version).update(
            version=F("version") + 1, updated_at=timezone.now(), **fields
        )
        if not updated:
            raise StaleEdit(Patient.objects.get(pk=patient.pk).version)
    patient.refresh_from_db()
    return patient


def condition_add(
    *, patient: Patient, code: str, region: str, side: str = "", onset: Any = None, notes: str = ""
) -> Condition:
    catalog = load_catalog()
    errors = []
    entry = catalog.conditions.get(code)
    if entry is None:
        errors.append(FieldError("code", f"{code!r} is not a condition of the catalog."))
    if region not in catalog.regions:
        errors.append(FieldError("region", f"{region!r} is not a body region of the catalog."))
    if errors:
        raise ChartingError(errors)
    return Condition.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        code=code,
        region=region,
        side=side,
        onset=onset,
        notes=notes,
    )


# A vocabulary of the screening answers.
V = TypeVar("V", Symptom, History)


def _codes(
    field: str, values: Sequence[str], enum: type[V], what: str
) -> tuple[list[str], list[FieldError]]:
    """``values`` as vocabulary codes in the vocabulary's order; an unknown one is an error,
    never dropped: a misspelt red flag must not read as "no red flag"."""
    known = {m.value for m in enum}
    errors = [
        FieldError(field, f"{value!r} is not a {what} of the screening list.")
        for value in values
        if value not in known
    ]
    members = in_order(enum, (enum(v) for v in values if v in known))
    return [m.value for m in members], errors


def screening_record(
    *,
    patient: Patient,
    recorded_by: User,
    symptoms: Iterable[str] = (),
    history: Iterable[str] = (),
    infection_at_site: bool = False,
    notes: str = "",
    recorded_at: dt.datetime | None = None,
) -> Screening:
    """Record one intake screening of ``patient``; the latest screening is what the rules read.

    Raises ChartingError naming the field for an unknown symptom or history code, a
    non-clinician or a practitioner of another clinic.
    """
    symptoms, history = list(symptoms), list(history)
    symptom_codes, errors = _codes("symptoms", symptoms, Symptom, "symptom")
    history_codes, history_errors = _codes("history", history, History, "history item")
    errors += history_errors
    if recorded_by.role not in CLINICIAN_ROLES or recorded_by.clinic_id != patient.clinic_id:
        errors.append(
            FieldError("recorded_by", "Only a practitioner of the patient's clinic may screen.")
        )
    notes = notes.strip()
    if len(notes) > 5000:
        errors.append(FieldError("notes", "Notes are limited to 5,000 characters."))
    when = recorded_at or timezone.now()
    if timezone.is_naive(when):
        errors.append(FieldError("recorded_at", "The time must include its time zone."))
    if errors:
        raise ChartingError(errors)
    return Screening.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        recorded_at=when,
        recorded_by=recorded_by,
        symptoms=symptom_codes,
        history=history_codes,
        infection_at_site=infection_at_site,
        notes=notes,
    )
