"""The intake screening page: record the red-flag answers and show what they call for at once."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.patients import services
from prolotrack.patients.access import get_patient_for_user
from prolotrack.patients.forms import ScreeningForm
from prolotrack.patients.models import Screening
from prolotrack.treatment.safety import screening_findings
from prolotrack.treatment.services import ChartingError
from prolotrack.treatment.views import clinical_page


@audit_refusals(object_type="patient", id_kwarg="patient_id")
@clinical_page
@require_http_methods(["GET", "POST"])
def screening(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    form = ScreeningForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.screening_record(
                patient=patient, recorded_by=request.user, **form.cleaned_data
            )
        except ChartingError as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            audit_record(request=request, action=Action.CREATE, target=recorded)
            messages.success(request, "Screening saved. Its findings are below.")
            return redirect(reverse("patients:screening", args=[patient.pk]) + "#findings")
    latest = Screening.objects.latest_for(patient)
    # A GET reads the latest screening; a POST that gets here stored nothing.
    audit_record(
        request=request,
        action=Action.CREATE if request.method == "POST" else Action.READ,
        outcome=Outcome.FAILED if request.method == "POST" else Outcome.OK,
        object_type="screening",
        object_id=latest.pk if latest and request.method == "GET" else "",
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )
    findings = screening_findings(patient, user=request.user, screening=latest) if latest else []
    return render(
        request,
        "patients/screening.html",
        {
            "patient": patient,
            "form": form,
            "latest": latest,
            "latest_answers": _answers(latest) if latest else [],
            "findings": findings,
            "blocked": any(f.severity == "block" for f in findings),
        },
    )


def _answers(screening: Screening) -> list[str]:
    """The questions answered yes, in the words of the form."""
    labels = {
        (q.field, q.code): q.label
        for group in ScreeningForm().groups
        for q in (box.question for box in group[1])
    }
    answers = [labels[("symptoms", c.value)] for c in screening.symptom_codes]
    answers += [labels[("history", c.value)] for c in screening.history_codes]
    if screening.infection_at_site:
        answers.append(labels[("infection_at_site", "yes")])
    return answers
