"""A patient's outcomes: /api/v1/patients/{id}/outcomes, the numbers of the outcome page.

The same function as the page (``outcomes.progress.patient_progress``), for practitioners with
the patient in their care; the charts stay on the page.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from prolotrack.api.errors import responses
from prolotrack.api.schemas import via
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.outcomes.progress import patient_progress
from prolotrack.patients.access import get_patient_for_user, require_clinician

router = Router(tags=["outcomes"])


class SessionOutcomeOut(Schema):
    number: int
    session_id: int
    day: dt.date
    relief_days: int | None
    relief_censored: bool | None


class SiteOutcomeOut(Schema):
    site: str
    side: str
    baseline_kg_cm2: list[float | None]
    other_side_kg_cm2: list[float | None]


class FunctionOut(Schema):
    day: dt.date
    score: float


class OutcomesOut(Schema):
    status: str
    baseline_pain: int | None
    latest_pain: int | None
    sessions_with_pain: int
    improvement: float | None
    responder_30: bool
    responder_50: bool
    sessions: list[SessionOutcomeOut]
    sites: list[SiteOutcomeOut]
    function: list[FunctionOut]


@router.get(
    "/patients/{patient_id}/outcomes",
    response=responses({200: OutcomesOut}, 401, 403, 404, 422),
    summary="A patient's outcomes: pain course, responder status, relief, thresholds",
)
def patient_outcomes(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    require_clinician(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    progress = patient_progress(patient, zoneinfo.ZoneInfo(patient.clinic.time_zone))
    audit_record(request=request, action=Action.READ, target=patient, detail=via(request))
    course = progress.course
    return {
        "status": progress.status,
        "baseline_pain": course.baseline,
        "latest_pain": course.latest,
        "sessions_with_pain": course.sessions_with_pain,
        "improvement": course.improvement,
        "responder_30": course.responder_30,
        "responder_50": course.responder_50,
        "sessions": [
            {
                "number": line.number,
                "session_id": line.session.pk,
                "day": line.day,
                "relief_days": line.relief.days if line.relief else None,
                "relief_censored": line.relief.censored if line.relief else None,
            }
            for line in progress.sessions
        ],
        "sites": [
            {
                "site": s.site,
                "side": s.side,
                "baseline_kg_cm2": s.baseline,
                "other_side_kg_cm2": s.other_side,
            }
            for s in progress.sites
        ],
        "function": [{"day": day, "score": score} for day, score in progress.function],
    }
