"""Reading a clinic, or one patient, as a stream of FHIR resources.

``resources(scope)`` yields ``(resource_type, resource)`` grouped by type, in the order the
importer needs them (what is referenced comes first). Every query is ordered by primary key and
read with ``iterator()`` in chunks, with the rows each resource needs fetched per chunk
(``select_related``/``prefetch_related``), so memory stays flat whatever the clinic's size and the
number of queries does not grow with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.db.models import Prefetch, Q

from prolotrack.accounts.models import CLINICIAN_ROLES, Clinic, User
from prolotrack.interop.fhir import mapping as m
from prolotrack.interop.fhir import terminology as t
from prolotrack.patients.models import Condition, Patient, Screening
from prolotrack.treatment.models import (
    AdverseEvent,
    AlgometerReading,
    Injection,
    Session,
    SessionAmendment,
    TreatmentSeries,
)

# Rows fetched per query of a stream.
CHUNK = 2000

# In the order a reader must create them: each type refers only to types before it.
RESOURCE_TYPES = (
    "Organization",
    "Practitioner",
    "Patient",
    "Condition",
    "CarePlan",
    "Procedure",
    "MedicationAdministration",
    "Observation",
    "AdverseEvent",
    "Provenance",
    "DetectedIssue",
)

# How each model reaches its patient, for a one-patient scope.
_PATIENT_PATH = {
    Patient: "pk",
    Condition: "patient",
    TreatmentSeries: "patient",
    Session: "series__patient",
    Injection: "session__series__patient",
    AlgometerReading: "session__series__patient",
    AdverseEvent: "session__series__patient",
    SessionAmendment: "session__series__patient",
    Screening: "patient",
}


@dataclass(frozen=True)
class Scope:
    """A clinic, or one patient of it."""

    clinic: Clinic
    patient_id: int | None = None

    def rows(self, model: type[models.Model], path: str | None = None) -> models.QuerySet[Any]:
        qs = model._default_manager.filter(clinic_id=self.clinic.pk)
        if self.patient_id is not None:
            qs = qs.filter(**{path or _PATIENT_PATH[model]: self.patient_id})
        return qs.order_by("pk")


def diary_model() -> type[models.Model] | None:
    """The diary's entries, when the diary app has its model (it is optional for export)."""
    try:
        return apps.get_model("diary", "DiaryEntry")
    except LookupError:
        return None


def _stream(qs: models.QuerySet[Any]) -> Iterator[Any]:
    return qs.iterator(chunk_size=CHUNK)


def _practitioners(scope: Scope) -> Iterator[User]:
    """The staff the scope's records name: who performed, signed, amended or overrode a
    session, or recorded a screening; in a clinic, also every practitioner."""
    users = User.objects.filter(clinic_id=scope.clinic.pk).select_related("practitioner")
    sessions = scope.rows(Session)
    named = (
        Q(pk__in=sessions.values("practitioner_id"))
        | Q(pk__in=sessions.filter(signed_by__isnull=False).values("signed_by_id"))
        | Q(pk__in=sessions.filter(override_by__isnull=False).values("override_by_id"))
        | Q(pk__in=scope.rows(SessionAmendment).values("author_id"))
        | Q(pk__in=scope.rows(Screening).values("recorded_by_id"))
    )
    if scope.patient_id is None:
        # A user whose role has changed since is still named by the records they wrote.
        named |= Q(practitioner__isnull=False) | Q(role__in=CLINICIAN_ROLES)
    return _stream(users.filter(named).order_by("pk"))


def _sessions(scope: Scope) -> models.QuerySet[Session]:
    return scope.rows(Session).select_related("series")


def _diary_observations(scope: Scope, diary: type[models.Model]) -> Iterator[dict[str, Any]]:
    """Each diary entry, followed by the pain of each of its treated areas."""
    areas = apps.get_model("diary", "DiaryAreaPain")
    per_area = Prefetch(
        "area_pains", queryset=areas._default_manager.select_related("series").order_by("series_id")
    )
    for entry in _stream(scope.rows(diary, "patient").prefetch_related(per_area)):
        yield from m.diary_observations(entry)


def resources_of(scope: Scope, resource_type: str) -> Iterator[dict[str, Any]]:
    """The resources of one type in ``scope``, streamed."""
    if resource_type == "Organization":
        yield m.organization(scope.clinic)
    elif resource_type == "Practitioner":
        yield from map(m.practitioner, _practitioners(scope))
    elif resource_type == "Patient":
        yield from map(m.patient, _stream(scope.rows(Patient)))
    elif resource_type == "Condition":
        yield from map(m.condition, _stream(scope.rows(Condition)))
    elif resource_type == "CarePlan":
        yield from map(m.care_plan, _stream(scope.rows(TreatmentSeries)))
    elif resource_type == "Procedure":
        injections = Prefetch("injections", queryset=Injection.objects.order_by("position", "pk"))
        amendments = Prefetch(
            "amendments", queryset=SessionAmendment.objects.order_by("created_at", "pk")
        )
        rows = _sessions(scope).prefetch_related(injections, amendments)
        for session in _stream(rows):
            yield m.procedure(session, session.injections.all(), session.amendments.all())
    elif resource_type == "MedicationAdministration":
        rows = scope.rows(Injection).select_related("session__series")
        yield from map(m.medication_administration, _stream(rows))
    elif resource_type == "Observation":
        for session in _stream(_sessions(scope)):
            yield from m.session_observations(session)
        readings = scope.rows(AlgometerReading).select_related("session__series")
        yield from map(m.algometer_observation, _stream(readings))
        diary = diary_model()
        if diary is not None:
            yield from _diary_observations(scope, diary)
        yield from map(m.screening_observation, _stream(scope.rows(Screening)))
    elif resource_type == "AdverseEvent":
        rows = scope.rows(AdverseEvent).select_related("session__series")
        yield from map(m.adverse_event, _stream(rows))
    elif resource_type == "Provenance":
        signed = _sessions(scope).filter(signed_at__isnull=False)
        yield from map(m.provenance, _stream(signed))
        yield from map(m.amendment_provenance, _stream(scope.rows(SessionAmendment)))
    elif resource_type == "DetectedIssue":
        overridden = _sessions(scope).filter(override_at__isnull=False)
        for session in _stream(overridden):
            yield from m.override_issues(session)
    else:
        raise ValueError(f"prolotrack does not export {resource_type!r}")


