"""Diary pages: the patient's own (entry, progress, export, information), signing in by link,
and the clinic's (alert board, invitation, a patient's diary, diary settings).

Each view: access helper -> form -> workflow in ``services`` -> audit -> render.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from prolotrack.accounts.models import Role
from prolotrack.accounts.ratelimit import sign_in_rate_exceeded
from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record, client_ip
from prolotrack.core.catalog import load_catalog
from prolotrack.core.relief import relief_trend
from prolotrack.core.triage import Level, SideEffect
from prolotrack.diary import patient_info
from prolotrack.diary.access import (
    alerts_for_user,
    get_alert_for_user,
    get_entry_for_patient,
    patient_for_diary,
)
from prolotrack.diary.forms import (
    AcknowledgeForm,
    DiarySettingsForm,
    EntryInvalid,
    SignInRequestForm,
    entry_input_parse,
)
from prolotrack.diary.models import (
    PGIC_CHOICES,
    PSFS_MAX_ACTIVITIES,
    ClinicDiarySettings,
    DiaryEntry,
)
from prolotrack.diary.relief import relief_by_series
from prolotrack.diary.services import alerts as alert_services
from prolotrack.diary.services import signin
from prolotrack.diary.services.entries import (
    diary_entry_add,
    entry_triage,
    last_session_before,
    patient_today,
    patient_zone,
    treated_areas,
)
from prolotrack.diary.services.export import patient_export, patient_export_csv
from prolotrack.diary.services.reminders import reminder_schedule_ensure
from prolotrack.patients.access import get_patient_for_user, require_clinician, require_staff
from prolotrack.patients.models import Patient
from prolotrack.treatment import charts
from prolotrack.treatment.models import Session, TreatmentSeries

View = Callable[..., HttpResponse]

# How often PGIC and PSFS are asked: at the first entry after a session, else weekly (DOMAIN 4.3,
# 4.4; the outcome time points are weeks and months, so a weekly value is plenty).
OUTCOMES_EVERY_DAYS = 7
PAIN_SCALE = list(range(11))


def patient_page(view: View) -> View:
    """The signed-in patient's own pages. Signed out: to the page that sends a sign-in link."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('diary:signin_request')}?{query}")
        patient = patient_for_diary(request.user)
        with timezone.override(patient_zone(patient)):
            return view(request, patient, *args, **kwargs)

    return wrapper


def _region_names() -> dict[str, str]:
    return {code: r.name.lower() for code, r in load_catalog().regions.items()}


# The patient's entry page ---------------------------------------------------------------------


def _asks_outcomes(patient: Patient, today: dt.date, last_session: Session | None) -> bool:
    """PGIC and PSFS: at the first entry after a session, or when a week has passed."""
    last = (
        DiaryEntry.objects.filter(patient=patient, pgic__isnull=False)
        .order_by("-entry_date", "-id")
        .values_list("entry_date", flat=True)
        .first()
    )
    if last is None:
        return True
    if last_session is not None and timezone.localdate(last_session.performed_at) > last:
        return True
    return (today - last).days >= OUTCOMES_EVERY_DAYS


def _psfs_activities(patient: Patient) -> list[str]:
    """The activities the patient named last time, to rate again."""
    psfs = (
        DiaryEntry.objects.filter(patient=patient)
        .exclude(psfs=[])
        .order_by("-entry_date", "-id")
        .values_list("psfs", flat=True)
        .first()
    )
    return [str(item.get("activity", "")) for item in psfs or []][:PSFS_MAX_ACTIVITIES]


def _entry_context(patient: Patient, today: dt.date) -> dict[str, Any]:
    areas = treated_areas(patient, _region_names())
    last_session = last_session_before(patient, today)
    activities = _psfs_activities(patient)
    activities += [""] * (PSFS_MAX_ACTIVITIES - len(activities))
    modalities = sorted(
        set(TreatmentSeries.objects.filter(patient=patient).values_list("modality", flat=True))
    )
    conditions = [(c, patient_info.evidence_for(c.code)) for c in patient.conditions.all()]
    return {
        "patient": patient,
        "areas": areas,
        "pain_scale": PAIN_SCALE,
        "last_session": last_session,
        "asks_outcomes": _asks_outcomes(patient, today, last_session),
        "pgic_choices": PGIC_CHOICES,
        "psfs_rows": [(i, name) for i, name in enumerate(activities)],
        "side_effects": [(s.value, s.label) for s in SideEffect],
        "emergency_codes": [SideEffect.BLADDER_BOWEL.value, SideEffect.SADDLE_NUMBNESS.value],
        "today": today,
        "earliest": today - dt.timedelta(days=14),
        "modalities": modalities,
        "conditions": conditions,
    }


