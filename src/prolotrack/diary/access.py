"""Who reaches which diary page: a patient their own diary only; the clinic's staff its alerts.

A patient's pages take no patient id: the patient is the signed-in user's own record, so there
is no id to change. The one id they take, an entry's, is looked up among the patient's own
entries (another patient's entry answers 404 as a missing one does). Staff get 404 on the
patient's pages, patients 404 on the staff's (front desk and administrators 403), and
another clinic's alerts are 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from prolotrack.accounts.models import CLINICIAN_ROLES, Role, User
from prolotrack.diary.models import Alert, AlertQuerySet, DiaryEntry
from prolotrack.patients.models import Patient


def patient_for_diary(user: User) -> Patient:
    """The signed-in patient's own record; 404 for anyone else."""
    patient = None
    if (
        user.is_authenticated
        and user.role == Role.PATIENT
        and user.is_active
        and user.clinic_id is not None
    ):
        patient = (
            Patient.objects.select_related("clinic")
            .filter(user=user, clinic_id=user.clinic_id)
            .first()
        )
    if patient is None:
        raise Http404("No diary here.")
    return patient


def get_entry_for_patient(patient: Patient, entry_id: int) -> DiaryEntry:
    entry = DiaryEntry.objects.filter(patient=patient, pk=entry_id).first()
    if entry is None:
        raise Http404("No such diary entry.")
    return entry


def _is_clinic_clinician(user: User) -> bool:
    return user.is_authenticated and user.clinic_id is not None and user.role in CLINICIAN_ROLES


def alerts_for_user(user: User) -> AlertQuerySet:
    """The alerts of the user's clinic, for its practitioners; 404 for everyone else.

    The board is the clinic's, not one practitioner's: an emergency alert must reach whoever is
    on duty, so every practitioner of the clinic sees every alert. Opening the patient's chart
    from it goes through the chart's own access check.
    """
    if not user.is_authenticated or user.role == Role.PATIENT:
        raise Http404("No such page.")
    if not _is_clinic_clinician(user):
        raise PermissionDenied("Only the clinic's practitioners see diary alerts.")
    return Alert.objects.for_clinic(user.clinic_id)


def get_alert_for_user(user: User, alert_id: int) -> Alert:
    alert = alerts_for_user(user).select_related("patient").filter(pk=alert_id).first()
    if alert is None:
        raise Http404("No such alert.")
    return alert
