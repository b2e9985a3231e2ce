"""Series, sessions with their injections and readings, amendments and adverse events.

Clinical records, for practitioners with the patient in their care, as on the pages (front
desk, clinic administrators, auditors and patients are refused with 403). A session is charted
as the session form charts it: the boundary checks of ``core.charting``, then the safety
rules; what blocks needs a physician's ``override_reason``, cautions need ``acknowledge`` set
to the ``warnings_key`` that the findings operation gives for the same content.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from prolotrack.api.access import audit_api, clinical_patient, clinical_series, clinical_session
from prolotrack.api.errors import ApiError, invalid, responses
from prolotrack.api.schemas import FindingOut, TotalsOut, via
from prolotrack.api.types import Bool, Date, DateTime, Line, Number, Text, Whole
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.core.catalog import Depth, Modality, Side
from prolotrack.core.charting import (
    PHASES,
    InjectionInput,
    ReadingInput,
    Solution,
    check_session,
)
from prolotrack.core.units import PressureUnit
from prolotrack.patients.models import Screening
from prolotrack.treatment import safety, services
from prolotrack.treatment.models import (
    AdverseEvent,
    Session,
    SessionAmendment,
    TreatmentSeries,
)
from prolotrack.treatment.plan_input import clinic_limits, session_plan

router = Router(tags=["treatment"])

ModalityCode = Literal["neural", "classic"]
SideCode = Literal["left", "right", "midline"]
DepthCode = Literal["subcutaneous", "deep", "intra_articular"]
PhaseCode = Literal["baseline", "1min", "15min"]
UnitCode = Literal["kg/cm2", "N/cm2", "kPa"]
assert set(ModalityCode.__args__) == {m.value for m in Modality}  # type: ignore[attr-defined]
assert set(SideCode.__args__) == {s.value for s in Side}  # type: ignore[attr-defined]
assert set(DepthCode.__args__) == {d.value for d in Depth}  # type: ignore[attr-defined]
assert set(PhaseCode.__args__) == set(PHASES)  # type: ignore[attr-defined]
assert set(UnitCode.__args__) == {u.value for u in PressureUnit}  # type: ignore[attr-defined]

Code = Line(64, 1)
Pain = Whole(0, 10)
Lot = Line(64)
SessionNotes = Text(20000)
AmendmentText = Text(20000)
ShortNotes = Text(5000)
Reason = Text(2000)
WarningsKey = Line(64)
VolumeMl = Number(ge=0, gt=0, le=20, places=2)
DextrosePct = Number(ge=0, le=50, places=1)
LidocainePct = Number(ge=0, le=2, places=2)
MannitolPct = Number(ge=0, le=20, places=1)
ReadingValue = Number(ge=0, le=99999, places=2)
NeedleGauge = Whole(18, 33)
PlannedSessions = Whole(1, 30)
IntervalDays = Whole(1, 180)
ConditionId = Whole(1, 2**53)


# Output ------------------------------------------------------------------------------------------


class SeriesOut(Schema):
    id: int
    patient_id: int
    condition_id: int | None
    modality: ModalityCode
    region: str
    planned_sessions: int
    planned_interval_days: int
    status: str
    started_on: dt.date
    created_at: dt.datetime


class InjectionOut(Schema):
    position: int
    site: str
    side: str
    depth: str
    dextrose_pct: float
    lidocaine_pct: float
    mannitol_pct: float
    epinephrine: bool
    volume_ml: float
    needle_gauge: int
    lot: str


class ReadingOut(Schema):
    site: str
    side: str
    phase: str
    value: float = Field(description="As entered, in ``unit``.")
    unit: str
    value_kpa: float


class AmendmentOut(Schema):
    id: int
    author_id: int
    text: str
    created_at: dt.datetime


class AdverseEventOut(Schema):
    id: int
    session_id: int
    category: str
    serious: bool
    onset: dt.date
    resolved_on: dt.date | None
    notes: str
    created_at: dt.datetime


class SessionOut(Schema):
    id: int
    series_id: int
    patient_id: int
    performed_at: dt.datetime
    practitioner_id: int
    pain_before: int | None
    pain_after: int | None
    pgic: int | None
    notes: str
    signed_at: dt.datetime | None
    signed_by_id: int | None
    version: int
    override_reason: str
    override_codes: list[str]
    injections: list[InjectionOut]
    readings: list[ReadingOut]
    amendments: list[AmendmentOut]


class SessionFindingsOut(Schema):
    findings: list[FindingOut]
    totals: TotalsOut
    blocked: bool = Field(description="Saving needs a physician's override_reason.")
    warnings_key: str = Field(
        description="Send it as ``acknowledge`` to confirm that the cautions were read; "
        "empty when there are none."
    )


# Input -------------------------------------------------------------------------------------------


class SeriesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    modality: ModalityCode
    region: Code
    planned_sessions: PlannedSessions
    planned_interval_days: IntervalDays
    started_on: Date
    condition_id: ConditionId | None = None


class InjectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site: Code
    side: SideCode
    depth: DepthCode
    volume_ml: VolumeMl
    needle_gauge: NeedleGauge
    dextrose_pct: DextrosePct = 5
    lidocaine_pct: LidocainePct = 0
    mannitol_pct: MannitolPct = 0
    epinephrine: Bool = False
    lot: Lot = ""


class ReadingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site: Code
    side: SideCode
    phase: PhaseCode
    value: ReadingValue
    unit: UnitCode


class SessionPlanIn(Schema):
    """What the findings operation checks: the session's time and injections."""

    model_config = ConfigDict(extra="forbid")

    performed_at: DateTime = Field(description="With its offset, e.g. 2026-11-05T10:30:00-08:00")
    injections: list[InjectionIn] = Field(default_factory=list, max_length=100)