@require_http_methods(["GET", "POST"])
@audit_refusals(object_type="diary_entry")
@patient_page
def today(request: HttpRequest, patient: Patient) -> HttpResponse:
    now = timezone.now()
    day = patient_today(patient, now)
    context = _entry_context(patient, day)
    if request.method == "POST":
        try:
            values = entry_input_parse(request.POST, areas=context["areas"], today=day)
        except EntryInvalid as exc:
            audit_record(
                request=request,
                action=Action.CREATE,
                object_type="diaryentry",
                patient_id=patient.pk,
                clinic_id=patient.clinic_id,
                outcome=Outcome.FAILED,
                detail={"fields": ",".join(e.field for e in exc.errors)[:200]},
            )
            context.update(
                {
                    "errors": exc.errors,
                    "error_fields": {e.field for e in exc.errors},
                    "posted": request.POST,
                    # The same key again: the corrected form is still the same submission.
                    "key": request.POST.get("key", "") or uuid.uuid4().hex,
                }
            )
            return render(request, "diary/today.html", context, status=400)
        result = diary_entry_add(patient=patient, user=request.user, values=values)
        audit_record(
            request=request,
            action=Action.CREATE if result.created else Action.READ,
            target=result.entry,
            detail={"replay": not result.created, "alerts": len(result.alerts)},
        )
        return redirect("diary:entry", entry_id=result.entry.pk)
    audit_record(request=request, action=Action.READ, target=patient)
    context["key"] = uuid.uuid4().hex
    context["posted"] = {}
    return render(request, "diary/today.html", context)


@require_GET
@audit_refusals(object_type="diary_entry", id_kwarg="entry_id")
@patient_page
def entry(request: HttpRequest, patient: Patient, entry_id: int) -> HttpResponse:
    found = get_entry_for_patient(patient, entry_id)
    audit_record(request=request, action=Action.READ, target=found)
    findings = entry_triage(found)
    return render(
        request,
        "diary/entry_done.html",
        {
            "patient": patient,
            "entry": found,
            "findings": findings,
            "emergency": [f for f in findings if f.level is Level.EMERGENCY],
            "others": [f for f in findings if f.level is not Level.EMERGENCY],
        },
    )


# The patient's progress and export ------------------------------------------------------------


def _series_relief(patient: Patient) -> list[dict[str, Any]]:
    names = _region_names()
    series_list = list(
        TreatmentSeries.objects.filter(patient=patient)
        .order_by("started_on", "id")
        .prefetch_related("sessions")
    )
    sessions = {
        s.pk: sorted(s.sessions.all(), key=lambda x: (x.performed_at, x.pk)) for s in series_list
    }
    relief = relief_by_series(patient, sessions, patient_zone(patient))
    blocks = []
    for series in series_list:
        rows = list(zip(sessions[series.pk], relief[series.pk], strict=True))
        blocks.append(
            {
                "series": series,
                "name": (
                    f"{series.get_modality_display()}, {names.get(series.region, series.region)}"
                ),
                "rows": rows,
                "trend": relief_trend(relief[series.pk]),
            }
        )
    return blocks


def _pain_chart(entries: list[DiaryEntry]) -> Any:
    if not entries:
        return None
    return charts.line_chart(
        chart_id="diary-pain",
        title="Your pain, 0 to 10, by diary day",
        x_labels=[e.entry_date.strftime("%m-%d") for e in entries],
        lines=charts.styled_lines([("Pain", [float(e.pain) for e in entries])]),
        y_max=10,
        y_ticks=[0, 2, 4, 6, 8, 10],
        y_label="Pain (0-10)",
        x_label="Day",
        width=360,
        height=240,
    )


