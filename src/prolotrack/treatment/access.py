"""Which series and sessions a user may see: always through the patient's clinic and care.

A practitioner of the clinic reaches a series or session of a patient outside their care only
after breaking the glass (``patients.access.require_care``); another clinic's ids answer 404.
"""

from __future__ import annotations

from django.http import Http404

from prolotrack.accounts.models import CLINICIAN_ROLES, Role, User
from prolotrack.patients.access import require_care
from prolotrack.treatment.models import Session, TreatmentSeries


def _may_read_clinical(user: User) -> bool:
    return user.is_authenticated and user.clinic_id is not None and user.role in CLINICIAN_ROLES


def get_series_for_user(user: User, series_id: int) -> TreatmentSeries:
    series = None
    if _may_read_clinical(user):
        series = (
            TreatmentSeries.objects.select_related("patient")
            .filter(clinic_id=user.clinic_id, pk=series_id)
            .first()
        )
    if series is None:
        raise Http404("No such treatment series.")
    require_care(user, series.patient)
    return series


def get_session_for_user(user: User, session_id: int) -> Session:
    session = None
    if _may_read_clinical(user):
        session = (
            Session.objects.select_related("series__patient", "practitioner", "signed_by")
            .filter(clinic_id=user.clinic_id, pk=session_id)
            .first()
        )
    elif user.is_authenticated and user.role == Role.PATIENT:
        session = (
            Session.objects.select_related("series__patient", "practitioner", "signed_by")
            .filter(series__patient__user=user, pk=session_id)
            .first()
        )
    if session is None:
        raise Http404("No such session.")
    require_care(user, session.series.patient)
    return session
