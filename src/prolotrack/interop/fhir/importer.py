"""Reading FHIR resources, as prolotrack exports them, into an empty clinic.

The input is a Bundle in one JSON file or a bulk-export folder of NDJSON files named
``<Type>.ndjson``. Resources are read in the order of ``export.RESOURCE_TYPES`` (each type refers
only to types before it), so a folder is streamed line by line and only the map from FHIR ids
to new primary keys is kept. Everything is written in one transaction: an error anywhere leaves
the database as it was.

Errors name where (file, entry or line), the resource (type/id) and the path inside it::

    Observation.ndjson line 3: Observation/ppt-7: valueQuantity.unit: expected kPa

Refused before anything is parsed: a file over the size limit, XML (never parsed: no external
entities, no entity expansion) and anything else that is not JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from django.apps import apps
from django.db import models, transaction

from prolotrack.accounts.models import Clinic, PractitionerProfile, Role, User
from prolotrack.core import units
from prolotrack.core.catalog import load_catalog
from prolotrack.core.charting import (
    InjectionInput,
    ReadingInput,
    Solution,
    check_injection,
    check_pain,
    check_reading,
)
from prolotrack.core.rules.vocabulary import History, Symptom
from prolotrack.core.triage import SideEffect
from prolotrack.interop.fhir import mapping as m
from prolotrack.interop.fhir import terminology as t
from prolotrack.interop.fhir.export import RESOURCE_TYPES, diary_model
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.patients.models import Condition, Patient, Screening, Sex
from prolotrack.treatment.models import (
    AdverseEvent,
    Session,
    SessionAmendment,
    TreatmentSeries,
)
from prolotrack.treatment.services import injection_rows, reading_rows

MIB = 1024 * 1024
# A Bundle is read whole, so its size is limited; NDJSON is streamed, so a folder may be larger.
MAX_BUNDLE_BYTES = 64 * MIB
MAX_NDJSON_BYTES = 4096 * MIB
MAX_LINE_BYTES = 1 * MIB
# JSON nested deeper than this is not a FHIR resource prolotrack writes.
MAX_DEPTH = 40
BATCH = 500
# The longest screening note the screening form takes (patients.services.screening_record).
SCREENING_NOTES_MAX = 5000

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_REF = re.compile(r"([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})")

SERIES_STATUS = {v: k for k, v in m.CAREPLAN_STATUS.items()}
PHASE_FIELD = {v: k for k, v in m.SESSION_PHASES.items()}
UCUM_ENTERED_UNIT = {v: k for k, v in m.ENTERED_UNIT_UCUM.items()}


class FhirImportError(Exception):
    """Nothing was imported; the message names the file, the resource and the path."""


@dataclass(frozen=True)
class AmendmentNote:
    """An amendment read from a Procedure's notes, waiting for the Provenance that records it."""

    res: Res
    path: str  # "note[1]"
    author_id: int
    at: dt.datetime
    text: str


@dataclass(frozen=True)
class Located:
    resource: Any
    where: str  # "bundle.json entry[3]" or "Observation.ndjson line 5"


