"""Registry import: a folder of CSV files into a clinic, all of it or nothing.

Files (UTF-8, a header row; columns in any order):

- ``patients.csv``: patient_id, birth_year, sex (female|male|other|unknown), weight_kg
  (optional), diabetes (true|false)
- ``sessions.csv``: session_id, patient_id, date (YYYY-MM-DD), modality (neural|classic),
  region (a region code of the catalog), pain_before (0-10, optional), pgic (1-7, optional)
- ``algometry.csv``: session_id, site, side (left|right|midline), phase (baseline|1min|15min),
  value, unit (kg/cm2|N/cm2|kPa)
- ``diary.csv``: patient_id, date, pain (0-10)
- ``adverse_events.csv``: session_id, category, serious (true|false)

``patients.csv`` and ``sessions.csv`` are required; the other three may be absent (no rows).
Every row is checked before anything is written; the first problem stops the import with a
``RegistryError`` naming the file, the line and the column.

How registry rows become records (the registry has less than a chart):

- a patient has no name: given name empty, family name "Registry", chart number = the
  registry's patient_id; birth date = 1 July of birth_year (at most half a year off);
- sessions are grouped into one completed treatment series per (patient, modality, region);
- a session's time is noon of its date in the clinic's zone; its practitioner, and signer, is
  the clinic's "registry-import" user (inactive, with no usable password: nobody signs in as
  it), so imported sessions are signed history that the charting pages never edit;
- a site or adverse-event category the catalog does not know is kept as given (up to 64
  characters); readings are converted to kPa with ``core.units`` and keep the entered unit;
- an adverse event's onset is its session's date;
- the registry's patient and session ids are kept (``RegistrySource``); importing an id the
  clinic already has is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from prolotrack.accounts.models import Clinic, User
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.core import units
from prolotrack.core.catalog import load_catalog
from prolotrack.diary.models import DiaryEntry
from prolotrack.outcomes.models import RegistryImport, RegistrySource, SourceKind
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.patients.models import Patient, Sex
from prolotrack.treatment.models import (
    AdverseEvent,
    AlgometerReading,
    Phase,
    Session,
    TreatmentSeries,
)

BATCH_SIZE = 1000
ID_MAX = 32  # chart numbers hold the registry's patient ids
LABEL_MAX = 64
# A series' plan, which the registry does not give: the usual interval of each modality
# (DOMAIN 1.1: classic every 2-6 weeks; 1.2: neural about weekly).
INTERVAL_DAYS = {"neural": 7, "classic": 28}
IMPORT_USERNAME = "registry-import-{clinic_id}"

FILES = {
    "patients.csv": (("patient_id", "birth_year", "sex", "diabetes"), ("weight_kg",)),
    "sessions.csv": (
        ("session_id", "patient_id", "date", "modality", "region"),
        ("pain_before", "pgic"),
    ),
    "algometry.csv": (("session_id", "site", "side", "phase", "value", "unit"), ()),
    "diary.csv": (("patient_id", "date", "pain"), ()),
    "adverse_events.csv": (("session_id", "category", "serious"), ()),
}
REQUIRED_FILES = ("patients.csv", "sessions.csv")


class RegistryError(Exception):
    """The folder cannot be imported; nothing was written. The message names where."""


@dataclass(frozen=True)
class ImportResult:
    clinic: Clinic
    created_clinic: bool
    registry_import: RegistryImport


@dataclass
class _Row:
    file: str
    line: int
    values: dict[str, str]

    def fail(self, column: str, message: str) -> RegistryError:
        return RegistryError(f'{self.file}, line {self.line}, column "{column}": {message}')

    def text(self, column: str, *, required: bool = True, max_length: int = LABEL_MAX) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            raise self.fail(column, "a value is required")
        if len(value) > max_length:
            raise self.fail(column, f"at most {max_length} characters, not {len(value)}")
        return value

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        value = self.text(column)
        if value not in allowed:
            raise self.fail(column, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def integer(self, column: str, low: int, high: int, *, required: bool = True) -> int | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise self.fail(column, f"{number} is not between {low} and {high}")
        return number

    def boolean(self, column: str) -> bool:
        return self.choice(column, ("true", "false")) == "true"

    def date(self, column: str) -> dt.date:
        value = self.text(column)
        try:
            if len(value) != 10:
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def decimal(self, column: str, *, required: bool = True) -> Decimal | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.fail(column, f"{value!r} is not a number") from None
        if not number.is_finite():
            raise self.fail(column, f"{value!r} is not a number")
        return number


@dataclass
class _Parsed:
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    readings: list[dict[str, Any]] = field(default_factory=list)
    diary: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _rows(folder: Path, name: str) -> Iterator[_Row]:
    required, optional = FILES[name]
    path = folder / name
    if not path.exists():
        if name in REQUIRED_FILES:
            raise RegistryError(f"{name}: the file is missing from {folder.name}")
        return
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            try:
                header = [h.strip().lstrip("\ufeff") for h in next(reader)]
            except StopIteration:
                raise RegistryError(f"{name}, line 1: the header row is missing") from None
            for column in required:
                if column not in header:
                    raise RegistryError(f'{name}, line 1, column "{column}": missing from header')
            for position, column in enumerate(header, start=1):
                if column not in required and column not in optional:
                    raise RegistryError(
                        f'{name}, line 1, column {position} "{column}": not a column of {name}'
                    )
            if len(set(header)) != len(header):
                raise RegistryError(f"{name}, line 1: a column is named twice")
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise RegistryError(
                        f"{name}, line {reader.line_num}: {len(values)} values for "
                        f"{len(header)} columns"
                    )
                yield _Row(name, reader.line_num, dict(zip(header, values, strict=True)))
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise RegistryError(f"{name}: not valid CSV ({exc})") from None


def registry_parse(folder: Path) -> _Parsed:
    """Read and check every file; RegistryError at the first problem."""
    catalog = load_catalog()
    parsed = _Parsed()
    for row in _rows(folder, "patients.csv"):
        pid = row.text("patient_id", max_length=ID_MAX)
        if pid in parsed.patients:
            raise row.fail("patient_id", f"{pid!r} appears twice")
        weight = row.decimal("weight_kg", required=False)
        if weight is not None and not Decimal(1) <= weight <= Decimal(400):
            raise row.fail("weight_kg", f"{weight} is not between 1 and 400")
        parsed.patients[pid] = {
            "line": row,
            "birth_year": row.integer("birth_year", 1900, dt.date.today().year),
            "sex": row.choice("sex", tuple(Sex.values)),
            "weight_kg": None if weight is None else weight.quantize(Decimal("0.1")),
            "diabetes": row.boolean("diabetes"),
        }
    for row in _rows(folder, "sessions.csv"):
        sid = row.text("session_id")
        if sid in parsed.sessions:
            raise row.fail("session_id", f"{sid!r} appears twice")
        pid = row.text("patient_id")
        if pid not in parsed.patients:
            raise row.fail("patient_id", f"{pid!r} is not in patients.csv")
        region = row.text("region")
        if region not in catalog.regions:
            raise row.fail("region", f"{region!r} is not a region code of the catalog")
        parsed.sessions[sid] = {
            "line": row,
            "patient": pid,
            "date": row.date("date"),
            "modality": row.choice("modality", ("neural", "classic")),
            "region": region,
            "pain_before": row.integer("pain_before", 0, 10, required=False),
            "pgic": row.integer("pgic", 1, 7, required=False),
        }
    seen: set[tuple[str, str, str, str]] = set()
    for row in _rows(folder, "algometry.csv"):
        sid = _session_ref(row, parsed)
        site = row.text("site")
        side = row.choice("side", ("left", "right", "midline"))
        phase = row.choice("phase", tuple(Phase.values))
        value = row.decimal("value")
        unit = row.choice("unit", tuple(u.value for u in units.PressureUnit))
        assert value is not None
        problem = units.check_reading(float(value), unit)
        if problem:
            raise row.fail("value", problem)
        if (sid, site, side, phase) in seen:
            raise row.fail("phase", f"a second {phase} reading at {site} {side} in session {sid}")
        seen.add((sid, site, side, phase))
        value = value.quantize(Decimal("0.01"))
        parsed.readings.append(
            {
                "session": sid,
                "site": site,
                "side": side,
                "phase": phase,
                "value": value,
                "unit": unit,
                "value_kpa": units.to_kpa(float(value), unit),
            }
        )
    for row in _rows(folder, "diary.csv"):
        pid = row.text("patient_id")
        if pid not in parsed.patients:
            raise row.fail("patient_id", f"{pid!r} is not in patients.csv")
        parsed.diary.append(
            {"patient": pid, "date": row.date("date"), "pain": row.integer("pain", 0, 10)}
        )
    for row in _rows(folder, "adverse_events.csv"):
        parsed.events.append(
            {
                "session": _session_ref(row, parsed),
                "category": row.text("category"),
                "serious": row.boolean("serious"),
            }
        )
    return parsed


def _session_ref(row: _Row, parsed: _Parsed) -> str:
    sid = row.text("session_id")
    if sid not in parsed.sessions:
        raise row.fail("session_id", f"{sid!r} is not in sessions.csv")
    return sid


def registry_import(
    *,
    folder: Path,
    clinic_name: str,
    time_zone: str = "America/Vancouver",
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import ``folder`` into the clinic named ``clinic_name`` (created when missing)."""
    say = progress or (lambda _text: None)
    if not folder.is_dir():
        raise RegistryError(f"{folder.name or folder}: not a folder")
    say("checking the files")
    parsed = registry_parse(folder)
    clinic = Clinic.objects.filter(name=clinic_name).first()
    if clinic is not None:
        _refuse_known_ids(clinic, parsed)
    say(
        f"writing {len(parsed.patients)} patients, {len(parsed.sessions)} sessions, "
        f"{len(parsed.readings)} readings, {len(parsed.diary)} diary entries, "
        f"{len(parsed.events)} adverse events"
    )
    with transaction.atomic():
        created = clinic is None
        if clinic is None:
            try:
                zoneinfo.ZoneInfo(time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise RegistryError(f"--time-zone: {time_zone!r} is not a time zone") from None
            clinic = Clinic.objects.create(name=clinic_name, time_zone=time_zone)
        batch = _write(clinic, folder.name, parsed)
        say("computing the outcome summary")
        session_outcomes_refresh(
            clinic_id=clinic.pk,
            patient_ids=[p["id"] for p in parsed.patients.values()],
        )
        audit_record(
            action=Action.CREATE,
            object_type="registry_import",
            object_id=batch.pk,
            clinic_id=clinic.pk,
            detail={
                "patients": batch.patients,
                "sessions": batch.sessions,
                "readings": batch.readings,
                "diary_entries": batch.diary_entries,
                "adverse_events": batch.adverse_events,
                "created_clinic": created,
            },
        )
    return ImportResult(clinic=clinic, created_clinic=created, registry_import=batch)


def _refuse_known_ids(clinic: Clinic, parsed: _Parsed) -> None:
    for kind, items in (
        (SourceKind.PATIENT, parsed.patients),
        (SourceKind.SESSION, parsed.sessions),
    ):
        known = set()
        keys = list(items)
        for start in range(0, len(keys), 900):
            known |= set(
                RegistrySource.objects.filter(
                    clinic=clinic, kind=kind, source_id__in=keys[start : start + 900]
                ).values_list("source_id", flat=True)
            )
        for key, item in items.items():
            if key in known:
                column = f"{kind}_id"
                raise item["line"].fail(
                    column,
                    f"{key!r} was imported into {clinic.name!r} before; importing the same "
                    "ids again is refused",
                )
    keys = list(parsed.patients)
    taken: set[str] = set()
    for start in range(0, len(keys), 900):
        taken |= set(
            Patient.objects.filter(
                clinic=clinic, chart_number__in=keys[start : start + 900]
            ).values_list("chart_number", flat=True)
        )
    for key, item in parsed.patients.items():
        if key in taken:
            raise item["line"].fail(
                "patient_id", f"{key!r} is already a chart number in {clinic.name!r}"
            )


def import_user(clinic: Clinic) -> User:
    """The clinic's registry-import user: inactive, no usable password (never signs in)."""
    user, _ = User.objects.get_or_create(
        username=IMPORT_USERNAME.format(clinic_id=clinic.pk),
        defaults={
            "clinic": clinic,
            "first_name": "Registry",
            "last_name": "import",
            "is_active": False,
            "password": make_password(None),
        },
    )
    return user


def _write(clinic: Clinic, folder_name: str, parsed: _Parsed) -> RegistryImport:
    cid = clinic.pk
    zone = zoneinfo.ZoneInfo(clinic.time_zone)
    author = import_user(clinic)
    batch = RegistryImport.objects.create(
        clinic=clinic,
        folder=folder_name[:200],
        patients=len(parsed.patients),
        sessions=len(parsed.sessions),
        readings=len(parsed.readings),
        diary_entries=len(parsed.diary),
        adverse_events=len(parsed.events),
    )
    patients = [
        Patient(
            clinic_id=cid,
            chart_number=pid,
            given_name="",
            family_name="Registry",
            birth_date=dt.date(p["birth_year"], 7, 1),
            sex=p["sex"],
            weight_kg=p["weight_kg"],
            diabetes=p["diabetes"],
        )
        for pid, p in parsed.patients.items()
    ]
    Patient.objects.bulk_create(patients, batch_size=BATCH_SIZE)
    for (_pid, p), row in zip(parsed.patients.items(), patients, strict=True):
        p["id"] = row.pk

    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for s in parsed.sessions.values():
        groups.setdefault((s["patient"], s["modality"], s["region"]), []).append(s)
    series_rows = []
    for (pid, modality, region), items in groups.items():
        series_rows.append(
            TreatmentSeries(
                clinic_id=cid,
                patient_id=parsed.patients[pid]["id"],
                modality=modality,
                region=region,
                planned_sessions=max(1, min(30, len(items))),
                planned_interval_days=INTERVAL_DAYS[modality],
                status="completed",
                started_on=min(i["date"] for i in items),
            )
        )
    TreatmentSeries.objects.bulk_create(series_rows, batch_size=BATCH_SIZE)
    for items, row in zip(groups.values(), series_rows, strict=True):
        for item in items:
            item["series"] = row.pk

    session_rows = []
    for s in parsed.sessions.values():
        at = dt.datetime.combine(s["date"], dt.time(12), tzinfo=zone).astimezone(dt.UTC)
        session_rows.append(
            Session(
                clinic_id=cid,
                series_id=s["series"],
                performed_at=at,
                practitioner_id=author.pk,
                pain_before=s["pain_before"],
                pgic=s["pgic"],
                signed_at=at,
                signed_by_id=author.pk,
            )
        )
    Session.objects.bulk_create(session_rows, batch_size=BATCH_SIZE)
    for s, row in zip(parsed.sessions.values(), session_rows, strict=True):
        s["id"] = row.pk
        s["onset"] = s["date"]

    AlgometerReading.objects.bulk_create(
        (
            AlgometerReading(
                clinic_id=cid,
                session_id=parsed.sessions[r["session"]]["id"],
                site=r["site"],
                side=r["side"],
                phase=r["phase"],
                value=r["value"],
                unit=r["unit"],
                value_kpa=r["value_kpa"],
            )
            for r in parsed.readings
        ),
        batch_size=BATCH_SIZE,
    )
    DiaryEntry.objects.bulk_create(
        (
            DiaryEntry(
                clinic_id=cid,
                patient_id=parsed.patients[d["patient"]]["id"],
                entry_date=d["date"],
                pain=d["pain"],
            )
            for d in parsed.diary
        ),
        batch_size=BATCH_SIZE,
    )
    AdverseEvent.objects.bulk_create(
        (
            AdverseEvent(
                clinic_id=cid,
                session_id=parsed.sessions[e["session"]]["id"],
                category=e["category"],
                serious=e["serious"],
                onset=parsed.sessions[e["session"]]["date"],
            )
            for e in parsed.events
        ),
        batch_size=BATCH_SIZE,
    )
    RegistrySource.objects.bulk_create(
        [
            RegistrySource(
                clinic_id=cid,
                registry_import=batch,
                kind=SourceKind.PATIENT,
                source_id=pid,
                object_id=p["id"],
            )
            for pid, p in parsed.patients.items()
        ]
        + [
            RegistrySource(
                clinic_id=cid,
                registry_import=batch,
                kind=SourceKind.SESSION,
                source_id=sid,
                object_id=s["id"],
            )
            for sid, s in parsed.sessions.items()
        ],
        batch_size=BATCH_SIZE,
    )
    return batch