def resources(scope: Scope) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource_type in RESOURCE_TYPES:
        for resource in resources_of(scope, resource_type):
            yield resource_type, resource


def without_clinician_notes(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` without what only practitioners read: the notes of conditions, sessions
    (their amendments included), screenings and adverse events, the reasons of overrides, and
    injection lots (as on the pages, a patient never sees them), nor the staff's sign-in
    names. Who amended or overrode, and when, stays."""
    if kind == "Practitioner":
        resource.pop("identifier", None)
    elif kind in ("Condition", "Procedure"):
        resource.pop("note", None)
    elif kind == "Observation" and resource["id"].startswith("screening-"):
        resource.pop("note", None)  # the diary's note is the patient's own: it stays
    elif kind == "DetectedIssue":
        reason = t.extension_url("override-reason")
        for mitigation in resource.get("mitigation", []):
            kept = [e for e in mitigation.get("extension", []) if e.get("url") != reason]
            if kept:
                mitigation["extension"] = kept
            else:
                mitigation.pop("extension", None)
    elif kind == "MedicationAdministration":
        for contained in resource.get("contained", []):
            contained.pop("batch", None)
    elif kind == "AdverseEvent":
        note = t.extension_url("note")
        kept = [e for e in resource.get("extension", []) if e.get("url") != note]
        if kept:
            resource["extension"] = kept
        else:
            resource.pop("extension", None)
    return resource


def patient_bundle(
    patient: Patient, base_url: str, *, clinician_notes: bool = True
) -> dict[str, Any]:
    """``Patient/$everything``: a searchset Bundle of everything recorded about one patient.

    ``base_url`` is the absolute URL that ``Type/id`` follows in each entry's fullUrl. Without
    ``clinician_notes`` (the patient's own copy) the clinician-only fields are left out.
    """
    found = resources(Scope(patient.clinic, patient.pk))
    if not clinician_notes:
        found = ((kind, without_clinician_notes(kind, r)) for kind, r in found)
    entries = [
        {
            "fullUrl": f"{base_url.rstrip('/')}/{kind}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match" if kind == "Patient" else "include"},
        }
        for kind, resource in found
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": m.instant(dt.datetime.now(dt.UTC).replace(microsecond=0)),
        "total": 1,
        "entry": entries,
    }


def dumps(resource: dict[str, Any]) -> str:
    """One NDJSON line (without its newline): compact, UTF-8, keys in the order written."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


@contextlib.contextmanager
def read_snapshot() -> Iterator[None]:
    """Read the whole export from one snapshot of the database, as backups do.

    Inside a caller's transaction (tests), that transaction already gives one view.
    """
    if connection.in_atomic_block:
        yield
        return
    from prolotrack.ops.backup import read_snapshot as snapshot

    with snapshot(connection):
        yield


class ExportError(Exception):
    """Nothing was exported; the message says why."""


MANIFEST = "manifest.json"


def bulk_export(clinic: Clinic, out: Path, *, request: str = "") -> dict[str, Any]:
    """Write ``clinic`` as FHIR NDJSON, one file per resource type, and a manifest; return it.

    ``out`` must not exist or be an empty folder. The manifest follows the FHIR Bulk Data
    export manifest (``output`` with type, url and count per file) and adds, under
    ``extension``, the clinic, the format and each file's SHA-256.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} exists and is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)  # health information: readable by its owner only
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    output = []
    sums = {}
    scope = Scope(clinic)
    with read_snapshot():
        for resource_type in RESOURCE_TYPES:
            name = f"{resource_type}.ndjson"
            digest = hashlib.sha256()
            count = 0
            fd = os.open(out / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(fd, "w", encoding="utf-8", newline="\n") as handle:
                for resource in resources_of(scope, resource_type):
                    line = dumps(resource) + "\n"
                    handle.write(line)
                    digest.update(line.encode("utf-8"))
                    count += 1
            output.append({"type": resource_type, "url": name, "count": count})
            sums[name] = digest.hexdigest()
    manifest = {
        "transactionTime": m.instant(started),
        "request": request or "prolotrack export-fhir",
        "requiresAccessToken": False,
        "output": output,
        "error": [],
        "extension": {
            "https://prolotrack.org/fhir/bulk": {
                "format": "prolotrack-fhir-ndjson",
                "fhirVersion": "4.0.1",
                "clinic": clinic.name,
                "sha256": sums,
            }
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
