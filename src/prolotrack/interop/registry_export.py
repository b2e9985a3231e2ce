"""Research CSV: a clinic's records in the registry format that `import-registry` reads.

Five files (patients, sessions, algometry, diary, adverse_events; the columns are documented in
the README, "Registry CSV"). Identified exports use the clinic's chart numbers and prolotrack's
session numbers as ids. De-identified exports (``deidentify=True``) carry no names or contact
details (the format has none), the birth year only, ids replaced by random ones, and every date
of a patient shifted by one random number of days of that patient's, so the intervals between a
patient's dates (what relief and response are measured by) are kept while the calendar dates
are not.

Rows stream from the database in chunks and go straight to the files, so memory does not grow
with the clinic. The files are written into a hidden folder beside the destination and moved
into place at the end: a failed export leaves nothing behind that looks complete.
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets
import shutil
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from prolotrack.accounts.models import Clinic
from prolotrack.diary.models import DiaryEntry
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AdverseEvent, AlgometerReading, Session

FILES = {
    "patients.csv": ["patient_id", "birth_year", "sex", "weight_kg", "diabetes"],
    "sessions.csv": [
        "session_id",
        "patient_id",
        "date",
        "modality",
        "region",
        "pain_before",
        "pgic",
    ],
    "algometry.csv": ["session_id", "site", "side", "phase", "value", "unit"],
    "diary.csv": ["patient_id", "date", "pain"],
    "adverse_events.csv": ["session_id", "category", "serious"],
}
CHUNK = 2000
# A de-identified patient's dates move by up to this many days either way (a year: enough that
# a date cannot be matched to a clinic's calendar, small enough to keep seasons roughly).
MAX_SHIFT_DAYS = 365
# De-identified birth years say at most this age (older patients are grouped here).
OLDEST_AGE = 90


class ExportError(ValueError):
    """The export cannot be made as asked; the message names the argument."""


@dataclass
class Pseudonyms:
    """Random ids and date shifts, made once per patient and session for one export."""

    deidentify: bool
    this_year: int = field(default_factory=lambda: dt.date.today().year)
    patients: dict[int, str] = field(default_factory=dict)
    shifts: dict[int, dt.timedelta] = field(default_factory=dict)
    sessions: dict[int, str] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)

    def _new_id(self, prefix: str) -> str:
        while True:
            candidate = f"{prefix}{secrets.token_hex(6)}"
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate

    def patient(self, patient: Patient) -> str:
        if patient.pk not in self.patients:
            if self.deidentify:
                self.patients[patient.pk] = self._new_id("p-")
                days = secrets.randbelow(2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS
                self.shifts[patient.pk] = dt.timedelta(days=days)
            else:
                self.patients[patient.pk] = patient.chart_number
                self.shifts[patient.pk] = dt.timedelta(0)
        return self.patients[patient.pk]

    def session(self, session_id: int) -> str:
        if session_id not in self.sessions:
            self.sessions[session_id] = self._new_id("s-") if self.deidentify else f"S{session_id}"
        return self.sessions[session_id]

    def birth_year(self, year: int) -> int:
        """The birth year; de-identified, ages over 89 are grouped at 90, whose birth year
        is this year - 90 (the HIPAA Safe Harbor rule for ages, 45 CFR 164.514(b)(2)(i)(C))."""
        if self.deidentify:
            return max(year, self.this_year - OLDEST_AGE)
        return year

    def day(self, patient_id: int, day: dt.date) -> str:
        return (day + self.shifts[patient_id]).isoformat()


@dataclass(frozen=True)
class ExportCounts:
    patients: int
    sessions: int
    readings: int
    diary_entries: int
    adverse_events: int


def export_registry(clinic: Clinic, out: Path, *, deidentify: bool) -> ExportCounts:
    """Write the clinic's registry CSV files into the folder ``out`` (new or empty)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"DIR: {out} exists and is not an empty folder")
    if not out.parent.is_dir():
        raise ExportError(f"DIR: the folder {out.parent} does not exist")
    partial = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    # Identified exports are health information: readable by their owner only, as the FHIR
    # bulk export's.
    partial.mkdir(mode=0o700)
    try:
        counts = _write(
            clinic, partial, Pseudonyms(deidentify), zoneinfo.ZoneInfo(clinic.time_zone)
        )
        if out.exists():
            out.rmdir()
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return counts


