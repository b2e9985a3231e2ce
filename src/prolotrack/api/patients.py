"""Patients and their conditions: /api/v1/patients.

The same rules as the pages: the clinic's staff (practitioners, front desk, clinic
administrators) list, create and change patients' records; a patient account reads its own
record; conditions are clinical, for practitioners with the patient in their care. Creating
and changing go through the page's form, so the API accepts exactly what the page accepts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from prolotrack.accounts.models import Role
from prolotrack.api.access import audit_api, clinical_patient
from prolotrack.api.errors import ApiError, invalid, responses, stale
from prolotrack.api.pages import PageInfo, PageQuery, paginate, refuse_unknown_parameters
from prolotrack.api.schemas import via
from prolotrack.api.types import Bool, Date, Line, Number, Text, Whole
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.patients import services
from prolotrack.patients.access import (
    get_patient_for_user,
    patients_for_user,
    require_staff,
)
from prolotrack.patients.forms import PatientForm
from prolotrack.patients.models import Allergy, Condition, Patient, Sex
from prolotrack.treatment.services import ChartingError, StaleEdit

router = Router(tags=["patients"])

SexCode = Literal["female", "male", "other", "unknown"]
AllergyCode = Literal["corn", "local_anaesthetic"]
ChartNumber = Line(32, 1)
Name = Line(100, 1)
Email = Line(254)
Phone = Line(32)
WeightKg = Number(ge=1, le=400, places=1)
Notes = Text(5000)
RegionCode = Line(32, 1)
ConditionCode = Line(64, 1)
Version = Whole(1, 2_000_000_000)
SearchText = Line(100)
SideCode = Literal["", "left", "right", "midline", "both"]

assert set(SexCode.__args__) == set(Sex.values)  # type: ignore[attr-defined]
assert set(AllergyCode.__args__) == set(Allergy.values)  # type: ignore[attr-defined]

# Sort keys a list accepts, each mapped to its ORM ordering; nothing else reaches order_by().
PATIENT_ORDERINGS = {
    "family_name": ("family_name", "given_name", "id"),
    "-family_name": ("-family_name", "-given_name", "-id"),
    "chart_number": ("chart_number", "id"),
    "-chart_number": ("-chart_number", "-id"),
    "birth_date": ("birth_date", "id"),
    "-birth_date": ("-birth_date", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
PatientOrdering = Literal[
    "family_name",
    "-family_name",
    "chart_number",
    "-chart_number",
    "birth_date",
    "-birth_date",
    "created_at",
    "-created_at",
]
assert set(PatientOrdering.__args__) == set(PATIENT_ORDERINGS)  # type: ignore[attr-defined]


class PatientOut(Schema):
    id: int
    chart_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: SexCode
    weight_kg: float | None
    diabetes: bool
    anticoagulant: bool
    bleeding_disorder: bool
    pregnant: bool
    allergies: list[AllergyCode]
    email: str
    phone: str
    version: int = Field(description="Send it back with a change (optimistic locking).")
    created_at: dt.datetime
    updated_at: dt.datetime


class PatientPage(PageInfo):
    results: list[PatientOut]


class PatientIn(Schema):
    model_config = ConfigDict(extra="forbid")

    chart_number: ChartNumber
    given_name: Name
    family_name: Name
    birth_date: Date
    sex: SexCode = "unknown"
    weight_kg: WeightKg | None = None
    diabetes: Bool = False
    anticoagulant: Bool = False
    bleeding_disorder: Bool = False
    pregnant: Bool = False
    allergies: list[AllergyCode] = Field(default_factory=list, max_length=2)
    email: Email = ""
    phone: Phone = ""


class PatientChange(Schema):
    """The fields to change, and the version that was read; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    chart_number: ChartNumber | None = None
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: Date | None = None
    sex: SexCode | None = None
    weight_kg: WeightKg | None = None
    diabetes: Bool | None = None
    anticoagulant: Bool | None = None
    bleeding_disorder: Bool | None = None
    pregnant: Bool | None = None
    allergies: list[AllergyCode] | None = Field(None, max_length=2)
    email: Email | None = None
    phone: Phone | None = None


class PatientListQuery(PageQuery):
    chart_number: ChartNumber | None = Field(None, description="Exactly this chart number.")
    search: SearchText | None = Field(
        None, description="Words that the name or chart number contains."
    )
    ordering: PatientOrdering = "family_name"


class ConditionOut(Schema):
    id: int
    patient_id: int
    code: str
    region: str
    side: str
    onset: dt.date | None
    notes: str
    created_at: dt.datetime


class ConditionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: ConditionCode
    region: RegionCode
    side: SideCode = ""
    onset: Date | None = None
    notes: Notes = ""


def patient_out(patient: Patient) -> dict[str, Any]:
    return {
        **{f: getattr(patient, f) for f in PatientOut.model_fields if f != "weight_kg"},
        "weight_kg": float(patient.weight_kg) if patient.weight_kg is not None else None,
        "allergies": list(patient.allergies or []),
    }


