"""Write a synthetic clinic (``core.synth``) into the database, fast.

Rows go in with ``bulk_create`` in batches, patients a chunk at a time, inside one transaction:
a load either lands whole or not at all, and a registry stream of any size needs the memory of
one chunk only. The rows are the same ones the charting workflows write, including ``clinic_id``
on every clinical row, so pages, queries and benchmarks see nothing special about them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice

from django.contrib.auth.hashers import make_password
from django.db import transaction

from prolotrack.accounts.models import Clinic, PractitionerProfile, User
from prolotrack.core.synth import (
    SynthClinic,
    SynthPatient,
    SynthPractitioner,
    SynthSeries,
    SynthSession,
)
from prolotrack.diary.models import DiaryEntry
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.patients.models import CareTeamMember, Condition, Patient
from prolotrack.treatment.models import (
    AdverseEvent,
    AlgometerReading,
    Injection,
    Session,
    TreatmentSeries,
)
from prolotrack.treatment.services import injection_rows, reading_rows

# Rows per INSERT statement: large enough to amortise the round trip, small enough to stay far
# under SQLite's limit on bound parameters.
BATCH_SIZE = 500
# Patients whose rows are built and written together.
CHUNK_PATIENTS = 200
# Charting is signed off straight after the visit.
SIGNED_AFTER = dt.timedelta(minutes=30)


class LoadError(Exception):
    """The synthetic clinic cannot be written as it is; nothing was written."""


def clinic_load(synth: SynthClinic, *, password: str | None = None) -> Clinic:
    """Create the clinic, its practitioners (as users) and all its patients in one transaction.

    Each practitioner becomes a user named by its key, with ``password`` (hashed once for all of
    them) or, without one, a password that can never match.
    """
    keys = [p.key for p in synth.practitioners]
    taken = sorted(User.objects.filter(username__in=keys).values_list("username", flat=True))
    if taken:
        raise LoadError(f"usernames already taken: {', '.join(taken)}")
    if Clinic.objects.filter(name=synth.name).exists():
        raise LoadError(f"a clinic named {synth.name!r} already exists")
    with transaction.atomic():
        clinic = Clinic.objects.create(
            name=synth.name, time_zone=synth.time_zone, jurisdiction=synth.jurisdiction
        )
        users = _practitioners_create(clinic, synth.practitioners, make_password(password))
        patients_load(clinic=clinic, practitioners=users, patients=synth.patients)
        # The outcome dashboard reads the per-session summary: built once the rows are in.
        session_outcomes_refresh(clinic_id=clinic.pk)
    return clinic


def _practitioners_create(
    clinic: Clinic, practitioners: Iterable[SynthPractitioner], password_hash: str
) -> dict[str, User]:
    users = {
        p.key: User(
            username=p.key,
            first_name=p.given_name,
            last_name=p.family_name,
            clinic=clinic,
            role=p.profession,
            password=password_hash,
        )
        for p in practitioners
    }
    User.objects.bulk_create(users.values())
    PractitionerProfile.objects.bulk_create(
        PractitionerProfile(
            user=users[p.key],
            clinic=clinic,
            profession=p.profession,
            licence_jurisdiction=clinic.jurisdiction,
            certifications=list(p.certifications),
        )
        for p in practitioners
    )
    return users


def patients_load(
    *, clinic: Clinic, practitioners: Mapping[str, User], patients: Iterable[SynthPatient]
) -> int:
    """Write ``patients`` (a tuple or a lazy stream) into ``clinic``; return how many.

    ``practitioners`` maps each practitioner key the sessions name to its user. Runs in one
    transaction (joining the caller's, if any).
    """
    count = 0
    with transaction.atomic():
        for chunk in _chunks(patients, CHUNK_PATIENTS):
            _chunk_load(clinic, practitioners, chunk)
            count += len(chunk)
    return count


def _chunks(items: Iterable[SynthPatient], size: int) -> Iterator[list[SynthPatient]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _chunk_load(
    clinic: Clinic, practitioners: Mapping[str, User], chunk: list[SynthPatient]
) -> None:
    """Each level is written in bulk before the next: its primary keys come back from the INSERT
    (RETURNING, on SQLite and PostgreSQL) and become the next level's foreign keys."""
    cid = clinic.pk
    patients = [(p, _patient_row(cid, p)) for p in chunk]
    Patient.objects.bulk_create([row for _, row in patients], batch_size=BATCH_SIZE)

    conditions: dict[tuple[int, str, str], Condition] = {
        (row.pk, c.code, c.region): Condition(
            clinic_id=cid, patient_id=row.pk, code=c.code, region=c.region, side=c.side
        )
        for p, row in patients
        for c in p.conditions
    }
    Condition.objects.bulk_create(conditions.values(), batch_size=BATCH_SIZE)

    series = [
        (one, _series_row(cid, row.pk, conditions[row.pk, one.condition_code, one.region], one))
        for p, row in patients
        for one in p.series
    ]
    TreatmentSeries.objects.bulk_create([row for _, row in series], batch_size=BATCH_SIZE)

    sessions = [
        (visit, _session_row(cid, row.pk, practitioners[visit.practitioner_key], visit))
        for one, row in series
        for visit in one.sessions
    ]
    Session.objects.bulk_create([row for _, row in sessions], batch_size=BATCH_SIZE)
    # Each patient is in the care of the practitioners of their series' sessions: the others of
    # the clinic break the glass to open the chart (patients.access).
    team = {
        (row.patient_id, practitioners[visit.practitioner_key].pk)
        for one, row in series
        for visit in one.sessions
    }
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(clinic_id=cid, patient_id=p, user_id=u) for p, u in sorted(team)],
        batch_size=BATCH_SIZE,
    )

    injections: list[Injection] = []
    readings: list[AlgometerReading] = []
    events: list[AdverseEvent] = []
    for visit, row in sessions:
        ids = {"clinic_id": cid, "session_id": row.pk}
        injections += injection_rows(**ids, injections=[i.as_input() for i in visit.injections])
        readings += reading_rows(**ids, readings=[r.as_input() for r in visit.readings])
        events += _adverse_event_rows(cid, row.pk, visit)
    Injection.objects.bulk_create(injections, batch_size=BATCH_SIZE)
    AlgometerReading.objects.bulk_create(readings, batch_size=BATCH_SIZE)
    AdverseEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    DiaryEntry.objects.bulk_create(
        (
            DiaryEntry(
                clinic_id=cid,
                patient_id=row.pk,
                entry_date=e.date,
                pain=e.pain,
                pain_back=e.pain_back,
            )
            for p, row in patients
            for e in p.diary
        ),
        batch_size=BATCH_SIZE,
    )


