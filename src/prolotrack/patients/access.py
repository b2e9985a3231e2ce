"""The one place that decides which patients a user may see (the clinic boundary, the care team).

Views never call ``Patient.objects.get(pk=...)``: they call these helpers, which answer 404 for a
patient of another clinic exactly as for one that does not exist, so ids reveal nothing.

Within the clinic, a practitioner opens a patient's clinical pages only when the patient is in
their care: on the patient's care team, or the practitioner of one of the patient's sessions.
Anyone else of the clinic's practitioners meets ``BreakGlassRequired`` (a 403 with a form asking
for a reason, ``patients.break_glass``) until they break the glass; the grant opens the record
for ``BREAK_GLASS_MINUTES``. Front desk and clinic administrators keep their demographics-only
view, patients their own record.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from prolotrack.accounts.models import CLINICIAN_ROLES, Role, User
from prolotrack.patients.models import BreakGlassGrant, CareTeamMember, Patient, PatientQuerySet
from prolotrack.treatment.models import Session

# Who may open the list of patients and their demographics.
STAFF_ROLES = frozenset({*CLINICIAN_ROLES, Role.FRONT_DESK, Role.CLINIC_ADMIN})

# Who may put a practitioner on a patient's care team.
CARE_TEAM_EDITORS = frozenset({*CLINICIAN_ROLES, Role.CLINIC_ADMIN})


class BreakGlassRequired(PermissionDenied):
    """A practitioner of the clinic asked for a patient outside their care, without a grant.

    It is a PermissionDenied, so the refusal is recorded and answered 403 like any other; the
    break-glass middleware turns the answer into the page that asks for a reason.
    """

    def __init__(self, patient: Patient) -> None:
        super().__init__("This patient is not in your care.")
        self.patient_id = patient.pk


def patients_for_user(user: User) -> PatientQuerySet:
    """The patients ``user`` may list: their clinic's, for staff; none otherwise."""
    if not user.is_authenticated or user.clinic_id is None or user.role not in STAFF_ROLES:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=user.clinic_id)


def get_patient_for_user(user: User, patient_id: int) -> Patient:
    """The patient ``patient_id`` if ``user`` may see them; 404 otherwise.

    A practitioner of the patient's clinic without a care relationship or a live break-glass
    grant gets ``BreakGlassRequired`` (403), never the record.
    """
    if user.is_authenticated and user.role == Role.PATIENT:
        patient = Patient.objects.filter(user=user, pk=patient_id).first()
    else:
        patient = patients_for_user(user).filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient.")
    require_care(user, patient)
    return patient


def get_patient_for_break_glass(user: User, patient_id: int) -> Patient:
    """The patient a practitioner asks to break the glass for: their clinic's, or 404.

    Only practitioners break the glass: front desk and administrators never see clinical notes.
    """
    require_clinician(user)
    patient = patients_for_user(user).filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def is_in_care(user: User, patient: Patient) -> bool:
    """True when ``patient`` is on ``user``'s list of patients: the care team or a session."""
    if CareTeamMember.objects.filter(patient=patient, user=user).exists():
        return True
    return Session.objects.filter(series__patient=patient, practitioner=user).exists()


def care_team_of(patient: Patient) -> list[User]:
    """The practitioners who have ``patient`` in their care, by name: team and treating."""
    treating = Session.objects.filter(series__patient=patient).values("practitioner_id")
    return list(
        User.objects.filter(Q(care_memberships__patient=patient) | Q(pk__in=treating))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def active_grant(
    user: User, patient: Patient, now: dt.datetime | None = None
) -> BreakGlassGrant | None:
    """``user``'s break-glass grant on ``patient`` that is live at ``now``, if any."""
    when = now or timezone.now()
    return (
        BreakGlassGrant.objects.active(when)
        .filter(user_id=user.pk, patient_id=patient.pk)
        .order_by("-expires_at")
        .first()
    )


def has_clinical_access(user: User, patient: Patient) -> bool:
    """May ``user`` (a practitioner) open ``patient``'s clinical pages right now?"""
    if user.clinic_id is None or user.clinic_id != patient.clinic_id:
        return False
    return is_in_care(user, patient) or active_grant(user, patient) is not None


def require_care(user: User, patient: Patient) -> None:
    """Raise BreakGlassRequired when a practitioner reaches a patient outside their care.

    Other roles are left to the callers' role checks: their pages show no clinical notes.
    """
    if user.role in CLINICIAN_ROLES and not has_clinical_access(user, patient):
        raise BreakGlassRequired(patient)


def require_clinician(user: User) -> None:
    """Charting (clinical notes, injections, readings) is for practitioners only."""
    if user.role not in CLINICIAN_ROLES:
        raise PermissionDenied("Only a practitioner may do this.")


def require_staff(user: User) -> None:
    if user.role not in STAFF_ROLES or user.clinic_id is None:
        raise PermissionDenied("Only the clinic's staff may do this.")
