"""FHIR R4 operations of the API: /api/v1/fhir/.

``GET /api/v1/fhir/Patient/{patient_id}/$everything`` answers a searchset Bundle of everything
prolotrack holds about one patient (the resources of ``interop.fhir.mapping``). The same rules as
the chart: a practitioner with the patient in their care, or the patient's own account; another
clinic's patient answers 404 like a missing one. Every answer is an export (a disclosure) in the
audit trail; refusals are recorded by the API's error handlers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from prolotrack.accounts.models import Role
from prolotrack.api.errors import responses
from prolotrack.api.schemas import via
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.interop.fhir.export import patient_bundle
from prolotrack.patients.access import get_patient_for_user, require_clinician

router = Router(tags=["FHIR"])

BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 Bundle (type searchset); see the README, FHIR.",
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string"},
        "total": {"type": "integer"},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
}


@router.get(
    "/Patient/{patient_id}/$everything",
    response=responses({200: dict[str, Any]}, 401, 403, 404, 422),
    summary="Everything about one patient, as a FHIR R4 Bundle",
    url_name="fhir_patient_everything",
    openapi_extra={
        "responses": {200: {"content": {"application/json": {"schema": BUNDLE_SCHEMA}}}}
    },
)
def fhir_patient_everything(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """Patient, practitioners, organization, conditions, series (CarePlan), sessions
    (Procedure), injections (MedicationAdministration), pain, PGIC, algometer and diary
    observations (with the diary's side effects, note and the pain of each treated area),
    intake screenings (Observation), adverse events, signatures and amendments (Provenance)
    and overridden safety findings (DetectedIssue)."""
    if request.user.role != Role.PATIENT:
        require_clinician(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    base = request.build_absolute_uri("/api/v1/fhir")
    # The patient's own copy leaves out the clinician-only notes, as the pages do.
    bundle = patient_bundle(patient, base, clinician_notes=request.user.role != Role.PATIENT)
    audit_record(
        request=request,
        action=Action.EXPORT,
        target=patient,
        detail={**via(request), "format": "fhir-bundle", "resources": len(bundle["entry"])},
    )
    return bundle