class SessionIn(SessionPlanIn):
    pain_before: Pain | None = None
    pain_after: Pain | None = None
    notes: SessionNotes = ""
    readings: list[ReadingIn] = Field(default_factory=list, max_length=300)
    override_reason: Reason = Field(
        "", description="A physician's reason for going ahead despite findings that block."
    )
    acknowledge: WarningsKey = Field(
        "", description="The warnings_key of the findings operation for this content."
    )


class AmendmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: AmendmentText


class AdverseEventIn(Schema):
    model_config = ConfigDict(extra="forbid")

    category: Code
    serious: Bool = False
    onset: Date
    resolved_on: Date | None = None
    notes: ShortNotes = ""


# Helpers -----------------------------------------------------------------------------------------


def _sessions() -> QuerySet[Session]:
    return (
        Session.objects.select_related("series")
        .prefetch_related(
            "injections",
            "readings",
            Prefetch("amendments", queryset=SessionAmendment.objects.order_by("created_at", "id")),
        )
        .order_by("performed_at", "id")
    )


def session_out(session: Session) -> dict[str, Any]:
    return {
        "id": session.pk,
        "series_id": session.series_id,
        "patient_id": session.series.patient_id,
        "performed_at": session.performed_at,
        "practitioner_id": session.practitioner_id,
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        "pgic": session.pgic,
        "notes": session.notes,
        "signed_at": session.signed_at,
        "signed_by_id": session.signed_by_id,
        "version": session.version,
        "override_reason": session.override_reason,
        "override_codes": list(session.override_codes or []),
        "injections": list(session.injections.all()),
        "readings": list(session.readings.all()),
        "amendments": list(session.amendments.all()),
    }


def _injections(items: list[InjectionIn]) -> list[InjectionInput]:
    return [
        InjectionInput(
            site=i.site,
            side=i.side,
            depth=i.depth,
            volume_ml=i.volume_ml,
            needle_gauge=i.needle_gauge,
            solution=Solution(
                dextrose_pct=i.dextrose_pct,
                lidocaine_pct=i.lidocaine_pct,
                mannitol_pct=i.mannitol_pct,
                epinephrine=i.epinephrine,
            ),
            lot=i.lot.strip(),
        )
        for i in items
    ]


