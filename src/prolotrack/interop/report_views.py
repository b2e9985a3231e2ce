"""The chart's "Progress report (PDF)" button: the same report as `prolotrack report`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.interop.report import (
    ReportError,
    clean_summary,
    render_report_pdf,
    report_filename,
)
from prolotrack.patients.access import get_patient_for_user, require_clinician


@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
@require_POST
def patient_report(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A practitioner downloads the patient's progress report; every print is audited."""
    require_clinician(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    try:
        summary = clean_summary(request.POST.get("summary", ""))
    except ReportError as exc:
        audit_record(
            request=request,
            action=Action.PRINT,
            target=patient,
            outcome=Outcome.FAILED,
            detail={"field": "summary"},
        )
        return render(
            request,
            "interop/report_error.html",
            {"patient": patient, "error": str(exc)},
            status=400,
        )
    pdf = render_report_pdf(patient, prepared_by=request.user, summary=summary)
    audit_record(
        request=request,
        action=Action.PRINT,
        target=patient,
        detail={"format": "pdf", "bytes": len(pdf)},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = report_filename(patient, timezone.localdate())
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