def _form_data(values: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the page's form posts them, so the page's form validates them."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, list):
            data[name] = [str(v) for v in value]
        elif isinstance(value, dt.date | Decimal | int):
            data[name] = str(value)
        else:
            data[name] = value
    return data


def _form_values(form: PatientForm) -> dict[str, Any]:
    return {k: v for k, v in form.cleaned_data.items() if k != "version"}


def _form_error(form: PatientForm) -> ApiError:
    field, messages = next(iter(form.errors.items()))
    return ApiError(422, "invalid", " ".join(messages), "" if field == "__all__" else field)


@router.get(
    "/patients",
    response=responses({200: PatientPage}, 400, 401, 403, 422),
    summary="List the clinic's patients",
)
def patient_list(request: HttpRequest, query: Query[PatientListQuery]) -> dict[str, Any]:
    """The clinic's patients, a page at a time, filtered and sorted by the allowed keys only."""
    refuse_unknown_parameters(request, PatientListQuery.model_fields)
    require_staff(request.user)
    patients: QuerySet[Patient] = patients_for_user(request.user)
    if query.chart_number is not None:
        patients = patients.filter(chart_number=query.chart_number)
    if query.search:
        patients = patients.search(query.search)
    patients = patients.order_by(*PATIENT_ORDERINGS[query.ordering])
    count, rows = paginate(patients, query)
    audit_record(request=request, action=Action.LIST, object_type="patient", detail=via(request))
    return {
        "count": count,
        "page": query.page,
        "page_size": query.page_size,
        "results": [patient_out(p) for p in rows],
    }


@router.post(
    "/patients",
    response=responses({201: PatientOut}, 400, 401, 403, 422),
    summary="Add a patient",
)
def patient_create(request: HttpRequest, payload: PatientIn) -> Status[dict[str, Any]]:
    require_staff(request.user)
    clinic = request.user.clinic
    form = PatientForm(_form_data(payload.model_dump()), clinic=clinic)
    if not form.is_valid():
        audit_record(
            request=request,
            action=Action.CREATE,
            object_type="patient",
            outcome=Outcome.FAILED,
            detail=via(request),
        )
        raise _form_error(form)
    patient = services.patient_create(clinic=clinic, created_by=request.user, **_form_values(form))
    audit_record(request=request, action=Action.CREATE, target=patient, detail=via(request))
    return Status(201, patient_out(patient))


@router.get(
    "/patients/{patient_id}",
    response=responses({200: PatientOut}, 401, 403, 404, 422),
    summary="Read a patient's record",
)
def patient_detail(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """Staff read their clinic's patients; a patient account reads its own record."""
    if request.user.role != Role.PATIENT:
        require_staff(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    audit_record(request=request, action=Action.READ, target=patient, detail=via(request))
    return patient_out(patient)


@router.patch(
    "/patients/{patient_id}",
    response=responses({200: PatientOut}, 400, 401, 403, 404, 409, 422),
    summary="Change a patient's record",
)
def patient_update(request: HttpRequest, patient_id: int, payload: PatientChange) -> dict[str, Any]:
    """Send the ``version`` you read: if someone changed the record since, the answer is 409
    with nothing overwritten."""
    require_staff(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    changes = payload.model_dump(exclude_unset=True)
    expected = changes.pop("version")
    current = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}
    form = PatientForm(_form_data({**current, **changes}), instance=patient, clinic=patient.clinic)
    failed = {"request": request, "action": Action.CHANGE, "target": patient}
    if not form.is_valid():
        audit_record(**failed, outcome=Outcome.FAILED, detail=via(request))
        raise _form_error(form)
    try:
        services.patient_update(patient=patient, expected_version=expected, **_form_values(form))
    except StaleEdit as exc:
        audit_record(**failed, outcome=Outcome.FAILED, detail=via(request))
        raise stale(exc.current_version) from None
    audit_record(request=request, action=Action.CHANGE, target=patient, detail=via(request))
    return patient_out(patient)


@router.get(
    "/patients/{patient_id}/conditions",
    response=responses({200: list[ConditionOut]}, 401, 403, 404, 422),
    summary="List a patient's conditions",
)
def condition_list(request: HttpRequest, patient_id: int) -> list[Condition]:
    patient = clinical_patient(request, patient_id)
    conditions = list(patient.conditions.all())
    audit_api(request, Action.LIST, patient_id=patient.pk, object_type="condition")
    return conditions


@router.post(
    "/patients/{patient_id}/conditions",
    response=responses({201: ConditionOut}, 400, 401, 403, 404, 422),
    summary="Add a condition to a patient",
)
def condition_create(
    request: HttpRequest, patient_id: int, payload: ConditionIn
) -> Status[Condition]:
    patient = clinical_patient(request, patient_id)
    try:
        condition = services.condition_add(patient=patient, **payload.model_dump())
    except ChartingError as exc:
        audit_api(
            request,
            Action.CREATE,
            patient_id=patient.pk,
            object_type="condition",
            outcome=Outcome.FAILED,
        )
        raise invalid(exc.errors) from None
    audit_record(request=request, action=Action.CREATE, target=condition, detail=via(request))
    return Status(201, condition)
