"""Charting pages: the patient chart, the session form, the session view and their actions.

Each view: access helper -> form -> workflow in ``services`` -> render. Clinical pages are for
practitioners only: a patient gets 404 (as if the page did not exist), front desk and clinic
admins get 403; a record of another clinic is 404 through the access helpers.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.accounts.models import Role, User
from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.core.catalog import Catalog, Depth, load_catalog
from prolotrack.core.charting import PHASES, FieldError, InjectionInput
from prolotrack.diary.relief import relief_by_series
from prolotrack.patients import services as patient_services
from prolotrack.patients.access import get_patient_for_user, require_clinician, require_staff
from prolotrack.patients.models import Allergy, Condition, Patient, Screening
from prolotrack.treatment import safety, services
from prolotrack.treatment.access import get_series_for_user, get_session_for_user
from prolotrack.treatment.bodymap import crop_to_primary, primary_sites, series_map
from prolotrack.treatment.forms import (
    AdverseEventForm,
    AmendmentForm,
    ConditionForm,
    InjectionRow,
    ReadingRow,
    SeriesForm,
    SessionForm,
    injection_values,
    local_to_utc,
    plain_number,
    site_data,
)
from prolotrack.treatment.models import (
    UNIT_CHOICES,
    AlgometerReading,
    Phase,
    Session,
    SessionAmendment,
    TreatmentSeries,
)
from prolotrack.treatment.plan_input import clinic_limits, session_plan
from prolotrack.treatment.progress import SeriesProgress, adverse_events, series_progress

View = Callable[..., HttpResponse]


def clinic_zone(user: User) -> zoneinfo.ZoneInfo:
    """The zone the user's clinic works in; pages show local times, the database keeps UTC."""
    clinic = getattr(user, "clinic", None)
    try:
        return zoneinfo.ZoneInfo(clinic.time_zone if clinic else "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _refuse_patients(user: User) -> None:
    # A patient is told nothing about clinical pages, not even that they exist.
    if user.role == Role.PATIENT:
        raise Http404("No such page.")


def clinical_page(view: View) -> View:
    """Signed-in practitioners only, with times shown in the clinic's zone."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _refuse_patients(request.user)
        require_clinician(request.user)
        with timezone.override(clinic_zone(request.user)):
            return view(request, *args, **kwargs)

    return login_required(wrapper)


def _apply_errors(form: Form, errors: Sequence[FieldError]) -> None:
    for error in errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


# The patient chart ------------------------------------------------------------------------------


@dataclass
class SeriesBlock:
    series: TreatmentSeries
    region_name: str
    condition_name: str
    sessions: list[Session]
    progress: SeriesProgress

    @property
    def next_due(self) -> Any:
        if not self.sessions or self.series.status != "active":
            return None
        if len(self.sessions) >= self.series.planned_sessions:
            return None
        last = timezone.localdate(self.sessions[-1].performed_at)
        return last + dt.timedelta(days=self.series.planned_interval_days)


def _condition_name(catalog: Catalog, condition: Condition) -> str:
    entry = catalog.conditions.get(condition.code)
    region = catalog.regions.get(condition.region)
    parts = [entry.name if entry else condition.code, region.name if region else condition.region]
    if condition.side:
        parts.append(condition.get_side_display().lower())
    return ", ".join(parts)


@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
def chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    _refuse_patients(request.user)
    require_staff(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    audit_record(request=request, action=Action.READ, target=patient)
    with timezone.override(clinic_zone(request.user)):
        return _render_chart(request, patient)


def _render_chart(
    request: HttpRequest,
    patient: Patient,
    *,
    condition_form: ConditionForm | None = None,
    series_form: SeriesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    allergy_names = dict(Allergy.choices)
    context: dict[str, Any] = {
        "patient": patient,
        "age": patient.age_on(today),
        "clinical": user.is_clinician,
        "allergies": [allergy_names.get(a, a) for a in patient.allergies or []],
    }
    if not user.is_clinician:
        return render(request, "treatment/chart.html", context, status=status)

    context["active"] = safety.active_findings(patient, user=user, now=timezone.now())
    catalog = load_catalog()
    conditions = list(patient.conditions.all())
    condition_names = {c.pk: _condition_name(catalog, c) for c in conditions}
    # One query per table whatever the number of sessions: series, sessions (with their
    # practitioner), injections, readings, adverse events.
    sessions_qs = (
        Session.objects.select_related("practitioner", "signed_by")
        .prefetch_related("injections", "readings", "adverse_events")
        .order_by("performed_at", "id")
    )
    series_list = list(
        TreatmentSeries.objects.filter(patient=patient)
        .select_related("condition")
        .prefetch_related(Prefetch("sessions", queryset=sessions_qs))
    )
    # Relief after each session, from the patient's diary (two queries whatever its length).
    relief = relief_by_series(
        patient, {s.pk: list(s.sessions.all()) for s in series_list}, clinic_zone(user)
    )
    blocks = []
    for series in series_list:
        sessions = list(series.sessions.all())
        region = catalog.regions.get(series.region)
        blocks.append(
            SeriesBlock(
                series=series,
                region_name=region.name if region else series.region,
                condition_name=condition_names.get(series.condition_id or 0, ""),
                sessions=sessions,
                progress=series_progress(series, sessions, catalog, relief.get(series.pk)),
            )
        )
    ae_names = {c.code: c.name for c in catalog.adverse_events.values()}
    context.update(
        {
            "conditions": [(c, condition_names[c.pk]) for c in conditions],
            "blocks": blocks,
            "adverse_events": [
                (session, event, ae_names.get(event.category, event.category))
                for session, event in adverse_events({b.series.pk: b.sessions for b in blocks})
            ],
            "condition_form": condition_form or ConditionForm(catalog=catalog),
            "series_form": series_form
            or SeriesForm(
                catalog=catalog,
                conditions=conditions,
                condition_names=condition_names,
                initial={"started_on": today},
            ),
        }
    )
    return render(request, "treatment/chart.html", context, status=status)


@audit_refusals(object_type="patient", id_kwarg="patient_id")
@clinical_page
@require_POST
def condition_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    form = ConditionForm(request.POST, catalog=load_catalog())
    if form.is_valid():
        try:
            condition = patient_services.condition_add(patient=patient, **form.cleaned_data)
        except services.ChartingError as exc:
            _apply_errors(form, exc.errors)
        else:
            audit_record(request=request, action=Action.CREATE, target=condition)
            messages.success(request, "Condition added.")
            return redirect(reverse("treatment:chart", args=[patient.pk]) + "#conditions")
    # Nothing was stored: a failed create.
    _audit_failed(request, Action.CREATE, "condition", patient.pk)
    return _render_chart(request, patient, condition_form=form)


@audit_refusals(object_type="patient", id_kwarg="patient_id")
@clinical_page
@require_POST
def series_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    catalog = load_catalog()
    conditions = list(patient.conditions.all())
    form = SeriesForm(
        request.POST,
        catalog=catalog,
        conditions=conditions,
        condition_names={c.pk: _condition_name(catalog, c) for c in conditions},
    )
    if form.is_valid():
        try:
            series = services.series_create(patient=patient, **form.cleaned_data)
        except services.ChartingError as exc:
            _apply_errors(form, exc.errors)
        else:
            audit_record(request=request, action=Action.CREATE, target=series, object_type="series")
            messages.success(request, "Treatment series started.")
            return redirect(reverse("treatment:chart", args=[patient.pk]) + f"#series-{series.pk}")
    _audit_failed(request, Action.CREATE, "series", patient.pk)
    return _render_chart(request, patient, series_form=form)


# The session form -------------------------------------------------------------------------------


@audit_refusals(object_type="series", id_kwarg="series_id")
@clinical_page
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, series_id: int) -> HttpResponse:
    series = get_series_for_user(request.user, series_id)
    return _session_form(request, series, None)


@audit_refusals(object_type="session", id_kwarg="session_id")
@clinical_page
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    if session.is_signed:
        attempt = Action.CHANGE if request.method == "POST" else Action.READ
        _audit_failed(request, attempt, "session", session.series.patient_id, session.pk)
        return _refuse_signed(request, session)
    return _session_form(request, session.series, session)


def _refuse_signed(request: HttpRequest, session: Session) -> HttpResponse:
    messages.error(
        request, "This session is signed and cannot be edited. Add an amendment instead."
    )
    return redirect(reverse("treatment:session_detail", args=[session.pk]) + "#amend")


def _previous_session(series: TreatmentSeries, session: Session | None) -> Session | None:
    earlier = Session.objects.filter(series=series).prefetch_related("injections")
    if session is not None:
        earlier = earlier.filter(performed_at__lte=session.performed_at).exclude(pk=session.pk)
    return earlier.order_by("-performed_at", "-id").first()


def _session_form(
    request: HttpRequest, series: TreatmentSeries, session: Session | None
) -> HttpResponse:
    catalog = load_catalog()
    tz = clinic_zone(request.user)
    previous = _previous_session(series, session)
    last_rows = [{**row, "lot": ""} for row in injection_values(previous)] if previous else []
    kwargs: dict[str, Any] = {"catalog": catalog, "modality": series.modality, "tz": tz}
    if request.method == "POST":
        form = SessionForm.from_post(request.POST, **kwargs)
        if form.apply_action(request.POST, last_rows=last_rows):
            # A row added or removed without JavaScript: the form shown again, nothing saved.
            _audit_session_form(request, series, session, Action.READ)
            return _render_session_form(request, series, session, form, last_rows)
        if form.is_valid(require_version=session is not None):
            assert form.cleaned is not None
            # Whoever fixes a draft, the note stays with the practitioner who treated.
            practitioner = session.practitioner if session else request.user
            check = _session_check(
                series,
                session,
                practitioner=practitioner,
                performed_at=form.cleaned.performed_at,
                injections=form.cleaned.injections,
            )
            try:
                override = safety.session_safety_gate(
                    check=check,
                    user=request.user,
                    override_reason=str(request.POST.get("override_reason", "")),
                    acknowledged=str(request.POST.get("acknowledge", "")),
                    now=timezone.now(),
                )
            except safety.SafetyRefused as exc:
                _audit_session_form(request, series, session, Outcome.FAILED)
                return _render_session_form(
                    request, series, session, form, last_rows, check=check, refused=exc.errors
                )
            try:
                # The override and its audit event are stored together or not at all.
                with transaction.atomic():
                    saved = services.session_record(
                        series=series,
                        practitioner=practitioner,
                        session=session,
                        expected_version=form.version if session else None,
                        override=override,
                        **form.cleaned.as_kwargs(),
                    )
                    if override is not None:
                        _audit_override(request, saved, override)
            except services.ChartingError as exc:
                form.add_errors(exc.errors)
            except services.SessionSigned:
                assert session is not None
                _audit_session_form(request, series, session, Outcome.FAILED)
                return _refuse_signed(request, session)
            except services.StaleEdit:
                assert session is not None
                _audit_session_form(request, series, session, Outcome.FAILED)
                return _render_conflict(request, session, form)
            else:
                _audit_session_form(
                    request, series, saved, Action.CHANGE if session else Action.CREATE
                )
                messages.success(request, "Session saved as a draft. Sign it when it is complete.")
                return redirect("treatment:session_detail", saved.pk)
    elif session is not None:
        form = SessionForm.from_session(session, **kwargs)
    else:
        form = SessionForm.blank(
            now=timezone.now(),
            copy_from=previous if request.GET.get("copy") == "last" else None,
            **kwargs,
        )
    # A GET reads the form (the series' data shown); a POST that gets here saved nothing.
    _audit_session_form(
        request, series, session, Outcome.FAILED if request.method == "POST" else Action.READ
    )
    return _render_session_form(request, series, session, form, last_rows)


def _audit_session_form(
    request: HttpRequest,
    series: TreatmentSeries,
    session: Session | None,
    result: Action | Outcome,
) -> None:
    """One event for one use of the session form: `result` is the action (read, or the save's
    create or change), or Outcome.FAILED for a save that stored nothing."""
    if result == Outcome.FAILED:
        action, outcome = (Action.CHANGE if session else Action.CREATE), Outcome.FAILED
    else:
        action, outcome = Action(result), Outcome.OK
    audit_record(
        request=request,
        action=action,
        outcome=outcome,
        target=session or series,
        object_type="session" if session else "series",
        patient_id=series.patient_id,
    )


def _audit_failed(
    request: HttpRequest, action: Action, object_type: str, patient_id: int, object_id: object = ""
) -> None:
    """An attempt that stored nothing (invalid form, refused by the rules, signed already)."""
    audit_record(
        request=request,
        action=action,
        outcome=Outcome.FAILED,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
    )


def _session_check(
    series: TreatmentSeries,
    session: Session | None,
    *,
    practitioner: User,
    performed_at: dt.datetime,
    injections: Sequence[InjectionInput],
    unchecked: Sequence[str] = (),
) -> safety.SessionCheck:
    """The safety findings of a session plan, built from the records by ``plan_input``."""
    plan = session_plan(
        series=series,
        practitioner=practitioner,
        performed_at=performed_at,
        injections=injections,
        session=session,
    )
    return safety.check_session_plan(
        plan,
        limits=clinic_limits(series.clinic),
        screening=Screening.objects.latest_for(series.patient),
        unchecked=unchecked,
    )


def _form_check(
    request: HttpRequest, series: TreatmentSeries, session: Session | None, form: SessionForm
) -> safety.SessionCheck:
    """The findings of the form as it stands, perhaps half typed: rows with a value to
    correct are left out and named."""
    try:
        performed_at = local_to_utc(form.values.get("performed_at", ""), form.tz)
    except ValueError:
        performed_at = session.performed_at if session else timezone.now()
    injections, unchecked = form.checkable_injections()
    return _session_check(
        series,
        session,
        practitioner=session.practitioner if session else request.user,
        performed_at=performed_at,
        injections=injections,
        unchecked=unchecked,
    )


def _safety_context(
    request: HttpRequest,
    session: Session | None,
    check: safety.SessionCheck,
    refused: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the findings panel shows: the findings, the totals, the acknowledgement and, for
    a physician when something blocks, the override reason (kept as typed)."""
    if request.method == "POST":
        reason = str(request.POST.get("override_reason", ""))
        ticked = str(request.POST.get("acknowledge", ""))
    else:
        reason, ticked = (session.override_reason if session else ""), ""
    return {
        "check": check,
        "may_override": safety.may_override(request.user),
        "override_reason": reason,
        "acknowledged": bool(check.warnings) and ticked == check.warnings_key,
        "refused": refused or {},
        "min_override_reason": safety.MIN_OVERRIDE_REASON,
    }


def _audit_override(request: HttpRequest, session: Session, override: safety.Override) -> None:
    # The audit detail takes short texts: the codes go in as many 200-character parts as needed.
    parts: list[str] = []
    for code in override.codes:
        if parts and len(parts[-1]) + 1 + len(code) <= 200:
            parts[-1] += f",{code}"
        else:
            parts.append(code)
    detail: dict[str, object] = {"count": len(override.codes)}
    detail.update({("codes" if i == 0 else f"codes_{i + 1}"): p for i, p in enumerate(parts)})
    audit_record(
        request=request,
        action=Action.OVERRIDE,
        target=session,
        patient_id=session.series.patient_id,
        detail=detail,
    )


def _render_session_form(
    request: HttpRequest,
    series: TreatmentSeries,
    session: Session | None,
    form: SessionForm,
    last_rows: list[dict[str, str]],
    *,
    check: safety.SessionCheck | None = None,
    refused: dict[str, str] | None = None,
) -> HttpResponse:
    catalog = load_catalog()
    check = check or _form_check(request, series, session, form)
    bodymap = crop_to_primary(
        series_map(catalog, region=series.region, modality=series.modality, injected=form.injected)
    )
    primary = primary_sites(catalog, series.region, series.modality)
    primary_codes = {s.code for s in primary}
    others: dict[str, list[tuple[str, str]]] = {}
    for site in sorted(catalog.sites.values(), key=lambda s: s.name):
        if site.code not in primary_codes:
            region = catalog.regions.get(site.region)
            others.setdefault(region.name if region else site.region, []).append(
                (site.code, site.name)
            )
    region = catalog.regions.get(series.region)
    template_row = InjectionRow(
        index="__i__", values={"side": "", "depth": Depth.SUBCUTANEOUS.value}
    )
    template_row.side_choices = [("left", "Left"), ("right", "Right"), ("midline", "Midline")]
    return render(
        request,
        "treatment/session_form.html",
        {
            "series": series,
            "patient": series.patient,
            "session": session,
            "region_name": region.name if region else series.region,
            "form": form,
            "bodymap": bodymap,
            "site_data": site_data(catalog, series.modality),
            "primary_sites": sorted(((s.code, s.name) for s in primary), key=lambda s: s[1]),
            "other_sites": sorted(others.items()),
            "last_rows": last_rows,
            "template_row": template_row,
            "template_reading": ReadingRow(
                index="__i__", site="", side="", site_name="", values={}
            ),
            "phases": PHASES,
            "findings_url": (
                reverse("treatment:session_findings", args=[session.pk])
                if session
                else reverse("treatment:series_findings", args=[series.pk])
            ),
            **_safety_context(request, session, check, refused),
        },
    )


# Live findings (the session form's panel, refreshed as rows change) ----------------------------


@audit_refusals(object_type="series", id_kwarg="series_id")
@clinical_page
@require_POST
def series_findings(request: HttpRequest, series_id: int) -> HttpResponse:
    series = get_series_for_user(request.user, series_id)
    _audit_session_form(request, series, None, Action.READ)
    return _findings_panel(request, series, None)


@audit_refusals(object_type="session", id_kwarg="session_id")
@clinical_page
@require_POST
def session_findings(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    if session.is_signed:
        return HttpResponse(
            "This session is signed and cannot be edited; add an amendment instead.",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    _audit_session_form(request, session.series, session, Action.READ)
    return _findings_panel(request, session.series, session)


def _findings_panel(
    request: HttpRequest, series: TreatmentSeries, session: Session | None
) -> HttpResponse:
    """The findings panel for the posted form, as the session form would show it."""
    form = SessionForm.from_post(
        request.POST, catalog=load_catalog(), modality=series.modality, tz=clinic_zone(request.user)
    )
    check = _form_check(request, series, session, form)
    context = {"patient": series.patient, "session": session}
    context.update(_safety_context(request, session, check))
    return render(request, "treatment/_findings_panel.html", context)


def _render_conflict(request: HttpRequest, session: Session, form: SessionForm) -> HttpResponse:
    """Someone saved the session since this form was opened: show theirs, keep nothing of ours."""
    current = get_session_for_user(request.user, session.pk)
    context = _detail_context(current)
    context.update({"attempt": form, "conflict": True})
    return render(request, "treatment/session_conflict.html", context, status=409)


# The session view and its actions ---------------------------------------------------------------


@dataclass(frozen=True)
class InjectionLine:
    name: str
    side: str
    depth: str
    dextrose_pct: Decimal
    lidocaine_pct: Decimal
    mannitol_pct: Decimal
    epinephrine: bool
    volume_ml: Decimal
    needle_gauge: int
    lot: str

    @property
    def solution(self) -> str:
        """The mix in words: "15% dextrose, 0.2% lidocaine"; zero parts are left out."""
        parts = [f"{plain_number(self.dextrose_pct)}% dextrose"]
        if self.lidocaine_pct:
            parts.append(f"{plain_number(self.lidocaine_pct)}% lidocaine")
        if self.mannitol_pct:
            parts.append(f"{plain_number(self.mannitol_pct)}% mannitol")
        if self.epinephrine:
            parts.append("with epinephrine")
        return ", ".join(parts)

    @property
    def volume(self) -> str:
        return plain_number(self.volume_ml)


@dataclass(frozen=True)
class ReadingLine:
    name: str
    side: str
    phase: str
    phase_code: str
    value: Decimal
    unit: str
    kg_cm2: float

    @property
    def value_text(self) -> str:
        return plain_number(self.value)


def _detail_context(session: Session) -> dict[str, Any]:
    catalog = load_catalog()
    series = session.series
    injections = list(session.injections.all())
    readings: list[AlgometerReading] = list(session.readings.all())
    depth_labels = {d.value: d.label for d in Depth}
    unit_labels = dict(UNIT_CHOICES)
    phase_order = {p: i for i, p in enumerate(PHASES)}

    def name(code: str) -> str:
        site = catalog.sites.get(code)
        return site.name if site else code

    lines = [
        InjectionLine(
            name=name(i.site),
            side=i.side,
            depth=depth_labels.get(i.depth, i.depth),
            dextrose_pct=i.dextrose_pct,
            lidocaine_pct=i.lidocaine_pct,
            mannitol_pct=i.mannitol_pct,
            epinephrine=i.epinephrine,
            volume_ml=i.volume_ml,
            needle_gauge=i.needle_gauge,
            lot=i.lot,
        )
        for i in injections
    ]
    reading_lines = sorted(
        (
            ReadingLine(
                name=name(r.site),
                side=r.side,
                phase=Phase(r.phase).label,
                phase_code=r.phase,
                value=r.value,
                unit=unit_labels.get(r.unit, r.unit),
                kg_cm2=r.kg_cm2,
            )
            for r in readings
        ),
        key=lambda line: (line.name, line.side, phase_order.get(line.phase_code, 9)),
    )
    ae_names = {c.code: c.name for c in catalog.adverse_events.values()}
    region = catalog.regions.get(series.region)
    return {
        "session": session,
        "series": series,
        "patient": series.patient,
        "region_name": region.name if region else series.region,
        "injections": lines,
        "total_volume_ml": plain_number(sum((i.volume_ml for i in injections), Decimal("0"))),
        "readings": reading_lines,
        "adverse_events": [
            (event, ae_names.get(event.category, event.category))
            for event in session.adverse_events.all()
        ],
        "amendments": list(
            SessionAmendment.objects.filter(session=session).select_related("author")
        ),
        "bodymap": series_map(
            catalog,
            region=series.region,
            modality=series.modality,
            injected={(i.site, i.side) for i in injections},
            interactive=False,
            injected_only=True,
        ),
    }


def _render_detail(
    request: HttpRequest,
    session: Session,
    *,
    ae_form: AdverseEventForm | None = None,
    amend_form: AmendmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _detail_context(session)
    context["ae_form"] = ae_form or AdverseEventForm(
        catalog=load_catalog(), initial={"onset": timezone.localdate(session.performed_at)}
    )
    context["amend_form"] = amend_form or AmendmentForm()
    return render(request, "treatment/session_detail.html", context, status=status)


@audit_refusals(object_type="session", id_kwarg="session_id")
@clinical_page
@require_http_methods(["GET"])
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    _audit_session_form(request, session.series, session, Action.READ)
    return _render_detail(request, session)


@audit_refusals(object_type="session", id_kwarg="session_id")
@clinical_page
@require_POST
def session_sign(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    try:
        services.session_sign(session=session, user=request.user)
    except services.SessionSigned:
        _audit_failed(request, Action.SIGN, "session", session.series.patient_id, session.pk)
        messages.info(request, "This session was already signed.")
    except services.ChartingError as exc:
        _audit_failed(request, Action.SIGN, "session", session.series.patient_id, session.pk)
        messages.error(request, " ".join(e.message for e in exc.errors))
    else:
        _audit_session_form(request, session.series, session, Action.SIGN)
        messages.success(request, "Session signed. From now on it can only be amended.")
    return redirect("treatment:session_detail", session.pk)


@audit_refusals(object_type="session", id_kwarg="session_id")
@clinical_page
@require_POST
def session_amend(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    form = AmendmentForm(request.POST)
    if form.is_valid():
        try:
            services.session_amend(
                session=session, author=request.user, text=form.cleaned_data["text"]
            )
        except services.ChartingError as exc:
            _apply_errors(form, exc.errors)
        else:
            _audit_session_form(request, session.series, session, Action.AMEND)
            messages.success(request, "Amendment added.")
            return redirect(reverse("treatment:session_detail", args=[session.pk]) + "#amendments")
    _audit_failed(request, Action.AMEND, "session", session.series.patient_id, session.pk)
    return _render_detail(request, session, amend_form=form)


@audit_refusals(object_type="session", id_kwarg="session_id")
@clinical_page
@require_POST
def adverse_event_add(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    form = AdverseEventForm(request.POST, catalog=load_catalog())
    if form.is_valid():
        try:
            event = services.adverse_event_add(
                session=session, today=timezone.localdate(), **form.cleaned_data
            )
        except services.ChartingError as exc:
            _apply_errors(form, exc.errors)
        else:
            audit_record(
                request=request,
                action=Action.CREATE,
                target=event,
                object_type="adverse_event",
                patient_id=session.series.patient_id,
            )
            messages.success(request, "Adverse event recorded.")
            return redirect(
                reverse("treatment:session_detail", args=[session.pk]) + "#adverse-events"
            )
    _audit_failed(request, Action.CREATE, "adverse_event", session.series.patient_id)
    return _render_detail(request, session, ae_form=form)
