"""Relief per session from the stored diary, through ``core.relief`` (one definition for the
chart, the patient's own view and, with the pain-back answer left out, the outcome pages)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence

from prolotrack.core.relief import DiaryDay, Relief, SessionDay, relief_durations
from prolotrack.diary.models import DiaryEntry
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import Session


def _entries(patient: Patient) -> list[DiaryEntry]:
    return list(
        DiaryEntry.objects.filter(patient=patient)
        .prefetch_related("area_pains")
        .order_by("entry_date", "id")
    )


def _days(entries: Sequence[DiaryEntry], series_id: int) -> list[DiaryDay]:
    """Each entry's pain for this series' area when it was rated, else the entry's pain."""
    days = []
    for entry in entries:
        pain = next((a.pain for a in entry.area_pains.all() if a.series_id == series_id), None)
        days.append(
            DiaryDay(entry.entry_date, entry.pain if pain is None else pain, entry.pain_back)
        )
    return days


def relief_by_series(
    patient: Patient,
    sessions_by_series: Mapping[int, Sequence[Session]],
    zone: zoneinfo.ZoneInfo,
) -> dict[int, list[Relief | None]]:
    """For each series, the relief after each of its sessions (sessions in date order)."""
    entries = _entries(patient)
    if not entries:
        return {sid: [None] * len(sessions) for sid, sessions in sessions_by_series.items()}
    result = {}
    for series_id, sessions in sessions_by_series.items():
        marks = [
            SessionDay(s.performed_at.astimezone(zone).date(), s.pain_before) for s in sessions
        ]
        result[series_id] = relief_durations(marks, _days(entries, series_id))
    return result
