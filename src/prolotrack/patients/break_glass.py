"""Break-glass: a practitioner's audited, time-limited access to a patient outside their care.

A practitioner of the clinic who opens a clinical page of a patient who is not in their care
(``patients.access``) gets a 403 page asking why they need the record. With a reason, a
``BreakGlassGrant`` opens the record for ``BREAK_GLASS_MINUTES``; the grant's own audit event and
every other event of that practitioner on that patient while it lasts carry ``break_glass``, and
the grant shows on the clinic's review page (``/audit/break-glass/``). Front desk and clinic
administrators never break the glass: they never see clinical notes. Another clinic's patient
stays a 404 (RELIABILITY.md T22, issue 3 item 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from prolotrack.accounts.models import User
from prolotrack.core.charting import FieldError
from prolotrack.patients.access import BreakGlassRequired
from prolotrack.patients.forms import BreakGlassForm
from prolotrack.patients.models import (
    BREAK_GLASS_MINUTES,
    BREAK_GLASS_REASON_MAX,
    BREAK_GLASS_REASON_MIN,
    BreakGlassGrant,
    Patient,
)
from prolotrack.treatment.services import ChartingError


def break_glass_open(
    *, user: User, patient: Patient, reason: str, now: dt.datetime | None = None
) -> BreakGlassGrant:
    """Grant ``user`` access to ``patient``'s record for ``BREAK_GLASS_MINUTES`` from ``now``.

    The caller records the grant's audit event in the same transaction. Raises ChartingError
    naming ``reason`` when it is too short or too long.
    """
    reason = " ".join(reason.split())
    if not BREAK_GLASS_REASON_MIN <= len(reason) <= BREAK_GLASS_REASON_MAX:
        raise ChartingError(
            [
                FieldError(
                    "reason",
                    f"The reason must be {BREAK_GLASS_REASON_MIN}-{BREAK_GLASS_REASON_MAX} "
                    "characters.",
                )
            ]
        )
    start = now or timezone.now()
    # Whole milliseconds, as the audit trail stores times: the grant's own event is then never
    # earlier than the grant, and the review counts it in the grant's window.
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)
    return BreakGlassGrant.objects.create(
        clinic_id=patient.clinic_id,
        user=user,
        patient=patient,
        reason=reason,
        created_at=start,
        expires_at=start + dt.timedelta(minutes=BREAK_GLASS_MINUTES),
    )


def break_glass_page(
    request: HttpRequest, patient_id: int, form: BreakGlassForm | None = None
) -> HttpResponse:
    """The 403 page that asks for a reason; it names no patient and shows nothing of the record.

    After the grant the practitioner returns to the page they asked for, when it was a page
    (a GET); a refused form post sends them to the chart instead.
    """
    if form is None:
        wanted = request.get_full_path() if request.method == "GET" else ""
        form = BreakGlassForm(initial={"next": wanted})
    context = {"patient_id": patient_id, "form": form, "minutes": BREAK_GLASS_MINUTES}
    return render(request, "patients/break_glass.html", context, status=403)


class BreakGlassMiddleware:
    """Answers BreakGlassRequired, raised by the access helpers, with the break-glass page.

    The refusal itself is recorded by the views' ``audit_refusals`` on its way out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BreakGlassRequired):
            return break_glass_page(request, exception.patient_id)
        return None