@dataclass
class ImportResult:
    clinic: Clinic
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# ----------------------------------------------------------------------------------------------
# Reading files


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def _depth_ok(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_depth_ok(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def _sniff(path: Path) -> None:
    """Refuse what is not JSON by its first bytes, before any parser sees it."""
    with path.open("rb") as handle:
        head = handle.read(512)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise FhirImportError(f"{path.name}: the file is empty")
    if text.startswith(b"<"):
        raise FhirImportError(
            f"{path.name}: this looks like XML; prolotrack reads FHIR JSON only and never "
            "parses XML"
        )
    if not text.startswith(b"{"):
        raise FhirImportError(f"{path.name}: not JSON (a FHIR JSON file begins with '{{')")


def _parse(raw: bytes, where: str) -> Any:
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise FhirImportError(f"{where}: not UTF-8 (byte {exc.start})") from None
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise FhirImportError(
            f"{where}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise FhirImportError(f"{where}: malformed JSON: {exc}") from None
    except RecursionError:
        raise FhirImportError(f"{where}: JSON nested too deeply") from None
    if not _depth_ok(value):
        raise FhirImportError(f"{where}: JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _type_of(loc: Located) -> str:
    resource = loc.resource
    if not isinstance(resource, dict):
        raise FhirImportError(f"{loc.where}: expected a JSON object (a FHIR resource)")
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        raise FhirImportError(f"{loc.where}: resourceType: required")
    if kind not in RESOURCE_TYPES:
        rid = resource.get("id", "?")
        raise FhirImportError(
            f"{loc.where}: {kind}/{rid}: resourceType: unknown resource type {kind!r}; "
            f"prolotrack imports {', '.join(RESOURCE_TYPES)}"
        )
    return kind


def read_bundle(path: Path, max_bytes: int = MAX_BUNDLE_BYTES) -> Iterator[Located]:
    size = path.stat().st_size
    if size > max_bytes:
        raise FhirImportError(
            f"{path.name}: {size} bytes is over the Bundle size limit of {max_bytes} bytes; "
            "export as bulk NDJSON instead, or raise --max-bundle-mb"
        )
    _sniff(path)
    bundle = _parse(path.read_bytes(), path.name)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirImportError(f"{path.name}: resourceType: expected a Bundle")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirImportError(f"{path.name}: Bundle.entry: expected a list")
    located = []
    for i, entry in enumerate(entries):
        where = f"{path.name} entry[{i}]"
        if not isinstance(entry, dict) or "resource" not in entry:
            raise FhirImportError(f"{where}: entry.resource: required")
        loc = Located(entry["resource"], where)
        located.append((RESOURCE_TYPES.index(_type_of(loc)), i, loc))
    for _, _, loc in sorted(located, key=lambda item: item[:2]):
        yield loc


def read_ndjson_folder(folder: Path, max_bytes: int = MAX_NDJSON_BYTES) -> Iterator[Located]:
    files = sorted(p for p in folder.iterdir() if p.name != "manifest.json")
    for p in files:
        if not p.is_file() or p.suffix != ".ndjson":
            raise FhirImportError(f"{p.name}: not an NDJSON file (<Type>.ndjson)")
        if p.stem not in RESOURCE_TYPES:
            raise FhirImportError(
                f"{p.name}: unknown resource type {p.stem!r}; prolotrack imports "
                f"{', '.join(RESOURCE_TYPES)}"
            )
    total = sum(p.stat().st_size for p in files)
    if total > max_bytes:
        raise FhirImportError(
            f"{folder.name}: {total} bytes of NDJSON is over the limit of {max_bytes} bytes "
            "(--max-ndjson-mb)"
        )
    for p in files:
        if p.stat().st_size:
            _sniff(p)
    by_type = {p.stem: p for p in files}
    for kind in RESOURCE_TYPES:
        if kind in by_type:
            yield from _ndjson_lines(by_type[kind], kind)


def _ndjson_lines(path: Path, kind: str) -> Iterator[Located]:
    with path.open("rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            where = f"{path.name} line {number}"
            if len(raw) > MAX_LINE_BYTES:
                raise FhirImportError(f"{where}: longer than {MAX_LINE_BYTES} bytes")
            if not raw.strip():
                continue
            loc = Located(_parse(raw, where), where)
            if _type_of(loc) != kind:
                raise FhirImportError(
                    f"{where}: resourceType: expected {kind} in {path.name}, "
                    f"found {loc.resource['resourceType']}"
                )
            yield loc


def read_source(
    path: Path,
    *,
    max_bundle_bytes: int = MAX_BUNDLE_BYTES,
    max_ndjson_bytes: int = MAX_NDJSON_BYTES,
) -> Iterator[Located]:
    path = Path(path)
    if not path.exists():
        raise FhirImportError(f"{path}: no such file or folder")
    if path.is_dir():
        return read_ndjson_folder(path, max_ndjson_bytes)
    if path.suffix == ".ndjson":
        raise FhirImportError(f"{path.name}: give the folder of a bulk export, not one NDJSON file")
    return read_bundle(path, max_bundle_bytes)


# ----------------------------------------------------------------------------------------------
# Reading one resource


_MISSING = object()


class Res:
    """One resource being read: typed access by path, and errors that name the path."""

    def __init__(self, loc: Located, kind: str) -> None:
        self.loc = loc
        self.kind = kind
        self.data: dict[str, Any] = loc.resource
        self.id = str(self.data.get("id", "?"))

    def fail(self, path: str, message: str) -> NoReturn:
        raise FhirImportError(f"{self.loc.where}: {self.kind}/{self.id}: {path}: {message}")

    def get(self, path: str, node: Any = _MISSING) -> Any:
        current: Any = self.data if node is _MISSING else node
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
            if part.startswith("["):
                index = int(part[1:-1])
                if not isinstance(current, list) or index >= len(current):
                    return None
                current = current[index]
            else:
                if not isinstance(current, dict):
                    return None
                current = current.get(part)
            if current is None:
                return None
        return current

    def text(self, path: str, *, required: bool = True, node: Any = _MISSING) -> str:
        value = self.get(path, node)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value:
            self.fail(path, "required text" if value is None else "expected text")
        return value

    def integer(self, path: str, node: Any = _MISSING) -> int:
        value = self.get(path, node)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "required" if value is None else "expected a whole number")
        return value

    def decimal(self, path: str, node: Any = _MISSING) -> Decimal:
        value = self.get(path, node)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(path, "required" if value is None else "expected a number")
        return Decimal(value)

    def boolean(self, path: str, node: Any = _MISSING) -> bool:
        value = self.get(path, node)
        if not isinstance(value, bool):
            self.fail(path, "required" if value is None else "expected true or false")
        return value

    def date(self, path: str, *, required: bool = True) -> dt.date | None:
        value = self.get(path)
        if value is None and not required:
            return None
        text = self.text(path)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(path, f"expected a date (YYYY-MM-DD), not {text!r}")

    def instant(self, path: str) -> dt.datetime:
        text = self.text(path)
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail(path, f"expected a date and time, not {text!r}")
        if value.tzinfo is None:
            self.fail(path, "expected a time zone (for example +00:00)")
        return value.astimezone(dt.UTC)

    def code(self, path: str, system: str, *, required: bool = True) -> str:
        """The code of the coding of prolotrack code system ``system`` in CodeableConcept
        ``path``."""
        codings = self.get(f"{path}.coding") or []
        url = t.system_url(system)
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and coding.get("system") == url:
                if not isinstance(coding.get("code"), str):
                    self.fail(f"{path}.coding.code", "expected text")
                return str(coding["code"])
        if required:
            self.fail(f"{path}.coding", f"required: a coding of {url}")
        return ""

    def extension(self, name: str, node: Any = _MISSING) -> dict[str, Any] | None:
        url = t.extension_url(name)
        for ext in self.get("extension", node) or []:
            if isinstance(ext, dict) and ext.get("url") == url:
                return ext
        return None

    def side(self, path: str) -> str:
        """The side in the laterality extension of the CodeableConcept at ``path``, or ""."""
        ext = self.extension("laterality", self.get(path))
        if ext is None:
            return ""
        url = t.system_url("prolotrack-side")
        where = f"{path}.extension(laterality)"
        for coding in self.get("valueCodeableConcept.coding", ext) or []:
            if isinstance(coding, dict) and coding.get("system") == url:
                if not isinstance(coding.get("code"), str):
                    self.fail(f"{where}.code", "expected text")
                return str(coding["code"])
        self.fail(where, f"required: a coding of {url}")

    def ext_text(self, name: str, key: str = "valueCode", *, required: bool = True) -> str:
        ext = self.extension(name)
        if ext is None:
            if required:
                self.fail(f"extension({name})", "required")
            return ""
        value = ext.get(key)
        if not isinstance(value, str) or not value:
            self.fail(f"extension({name}).{key}", "expected text")
        return value

    def quantity(self, path: str, ucum: str) -> Decimal:
        """The value of the Quantity at ``path``, whose unit must be UCUM ``ucum``."""
        if self.get(path) is None:
            self.fail(path, "required")
        if self.get(f"{path}.code") != ucum or self.get(f"{path}.system") != t.UCUM:
            self.fail(f"{path}.unit", f"expected {ucum}")
        return self.decimal(f"{path}.value")


# ----------------------------------------------------------------------------------------------
# Writing


class Importer:
    def __init__(self, clinic_name: str) -> None:
        self.clinic_name = clinic_name
        self.clinic: Clinic | None = None
        self.catalog = load_catalog()
        self.ids: dict[str, dict[str, int]] = {kind: {} for kind in RESOURCE_TYPES}
        self.seen: set[tuple[str, str]] = set()
        self.patient_of: dict[str, dict[int, int]] = {"CarePlan": {}, "Procedure": {}}
        self.condition_patient: dict[int, int] = {}
        self.session_updates: dict[int, dict[str, Any]] = {}
        self.positions: Counter[int] = Counter()
        self.reading_keys: set[tuple[int, str, str, str]] = set()
        self.pending: list[tuple[Res, models.Model]] = []
        self.pending_kind = ""
        self.counts: Counter[str] = Counter()
        self.diary = diary_model()
        self.diary_area = apps.get_model("diary", "DiaryAreaPain") if self.diary else None
        self.series_region: dict[int, str] = {}
        # The area pains a diary entry lists in hasMember, by Observation id, until they are
        # read: the entry's resource and row, the path of the reference, and the series its
        # areas read so far name.
        self.diary_members: dict[str, tuple[Res, models.Model, str, set[int]]] = {}
        # The amendments in each session's notes (by session), until their Provenances claim
        # them; and the Provenances that did, to check at the end that the session is signed.
        self.amendment_notes: dict[int, list[AmendmentNote]] = {}
        self.amended: list[tuple[Res, int]] = []
        # The first DetectedIssue of each overridden session, and the override it holds.
        self.overrides: dict[int, tuple[str, tuple[Any, ...]]] = {}

    # -- driver

    def add(self, loc: Located) -> None:
        kind = _type_of(loc)
        res = Res(loc, kind)
        if not isinstance(loc.resource.get("id"), str) or not _ID.fullmatch(res.id):
            res.fail("id", "required: 1-64 letters, digits, '-' or '.'")
        if (kind, res.id) in self.seen:
            res.fail("id", "this resource appears twice")
        self.seen.add((kind, res.id))
        for problem in t.binding_errors(loc.resource):
            path, _, message = problem.partition(": ")
            res.fail(path, message)
        for problem in t.coding_errors(loc.resource):
            path, _, message = problem.partition(": ")
            res.fail(path, message)
        if kind != self.pending_kind:
            self.flush()
            self.pending_kind = kind
        if kind != "Organization" and self.clinic is None:
            res.fail("resourceType", "the Organization (the clinic) must come first")
        getattr(self, f"_{kind.lower()}")(res)
        self.counts[kind] += 1
        if len(self.pending) >= BATCH:
            self.flush()

    def finish(self) -> ImportResult:
        self.flush()
        if self.clinic is None:
            raise FhirImportError("the import holds no Organization (the clinic)")
        for member, (entry, _, path, _) in self.diary_members.items():
            entry.fail(
                path,
                f"Observation/{member} is not in the import (a reference to a missing resource)",
            )
        for notes in self.amendment_notes.values():
            for note in notes:
                note.res.fail(
                    note.path,
                    "no Provenance records this amendment (a Provenance with activity UPDATE "
                    "targeting this Procedure, by the same author at the same time)",
                )
        for res, session_id in self.amended:
            if "signed_at" not in self.session_updates.get(session_id, {}):
                res.fail(
                    "target[0].reference",
                    f"{res.get('target[0].reference')} is not signed (no Provenance records its "
                    "signature): only a signed session is amended",
                )
        fields = [
            "pain_before",
            "pain_after",
            "pgic",
            "signed_at",
            "signed_by_id",
            "override_reason",
            "override_by_id",
            "override_at",
            "override_codes",
        ]
        updates = list(self.session_updates.items())
        for start in range(0, len(updates), BATCH):
            chunk = dict(updates[start : start + BATCH])
            rows = list(Session.objects.filter(pk__in=chunk))
            for row in rows:
                for name, value in chunk[row.pk].items():
                    setattr(row, name, value)
            Session.objects.bulk_update(rows, fields)
        # The outcome numbers read a per-session summary kept on write (outcomes.summary):
        # without it the imported clinic's dashboard would stay empty until a rebuild.
        session_outcomes_refresh(clinic_id=self.clinic.pk)
        return ImportResult(self.clinic, self.counts)

    def flush(self) -> None:
        if not self.pending:
            return
        # One resource type may fill several tables (Observation: readings, diary entries).
        by_model: dict[type[models.Model], list[models.Model]] = {}
        for _, row in self.pending:
            by_model.setdefault(type(row), []).append(row)
        # An area's pain refers to its diary entry, which may be in the same batch.
        for model in sorted(by_model, key=lambda model: model is self.diary_area):
            model._default_manager.bulk_create(by_model[model], batch_size=BATCH)
        if amendments := by_model.get(SessionAmendment):
            # Its created_at is set on insert (auto_now_add): put back the time recorded.
            for row in amendments:
                row.created_at = row._recorded  # type: ignore[attr-defined]
            SessionAmendment.objects.bulk_update(amendments, ["created_at"], batch_size=BATCH)
        for res, row in self.pending:
            self.ids[res.kind][res.id] = row.pk
            if res.kind == "CarePlan":
                self.patient_of["CarePlan"][row.pk] = row.patient_id  # type: ignore[attr-defined]
                self.series_region[row.pk] = row.region  # type: ignore[attr-defined]
            elif res.kind == "Procedure":
                self.patient_of["Procedure"][row.pk] = row._patient_id  # type: ignore[attr-defined]
                if notes := row._amendments:  # type: ignore[attr-defined]
                    self.amendment_notes[row.pk] = notes
            elif res.kind == "Condition":
                self.condition_patient[row.pk] = row.patient_id  # type: ignore[attr-defined]
        self.pending = []

    def ref(self, res: Res, path: str, kind: str, *, required: bool = True) -> int | None:
        value = res.get(path)
        if value is None:
            if required:
                res.fail(path, f"required: a reference to a {kind}")
            return None
        if not isinstance(value, str) or not (match := _REF.fullmatch(value)):
            res.fail(path, f"expected a reference such as {kind}/id, not {value!r}")
        if match.group(1) != kind:
            res.fail(path, f"expected a reference to a {kind}, not {value!r}")
        pk = self.ids[kind].get(match.group(2))
        if pk is None:
            res.fail(path, f"{value} is not in the import (a reference to a missing resource)")
        return pk

    def same_patient(self, res: Res, session_id: int, procedure_path: str) -> int:
        patient_id = self.ref(res, "subject.reference", "Patient")
        assert patient_id is not None
        if self.patient_of["Procedure"][session_id] != patient_id:
            res.fail("subject", f"not the patient of {res.get(procedure_path)}")
        return patient_id

    # -- one method per resource type

    def _organization(self, res: Res) -> None:
        if self.clinic is not None:
            res.fail("resourceType", "an import holds one Organization (the clinic)")
        time_zone = res.ext_text("time-zone")
        if time_zone not in zoneinfo.available_timezones():
            res.fail("extension(time-zone)", f"{time_zone!r} is not a known time zone")
        jurisdiction = res.ext_text("jurisdiction")
        clinic = Clinic.objects.filter(name=self.clinic_name).first()
        if clinic is None:
            clinic = Clinic.objects.create(
                name=self.clinic_name, time_zone=time_zone, jurisdiction=jurisdiction
            )
        elif clinic.patients.exists() or clinic.users.exists():
            raise FhirImportError(
                f"the clinic {self.clinic_name!r} is not empty; prolotrack imports into a new "
                "or empty clinic only"
            )
        else:
            clinic.time_zone, clinic.jurisdiction = time_zone, jurisdiction
            clinic.save(update_fields=["time_zone", "jurisdiction"])
        self.clinic = clinic
        self.ids["Organization"][res.id] = clinic.pk

    def _practitioner(self, res: Res) -> None:
        assert self.clinic is not None
        username = ""
        for i, identifier in enumerate(res.get("identifier") or []):
            if isinstance(identifier, dict) and identifier.get("system") == t.identifier_system(
                "username"
            ):
                username = res.text(f"identifier[{i}].value")
        if not username:
            res.fail("identifier", f"required: an identifier of {t.identifier_system('username')}")
        if User.objects.filter(username=username).exists():
            res.fail("identifier", f"the username {username!r} is taken in this database")
        role = res.ext_text("role")
        if role not in Role.values:
            res.fail("extension(role)", f"{role!r} is not a prolotrack role")
        user = User(
            username=username,
            first_name=res.text("name[0].given[0]", required=False),
            last_name=res.text("name[0].family", required=False),
            clinic=self.clinic,
            role=role,
            is_active=res.boolean("active"),
        )
        user.set_unusable_password()
        user.save()
        profession, jurisdiction, licence, certifications = "", "", "", []
        for i, qualification in enumerate(res.get("qualification") or []):
            path = f"qualification[{i}]"
            if code := res.code(f"{path}.code", "prolotrack-profession", required=False):
                profession = code
                ext = res.extension("jurisdiction", qualification) or {}
                jurisdiction = res.text("valueCode", node=ext)
                licence = res.text(f"{path}.identifier[0].value", required=False)
            else:
                certifications.append(res.code(f"{path}.code", "prolotrack-certification"))
        if profession:
            PractitionerProfile.objects.create(
                user=user,
                clinic=self.clinic,
                profession=profession,
                licence_jurisdiction=jurisdiction,
                licence_number=licence,
                certifications=certifications,
            )
        self.ids["Practitioner"][res.id] = user.pk

    def _patient(self, res: Res) -> None:
        assert self.clinic is not None
        if self.ref(res, "managingOrganization.reference", "Organization") != self.clinic.pk:
            res.fail("managingOrganization", "expected the imported Organization")
        chart = ""
        for i, identifier in enumerate(res.get("identifier") or []):
            if isinstance(identifier, dict) and identifier.get("system") == t.identifier_system(
                "chart-number"
            ):
                chart = res.text(f"identifier[{i}].value")
        if not chart:
            res.fail("identifier", "required: a chart number")
        gender = res.text("gender")
        if gender not in Sex.values:
            res.fail("gender", f"{gender!r} is not male, female, other or unknown")
        facts = res.extension("safety-facts") or {}
        row = Patient(
            clinic=self.clinic,
            chart_number=chart,
            given_name=res.text("name[0].given[0]", required=False),
            family_name=res.text("name[0].family", required=False),
            birth_date=res.date("birthDate"),
            sex=gender,
            allergies=[],
        )
        for i, fact in enumerate(facts.get("extension") or []):
            path = f"extension(safety-facts).extension[{i}]"
            name = fact.get("url") if isinstance(fact, dict) else None
            if name == "weight":
                if fact.get("valueQuantity", {}).get("code") != "kg":
                    res.fail(f"{path}.valueQuantity.unit", "expected kg")
                weight = res.decimal("valueQuantity.value", node=fact)
                if not 1 <= weight <= 400:
                    res.fail(f"{path}.valueQuantity.value", "expected 1 to 400 kg")
                row.weight_kg = weight
            elif name in ("diabetes", "anticoagulant", "bleedingDisorder", "pregnant"):
                attr = "bleeding_disorder" if name == "bleedingDisorder" else name
                setattr(row, attr, res.boolean("valueBoolean", node=fact))
            elif name == "allergy":
                row.allergies.append(res.text("valueCode", node=fact))
            else:
                res.fail(f"{path}.url", f"unknown safety fact {name!r}")
        for i, _ in enumerate(res.get("telecom") or []):
            system = res.text(f"telecom[{i}].system")
            if system == "phone":
                row.phone = res.text(f"telecom[{i}].value")
            elif system == "email":
                row.email = res.text(f"telecom[{i}].value")
        if self.clinic.patients.filter(chart_number=chart).exists() or any(
            getattr(r, "chart_number", None) == chart for _, r in self.pending
        ):
            res.fail("identifier", f"chart number {chart!r} appears twice")
        self.pending.append((res, row))

    def _condition(self, res: Res) -> None:
        patient_id = self.ref(res, "subject.reference", "Patient")
        code = res.code("code", "prolotrack-condition")
        region = res.code("bodySite[0]", "prolotrack-region")
        row = Condition(
            clinic=self.clinic,
            patient_id=patient_id,
            code=code,
            region=region,
            side=res.side("bodySite[0]"),
            onset=res.date("onsetDateTime", required=False),
            notes=res.text("note[0].text", required=False),
        )
        self.pending.append((res, row))

    def _careplan(self, res: Res) -> None:
        patient_id = self.ref(res, "subject.reference", "Patient")
        condition_id = self.ref(res, "addresses[0].reference", "Condition", required=False)
        if condition_id is not None and self.condition_patient[condition_id] != patient_id:
            res.fail("addresses[0]", "that Condition belongs to another patient")
        region_url = t.system_url("prolotrack-region")
        coding = (res.extension("region") or {}).get("valueCoding")
        if not isinstance(coding, dict) or coding.get("system") != region_url:
            res.fail("extension(region).valueCoding", f"required: a coding of {region_url}")
        if not isinstance(coding.get("code"), str):
            res.fail("extension(region).valueCoding.code", "expected text")
        region = coding["code"]
        repeat = "activity[0].detail.scheduledTiming.repeat"
        sessions = res.integer(f"{repeat}.count")
        interval = res.integer(f"{repeat}.period")
        if not 1 <= sessions <= 30:
            res.fail(f"{repeat}.count", "planned sessions must be 1 to 30")
        if not 1 <= interval <= 180:
            res.fail(f"{repeat}.period", "the interval must be 1 to 180 days")
        row = TreatmentSeries(
            clinic=self.clinic,
            patient_id=patient_id,
            condition_id=condition_id,
            modality=res.code("category[0]", "prolotrack-modality"),
            region=region,
            planned_sessions=sessions,
            planned_interval_days=interval,
            status=SERIES_STATUS[res.text("status")],
            started_on=res.date("period.start"),
        )
        self.pending.append((res, row))

    def _procedure(self, res: Res) -> None:
        series_id = self.ref(res, "basedOn[0].reference", "CarePlan")
        assert series_id is not None
        patient_id = self.ref(res, "subject.reference", "Patient")
        if self.patient_of["CarePlan"][series_id] != patient_id:
            res.fail("subject", f"not the patient of {res.get('basedOn[0].reference')}")
        notes, amendments = self._procedure_notes(res)
        row = Session(
            clinic=self.clinic,
            series_id=series_id,
            performed_at=res.instant("performedDateTime"),
            practitioner_id=self.ref(res, "performer[0].actor.reference", "Practitioner"),
            notes=notes,
        )
        row._patient_id = patient_id  # type: ignore[attr-defined]
        row._amendments = amendments  # type: ignore[attr-defined]
        self.pending.append((res, row))

    def _procedure_notes(self, res: Res) -> tuple[str, list[AmendmentNote]]:
        """The session's own note (a first note without author and time) and its amendments
        (notes with both, each recorded by a Provenance read later)."""
        notes = res.get("note")
        if notes is None:
            return "", []
        if not isinstance(notes, list):
            res.fail("note", "expected a list")
        own = ""
        amendments = []
        for i, note in enumerate(notes):
            path = f"note[{i}]"
            if not isinstance(note, dict):
                res.fail(path, "expected an Annotation")
            text = res.text(f"{path}.text")
            if "time" not in note and "authorReference" not in note:
                if i:
                    res.fail(
                        path,
                        "the session's own note comes first; an amendment has an authorReference "
                        "and a time",
                    )
                own = text
                continue
            if "authorString" in note:
                res.fail(f"{path}.authorString", "an amendment's author is a Practitioner")
            author = self.ref(res, f"{path}.authorReference.reference", "Practitioner")
            assert author is not None
            amendments.append(AmendmentNote(res, path, author, res.instant(f"{path}.time"), text))
        return own, amendments

    def _medicationadministration(self, res: Res) -> None:
        assert self.clinic is not None
        session_id = self.ref(res, "partOf[0].reference", "Procedure")
        assert session_id is not None
        self.same_patient(res, session_id, "partOf[0].reference")
        if res.get("medicationReference.reference") != "#solution" or not isinstance(
            res.get("contained[0]"), dict
        ):
            res.fail("medicationReference", "expected #solution, a contained Medication")
        pct = {"dextrose": Decimal(0), "lidocaine": Decimal(0), "mannitol": Decimal(0)}
        epinephrine = False
        for i, _ in enumerate(res.get("contained[0].ingredient") or []):
            path = f"contained[0].ingredient[{i}]"
            component = res.code(f"{path}.itemCodeableConcept", "prolotrack-solution-component")
            if component == "epinephrine":
                epinephrine = True
                continue
            grams = res.quantity(f"{path}.strength.numerator", "g")
            per_ml = res.quantity(f"{path}.strength.denominator", "mL")
            if per_ml <= 0:
                res.fail(f"{path}.strength.denominator.value", "expected more than 0")
            pct[component] = grams * 100 / per_ml
        gauge_ext = res.extension("needle-gauge")
        if gauge_ext is None:
            res.fail("extension(needle-gauge)", "required")
        item = InjectionInput(
            site=res.code("dosage.site", "prolotrack-site"),
            side=res.side("dosage.site"),
            depth=res.code("dosage.route", "prolotrack-depth"),
            volume_ml=res.quantity("dosage.dose", "mL"),
            needle_gauge=res.integer("valueInteger", node=gauge_ext),
            solution=Solution(pct["dextrose"], pct["lidocaine"], pct["mannitol"], epinephrine),
            lot=res.text("contained[0].batch.lotNumber", required=False),
        )
        fields = {
            "site": "dosage.site",
            "side": "dosage.site.extension(laterality)",
            "depth": "dosage.route",
            "volume_ml": "dosage.dose.value",
            "needle_gauge": "extension(needle-gauge)",
        }
        for error in check_injection(0, item, self.catalog):
            name = error.field.split(".", 2)[2]
            res.fail(fields.get(name, f"contained[0].ingredient ({name})"), error.message)
        [row] = injection_rows(clinic_id=self.clinic.pk, session_id=session_id, injections=[item])
        row.position = self.positions[session_id]
        self.positions[session_id] += 1
        self.pending.append((res, row))

    def _observation(self, res: Res) -> None:
        loinc = any(
            isinstance(c, dict) and c.get("system") == t.LOINC and c.get("code") == t.PAIN_LOINC
            for c in res.get("code.coding") or []
        )
        code = "pain" if loinc else res.code("code", "prolotrack-observation")
        diary = code == "pain" and res.get("partOf") is None
        if diary and res.get("basedOn") is not None:
            return self._diary_area(res)
        if res.id in self.diary_members:
            entry, _, path, _ = self.diary_members[res.id]
            res.fail(
                "basedOn",
                f"Observation/{entry.id} lists it in {path.split('.')[0]}, but it is not the "
                "pain of a treated area (a pain score with basedOn, a CarePlan)",
            )
        if code == "intake-screening":
            return self._screening(res)
        if diary:
            return self._diary(res)
        session_id = self.ref(res, "partOf[0].reference", "Procedure")
        assert session_id is not None
        self.same_patient(res, session_id, "partOf[0].reference")
        updates = self.session_updates.setdefault(session_id, {})
        if code == "pain":
            phase = res.code("method", "prolotrack-phase")
            if phase not in PHASE_FIELD:
                res.fail("method", "a session's pain is taken at baseline or 15min")
            value = res.quantity("valueQuantity", "{score}")
            name = PHASE_FIELD[phase]
            if value != int(value) or check_pain(name, int(value)):
                res.fail("valueQuantity.value", "expected a whole number from 0 to 10")
            if name in updates:
                res.fail("method", f"the session already has {name.replace('_', ' ')}")
            updates[name] = int(value)
        elif code == "pgic":
            answer = res.code("valueCodeableConcept", "prolotrack-pgic")
            if "pgic" in updates:
                res.fail("code", "the session already has a PGIC")
            updates["pgic"] = int(answer)
        elif code == "ppt":
            self._reading(res, session_id)
        else:
            res.fail(
                "code",
                "prolotrack imports pain (LOINC 72514-3), ppt, pgic and intake-screening "
                "observations",
            )

    def _reading(self, res: Res, session_id: int) -> None:
        assert self.clinic is not None
        kpa = res.quantity("valueQuantity", "kPa")
        component = None
        for i, _ in enumerate(res.get("component") or []):
            if res.code(f"component[{i}].code", "prolotrack-observation") == "ppt-as-entered":
                component = i
        if component is None:
            res.fail("component", "required: the reading as entered (ppt-as-entered)")
        path = f"component[{component}].valueQuantity"
        ucum = res.get(f"{path}.code")
        if ucum not in UCUM_ENTERED_UNIT or res.get(f"{path}.system") != t.UCUM:
            res.fail(f"{path}.unit", "expected kgf/cm2, N/cm2 or kPa")
        item = ReadingInput(
            site=res.code("bodySite", "prolotrack-site"),
            side=res.side("bodySite"),
            phase=res.code("method", "prolotrack-phase"),
            value=res.decimal(f"{path}.value"),
            unit=UCUM_ENTERED_UNIT[ucum],
        )
        fields = {
            "site": "bodySite",
            "side": "bodySite.extension(laterality)",
            "phase": "method",
            "value": f"{path}.value",
            "unit": f"{path}.unit",
        }
        for error in check_reading(0, item, self.catalog):
            res.fail(fields[error.field.split(".", 2)[2]], error.message)
        expected = units.to_kpa(float(item.value), item.unit)
        if abs(float(kpa) - expected) > 0.01:
            res.fail(
                "valueQuantity.value",
                f"{kpa} kPa does not match the entered {item.value} {item.unit} "
                f"({expected:.4f} kPa)",
            )
        key = (session_id, item.site, item.side, item.phase)
        if key in self.reading_keys:
            res.fail("method", "the session already has a reading of this site, side and phase")
        self.reading_keys.add(key)
        [row] = reading_rows(clinic_id=self.clinic.pk, session_id=session_id, readings=[item])
        self.pending.append((res, row))

    def _diary(self, res: Res) -> None:
        if self.diary is None:
            res.fail("partOf", "a pain score without a session is a diary entry; no diary here")
        patient_id = self.ref(res, "subject.reference", "Patient")
        value = res.quantity("valueQuantity", "{score}")
        if value != int(value) or not 0 <= value <= 10:
            res.fail("valueQuantity.value", "expected a whole number from 0 to 10")
        fields: dict[str, Any] = {"pain_back": None}
        psfs = []
        effects: list[str] = []
        for i, _ in enumerate(res.get("component") or []):
            path = f"component[{i}]"
            code = res.code(f"{path}.code", "prolotrack-observation")
            if code == "pain-back":
                fields["pain_back"] = res.boolean(f"{path}.valueBoolean")
            elif code == "pgic":
                fields["pgic"] = int(res.code(f"{path}.valueCodeableConcept", "prolotrack-pgic"))
            elif code == "psfs-activity":
                score = res.integer(f"{path}.valueInteger")
                if not 0 <= score <= 10:
                    res.fail(f"{path}.valueInteger", "expected 0 to 10")
                psfs.append({"activity": res.text(f"{path}.code.text"), "score": score})
            elif code == "side-effect":
                effect = res.code(f"{path}.valueCodeableConcept", "prolotrack-side-effect")
                if effect in effects:
                    res.fail(f"{path}.valueCodeableConcept", f"{effect!r} appears twice")
                effects.append(SideEffect(effect).value)
            elif code != "psfs":  # the mean: derived from the activities
                res.fail(f"{path}.code", f"{code!r} is not part of a diary entry")
        if psfs:
            fields["psfs"] = psfs
        if effects:
            fields["side_effects"] = effects
        notes = res.get("note") or []
        if not isinstance(notes, list) or len(notes) > 1:
            res.fail("note", "a diary entry has one note")
        if notes:
            note = res.text("note[0].text")
            longest = self.diary._meta.get_field("note").max_length
            if longest and len(note) > longest:
                res.fail("note[0].text", f"at most {longest} characters")
            fields["note"] = note
        names = {f.name for f in self.diary._meta.get_fields()}
        for name in fields.keys() - names:
            res.fail("component", f"this installation's diary does not record {name}")
        row = self.diary(
            clinic=self.clinic,
            patient_id=patient_id,
            entry_date=res.date("effectiveDateTime"),
            pain=int(value),
            **fields,
        )
        members = res.get("hasMember") or []
        if not isinstance(members, list):
            res.fail("hasMember", "expected a list")
        areas: set[int] = set()
        for i, _ in enumerate(members):
            path = f"hasMember[{i}].reference"
            member = res.get(path)
            if not isinstance(member, str) or not (match := _REF.fullmatch(member)):
                res.fail(path, f"expected a reference such as Observation/id, not {member!r}")
            if match.group(1) != "Observation":
                res.fail(path, f"expected a reference to an Observation, not {member!r}")
            obs_id = match.group(2)
            if obs_id in self.diary_members:
                owner = self.diary_members[obs_id][0].id
                res.fail(path, f"{member} is already a member of Observation/{owner}")
            if ("Observation", obs_id) in self.seen:
                res.fail(path, f"{member} must come after the diary entry that lists it")
            self.diary_members[obs_id] = (res, row, path, areas)
        self.pending.append((res, row))

    def _diary_area(self, res: Res) -> None:
        """The pain of one treated area, a member of the diary entry read before it."""
        if self.diary_area is None:
            res.fail("basedOn", "the pain of a treated area belongs to a diary; no diary here")
        claim = self.diary_members.pop(res.id, None)
        if claim is None:
            res.fail(
                "id",
                "no diary entry lists this area's pain in hasMember (the entry comes first)",
            )
        entry_res, entry, _, areas = claim
        owner = f"Observation/{entry_res.id}"
        patient_id = self.ref(res, "subject.reference", "Patient")
        if patient_id != entry.patient_id:  # type: ignore[attr-defined]
            res.fail("subject", f"not the patient of the diary entry {owner}")
        if res.date("effectiveDateTime") != entry.entry_date:  # type: ignore[attr-defined]
            res.fail("effectiveDateTime", f"not the day of the diary entry {owner}")
        series_id = self.ref(res, "basedOn[0].reference", "CarePlan")
        assert series_id is not None
        if self.patient_of["CarePlan"][series_id] != patient_id:
            res.fail("basedOn[0].reference", "that CarePlan is another patient's")
        if (region := res.code("bodySite", "prolotrack-region", required=False)) and (
            region != self.series_region[series_id]
        ):
            res.fail(
                "bodySite",
                f"{region!r} is not the region of {res.get('basedOn[0].reference')} "
                f"({self.series_region[series_id]!r})",
            )
        value = res.quantity("valueQuantity", "{score}")
        if value != int(value) or not 0 <= value <= 10:
            res.fail("valueQuantity.value", "expected a whole number from 0 to 10")
        if series_id in areas:
            res.fail("basedOn[0].reference", f"{owner} already has a pain for this CarePlan")
        areas.add(series_id)
        row = self.diary_area(clinic=self.clinic, entry=entry, series_id=series_id, pain=int(value))
        self.pending.append((res, row))

    def _adverseevent(self, res: Res) -> None:
        session_id = self.ref(res, "suspectEntity[0].instance.reference", "Procedure")
        assert session_id is not None
        self.same_patient(res, session_id, "suspectEntity[0].instance.reference")
        onset = res.date("date")
        resolved = None
        if (ext := res.extension("resolved-date")) is not None:
            resolved = dt.date.fromisoformat(res.text("valueDate", node=ext))
            if onset is not None and resolved < onset:
                res.fail("extension(resolved-date)", "resolved before the onset")
        serious = [
            c.get("code") for c in res.get("seriousness.coding") or [] if isinstance(c, dict)
        ]
        note = res.extension("note")
        row = AdverseEvent(
            clinic=self.clinic,
            session_id=session_id,
            category=res.code("event", "prolotrack-adverse-event"),
            serious="serious" in serious,
            onset=onset,
            resolved_on=resolved,
            notes=res.text("valueString", node=note) if note else "",
        )
        self.pending.append((res, row))

    def _screening(self, res: Res) -> None:
        """An intake screening: the answer to each question of prolotrack-screening. A question
        without a component was not answered yes (prolotrack stores the yes answers)."""
        patient_id = self.ref(res, "subject.reference", "Patient")
        performers = res.get("performer")
        if not isinstance(performers, list) or len(performers) != 1:
            res.fail("performer", "required: the practitioner who recorded the screening")
        recorded_by = self.ref(res, "performer[0].reference", "Practitioner")
        answers: dict[str, bool] = {}
        for i, _ in enumerate(res.get("component") or []):
            path = f"component[{i}]"
            question = res.code(f"{path}.code", "prolotrack-screening")
            if question in answers:
                res.fail(f"{path}.code", f"{question!r} is answered twice")
            answers[question] = res.boolean(f"{path}.valueBoolean")
        notes = res.get("note") or []
        if not isinstance(notes, list) or len(notes) > 1:
            res.fail("note", "a screening has one note")
        note = res.text("note[0].text") if notes else ""
        if len(note) > SCREENING_NOTES_MAX:
            res.fail("note[0].text", f"at most {SCREENING_NOTES_MAX} characters")
        row = Screening(
            clinic=self.clinic,
            patient_id=patient_id,
            recorded_at=res.instant("effectiveDateTime"),
            recorded_by_id=recorded_by,
            symptoms=[s.value for s in Symptom if answers.get(s.value)],
            history=[h.value for h in History if answers.get(h.value)],
            infection_at_site=answers.get(t.SCREENING_SITE, False),
            notes=note,
        )
        self.pending.append((res, row))

    def _detectedissue(self, res: Res) -> None:
        """A finding a physician overrode to save a session: the finding, and the override
        (who, when, why) as the mitigation. A session's findings share one override."""
        session_id = self.ref(res, "implicated[0].reference", "Procedure")
        assert session_id is not None
        if len(res.get("implicated") or []) != 1:
            res.fail("implicated", "expected one reference: the overridden session's Procedure")
        patient_id = self.ref(res, "patient.reference", "Patient")
        if self.patient_of["Procedure"][session_id] != patient_id:
            res.fail("patient", f"not the patient of {res.get('implicated[0].reference')}")
        code = res.code("code", "prolotrack-rule", required=False)
        if code:
            rule = t.codes("prolotrack-rule")[code]
            expected = m.ISSUE_SEVERITY[rule.properties["severity"]]
            if res.get("severity") != expected:
                res.fail("severity", f"expected {expected}, the severity of {code}")
        elif res.get("code") is not None:
            # A rule the catalog no longer holds, kept by its code.
            code = res.text("code.text")
        mitigations = res.get("mitigation")
        if not isinstance(mitigations, list) or len(mitigations) != 1:
            res.fail("mitigation", "required: one mitigation, the physician's override")
        actions = res.get("mitigation[0].action.coding") or []
        if not any(
            isinstance(c, dict)
            and (c.get("system"), c.get("code")) == (m.OVERRIDE_ACTION["system"], "1")
            for c in actions
        ):
            res.fail(
                "mitigation[0].action",
                f"required: {m.OVERRIDE_ACTION['system']} code 1 (Therapy Appropriate), the "
                "physician's override",
            )
        ext = res.extension("override-reason", res.get("mitigation[0]"))
        where = "mitigation[0].extension(override-reason)"
        if ext is None:
            res.fail(where, "required: why the physician went ahead")
        reason = ext.get("valueString")
        if not isinstance(reason, str) or not reason.strip():
            res.fail(f"{where}.valueString", "required text")
        override = (
            res.instant("mitigation[0].date"),
            self.ref(res, "mitigation[0].author.reference", "Practitioner"),
            reason,
        )
        updates = self.session_updates.setdefault(session_id, {})
        first = self.overrides.get(session_id)
        if first is None:
            self.overrides[session_id] = (res.id, override)
            updates["override_at"], updates["override_by_id"], updates["override_reason"] = override
            updates["override_codes"] = [code] if code else []
            return
        first_id, first_override = first
        if override != first_override:
            res.fail(
                "mitigation[0]",
                f"not the override of DetectedIssue/{first_id} on the same Procedure (a "
                "session has one override: the same author, date and reason)",
            )
        if not code or not updates["override_codes"]:
            res.fail(
                "code",
                f"required, as the session has several DetectedIssues (DetectedIssue/{first_id}): "
                "the finding overridden",
            )
        updates["override_codes"].append(code)

    def _provenance(self, res: Res) -> None:
        if res.get("activity") is not None:
            return self._amendment(res)
        session_id = self.ref(res, "target[0].reference", "Procedure")
        assert session_id is not None
        updates = self.session_updates.setdefault(session_id, {})
        if "signed_at" in updates:
            res.fail("target[0]", "the session is already signed")
        updates["signed_at"] = res.instant("recorded")
        updates["signed_by_id"] = self.ref(res, "agent[0].who.reference", "Practitioner")

    def _amendment(self, res: Res) -> None:
        """The Provenance of an amendment: it claims the note of its Procedure with the same
        author and time, which becomes the amendment."""
        if not any(
            isinstance(c, dict)
            and (c.get("system"), c.get("code")) == (m.AMEND_ACTIVITY["system"], "UPDATE")
            for c in res.get("activity.coding") or []
        ):
            res.fail(
                "activity",
                f"expected {m.AMEND_ACTIVITY['system']} code UPDATE (an amendment), or no "
                "activity (a signature)",
            )
        if len(res.get("target") or []) != 1:
            res.fail("target", "expected one reference: the amended session's Procedure")
        session_id = self.ref(res, "target[0].reference", "Procedure")
        assert session_id is not None
        author = self.ref(res, "agent[0].who.reference", "Practitioner")
        recorded = res.instant("recorded")
        notes = self.amendment_notes.get(session_id, [])
        for i, note in enumerate(notes):
            if (note.author_id, note.at) == (author, recorded):
                del notes[i]
                break
        else:
            res.fail(
                "target[0].reference",
                f"{res.get('target[0].reference')} has no amendment by "
                f"{res.get('agent[0].who.reference')} at {res.get('recorded')} (a note with "
                "that authorReference and time)",
            )
        if not notes:
            self.amendment_notes.pop(session_id, None)
        row = SessionAmendment(
            clinic=self.clinic, session_id=session_id, author_id=author, text=note.text
        )
        row._recorded = recorded  # type: ignore[attr-defined]
        self.amended.append((res, session_id))
        self.pending.append((res, row))


def import_fhir(
    path: Path,
    *,
    clinic_name: str,
    max_bundle_bytes: int = MAX_BUNDLE_BYTES,
    max_ndjson_bytes: int = MAX_NDJSON_BYTES,
) -> ImportResult:
    """Import the Bundle file or bulk NDJSON folder at ``path`` into the clinic ``clinic_name``
    (created, or existing and empty), all or nothing; raise FhirImportError naming the problem."""
    source = read_source(
        Path(path), max_bundle_bytes=max_bundle_bytes, max_ndjson_bytes=max_ndjson_bytes
    )
    importer = Importer(clinic_name)
    with transaction.atomic():
        for loc in source:
            importer.add(loc)
        return importer.finish()
