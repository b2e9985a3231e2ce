"""Charting workflows: each one a transaction that checks, writes every row, or writes nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from prolotrack.accounts.models import User
from prolotrack.core import units
from prolotrack.core.catalog import Modality, load_catalog
from prolotrack.core.charting import FieldError, InjectionInput, ReadingInput, check_session
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.patients.models import Condition, Patient
from prolotrack.treatment.models import (
    AdverseEvent,
    AlgometerReading,
    Injection,
    SeriesStatus,
    Session,
    SessionAmendment,
    TreatmentSeries,
)

if TYPE_CHECKING:
    from prolotrack.treatment.safety import Override


class ChartingError(Exception):
    """The input cannot be stored; ``errors`` name each field and say why."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class SessionSigned(Exception):
    """A signed session is never edited; add an amendment instead."""


class StaleEdit(Exception):
    """Someone else saved this record since it was opened; nothing was overwritten."""

    def __init__(self, current_version: int) -> None:
        self.current_version = current_version
        super().__init__(f"the record is now at version {current_version}")


def series_create(
    *,
    patient: Patient,
    modality: Modality | str,
    region: str,
    planned_sessions: int,
    planned_interval_days: int,
    started_on: dt.date,
    condition: Condition | None = None,
) -> TreatmentSeries:
    modality = Modality(modality)
    errors: list[FieldError] = []
    if region not in load_catalog().regions:
        errors.append(FieldError("region", f"{region!r} is not a body region of the catalog."))
    if not 1 <= planned_sessions <= 30:
        errors.append(FieldError("planned_sessions", "Planned sessions must be 1 to 30."))
    if not 1 <= planned_interval_days <= 180:
        errors.append(FieldError("planned_interval_days", "The interval must be 1 to 180 days."))
    if condition is not None and condition.patient_id != patient.pk:
        errors.append(FieldError("condition", "That condition belongs to another patient."))
    if errors:
        raise ChartingError(errors)
    return TreatmentSeries.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        condition=condition,
        modality=modality.value,
        region=region,
        planned_sessions=planned_sessions,
        planned_interval_days=planned_interval_days,
        started_on=started_on,
        status=SeriesStatus.ACTIVE,
    )


def injection_rows(
    *, clinic_id: int, session_id: int, injections: Sequence[InjectionInput]
) -> list[Injection]:
    """Unsaved Injection rows for one session, in charted order. The one place that maps the
    charting inputs to rows: the session form and the loaders of generated data share it."""
    return [
        Injection(
            clinic_id=clinic_id,
            session_id=session_id,
            position=i,
            site=item.site,
            side=item.side,
            depth=item.depth,
            dextrose_pct=item.solution.dextrose_pct,
            lidocaine_pct=item.solution.lidocaine_pct,
            mannitol_pct=item.solution.mannitol_pct,
            epinephrine=item.solution.epinephrine,
            volume_ml=item.volume_ml,
            needle_gauge=item.needle_gauge,
            lot=item.lot,
        )
        for i, item in enumerate(injections)
    ]


def reading_rows(
    *, clinic_id: int, session_id: int, readings: Sequence[ReadingInput]
) -> list[AlgometerReading]:
    """Unsaved AlgometerReading rows, each with its canonical kPa value beside the entered one."""
    return [
        AlgometerReading(
            clinic_id=clinic_id,
            session_id=session_id,
            site=item.site,
            side=item.side,
            phase=item.phase,
            value=item.value,
            unit=item.unit,
            value_kpa=units.to_kpa(float(item.value), item.unit),
        )
        for item in readings
    ]


