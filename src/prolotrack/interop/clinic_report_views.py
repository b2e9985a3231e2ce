"""The outcome dashboard's "Download outcome report (PDF)" button: the same report as
`prolotrack outcomes --format pdf`, with the dashboard's filters.

Who may print it: whoever may see the dashboard (``outcomes.views.require_dashboard``), for
their own clinic only: the clinic comes from the signed-in user, never from the request.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.interop.clinic_report import (
    audit_detail,
    clinic_report_context,
    clinic_report_filename,
    render_clinic_report_pdf,
)
from prolotrack.outcomes.views import OutcomeFilterForm, require_dashboard


@login_required
@audit_refusals(object_type="outcomes")
@require_POST
def clinic_report(request: HttpRequest) -> HttpResponse:
    """A practitioner, administrator or auditor downloads the clinic's outcome report; every
    print is audited, a refused one too."""
    require_dashboard(request.user)
    form = OutcomeFilterForm(request.POST)
    if not form.is_valid():
        audit_record(
            request=request,
            action=Action.PRINT,
            object_type="outcomes",
            outcome=Outcome.FAILED,
            detail={"fields": ",".join(sorted(form.errors))},
        )
        errors = [f"{name}: {' '.join(messages)}" for name, messages in sorted(form.errors.items())]
        return render(request, "interop/clinic_report_error.html", {"errors": errors}, status=400)
    filters = form.filters(request.user.clinic_id)
    context = clinic_report_context(
        request.user.clinic,
        date_from=filters.date_from,
        date_to=filters.date_to,
        modality=filters.modality,
        region=filters.region,
        threshold_kg_cm2=form.threshold_kg_cm2,
        by=form.cleaned_data.get("by") or None,
        prepared_by=request.user,
    )
    pdf = render_clinic_report_pdf(context)
    audit_record(
        request=request,
        action=Action.PRINT,
        object_type="outcomes",
        detail=audit_detail(context, pdf),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = clinic_report_filename(request.user.clinic, context["today"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