@require_GET
@audit_refusals(object_type="patient")
@patient_page
def progress(request: HttpRequest, patient: Patient) -> HttpResponse:
    audit_record(request=request, action=Action.READ, target=patient)
    recent = list(DiaryEntry.objects.filter(patient=patient).order_by("-entry_date", "-id")[:90])
    recent.reverse()
    return render(
        request,
        "diary/progress.html",
        {
            "patient": patient,
            "entries": list(reversed(recent))[:30],
            "chart": _pain_chart(recent),
            "blocks": _series_relief(patient),
        },
    )


@require_GET
@audit_refusals(object_type="patient")
@patient_page
def export(request: HttpRequest, patient: Patient, fmt: str) -> HttpResponse:
    if fmt not in ("json", "csv"):
        raise Http404("No such format.")
    data = patient_export(patient, patient_zone(patient))
    audit_record(
        request=request,
        action=Action.EXPORT,
        target=patient,
        detail={"format": fmt, "entries": len(data["diary"])},
    )
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
        )
    else:
        response = HttpResponse(patient_export_csv(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-prolotrack-data-{stamp}.{fmt}"'
    return response


# Information for patients (no stored health information) ----------------------------------------


@require_GET
def info(request: HttpRequest) -> HttpResponse:
    cite = _citations()
    return render(
        request,
        "diary/info.html",
        {
            "topics": patient_info.TOPICS,
            "evidence": [(e, cite(e.source)) for e in patient_info.EVIDENCE],
            "no_evidence": patient_info.NO_EVIDENCE,
            "regulators": (patient_info.REGULATORS_NOTE, cite(patient_info.REGULATORS_NOTE.source)),
        },
    )


def _citations() -> Callable[[str], str]:
    sources = load_catalog().sources

    def cite(key: str) -> str:
        found = sources.get(key)
        return found.citation if found else key

    return cite


@require_GET
def info_topic(request: HttpRequest, topic: str) -> HttpResponse:
    found = patient_info.TOPICS_BY_SLUG.get(topic)
    if found is None:
        raise Http404("No such page.")
    cite = _citations()
    return render(
        request,
        "diary/info_topic.html",
        {"topic": found, "paragraphs": [(p, cite(p.source)) for p in found.paragraphs]},
    )


# Signing in by link -------------------------------------------------------------------------------

LINK_PROBLEMS = {
    signin.LinkProblem.EXPIRED: "This sign-in link has expired.",
    signin.LinkProblem.USED: "This sign-in link has already been used.",
    signin.LinkProblem.UNKNOWN: "This sign-in link is not valid.",
}


def _link_refused(request: HttpRequest, problem: signin.LinkProblem) -> HttpResponse:
    return render(
        request,
        "diary/signin_refused.html",
        {"message": LINK_PROBLEMS[problem], "form": SignInRequestForm()},
        status=404 if problem is signin.LinkProblem.UNKNOWN else 410,
    )


@require_http_methods(["GET", "POST"])
def signin_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only the POST uses the link (mail scanners that open links in
    advance must not use it up)."""
    now = timezone.now()
    try:
        if request.method == "GET":
            link = signin.sign_in_link_check(token, now)
            return render(request, "diary/signin.html", {"name": link.patient.given_name})
        user = signin.sign_in_link_redeem(token, now)
    except signin.LinkRefused as exc:
        return _link_refused(request, exc.problem)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.set_expiry(settings.PATIENT_SESSION_DAYS * 24 * 60 * 60)
    audit_record(request=request, user=user, action=Action.LOGIN, detail={"method": "link"})
    return redirect("diary:today")


@require_http_methods(["GET", "POST"])
def signin_request(request: HttpRequest) -> HttpResponse:
    # The same per-address limit as the staff sign-in page: asking for links must not become a
    # way to flood patients' mailboxes or to probe many addresses.
    if request.method == "POST" and sign_in_rate_exceeded(client_ip(request)):
        context = {"per_minute": settings.SIGN_IN_RATE_PER_MINUTE}
        response = render(request, "registration/rate_limited.html", context, status=429)
        response["Retry-After"] = "60"
        return response
    form = SignInRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        signin.sign_in_link_request(
            email=form.cleaned_data["email"],
            now=timezone.now(),
            base_url=request.build_absolute_uri("/"),
        )
        # The same answer whether or not the address is known.
        return render(request, "diary/signin_sent.html", {"minutes": settings.SIGN_IN_LINK_MINUTES})
    return render(request, "diary/signin_request.html", {"form": form})


# The clinic's pages ------------------------------------------------------------------------------


def _staff_zone(request: HttpRequest) -> Any:
    from prolotrack.treatment.views import clinic_zone

    return clinic_zone(request.user)


@require_POST
@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
def invite(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.user.role == Role.PATIENT:
        raise Http404("No such page.")
    require_staff(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    back = reverse("treatment:chart", args=[patient.pk]) + "#diary"
    try:
        signin.patient_invite(
            patient=patient,
            by=request.user,
            now=timezone.now(),
            base_url=request.build_absolute_uri("/"),
        )
    except signin.InviteError as exc:
        audit_record(
            request=request,
            action=Action.CREATE,
            object_type="diary_invitation",
            patient_id=patient.pk,
            clinic_id=patient.clinic_id,
            outcome=Outcome.FAILED,
        )
        messages.error(request, f"The invitation was not sent: {exc}")
        return redirect(back)
    audit_record(
        request=request,
        action=Action.CREATE,
        object_type="diary_invitation",
        object_id=patient.pk,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
    )
    messages.success(
        request, f"Invitation sent to {patient.email}: a sign-in link for the pain diary."
    )
    return redirect(back)


@require_GET
@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
def patient_entries(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.user.role == Role.PATIENT:
        raise Http404("No such page.")
    require_clinician(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    audit_record(request=request, action=Action.READ, target=patient, detail={"page": "diary"})
    entries = (
        DiaryEntry.objects.filter(patient=patient)
        .prefetch_related("area_pains", "alerts")
        .order_by("-entry_date", "-id")
    )
    page = Paginator(entries, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    with timezone.override(_staff_zone(request)):
        return render(request, "diary/patient_entries.html", {"patient": patient, "page": page})


@require_GET
@login_required
@audit_refusals(object_type="alert")
def alerts(request: HttpRequest) -> HttpResponse:
    queryset = (
        alerts_for_user(request.user)
        .select_related("patient", "entry", "acknowledged_by")
        .board_order()
    )
    page = Paginator(queryset, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        request=request,
        action=Action.LIST,
        object_type="alert",
        detail={"page": page.number, "shown": len(page.object_list)},
    )
    with timezone.override(_staff_zone(request)):
        return render(
            request,
            "diary/alerts.html",
            {
                "page": page,
                "open_count": alerts_for_user(request.user).open().count(),
                "form": AcknowledgeForm(),
            },
        )


@require_POST
@login_required
@audit_refusals(object_type="alert", id_kwarg="alert_id")
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_alert_for_user(request.user, alert_id)
    form = AcknowledgeForm(request.POST)
    back = reverse("diary:alerts") + f"#alert-{alert.pk}"
    if not form.is_valid():
        audit_record(request=request, action=Action.CHANGE, target=alert, outcome=Outcome.FAILED)
        messages.error(request, "Not acknowledged: write what was done in the note.")
        return redirect(back)
    try:
        alert_services.alert_acknowledge(
            alert=alert, user=request.user, note=form.cleaned_data["note"], now=timezone.now()
        )
    except alert_services.AlertAlreadyAcknowledged:
        audit_record(request=request, action=Action.CHANGE, target=alert, outcome=Outcome.FAILED)
        messages.error(request, "This alert was already acknowledged by a colleague.")
        return redirect(back)
    audit_record(request=request, action=Action.CHANGE, target=alert, detail={"acknowledged": True})
    messages.success(request, f"Alert acknowledged for chart {alert.patient.chart_number}.")
    return redirect(back)


@require_http_methods(["GET", "POST"])
@login_required
def diary_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.PATIENT:
        raise Http404("No such page.")
    if user.role != Role.CLINIC_ADMIN or user.clinic is None:
        raise PermissionDenied("Only the clinic's administrators change diary settings.")
    current = ClinicDiarySettings.for_clinic(user.clinic)
    # A POST is always the form sent, even an empty one: it is refused (400), never shown as
    # the unchanged page.
    posted = request.POST if request.method == "POST" else None
    form = DiarySettingsForm(posted, instance=current)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.clinic = user.clinic
        saved.save()
        reminder_schedule_ensure(clinic=user.clinic)
        messages.success(request, "Diary settings saved.")
        return redirect("diary:settings")
    return render(
        request,
        "diary/settings.html",
        {"form": form, "time_zone": user.clinic.time_zone},
        status=400 if form.errors else 200,
    )