def session_record(
    *,
    series: TreatmentSeries,
    practitioner: User,
    performed_at: dt.datetime,
    pain_before: int | None,
    pain_after: int | None = None,
    notes: str = "",
    injections: Sequence[InjectionInput] = (),
    readings: Sequence[ReadingInput] = (),
    session: Session | None = None,
    expected_version: int | None = None,
    override: Override | None = None,
) -> Session:
    """Create a session, or replace an unsigned one's content, with all its rows at once.

    ``expected_version`` is the version the editor opened; if the stored session has moved on,
    StaleEdit is raised and nothing is written (optimistic locking).

    ``override`` is the physician's override of the findings that block this content (from
    ``safety.session_safety_gate``); it is stored with the session, and a save without one
    clears an earlier override, since it was about other content.
    """
    errors = check_session(
        pain_before=pain_before,
        pain_after=pain_after,
        injections=list(injections),
        readings=list(readings),
    )
    if timezone.is_naive(performed_at):
        errors.append(FieldError("performed_at", "The time must include its time zone."))
    if override is not None and not override.reason.strip():
        errors.append(FieldError("override_reason", "An override needs its reason."))
    if errors:
        raise ChartingError(errors)
    override_fields = {
        "override_reason": override.reason.strip() if override else "",
        "override_by": override.by if override else None,
        "override_at": override.at if override else None,
        "override_codes": list(override.codes) if override else [],
    }
    with transaction.atomic():
        if session is None:
            session = Session.objects.create(
                clinic_id=series.clinic_id,
                series=series,
                practitioner=practitioner,
                performed_at=performed_at,
                pain_before=pain_before,
                pain_after=pain_after,
                notes=notes,
                **override_fields,
            )
        else:
            if session.series_id != series.pk:
                raise ChartingError([FieldError("series", "The session is of another series.")])
            version = session.version if expected_version is None else expected_version
            # One UPDATE that matches only an unsigned session at the expected version: two
            # editors racing cannot both win, and a signed note cannot change underneath.
            updated = Session.objects.filter(
                pk=session.pk, version=version, signed_at__isnull=True
            ).update(
                performed_at=performed_at,
                pain_before=pain_before,
                pain_after=pain_after,
                notes=notes,
                practitioner=practitioner,
                version=F("version") + 1,
                **override_fields,
            )
            if not updated:
                current = Session.objects.get(pk=session.pk)
                if current.signed_at is not None:
                    raise SessionSigned("This session is signed; add an amendment instead.")
                raise StaleEdit(current.version)
            session.refresh_from_db()
            # Injections and readings have no version of their own, on purpose: they are never
            # written but here, as a whole set, in the same transaction as the session's
            # versioned UPDATE above. That UPDATE holds the session row's lock until commit, so
            # a concurrent edit of the same version waits, then matches nothing and is refused
            # (StaleEdit) before it touches a row: the session's version is the set's version.
            # An interface that edits one injection must go through this function too.
            session.injections.all().delete()
            session.readings.all().delete()
        ids = {"clinic_id": session.clinic_id, "session_id": session.pk}
        Injection.objects.bulk_create(injection_rows(**ids, injections=injections))
        AlgometerReading.objects.bulk_create(reading_rows(**ids, readings=readings))
        # The outcome summary of this patient's sessions (relief windows shift with a new one).
        session_outcomes_refresh(clinic_id=series.clinic_id, patient_ids=[series.patient_id])
    return session


def session_sign(*, session: Session, user: User) -> Session:
    """Sign a session: from now on it is only amended. Signing twice is refused."""
    if not user.is_clinician:
        raise ChartingError([FieldError("signed_by", "Only a practitioner may sign a session.")])
    with transaction.atomic():
        updated = Session.objects.filter(pk=session.pk, signed_at__isnull=True).update(
            signed_at=timezone.now(), signed_by=user, version=F("version") + 1
        )
        if not updated:
            raise SessionSigned("This session is already signed.")
    session.refresh_from_db()
    return session


def session_amend(*, session: Session, author: User, text: str) -> SessionAmendment:
    text = text.strip()
    if not text:
        raise ChartingError([FieldError("text", "Write what the amendment adds or corrects.")])
    if not session.is_signed:
        raise ChartingError([FieldError("text", "Edit the session itself until it is signed.")])
    if not author.is_clinician:
        raise ChartingError([FieldError("author", "Only a practitioner may amend a session.")])
    return SessionAmendment.objects.create(
        clinic_id=session.clinic_id, session=session, author=author, text=text
    )


def adverse_event_add(
    *,
    session: Session,
    category: str,
    serious: bool,
    onset: dt.date,
    resolved_on: dt.date | None = None,
    notes: str = "",
    today: dt.date | None = None,
) -> AdverseEvent:
    """Record an adverse event after a session; allowed on signed sessions too (it is news,
    not an edit of the note). ``today`` is the clinic's date, for the "not in the future" rule."""
    errors: list[FieldError] = []
    if category not in load_catalog().adverse_events:
        errors.append(FieldError("category", f"{category!r} is not an adverse-event category."))
    if today is not None and onset > today:
        errors.append(FieldError("onset", "The onset cannot be in the future."))
    if resolved_on is not None and resolved_on < onset:
        errors.append(FieldError("resolved_on", "The resolution date cannot be before the onset."))
    # An adverse event follows its session: an earlier onset belongs to another visit.
    session_day = timezone.localtime(
        session.performed_at, zoneinfo.ZoneInfo(session.clinic.time_zone)
    ).date()
    if onset < session_day:
        errors.append(
            FieldError("onset", f"The onset cannot be before the session ({session_day}).")
        )
    if errors:
        raise ChartingError(errors)
    return AdverseEvent.objects.create(
        clinic_id=session.clinic_id,
        session=session,
        category=category,
        serious=serious,
        onset=onset,
        resolved_on=resolved_on,
        notes=notes.strip(),
    )
