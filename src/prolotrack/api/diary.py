"""The patient diary for the clinic: a patient's diary entries, and the clinic's alert board.

Diary entries are clinical records, for practitioners with the patient in their care, as the
diary page of the chart (``diary:patient_entries``); front desk, clinic administrators, auditors
and patients are refused with 403, another clinic's ids answer 404.

The entries are read-only here. An entry is the patient's own report, written by the patient
on their diary page: the patient reads the triage of what they wrote the moment they save it
(go to an emergency department, call the clinic today), and relief and the outcome measures
count it as patient-reported. An entry written by someone else would be neither, so the API
offers no way to write one, as the clinic's pages offer none.

The alert board is the clinic's, as on its page (``diary:alerts``): every practitioner of the
clinic sees and acknowledges every alert, in the patient's care or not, because an emergency
must reach whoever is on duty. An alert is acknowledged once, with a note of what was done
(``diary.services.alerts.alert_acknowledge``); acknowledging it again answers 409. A read-only
token is refused the acknowledgement, as every write (``api.auth``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from prolotrack.api.access import audit_api, clinical_patient
from prolotrack.api.errors import ApiError, responses
from prolotrack.api.pages import PageInfo, PageQuery, paginate, refuse_unknown_parameters
from prolotrack.api.schemas import via
from prolotrack.api.types import EARLIEST, LATEST, Line, Text
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.core.triage import SideEffect
from prolotrack.diary.access import alerts_for_user, get_alert_for_user, get_entry_for_patient
from prolotrack.diary.models import ALERT_LEVELS, Alert, AlertQuerySet, DiaryEntry
from prolotrack.diary.services import alerts as alert_services
from prolotrack.patients.access import require_clinician

router = Router(tags=["diary"])

SideEffectCode = Literal[
    "soreness",
    "stiffness",
    "bruising",
    "swelling",
    "redness_warmth",
    "fever",
    "numbness_weakness",
    "bladder_bowel",
    "saddle_numbness",
    "other",
]
LevelCode = Literal["emergency", "urgent", "review"]
AlertStatus = Literal["open", "acknowledged"]
EntryOrdering = Literal["entry_date", "-entry_date"]
assert set(SideEffectCode.__args__) == {s.value for s in SideEffect}  # type: ignore[attr-defined]
assert set(LevelCode.__args__) == {value for value, _ in ALERT_LEVELS}  # type: ignore[attr-defined]

# Sort keys of the entries, each mapped to its ORM ordering; nothing else reaches order_by().
ENTRY_ORDERINGS = {
    "entry_date": ("entry_date", "id"),
    "-entry_date": ("-entry_date", "-id"),
}
assert set(EntryOrdering.__args__) == set(ENTRY_ORDERINGS)  # type: ignore[attr-defined]

# What the acknowledgement form of the board takes (diary.forms.AcknowledgeForm).
AckNote = Text(1000)
RuleCode = Line(64, 1)
# An id in a filter: a query string is text, so "12" is read as 12; "12.5", "true" are refused.
FilterId = Annotated[int, Field(ge=1, le=2**53)]

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD: pydantic alone would also read "1699920000" (seconds since 1970) or a
    # date and time as a day, a silently different filter.
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date written as YYYY-MM-DD, for example 2026-11-05")
    return value


def _in_range(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_day), AfterValidator(_in_range)]


# Output ------------------------------------------------------------------------------------------


class AreaPainOut(Schema):
    series_id: int = Field(description="The treated area: the patient's series.")
    pain: int


class PsfsActivityOut(Schema):
    activity: str
    score: int


class EntryAlertOut(Schema):
    id: int
    level: LevelCode
    rule_code: str
    status: AlertStatus


class DiaryEntryOut(Schema):
    id: int
    patient_id: int
    entry_date: dt.date = Field(description="The day the entry is about, in the patient's zone.")
    pain: int = Field(description="Pain now, 0-10: the highest of the treated areas.")
    area_pains: list[AreaPainOut]
    pain_back: bool | None = Field(
        description="Pain back to where it was before the last session; null if not asked."
    )
    side_effects: list[SideEffectCode]
    note: str
    pgic: int | None = Field(description="PGIC, 1 (very much improved) to 7 (very much worse).")
    psfs: list[PsfsActivityOut] = Field(description="PSFS activities, each 0 (unable) to 10.")
    psfs_mean: float | None
    alerts: list[EntryAlertOut]
    created_at: dt.datetime


class DiaryEntryPage(PageInfo):
    results: list[DiaryEntryOut]


class AlertOut(Schema):
    id: int
    patient_id: int
    chart_number: str
    entry_id: int
    entry_date: dt.date
    level: LevelCode
    rule_code: str = Field(description="The triage rule that raised it.")
    source: str = Field(description="The rule's source in the domain reference.")
    message: str
    status: AlertStatus
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by_id: int | None
    acknowledged_note: str


class AlertPage(PageInfo):
    open_count: int = Field(description="Open alerts on the clinic's whole board.")
    results: list[AlertOut]


# Input -------------------------------------------------------------------------------------------


class DiaryEntryListQuery(PageQuery):
    date_from: Day | None = Field(None, description="Entries of this day or later (YYYY-MM-DD).")
    date_to: Day | None = Field(None, description="Entries of this day or earlier (YYYY-MM-DD).")
    series_id: FilterId | None = Field(
        None, description="Only the entries that rate this series' treated area."
    )
    ordering: EntryOrdering = "-entry_date"


class AlertListQuery(PageQuery):
    status: AlertStatus | None = Field(None, description="Open or acknowledged alerts only.")
    level: LevelCode | None = None
    rule_code: RuleCode | None = Field(None, description="Exactly this triage rule.")
    patient_id: FilterId | None = Field(None, description="One patient's alerts.")


class AcknowledgeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: AckNote = Field(description="What was done, e.g. “Called the patient, seen at 16:00”.")


# Helpers -----------------------------------------------------------------------------------------


def _status(alert: Alert) -> str:
    return "open" if alert.is_open else "acknowledged"


def _psfs(items: Any) -> list[dict[str, Any]]:
    return [
        {"activity": str(item.get("activity", "")), "score": int(item["score"])}
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("score"), int)
    ]


def _entries() -> QuerySet[DiaryEntry]:
    return DiaryEntry.objects.prefetch_related(
        "area_pains", Prefetch("alerts", queryset=Alert.objects.order_by("created_at", "id"))
    )


def entry_out(entry: DiaryEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "patient_id": entry.patient_id,
        "entry_date": entry.entry_date,
        "pain": entry.pain,
        "area_pains": [{"series_id": a.series_id, "pain": a.pain} for a in entry.area_pains.all()],
        "pain_back": entry.pain_back,
        "side_effects": [s.value for s in entry.side_effect_codes],
        "note": entry.note,
        "pgic": entry.pgic,
        "psfs": _psfs(entry.psfs),
        "psfs_mean": entry.psfs_mean,
        "alerts": [
            {"id": a.pk, "level": a.level, "rule_code": a.rule_code, "status": _status(a)}
            for a in entry.alerts.all()
        ],
        "created_at": entry.created_at,
    }


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "patient_id": alert.patient_id,
        "chart_number": alert.patient.chart_number,
        "entry_id": alert.entry_id,
        "entry_date": alert.entry.entry_date,
        "level": alert.level,
        "rule_code": alert.rule_code,
        "source": alert.source,
        "message": alert.message,
        "status": _status(alert),
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by_id": alert.acknowledged_by_id,
        "acknowledged_note": alert.acknowledged_note,
    }


def _board(request: HttpRequest) -> AlertQuerySet:
    """The clinic's alerts for a practitioner of it. Patients, front desk, administrators and
    auditors: 403, as every clinical operation of the API (the pages tell a patient 404)."""
    require_clinician(request.user)
    return alerts_for_user(request.user)


def _clinic_alert(request: HttpRequest, alert_id: int) -> Alert:
    require_clinician(request.user)
    return get_alert_for_user(request.user, alert_id)


# Diary entries -----------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/diary-entries",
    response=responses({200: DiaryEntryPage}, 400, 401, 403, 404, 422),
    summary="List a patient's diary entries",
)
def diary_entry_list(
    request: HttpRequest, patient_id: int, query: Query[DiaryEntryListQuery]
) -> dict[str, Any]:
    """The patient's diary, newest day first unless ``ordering`` says otherwise, a page at a
    time, filtered by the allowed parameters only.

    There is no operation that writes an entry: an entry is the patient's own report, written
    on their diary page, where they read the triage of what they wrote as they save it."""
    refuse_unknown_parameters(request, DiaryEntryListQuery.model_fields)
    patient = clinical_patient(request, patient_id)
    if query.date_from and query.date_to and query.date_to < query.date_from:
        raise ApiError(422, "invalid", "date_to must be on or after date_from.", "date_to")
    entries = _entries().filter(patient=patient)
    if query.date_from is not None:
        entries = entries.filter(entry_date__gte=query.date_from)
    if query.date_to is not None:
        entries = entries.filter(entry_date__lte=query.date_to)
    if query.series_id is not None:
        # One rating per entry and series (diary_area_unique): the join adds no duplicates.
        entries = entries.filter(area_pains__series_id=query.series_id)
    count, rows = paginate(entries.order_by(*ENTRY_ORDERINGS[query.ordering]), query)
    audit_api(request, Action.LIST, patient_id=patient.pk, object_type="diaryentry")
    return {
        "count": count,
        "page": query.page,
        "page_size": query.page_size,
        "results": [entry_out(e) for e in rows],
    }


@router.get(
    "/patients/{patient_id}/diary-entries/{entry_id}",
    response=responses({200: DiaryEntryOut}, 401, 403, 404, 422),
    summary="Read one of a patient's diary entries",
)
def diary_entry_detail(request: HttpRequest, patient_id: int, entry_id: int) -> dict[str, Any]:
    """An entry of this patient; another patient's entry answers 404 as a missing one does."""
    patient = clinical_patient(request, patient_id)
    entry = get_entry_for_patient(patient, entry_id)
    audit_api(request, Action.READ, patient_id=patient.pk, target=entry)
    return entry_out(_entries().get(pk=entry.pk))