def _readings(items: list[ReadingIn]) -> list[ReadingInput]:
    return [
        ReadingInput(site=r.site, side=r.side, phase=r.phase, value=r.value, unit=r.unit)
        for r in items
    ]


def _check_time(performed_at: dt.datetime) -> None:
    """The session form's rules for the time: with its offset, and not in the future."""
    if timezone.is_naive(performed_at):
        raise ApiError(
            422, "invalid", "The time must include its offset (for example -08:00).", "performed_at"
        )
    # An hour of slack for a clock that runs a little fast, as on the page.
    if performed_at > timezone.now() + dt.timedelta(hours=1):
        raise ApiError(422, "invalid", "The session cannot be in the future.", "performed_at")


def _session_check(
    series: TreatmentSeries, user: Any, performed_at: dt.datetime, injections: list[InjectionInput]
) -> safety.SessionCheck:
    """The findings of the plan, exactly as the session form computes them."""
    plan = session_plan(
        series=series, practitioner=user, performed_at=performed_at, injections=injections
    )
    return safety.check_session_plan(
        plan,
        limits=clinic_limits(series.clinic),
        screening=Screening.objects.latest_for(series.patient),
    )


def _findings_out(check: safety.SessionCheck) -> dict[str, Any]:
    totals = check.result.totals
    return {
        "findings": [
            {
                "code": f.code,
                "kind": f.finding.kind.value,
                "severity": f.severity,
                "message": f.message,
                "source": f.source,
            }
            for f in check.findings
        ],
        "totals": {
            "lidocaine_mg": totals.lidocaine_mg,
            "dextrose_g": totals.dextrose_g,
            "volume_ml": totals.volume_ml,
        },
        "blocked": check.blocked,
        "warnings_key": check.warnings_key,
    }


# Series ------------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/series",
    response=responses({200: list[SeriesOut]}, 401, 403, 404, 422),
    summary="List a patient's treatment series",
)
def series_list(request: HttpRequest, patient_id: int) -> list[TreatmentSeries]:
    patient = clinical_patient(request, patient_id)
    rows = list(TreatmentSeries.objects.filter(patient=patient))
    audit_api(request, Action.LIST, patient_id=patient.pk, object_type="series")
    return rows


@router.post(
    "/patients/{patient_id}/series",
    response=responses({201: SeriesOut}, 400, 401, 403, 404, 422),
    summary="Start a treatment series",
)
def series_create(
    request: HttpRequest, patient_id: int, payload: SeriesIn
) -> Status[TreatmentSeries]:
    patient = clinical_patient(request, patient_id)
    data = payload.model_dump()
    condition = None
    if data.pop("condition_id") is not None:
        condition = patient.conditions.filter(pk=payload.condition_id).first()
        if condition is None:
            audit_api(
                request,
                Action.CREATE,
                patient_id=patient.pk,
                object_type="series",
                outcome=Outcome.FAILED,
            )
            raise ApiError(422, "invalid", "The patient has no such condition.", "condition_id")
    try:
        series = services.series_create(patient=patient, condition=condition, **data)
    except services.ChartingError as exc:
        audit_api(
            request,
            Action.CREATE,
            patient_id=patient.pk,
            object_type="series",
            outcome=Outcome.FAILED,
        )
        raise invalid(exc.errors) from None
    audit_api(request, Action.CREATE, patient_id=patient.pk, target=series, object_type="series")
    return Status(201, series)


@router.get(
    "/series/{series_id}",
    response=responses({200: SeriesOut}, 401, 403, 404, 422),
    summary="Read a treatment series",
)
def series_detail(request: HttpRequest, series_id: int) -> TreatmentSeries:
    series = clinical_series(request, series_id)
    audit_api(
        request, Action.READ, patient_id=series.patient_id, target=series, object_type="series"
    )
    return series