def _patient_row(cid: int, p: SynthPatient) -> Patient:
    return Patient(
        clinic_id=cid,
        chart_number=p.chart_number,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        sex=p.sex,
        weight_kg=p.weight_kg,
        diabetes=p.diabetes,
        anticoagulant=p.anticoagulant,
        bleeding_disorder=p.bleeding_disorder,
        pregnant=p.pregnant,
        allergies=list(p.allergies),
    )


def _series_row(cid: int, patient_id: int, condition: Condition, s: SynthSeries) -> TreatmentSeries:
    return TreatmentSeries(
        clinic_id=cid,
        patient_id=patient_id,
        condition_id=condition.pk,
        modality=s.modality.value,
        region=s.region,
        planned_sessions=s.planned_sessions,
        planned_interval_days=s.planned_interval_days,
        status=s.status,
        started_on=s.started_on,
    )


def _session_row(cid: int, series_id: int, author: User, s: SynthSession) -> Session:
    return Session(
        clinic_id=cid,
        series_id=series_id,
        performed_at=s.performed_at,
        practitioner_id=author.pk,
        pain_before=s.pain_before,
        pain_after=s.pain_after,
        notes=s.notes,
        signed_at=s.performed_at + SIGNED_AFTER if s.signed else None,
        signed_by_id=author.pk if s.signed else None,
    )


def _adverse_event_rows(cid: int, session_id: int, s: SynthSession) -> list[AdverseEvent]:
    return [
        AdverseEvent(
            clinic_id=cid,
            session_id=session_id,
            category=e.category,
            serious=e.serious,
            onset=e.onset,
            resolved_on=e.resolved_on,
        )
        for e in s.adverse_events
    ]