def _writer(folder: Path, name: str) -> tuple[csv.writer, object]:  # type: ignore[valid-type]
    handle = (folder / name).open("w", encoding="utf-8", newline="")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(FILES[name])
    return writer, handle


def _write(clinic: Clinic, folder: Path, ids: Pseudonyms, zone: zoneinfo.ZoneInfo) -> ExportCounts:
    n = dict.fromkeys(["patients", "sessions", "readings", "diary", "events"], 0)
    writer, handle = _writer(folder, "patients.csv")
    with handle:  # type: ignore[attr-defined]
        for patient in _patients(clinic):
            writer.writerow(
                [
                    ids.patient(patient),
                    ids.birth_year(patient.birth_date.year),
                    patient.sex,
                    "" if patient.weight_kg is None else f"{patient.weight_kg.normalize():f}",
                    "true" if patient.diabetes else "false",
                ]
            )
            n["patients"] += 1

    writer, handle = _writer(folder, "sessions.csv")
    session_patient: dict[int, int] = {}
    with handle:  # type: ignore[attr-defined]
        rows = (
            Session.objects.filter(clinic=clinic)
            # By patient, then date: calendar order across patients would undo the date shifts.
            .order_by("series__patient_id", "performed_at", "id")
            .values_list(
                "id",
                "series__patient_id",
                "performed_at",
                "series__modality",
                "series__region",
                "pain_before",
                "pgic",
            )
        )
        for sid, pid, performed_at, modality, region, pain_before, pgic in rows.iterator(CHUNK):
            session_patient[sid] = pid
            day = performed_at.astimezone(zone).date()
            writer.writerow(
                [
                    ids.session(sid),
                    ids.patients[pid],
                    ids.day(pid, day),
                    modality,
                    region,
                    "" if pain_before is None else pain_before,
                    "" if pgic is None else pgic,
                ]
            )
            n["sessions"] += 1

    writer, handle = _writer(folder, "algometry.csv")
    with handle:  # type: ignore[attr-defined]
        readings = (
            AlgometerReading.objects.filter(clinic=clinic)
            .order_by("session_id", "id")
            .values_list("session_id", "site", "side", "phase", "value", "unit")
        )
        for sid, site, side, phase, value, unit in readings.iterator(CHUNK):
            writer.writerow([ids.session(sid), site, side, phase, f"{value.normalize():f}", unit])
            n["readings"] += 1

    writer, handle = _writer(folder, "diary.csv")
    with handle:  # type: ignore[attr-defined]
        entries = (
            DiaryEntry.objects.filter(clinic=clinic)
            .order_by("patient_id", "entry_date", "id")
            .values_list("patient_id", "entry_date", "pain")
        )
        for pid, day, pain in entries.iterator(CHUNK):
            if pid in ids.patients:
                writer.writerow([ids.patients[pid], ids.day(pid, day), pain])
                n["diary"] += 1

    writer, handle = _writer(folder, "adverse_events.csv")
    with handle:  # type: ignore[attr-defined]
        events = (
            AdverseEvent.objects.filter(clinic=clinic)
            .order_by("session_id", "id")
            .values_list("session_id", "category", "serious")
        )
        for sid, category, serious in events.iterator(CHUNK):
            writer.writerow([ids.session(sid), category, "true" if serious else "false"])
            n["events"] += 1
    return ExportCounts(n["patients"], n["sessions"], n["readings"], n["diary"], n["events"])


def _patients(clinic: Clinic) -> Iterator[Patient]:
    return (
        Patient.objects.filter(clinic=clinic)
        .only("id", "chart_number", "birth_date", "sex", "weight_kg", "diabetes")
        .order_by("id")
        .iterator(CHUNK)
    )