# Sessions ----------------------------------------------------------------------------------------


@router.get(
    "/series/{series_id}/sessions",
    response=responses({200: list[SessionOut]}, 401, 403, 404, 422),
    summary="List a series' sessions, with their injections and readings",
)
def session_list_for_series(request: HttpRequest, series_id: int) -> list[dict[str, Any]]:
    series = clinical_series(request, series_id)
    rows = [session_out(s) for s in _sessions().filter(series=series)]
    audit_api(request, Action.LIST, patient_id=series.patient_id, object_type="session")
    return rows


@router.get(
    "/patients/{patient_id}/sessions",
    response=responses({200: list[SessionOut]}, 401, 403, 404, 422),
    summary="List a patient's sessions, with their injections and readings",
)
def session_list_for_patient(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    patient = clinical_patient(request, patient_id)
    rows = [session_out(s) for s in _sessions().filter(series__patient=patient)]
    audit_api(request, Action.LIST, patient_id=patient.pk, object_type="session")
    return rows


@router.post(
    "/series/{series_id}/sessions/findings",
    response=responses({200: SessionFindingsOut}, 400, 401, 403, 404, 422),
    summary="The safety findings of a session before it is saved",
)
def session_findings(
    request: HttpRequest, series_id: int, payload: SessionPlanIn
) -> dict[str, Any]:
    """What the session form's findings panel shows for this time and these injections: the
    findings, the totals, whether saving needs an override, and the key that acknowledges the
    cautions. Stores nothing."""
    series = clinical_series(request, series_id)
    _check_time(payload.performed_at)
    injections = _injections(payload.injections)
    errors = check_session(pain_before=None, pain_after=None, injections=injections, readings=[])
    if errors:
        raise invalid(errors)
    check = _session_check(series, request.user, payload.performed_at, injections)
    audit_api(
        request, Action.READ, patient_id=series.patient_id, target=series, object_type="series"
    )
    return _findings_out(check)


@router.post(
    "/series/{series_id}/sessions",
    response=responses({201: SessionOut}, 400, 401, 403, 404, 422),
    summary="Chart a session (a draft until signed)",
)
def session_create(request: HttpRequest, series_id: int, payload: SessionIn) -> Status[Any]:
    series = clinical_series(request, series_id)

    def failed() -> None:
        audit_api(
            request,
            Action.CREATE,
            patient_id=series.patient_id,
            target=series,
            object_type="series",
            outcome=Outcome.FAILED,
        )

    injections, readings = _injections(payload.injections), _readings(payload.readings)
    try:
        _check_time(payload.performed_at)
    except ApiError:
        failed()
        raise
    errors = check_session(
        pain_before=payload.pain_before,
        pain_after=payload.pain_after,
        injections=injections,
        readings=readings,
    )
    if errors:
        failed()
        raise invalid(errors)
    check = _session_check(series, request.user, payload.performed_at, injections)
    try:
        override = safety.session_safety_gate(
            check=check,
            user=request.user,
            override_reason=payload.override_reason,
            acknowledged=payload.acknowledge,
            now=timezone.now(),
        )
    except safety.SafetyRefused as exc:
        failed()
        field, message = next(iter(exc.errors.items()))
        raise ApiError(422, "safety_refused", message, field) from None
    try:
        with transaction.atomic():
            session = services.session_record(
                series=series,
                practitioner=request.user,
                performed_at=payload.performed_at,
                pain_before=payload.pain_before,
                pain_after=payload.pain_after,
                notes=payload.notes.strip(),
                injections=injections,
                readings=readings,
                override=override,
            )
            if override is not None:
                audit_record(
                    request=request,
                    action=Action.OVERRIDE,
                    target=session,
                    patient_id=series.patient_id,
                    detail={**via(request), "count": len(override.codes)},
                )
    except services.ChartingError as exc:
        failed()
        raise invalid(exc.errors) from None
    audit_api(
        request, Action.CREATE, patient_id=series.patient_id, target=session, object_type="session"
    )
    return Status(201, session_out(_sessions().get(pk=session.pk)))


@router.get(
    "/sessions/{session_id}",
    response=responses({200: SessionOut}, 401, 403, 404, 422),
    summary="Read a session with its injections, readings and amendments",
)
def session_detail(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = clinical_session(request, session_id)
    audit_api(
        request,
        Action.READ,
        patient_id=session.series.patient_id,
        target=session,
        object_type="session",
    )
    return session_out(_sessions().get(pk=session.pk))


@router.post(
    "/sessions/{session_id}/sign",
    response=responses({200: SessionOut}, 401, 403, 404, 409, 422),
    summary="Sign a session: from then on it is only amended",
)
def session_sign(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = clinical_session(request, session_id)
    patient_id = session.series.patient_id
    try:
        services.session_sign(session=session, user=request.user)
    except services.SessionSigned:
        audit_api(
            request,
            Action.SIGN,
            patient_id=patient_id,
            target=session,
            object_type="session",
            outcome=Outcome.FAILED,
        )
        raise ApiError(409, "signed", "This session is already signed.") from None
    audit_api(request, Action.SIGN, patient_id=patient_id, target=session, object_type="session")
    return session_out(_sessions().get(pk=session.pk))


@router.post(
    "/sessions/{session_id}/amendments",
    response=responses({201: AmendmentOut}, 400, 401, 403, 404, 409, 422),
    summary="Amend a signed session",
)
def session_amend(
    request: HttpRequest, session_id: int, payload: AmendmentIn
) -> Status[SessionAmendment]:
    session = clinical_session(request, session_id)
    patient_id = session.series.patient_id
    if not session.is_signed:
        audit_api(
            request,
            Action.AMEND,
            patient_id=patient_id,
            target=session,
            object_type="session",
            outcome=Outcome.FAILED,
        )
        raise ApiError(409, "not_signed", "Edit the session itself until it is signed.")
    try:
        amendment = services.session_amend(session=session, author=request.user, text=payload.text)
    except services.ChartingError as exc:
        audit_api(
            request,
            Action.AMEND,
            patient_id=patient_id,
            target=session,
            object_type="session",
            outcome=Outcome.FAILED,
        )
        raise invalid(exc.errors) from None
    audit_api(request, Action.AMEND, patient_id=patient_id, target=session, object_type="session")
    return Status(201, amendment)


# Adverse events ----------------------------------------------------------------------------------


@router.get(
    "/sessions/{session_id}/adverse-events",
    response=responses({200: list[AdverseEventOut]}, 401, 403, 404, 422),
    summary="List the adverse events after a session",
)
def adverse_event_list(request: HttpRequest, session_id: int) -> list[AdverseEvent]:
    session = clinical_session(request, session_id)
    rows = list(session.adverse_events.all())
    audit_api(
        request, Action.LIST, patient_id=session.series.patient_id, object_type="adverse_event"
    )
    return rows


@router.post(
    "/sessions/{session_id}/adverse-events",
    response=responses({201: AdverseEventOut}, 400, 401, 403, 404, 422),
    summary="Record an adverse event after a session",
)
def adverse_event_create(
    request: HttpRequest, session_id: int, payload: AdverseEventIn
) -> Status[AdverseEvent]:
    session = clinical_session(request, session_id)
    patient_id = session.series.patient_id
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(session.clinic.time_zone))
    try:
        event = services.adverse_event_add(session=session, today=today, **payload.model_dump())
    except services.ChartingError as exc:
        audit_api(
            request,
            Action.CREATE,
            patient_id=patient_id,
            object_type="adverse_event",
            outcome=Outcome.FAILED,
        )
        raise invalid(exc.errors) from None
    audit_api(
        request, Action.CREATE, patient_id=patient_id, target=event, object_type="adverse_event"
    )
    return Status(201, event)
