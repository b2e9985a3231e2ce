"""The break-glass form's answer: a reason opens a patient's record for a limited time."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.patients.access import get_patient_for_break_glass, has_clinical_access
from prolotrack.patients.break_glass import break_glass_open, break_glass_page
from prolotrack.patients.forms import BreakGlassForm
from prolotrack.treatment.services import ChartingError


@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
@require_POST
def break_glass(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_break_glass(request.user, patient_id)
    form = BreakGlassForm(request.POST)
    chart_url = reverse("treatment:chart", args=[patient.pk])
    wanted = _next_url(request, str(request.POST.get("next", ""))) or chart_url
    if has_clinical_access(request.user, patient):
        # In care already, or a grant still runs: nothing to open, and no new grant to review.
        audit_record(
            request=request,
            action=Action.BREAK_GLASS,
            outcome=Outcome.FAILED,
            object_type="patient",
            object_id=patient.pk,
            patient_id=patient.pk,
            clinic_id=patient.clinic_id,
            detail={"refused": "access_already_open"},
        )
        return redirect(wanted)
    if form.is_valid():
        try:
            # The grant and its audit event are stored together or not at all.
            with transaction.atomic():
                grant = break_glass_open(
                    user=request.user, patient=patient, reason=form.cleaned_data["reason"]
                )
                audit_record(
                    request=request,
                    action=Action.BREAK_GLASS,
                    target=grant,
                    object_type="break_glass_grant",
                    break_glass=True,
                    detail={
                        "reason": grant.reason,
                        "expires_at": grant.expires_at.isoformat(),
                    },
                )
        except ChartingError as exc:
            for error in exc.errors:
                form.add_error("reason", error.message)
        else:
            ends = grant.expires_at.astimezone(zoneinfo.ZoneInfo(patient.clinic.time_zone))
            messages.warning(
                request,
                "Break-glass access recorded; the clinic reviews it. Your access to this "
                f"patient's record ends at {ends:%H:%M}.",
            )
            return redirect(wanted)
    # No reason, or too short: still refused, and the attempt is on record.
    audit_record(
        request=request,
        action=Action.BREAK_GLASS,
        outcome=Outcome.REFUSED,
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        detail={"refused": "no_reason"},
    )
    return break_glass_page(request, patient.pk, form)


def _next_url(request: HttpRequest, url: str) -> str:
    """Only a path of this site: the form's hidden field comes back from the browser."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""
