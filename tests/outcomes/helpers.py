"""Outcome test data: synthetic clinics in the database, and the reference numbers of any
selection of their sessions computed by ``core.outcomes`` from plain rows."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from typing import Any

from prolotrack.accounts.models import Clinic, Role, User
from prolotrack.core import outcomes as core
from prolotrack.core.synth import PRACTITIONERS, generate_clinic
from prolotrack.demo.loader import patients_load
from prolotrack.diary.models import DiaryEntry
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AdverseEvent, AlgometerReading, Session

TODAY = dt.date(2026, 11, 20)


def synth_clinic_load(name: str, *, seed: int, patients: int) -> Clinic:
    """A generated clinic with its diary, and its outcome summary built."""
    clinic = Clinic.objects.create(name=name, time_zone="America/Vancouver")
    users = {
        p.key: User.objects.create(
            username=f"{p.key}-{clinic.pk}", clinic=clinic, role=Role.PHYSICIAN
        )
        for p in PRACTITIONERS
    }
    synth = generate_clinic(seed=seed, patients=patients, today=TODAY, name=name)
    patients_load(clinic=clinic, practitioners=users, patients=synth.patients)
    diary_load(clinic, synth.patients)
    session_outcomes_refresh(clinic_id=clinic.pk)
    return clinic


def diary_load(clinic: Clinic, patients: Any) -> None:
    ids = dict(Patient.objects.filter(clinic=clinic).values_list("chart_number", "pk"))
    rows = [
        DiaryEntry(clinic=clinic, patient_id=ids[p.chart_number], entry_date=d.date, pain=d.pain)
        for p in patients
        for d in p.diary
    ]
    DiaryEntry.objects.bulk_create(rows, batch_size=500)


def reference_report(
    clinic: Clinic | None = None,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    modality: str | None = None,
    region: str | None = None,
    threshold_kg_cm2: float = core.DEFAULT_THRESHOLD_KG_CM2,
) -> dict[str, Any]:
    sessions = Session.objects.all()
    if clinic is not None:
        sessions = sessions.filter(clinic=clinic)
    rows: list[core.SessionRow] = []
    selected: list[int] = []
    zones: dict[int, zoneinfo.ZoneInfo] = {}
    for sid, pid, cid, at, pain, mod, reg in sessions.values_list(
        "id",
        "series__patient_id",
        "clinic_id",
        "performed_at",
        "pain_before",
        "series__modality",
        "series__region",
    ):
        if cid not in zones:
            zones[cid] = zoneinfo.ZoneInfo(Clinic.objects.get(pk=cid).time_zone)
        day = at.astimezone(zones[cid]).date()
        rows.append(core.SessionRow(sid, pid, day, pain))
        if (
            (date_from is None or day >= date_from)
            and (date_to is None or day <= date_to)
            and (modality is None or mod == modality)
            and (region is None or reg == region)
        ):
            selected.append(sid)
    ids = [r.session_id for r in rows]
    readings = [
        core.ReadingRow(*values)
        for values in AlgometerReading.objects.filter(session_id__in=ids).values_list(
            "session_id", "site", "side", "phase", "value_kpa"
        )
    ]
    patients = {r.patient_id for r in rows}
    diary = [
        core.DiaryRow(*values)
        for values in DiaryEntry.objects.filter(patient_id__in=patients).values_list(
            "patient_id", "entry_date", "pain"
        )
    ]
    events = [
        core.AdverseEventRow(*values)
        for values in AdverseEvent.objects.filter(session_id__in=ids).values_list(
            "session_id", "serious"
        )
    ]
    agg = core.reference_aggregates(
        rows, readings, diary, events, selected=selected, threshold_kg_cm2=threshold_kg_cm2
    )
    return core.outcomes_report(agg, threshold_kg_cm2=threshold_kg_cm2, modality=modality)


def assert_same(actual: Any, expected: Any, path: str = "") -> None:
    """Equal, floats within 1e-6 (sums in another order differ in the last bits)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), path
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    elif isinstance(expected, float) and expected is not None and actual is not None:
        assert math.isclose(actual, expected, abs_tol=1e-6), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
