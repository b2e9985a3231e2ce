"""Patient workflows: create, change with optimistic locking, add conditions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from prolotrack.accounts.models import Clinic
from prolotrack.core.catalog import load_catalog
from prolotrack.core.charting import FieldError
from prolotrack.patients.models import Condition, Patient
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


def patient_create(*, clinic: Clinic, **fields: Any) -> Patient:
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"patient_create() got fields it does not take: {sorted(unknown)}")
    return Patient.objects.create(clinic=clinic, **fields)


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