# Alerts ------------------------------------------------------------------------------------------


@router.get(
    "/alerts",
    response=responses({200: AlertPage}, 400, 401, 403, 422),
    summary="The clinic's diary alerts: open first, newest first",
)
def alert_list(request: HttpRequest, query: Query[AlertListQuery]) -> dict[str, Any]:
    """The alert board of the practitioner's clinic, a page at a time, filtered by the allowed
    parameters only."""
    refuse_unknown_parameters(request, AlertListQuery.model_fields)
    board = _board(request)
    alerts = board.select_related("patient", "entry")
    if query.status == "open":
        alerts = alerts.open()
    elif query.status == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    if query.level is not None:
        alerts = alerts.filter(level=query.level)
    if query.rule_code is not None:
        alerts = alerts.filter(rule_code=query.rule_code)
    if query.patient_id is not None:
        alerts = alerts.filter(patient_id=query.patient_id)
    count, rows = paginate(alerts.board_order(), query)
    audit_record(
        request=request,
        action=Action.LIST,
        object_type="alert",
        detail={**via(request), "page": query.page, "shown": len(rows)},
    )
    return {
        "count": count,
        "page": query.page,
        "page_size": query.page_size,
        "open_count": board.open().count(),
        "results": [alert_out(a) for a in rows],
    }


