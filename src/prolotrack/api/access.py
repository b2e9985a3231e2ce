"""What every clinical API operation starts with: the record, through its access helper, and
the one audit event, marked as an API call (``via``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from prolotrack.api.schemas import via
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.patients.access import get_patient_for_user, require_clinician
from prolotrack.patients.models import Patient
from prolotrack.treatment.access import get_series_for_user, get_session_for_user
from prolotrack.treatment.models import Session, TreatmentSeries


def audit_api(
    request: HttpRequest,
    action: Action,
    *,
    patient_id: int,
    target: Any = None,
    object_type: str = "",
    outcome: Outcome = Outcome.OK,
) -> None:
    audit_record(
        request=request,
        action=action,
        target=target,
        object_type=object_type,
        patient_id=patient_id,
        outcome=outcome,
        detail=via(request),
    )


def clinical_patient(request: HttpRequest, patient_id: int) -> Patient:
    require_clinician(request.user)
    return get_patient_for_user(request.user, patient_id)


def clinical_series(request: HttpRequest, series_id: int) -> TreatmentSeries:
    require_clinician(request.user)
    return get_series_for_user(request.user, series_id)


def clinical_session(request: HttpRequest, session_id: int) -> Session:
    require_clinician(request.user)
    return get_session_for_user(request.user, session_id)
