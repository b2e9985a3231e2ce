"""A patient's download of all their own data: JSON (everything) and CSV (one row per record).

It holds the patient's record, conditions, series, sessions (with injections and readings),
diary entries with their area pains and alerts, and the relief after each session. It holds no
one else's data: every query starts from the patient. It leaves out what only practitioners read
(session notes, injection lots), as the patient's pages do.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from typing import Any

from django.db.models import Prefetch

from prolotrack.diary.models import Alert, DiaryEntry
from prolotrack.diary.relief import relief_by_series
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import Session, TreatmentSeries

FORMAT_VERSION = 1
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def patient_export(patient: Patient, zone: zoneinfo.ZoneInfo) -> dict[str, Any]:
    sessions_qs = Session.objects.select_related("practitioner").prefetch_related(
        "injections", "readings"
    )
    series_list = list(
        TreatmentSeries.objects.filter(patient=patient)
        .order_by("started_on", "id")
        .prefetch_related(Prefetch("sessions", queryset=sessions_qs.order_by("performed_at", "id")))
    )
    relief = relief_by_series(patient, {s.pk: list(s.sessions.all()) for s in series_list}, zone)
    entries = (
        DiaryEntry.objects.filter(patient=patient)
        .prefetch_related("area_pains", Prefetch("alerts", queryset=Alert.objects.order_by("id")))
        .order_by("entry_date", "id")
    )
    return {
        "format": "prolotrack-patient-export",
        "format_version": FORMAT_VERSION,
        "patient": {
            "chart_number": patient.chart_number,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "birth_date": _iso(patient.birth_date),
            "sex": patient.sex,
            "weight_kg": str(patient.weight_kg) if patient.weight_kg is not None else None,
            "email": patient.email,
            "phone": patient.phone,
            "clinic": patient.clinic.name,
        },
        "conditions": [
            {"code": c.code, "region": c.region, "side": c.side, "onset": _iso(c.onset)}
            for c in patient.conditions.all()
        ],
        "series": [
            {
                "id": s.pk,
                "modality": s.modality,
                "region": s.region,
                "status": s.status,
                "started_on": _iso(s.started_on),
                "planned_sessions": s.planned_sessions,
                "planned_interval_days": s.planned_interval_days,
                "sessions": [
                    {
                        "id": session.pk,
                        "performed_at": _iso(session.performed_at),
                        "practitioner": session.practitioner.display_name,
                        "pain_before": session.pain_before,
                        "pain_after": session.pain_after,
                        "pgic": session.pgic,
                        "relief_days": r.days if r else None,
                        "relief_ended": r.event if r else None,
                        "injections": [
                            {
                                "site": i.site,
                                "side": i.side,
                                "depth": i.depth,
                                "volume_ml": str(i.volume_ml),
                                "dextrose_pct": str(i.dextrose_pct),
                                "lidocaine_pct": str(i.lidocaine_pct),
                                "needle_gauge": i.needle_gauge,
                            }
                            for i in session.injections.all()
                        ],
                        "readings": [
                            {
                                "site": r2.site,
                                "side": r2.side,
                                "phase": r2.phase,
                                "value": str(r2.value),
                                "unit": r2.unit,
                                "value_kpa": r2.value_kpa,
                            }
                            for r2 in session.readings.all()
                        ],
                    }
                    for session, r in zip(s.sessions.all(), relief[s.pk], strict=True)
                ],
            }
            for s in series_list
        ],
        "diary": [
            {
                "id": e.pk,
                "entry_date": _iso(e.entry_date),
                "pain": e.pain,
                "area_pains": {str(a.series_id): a.pain for a in e.area_pains.all()},
                "pain_back": e.pain_back,
                "side_effects": list(e.side_effects),
                "note": e.note,
                "pgic": e.pgic,
                "psfs": list(e.psfs),
                "created_at": _iso(e.created_at),
                "alerts": [
                    {
                        "level": a.level,
                        "rule_code": a.rule_code,
                        "created_at": _iso(a.created_at),
                        "acknowledged_at": _iso(a.acknowledged_at),
                    }
                    for a in e.alerts.all()
                ],
            }
            for e in entries
        ],
    }


CSV_COLUMNS = [
    "record",
    "date",
    "series_id",
    "pain",
    "pain_back",
    "pain_before",
    "pain_after",
    "relief_days",
    "relief_ended",
    "side_effects",
    "pgic",
    "psfs",
    "note",
]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def patient_export_csv(data: dict[str, Any]) -> str:
    """One row per session and per diary entry, in date order within each kind."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for series in data["series"]:
        for s in series["sessions"]:
            row = {
                "record": "session",
                "date": s["performed_at"],
                "series_id": series["id"],
                "pain_before": s["pain_before"],
                "pain_after": s["pain_after"],
                "relief_days": s["relief_days"],
                "relief_ended": s["relief_ended"],
                "pgic": s["pgic"],
            }
            writer.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    for e in data["diary"]:
        row = {
            "record": "diary",
            "date": e["entry_date"],
            "pain": e["pain"],
            "pain_back": e["pain_back"],
            "side_effects": ";".join(e["side_effects"]),
            "pgic": e["pgic"],
            "psfs": ";".join(f"{p['activity']}={p['score']}" for p in e["psfs"]),
            "note": e["note"],
        }
        writer.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()
