"""Patient list, new patient and edit patient pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.patients import services
from prolotrack.patients.access import (
    CARE_TEAM_EDITORS,
    care_team_of,
    get_patient_for_user,
    patients_for_user,
    require_staff,
)
from prolotrack.patients.forms import CareTeamForm, PatientForm, PatientSearchForm
from prolotrack.patients.models import Patient
from prolotrack.treatment.services import ChartingError, StaleEdit


@login_required
@audit_refusals(object_type="patient")
def patient_list(request: HttpRequest) -> HttpResponse:
    require_staff(request.user)
    form = PatientSearchForm(request.GET)
    patients = patients_for_user(request.user)
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            patients = patients.search(query)
    page = Paginator(patients, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(request=request, action=Action.LIST, object_type="patient")
    return render(
        request,
        "patients/list.html",
        {"form": form, "page": page, "query": query, "total": page.paginator.count},
    )


@login_required
@audit_refusals(object_type="patient")
def patient_create_view(request: HttpRequest) -> HttpResponse:
    require_staff(request.user)
    # A POST is always the form sent: an empty one names its missing fields.
    posted = request.POST if request.method == "POST" else None
    form = PatientForm(posted, clinic=request.user.clinic)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        patient = services.patient_create(
            clinic=request.user.clinic, created_by=request.user, **data
        )
        audit_record(request=request, action=Action.CREATE, target=patient)
        messages.success(request, f"{patient.full_name} was added.")
        return redirect(_after_save_url(request, patient.pk))
    return render(request, "patients/form.html", {"form": form, "patient": None})


@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    require_staff(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    posted = request.POST if request.method == "POST" else None
    form = PatientForm(posted, instance=patient, clinic=request.user.clinic)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        expected = form.cleaned_data.get("version") or 0
        try:
            services.patient_update(patient=patient, expected_version=expected, **data)
        except StaleEdit:
            patient.refresh_from_db()
            messages.error(
                request,
                "Someone else changed this patient while you were editing. Nothing was "
                "overwritten: the form now shows their version; make your change again.",
            )
            form = PatientForm(instance=patient, clinic=request.user.clinic)
            status = 409
        else:
            audit_record(request=request, action=Action.CHANGE, target=patient)
            messages.success(request, "Changes saved.")
            return redirect(_after_save_url(request, patient.pk))
    # A POST that gets here saved nothing (invalid or stale): a failed change, not a read.
    attempted = request.method == "POST"
    audit_record(
        request=request,
        action=Action.CHANGE if attempted else Action.READ,
        outcome=Outcome.FAILED if attempted else Outcome.OK,
        target=patient,
    )
    context = {"form": form, "patient": patient, **_care_team_context(request, patient)}
    return render(request, "patients/form.html", context, status=status)


def _care_team_context(request: HttpRequest, patient: Patient) -> dict[str, object]:
    """The care team section of the edit page, for practitioners and administrators."""
    if request.user.role not in CARE_TEAM_EDITORS:
        return {}
    return {"care_team": care_team_of(patient), "care_form": CareTeamForm(patient=patient)}


@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
@require_POST
def care_team_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.user.role not in CARE_TEAM_EDITORS:
        raise PermissionDenied("Only practitioners and clinic administrators change a care team.")
    patient = get_patient_for_user(request.user, patient_id)
    form = CareTeamForm(request.POST, patient=patient)
    back = reverse("patients:edit", args=[patient.pk]) + "#care-team"
    if form.is_valid():
        clinician = form.cleaned_data["clinician"]
        try:
            member = services.care_team_add(patient=patient, user=clinician, added_by=request.user)
        except ChartingError as exc:
            messages.error(request, " ".join(e.message for e in exc.errors))
        else:
            audit_record(
                request=request,
                action=Action.CHANGE,
                target=member,
                object_type="care_team",
                detail={"added_user_id": clinician.pk},
            )
            messages.success(request, f"{clinician.display_name} is now on the care team.")
            return redirect(back)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    # Nobody was added: a failed change.
    audit_record(
        request=request,
        action=Action.CHANGE,
        outcome=Outcome.FAILED,
        object_type="care_team",
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )
    return redirect(back)


def _after_save_url(request: HttpRequest, patient_id: int) -> str:
    """Clinicians land on the chart; front desk back on the list."""
    if request.user.is_clinician:
        return reverse("treatment:chart", args=[patient_id])
    return reverse("patients:list")