@router.get(
    "/alerts/{alert_id}",
    response=responses({200: AlertOut}, 401, 403, 404, 422),
    summary="Read one diary alert",
)
def alert_detail(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    alert = _clinic_alert(request, alert_id)
    audit_record(request=request, action=Action.READ, target=alert, detail=via(request))
    return alert_out(alert)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response=responses({200: AlertOut}, 400, 401, 403, 404, 409, 422),
    summary="Acknowledge a diary alert with a note of what was done",
)
def alert_acknowledge(
    request: HttpRequest, alert_id: int, payload: AcknowledgeIn
) -> dict[str, Any]:
    """Once per alert: an alert acknowledged already (by a colleague, or by a repeated call)
    answers 409 and keeps the first note."""
    alert = _clinic_alert(request, alert_id)

    def failed() -> None:
        audit_record(
            request=request,
            action=Action.CHANGE,
            target=alert,
            outcome=Outcome.FAILED,
            detail=via(request),
        )

    if not payload.note.strip():
        failed()
        raise ApiError(422, "invalid", "Write what was done in the note.", "note")
    try:
        alert = alert_services.alert_acknowledge(
            alert=alert, user=request.user, note=payload.note, now=timezone.now()
        )
    except alert_services.AlertAlreadyAcknowledged:
        failed()
        raise ApiError(
            409, "already_acknowledged", "This alert was already acknowledged."
        ) from None
    audit_record(
        request=request,
        action=Action.CHANGE,
        target=alert,
        detail={**via(request), "acknowledged": True},
    )
    return alert_out(alert)
