"""Keep ``SessionOutcome`` (one derived row per session) up to date.

``session_outcomes_refresh(clinic_id=..., patient_ids=[...])`` recomputes the rows of a few
patients: call it after writing their sessions, readings or diary entries (a new session also
closes the previous session's relief window, and a diary entry can end a relief). Without
``patient_ids`` it rebuilds the whole clinic, streaming patient by patient.

The readings are aggregated in SQL (one row per session comes back); relief is computed with
``core.outcomes.session_relief`` from the patient's sessions and diary, so the stored relief is
the reference definition itself.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from itertools import groupby

from django.db import connection, transaction

from prolotrack.accounts.models import Clinic
from prolotrack.core.outcomes import DiaryRow, SessionRow, session_relief
from prolotrack.core.units import KPA_PER_KG_CM2
from prolotrack.diary.models import DiaryEntry
from prolotrack.outcomes.models import SessionOutcome
from prolotrack.treatment.models import Session

BATCH_SIZE = 1000
# Patients per refresh step of a whole-clinic rebuild: bounds the memory of one step.
CHUNK_PATIENTS = 2000

# One row per session: the number of (site, side) pairs with a baseline and a 1-minute (and a
# 15-minute) reading, and the sums of their changes in kPa.
_READINGS_SQL = """
SELECT session_id,
       SUM(CASE WHEN one IS NOT NULL THEN 1 ELSE 0 END),
       SUM(one - base),
       SUM(CASE WHEN fifteen IS NOT NULL THEN 1 ELSE 0 END),
       SUM(fifteen - base)
FROM (
    SELECT r.session_id,
           MAX(CASE WHEN r.phase = 'baseline' THEN r.value_kpa END) AS base,
           MAX(CASE WHEN r.phase = '1min' THEN r.value_kpa END) AS one,
           MAX(CASE WHEN r.phase = '15min' THEN r.value_kpa END) AS fifteen
    FROM treatment_algometerreading r
    WHERE r.clinic_id = %s AND r.session_id IN ({ids})
    GROUP BY r.session_id, r.site, r.side
) pairs
WHERE base IS NOT NULL
GROUP BY session_id
"""


def session_outcomes_refresh(*, clinic_id: int, patient_ids: Iterable[int] | None = None) -> int:
    """Recompute the derived rows of ``patient_ids`` (every patient of the clinic when None);
    return how many sessions were written. Runs in one transaction."""
    zone = _zone(clinic_id)
    written = 0
    with transaction.atomic():
        if patient_ids is None:
            SessionOutcome.objects.filter(clinic_id=clinic_id).delete()
            ids_stream = _chunked(
                Session.objects.filter(clinic_id=clinic_id)
                .values_list("series__patient_id", flat=True)
                .distinct()
                .order_by("series__patient_id")
                .iterator(chunk_size=5000),
                CHUNK_PATIENTS,
            )
            for chunk in ids_stream:
                written += _refresh(clinic_id, chunk, zone, delete=False)
        else:
            ids = sorted(set(patient_ids))
            for start in range(0, len(ids), CHUNK_PATIENTS):
                written += _refresh(clinic_id, ids[start : start + CHUNK_PATIENTS], zone)
    return written


def _zone(clinic_id: int) -> zoneinfo.ZoneInfo:
    name = Clinic.objects.filter(pk=clinic_id).values_list("time_zone", flat=True).first()
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _chunked(items: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _refresh(
    clinic_id: int, patient_ids: list[int], zone: zoneinfo.ZoneInfo, *, delete: bool = True
) -> int:
    if delete:
        SessionOutcome.objects.filter(clinic_id=clinic_id, patient_id__in=patient_ids).delete()
    sessions = list(
        Session.objects.filter(clinic_id=clinic_id, series__patient_id__in=patient_ids)
        .order_by("series__patient_id", "id")
        .values_list(
            "id",
            "series__patient_id",
            "performed_at",
            "pain_before",
            "series__modality",
            "series__region",
            "series__condition__code",
            "practitioner_id",
        )
    )
    if not sessions:
        return 0
    changes = _reading_changes(clinic_id, [s[0] for s in sessions])
    diary = (
        DiaryEntry.objects.filter(clinic_id=clinic_id, patient_id__in=patient_ids)
        .order_by("patient_id", "entry_date")
        .values_list("patient_id", "entry_date", "pain")
    )
    diaries = {
        patient: [DiaryRow(patient, day, pain) for _, day, pain in rows]
        for patient, rows in groupby(diary.iterator(chunk_size=5000), key=lambda r: r[0])
    }
    rows: list[SessionOutcome] = []
    for patient, group in groupby(sessions, key=lambda s: s[1]):
        mine = list(group)
        days = {s[0]: s[2].astimezone(zone).date() for s in mine}
        relief = session_relief(
            (SessionRow(s[0], patient, days[s[0]], s[3]) for s in mine),
            diaries.get(patient, ()),
        )
        for sid, _, _, pain, modality, region, condition, practitioner in mine:
            pairs_1, sum_1, pairs_15, sum_15 = changes.get(sid, (0, None, 0, None))
            r = relief.get(sid)
            rows.append(
                SessionOutcome(
                    session_id=sid,
                    clinic_id=clinic_id,
                    patient_id=patient,
                    day=days[sid],
                    period=quarter(days[sid]),
                    modality=modality,
                    region=region,
                    condition=condition or "",
                    practitioner_id=practitioner,
                    pain_before=pain,
                    pairs_1min=pairs_1,
                    change_1min=_mean_kg(sum_1, pairs_1),
                    pairs_15min=pairs_15,
                    change_15min=_mean_kg(sum_15, pairs_15),
                    relief_days=r.days if r else None,
                    relief_event=r.event if r else None,
                )
            )
    SessionOutcome.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


def _mean_kg(total_kpa: float | None, pairs: int) -> float | None:
    if not pairs or total_kpa is None:
        return None
    return total_kpa / pairs / KPA_PER_KG_CM2


def _reading_changes(
    clinic_id: int, session_ids: list[int]
) -> dict[int, tuple[int, float | None, int, float | None]]:
    found: dict[int, tuple[int, float | None, int, float | None]] = {}
    with connection.cursor() as cursor:
        # Ids in slices: far under SQLite's limit on bound parameters.
        for start in range(0, len(session_ids), 900):
            part = session_ids[start : start + 900]
            sql = _READINGS_SQL.format(ids=", ".join(["%s"] * len(part)))
            cursor.execute(sql, [clinic_id, *part])
            for sid, pairs_1, sum_1, pairs_15, sum_15 in cursor.fetchall():
                found[sid] = (int(pairs_1 or 0), sum_1, int(pairs_15 or 0), sum_15)
    return found
