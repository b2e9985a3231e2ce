"""The audit page and its CSV export, for a clinic's administrators and auditors."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from prolotrack.audit.access import audit_events_for_user
from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.forms import AuditFilterForm, BreakGlassReviewForm
from prolotrack.audit.models import Action, AuditEvent, AuditEventQuerySet
from prolotrack.audit.services import audit_record
from prolotrack.patients.models import BreakGlassGrant

CSV_COLUMNS = [
    "id",
    "at_utc",
    "user_id",
    "username",
    "role",
    "clinic_id",
    "patient_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "break_glass",
    "source_ip",
    "user_agent",
    "detail",
    "prev_hash",
    "hash",
]

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); user
# agents and attempted usernames come from whoever sent the request.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _filter_form(request: HttpRequest) -> tuple[AuditFilterForm, HttpResponse | None]:
    """The filters of the list and the export; invalid ones answer 400 with the form's errors."""
    clinic = request.user.clinic
    form = AuditFilterForm(request.GET, clinic_id=clinic.pk)
    if form.is_valid():
        return form, None
    context = {"form": form, "page": None, "time_zone": clinic.time_zone}
    return form, render(request, "audit/list.html", context, status=400)


@require_GET
@login_required
@audit_refusals(object_type="audit_event")
def audit_list(request: HttpRequest) -> HttpResponse:
    form, refusal = _filter_form(request)
    if refusal:
        return refusal
    clinic = request.user.clinic
    events = form.filter(audit_events_for_user(request.user), clinic.time_zone).newest_first()
    page = Paginator(events, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "time_zone": clinic.time_zone}
    return render(request, "audit/list.html", context)


@require_GET
@login_required
@audit_refusals(object_type="audit_event")
def audit_export(request: HttpRequest) -> HttpResponse:
    form, refusal = _filter_form(request)
    if refusal:
        return refusal
    clinic = request.user.clinic
    events = audit_events_for_user(request.user)
    # Recorded first, so the export lists itself when the filters match it. The patient id
    # filter goes into the detail only: any number may be typed there.
    audit_record(
        request=request, action=Action.EXPORT, object_type="audit_event", detail=form.summary()
    )
    rows = _csv_rows(form.filter(events, clinic.time_zone).order_by("id"))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    filename = f"audit-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
@audit_refusals(object_type="break_glass_grant")
def break_glass_review(request: HttpRequest) -> HttpResponse:
    """The clinic's break-glass accesses of the period, newest first, for their review."""
    audit_events_for_user(request.user)  # admins and auditors only: 403 for anyone else
    clinic = request.user.clinic
    form = BreakGlassReviewForm(request.GET)
    if request.GET and not form.is_valid():
        context = {"form": form, "grants": None, "time_zone": clinic.time_zone}
        return render(request, "audit/break_glass.html", context, status=400)
    days = form.period_days()
    now = timezone.now()
    grants = _grants_under_review(clinic.pk, since=now - dt.timedelta(days=days))
    audit_record(
        request=request,
        action=Action.LIST,
        object_type="break_glass_grant",
        detail={"days": days, "count": len(grants)},
    )
    context = {
        "form": form,
        "grants": grants,
        "days": days,
        "now": now,
        "time_zone": clinic.time_zone,
    }
    return render(request, "audit/break_glass.html", context)


def _grants_under_review(clinic_id: int, *, since: dt.datetime) -> list[BreakGlassGrant]:
    """The clinic's grants since ``since``, each with ``events``: what was done under it.

    An event is under a grant when it is that user's, on that patient, flagged break-glass,
    and written while the grant ran; the grant's own event is not counted.
    """
    under = (
        AuditEvent.objects.filter(
            clinic_id=OuterRef("clinic_id"),
            patient_id=OuterRef("patient_id"),
            user_id=OuterRef("user_id"),
            break_glass=True,
            at__gte=OuterRef("created_at"),
            at__lt=OuterRef("expires_at"),
        )
        .exclude(action=Action.BREAK_GLASS)
        .order_by()
        .values("clinic_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(
        BreakGlassGrant.objects.filter(clinic_id=clinic_id, created_at__gte=since)
        .select_related("user", "patient")
        .annotate(events=Coalesce(Subquery(under), Value(0)))
        .order_by("-created_at", "-id")
    )


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_rows(events: AuditEventQuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    event: AuditEvent
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.id,
                event.at.isoformat(),
                event.user_id,
                _cell(event.username),
                event.role,
                event.clinic_id,
                event.patient_id,
                event.action,
                _cell(event.object_type),
                _cell(event.object_id),
                event.outcome,
                event.break_glass,
                event.source_ip,
                _cell(event.user_agent),
                _cell(json.dumps(event.detail, sort_keys=True)),
                event.prev_hash,
                event.hash,
            ]
        )
