"""The one place that decides which patients a user may see (the clinic boundary).

Views never call ``Patient.objects.get(pk=...)``: they call these helpers, which answer 404 for a
patient of another clinic exactly as for one that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from prolotrack.accounts.models import CLINICIAN_ROLES, Role, User
from prolotrack.patients.models import Patient, PatientQuerySet

# Who may open the list of patients and their demographics.
STAFF_ROLES = frozenset({*CLINICIAN_ROLES, Role.FRONT_DESK, Role.CLINIC_ADMIN})


def patients_for_user(user: User) -> PatientQuerySet:
    """The patients ``user`` may list: their clinic's, for staff; none otherwise."""
    if not user.is_authenticated or user.clinic_id is None or user.role not in STAFF_ROLES:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=user.clinic_id)


def get_patient_for_user(user: User, patient_id: int) -> Patient:
    """The patient ``patient_id`` if ``user`` may see them; 404 otherwise."""
    if user.is_authenticated and user.role == Role.PATIENT:
        patient = Patient.objects.filter(user=user, pk=patient_id).first()
    else:
        patient = patients_for_user(user).filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def require_clinician(user: User) -> None:
    """Charting (clinical notes, injections, readings) is for practitioners only."""
    if user.role not in CLINICIAN_ROLES:
        raise PermissionDenied("Only a practitioner may do this.")


def require_staff(user: User) -> None:
    if user.role not in STAFF_ROLES or user.clinic_id is None:
        raise PermissionDenied("Only the clinic's staff may do this.")
