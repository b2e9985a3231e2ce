"""``diary_entry_add()``: store a diary entry once, triage it, raise the clinic's alerts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from prolotrack.accounts.models import User
from prolotrack.core.triage import TriageFinding, TriageInput, triage
from prolotrack.diary.forms import Area, EntryInput
from prolotrack.diary.models import Alert, ClinicDiarySettings, DiaryAreaPain, DiaryEntry
from prolotrack.diary.services.alerts import alerts_notify
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import SeriesStatus, Session, TreatmentSeries
from prolotrack.treatment.plan_input import clinic_zone


def patient_zone(patient: Patient) -> zoneinfo.ZoneInfo:
    """The patient's time zone: their clinic's (the diary's days are the clinic's days)."""
    return clinic_zone(patient.clinic)


def patient_today(patient: Patient, now: dt.datetime) -> dt.date:
    return now.astimezone(patient_zone(patient)).date()


def treated_areas(patient: Patient, names: dict[str, str] | None = None) -> list[Area]:
    """The areas the patient rates: one per active series, named by modality and region."""
    areas = []
    for series in TreatmentSeries.objects.filter(
        patient=patient, status=SeriesStatus.ACTIVE
    ).order_by("started_on", "id"):
        region = (names or {}).get(series.region, series.region.replace("_", " "))
        areas.append(Area(series.pk, f"your {region}"))
    return areas


def last_session_before(patient: Patient, day: dt.date) -> Session | None:
    """The patient's latest session on or before ``day`` (in the clinic's zone)."""
    zone = patient_zone(patient)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return (
        Session.objects.filter(series__patient=patient, performed_at__lt=end)
        .order_by("-performed_at", "-id")
        .first()
    )


def entry_triage(entry: DiaryEntry) -> list[TriageFinding]:
    """The triage of a stored entry (what the patient read when they saved it)."""
    patient = entry.patient
    session = last_session_before(patient, entry.entry_date)
    settings = ClinicDiarySettings.for_clinic(patient.clinic)
    return triage(
        TriageInput(
            entry_day=entry.entry_date,
            pain=entry.pain,
            side_effects=frozenset(entry.side_effect_codes),
            last_session_day=(
                session.performed_at.astimezone(patient_zone(patient)).date() if session else None
            ),
            last_session_pain_before=session.pain_before if session else None,
        ),
        aftercare=settings.aftercare_advice,
    )


@dataclass(frozen=True)
class EntryResult:
    entry: DiaryEntry
    created: bool
    alerts: tuple[Alert, ...] = ()


def _existing(patient: Patient, key: str) -> DiaryEntry | None:
    return DiaryEntry.objects.filter(patient=patient, idempotency_key=key).first()


def diary_entry_add(*, patient: Patient, user: User | None, values: EntryInput) -> EntryResult:
    """Store ``values`` as the patient's entry, or find the entry this same form stored before.

    A replay (the same ``values.key``, even sent at the same moment from two connections)
    stores nothing and returns the first entry: the unique constraint on (patient, key) lets
    only one insert win; the loser's transaction rolls back and it reads the winner's row.
    Triage runs on the new entry and its alerts are stored in the same transaction; the clinic
    is emailed once the transaction commits.
    """
    found = _existing(patient, values.key)
    if found is not None:
        return EntryResult(found, created=False)
    try:
        with transaction.atomic():
            entry = DiaryEntry.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                entry_date=values.entry_date,
                pain=values.pain,
                pain_back=values.pain_back,
                side_effects=[s.value for s in values.side_effects],
                note=values.note,
                pgic=values.pgic,
                psfs=values.psfs,
                idempotency_key=values.key,
                submitted_by=user,
            )
            DiaryAreaPain.objects.bulk_create(
                DiaryAreaPain(
                    clinic_id=patient.clinic_id, entry=entry, series_id=series_id, pain=pain
                )
                for series_id, pain in values.area_pains.items()
            )
            # The outcome summary's relief per session reads this patient's diary.
            session_outcomes_refresh(clinic_id=patient.clinic_id, patient_ids=[patient.pk])
            alerts = [
                Alert.objects.create(
                    clinic_id=patient.clinic_id,
                    patient=patient,
                    entry=entry,
                    level=finding.level.value,
                    rule_code=finding.code,
                    source=finding.source,
                    message=finding.clinic_message,
                )
                for finding in entry_triage(entry)
                if finding.level.alerts_clinic and not _already_open(patient, finding.code)
            ]
            if alerts:
                ids = [a.pk for a in alerts]
                transaction.on_commit(lambda: alerts_notify(alert_ids=ids))
    except IntegrityError:
        found = _existing(patient, values.key)
        if found is None:
            raise
        return EntryResult(found, created=False)
    return EntryResult(entry, created=True, alerts=tuple(alerts))


# Rules that describe a state lasting days rather than an event: while one such alert of the
# patient is open, later entries in the same state add nothing for the clinic to do.
ONE_OPEN_AT_A_TIME = frozenset({"review.flare"})


def _already_open(patient: Patient, code: str) -> bool:
    return (
        code in ONE_OPEN_AT_A_TIME
        and Alert.objects.filter(
            patient=patient, rule_code=code, acknowledged_at__isnull=True
        ).exists()
    )
