"""An injection plan as plain values, and its strict parser from JSON-shaped data.

The JSON format (the CLI's input, the API's body; the session form builds the same values):

    {"jurisdiction": "CA-BC",
     "practitioner": {"profession": "naturopathic_doctor", "certifications": ["cnpbc_ait_a"]},
     "patient": {"age": 54, "sex": "female", "weight_kg": 61.0, "diabetes": false,
                 "anticoagulant": false, "bleeding_disorder": false, "pregnant": false,
                 "allergies": ["corn"], "symptoms": [], "history": [], "infection_at_site": false},
     "series": {"modality": "neural", "session_number": 3, "date": "2026-11-05",
                "previous_session_date": "2026-10-29"},
     "injections": [{"region": "knee", "site": "n_infrapatellar_saphenous", "side": "left",
                     "depth": "subcutaneous", "volume_ml": 1.0, "needle_gauge": 27,
                     "solution": {"dextrose_pct": 5, "lidocaine_pct": 0, "mannitol_pct": 0,
                                  "epinephrine": false}}]}

Every field is required except:
- ``patient.weight_kg`` may be null when the weight is unknown (the key must still be there);
- ``series.previous_session_date``: null or absent for a first session;
- ``injections[].site``: a site code of the catalog, null or absent;
- ``series.pain_history`` (optional extension): the pain before (0-10) of the earlier sessions
  of this series, in order, the first being the baseline;
- ``series.relief_days_history`` (optional extension): the days of relief after each earlier
  session, in order.

Strict: a boolean is not a number (``true`` is not 1), a string is not a number, an unknown key
or an unknown symptom, history item, allergy or certification is an error. Errors name the path,
for example ``patient.symptoms[2]: unknown symptom 'headache'``. Ranges follow the charting
boundary (core.charting) and the patient record: weight 1-400 kg, at most 20 mL per injection,
needles 18-33 G, dextrose 0-50%, lidocaine 0-2%, mannitol 0-20%.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn, TypeVar

from prolotrack.core.catalog import Catalog, Depth, Modality, Side, load_catalog
from prolotrack.core.doses import Solution
from prolotrack.core.rules.scope_table import JURISDICTION, ScopeTable, load_scope_table
from prolotrack.core.rules.vocabulary import Allergy, History, Profession, Sex, Symptom

E = TypeVar("E", bound=StrEnum)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
MAX_VOLUME_ML = 20.0  # core.charting.MAX_VOLUME_ML: the charting boundary per injection.


class PlanError(ValueError):
    """The plan is not valid input; ``path`` names the field, ``message`` says what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Practitioner:
    profession: Profession
    certifications: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Patient:
    # No defaults: a screening answer left out must be an error, never a silent "no".
    age: int
    sex: Sex
    weight_kg: float | None
    diabetes: bool
    anticoagulant: bool
    bleeding_disorder: bool
    pregnant: bool
    allergies: frozenset[Allergy]
    symptoms: frozenset[Symptom]
    history: frozenset[History]
    infection_at_site: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    modality: Modality
    session_number: int
    date: dt.date
    previous_session_date: dt.date | None = None
    pain_history: tuple[float, ...] = ()
    relief_days_history: tuple[float, ...] = ()

    @property
    def interval_days(self) -> int | None:
        if self.previous_session_date is None:
            return None
        return (self.date - self.previous_session_date).days

    @property
    def sessions_done(self) -> int:
        return self.session_number - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Injection:
    region: str
    side: Side
    depth: Depth
    volume_ml: float
    needle_gauge: int
    solution: Solution
    site: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    jurisdiction: str
    practitioner: Practitioner
    patient: Patient
    series: Series
    injections: tuple[Injection, ...]


# --- reading JSON values -----------------------------------------------------------------------


def _fail(path: str, message: str) -> NoReturn:
    raise PlanError(path, message)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(
    value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, object]:
    if not isinstance(value, dict):
        _fail(path or "plan", "must be a JSON object")
    for key in value:
        if key not in required and key not in optional:
            _fail(_at(path, str(key)), "unknown field")
    for key in required:
        if key not in value:
            _fail(_at(path, key), "is missing")
    return value


def _number(value: object, path: str, low: float, high: float, *, above_low: bool = False) -> float:
    # bool is an int subclass in Python: true must not read as 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(path, f"must be a number, not {_json_type(value)}")
    if not math.isfinite(value):
        _fail(path, "must be a finite number")
    if value < low or value > high or (above_low and value == low):
        lower = f"more than {low:g}" if above_low else f"at least {low:g}"
        _fail(path, f"must be {lower} and at most {high:g}, not {value:g}")
    return float(value)


def _integer(value: object, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, f"must be a whole number, not {_json_type(value)}")
    if not low <= value <= high:
        _fail(path, f"must be {low} to {high}, not {value}")
    return value


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, f"must be true or false, not {_json_type(value)}")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        _fail(path, f"must be a non-empty string, not {_json_type(value)}")
    return value


def _choice(value: object, path: str, enum: type[E], what: str) -> E:
    text = _text(value, path)
    if text not in {m.value for m in enum}:
        _fail(path, f"unknown {what} {text!r}: use one of {', '.join(m.value for m in enum)}")
    return enum(text)


def _list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        _fail(path, f"must be a list, not {_json_type(value)}")
    return value


def _choices(value: object, path: str, enum: type[E], what: str) -> frozenset[E]:
    seen: set[E] = set()
    for index, item in enumerate(_list(value, path)):
        member = _choice(item, f"{path}[{index}]", enum, what)
        if member in seen:
            _fail(f"{path}[{index}]", f"{member.value!r} is listed twice")
        seen.add(member)
    return frozenset(seen)


def _date(value: object, path: str) -> dt.date:
    text = _text(value, path)
    if not _DATE.match(text):
        _fail(path, f"must be a date written YYYY-MM-DD, not {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(path, f"{text!r} is not a calendar date")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- the plan's parts --------------------------------------------------------------------------


def _practitioner(value: object, scope: ScopeTable) -> Practitioner:
    path = "practitioner"
    raw = _object(value, path, ("profession", "certifications"))
    certs: set[str] = set()
    for index, item in enumerate(_list(raw["certifications"], f"{path}.certifications")):
        where = f"{path}.certifications[{index}]"
        code = _text(item, where)
        if code not in scope.certifications:
            known = ", ".join(scope.certifications)
            _fail(where, f"unknown certification {code!r}: use one of {known}")
        if code in certs:
            _fail(where, f"{code!r} is listed twice")
        certs.add(code)
    return Practitioner(
        profession=_choice(raw["profession"], f"{path}.profession", Profession, "profession"),
        certifications=frozenset(certs),
    )


_PATIENT_FLAGS = ("diabetes", "anticoagulant", "bleeding_disorder", "pregnant", "infection_at_site")


def _patient(value: object) -> Patient:
    path = "patient"
    keys = ("age", "sex", "weight_kg", *_PATIENT_FLAGS, "allergies", "symptoms", "history")
    raw = _object(value, path, keys)
    weight = raw["weight_kg"]

    def flag(name: str) -> bool:
        return _boolean(raw[name], f"{path}.{name}")

    return Patient(
        age=_integer(raw["age"], f"{path}.age", 0, 120),
        sex=_choice(raw["sex"], f"{path}.sex", Sex, "sex"),
        # The patient record's range: 1-400 kg (patients.Patient, patient_weight_range).
        weight_kg=None if weight is None else _number(weight, f"{path}.weight_kg", 1, 400),
        allergies=_choices(raw["allergies"], f"{path}.allergies", Allergy, "allergy"),
        symptoms=_choices(raw["symptoms"], f"{path}.symptoms", Symptom, "symptom"),
        history=_choices(raw["history"], f"{path}.history", History, "history item"),
        diabetes=flag("diabetes"),
        anticoagulant=flag("anticoagulant"),
        bleeding_disorder=flag("bleeding_disorder"),
        pregnant=flag("pregnant"),
        infection_at_site=flag("infection_at_site"),
    )


def _history(
    raw: Mapping[str, object], key: str, high: float, sessions_done: int
) -> tuple[float, ...]:
    if key not in raw:
        return ()
    path = f"series.{key}"
    items = _list(raw[key], path)
    if len(items) > sessions_done:
        sessions = "session" if sessions_done == 1 else "sessions"
        _fail(path, f"has {len(items)} values, more than the {sessions_done} earlier {sessions}")
    return tuple(_number(v, f"{path}[{i}]", 0, high) for i, v in enumerate(items))


def _series(value: object) -> Series:
    path = "series"
    optional = ("previous_session_date", "pain_history", "relief_days_history")
    raw = _object(value, path, ("modality", "session_number", "date"), optional)
    number = _integer(raw["session_number"], f"{path}.session_number", 1, 100)
    date = _date(raw["date"], f"{path}.date")
    previous_raw = raw.get("previous_session_date")
    previous = (
        None if previous_raw is None else _date(previous_raw, f"{path}.previous_session_date")
    )
    if previous is not None and previous > date:
        _fail(f"{path}.previous_session_date", "is after the session's date")
    return Series(
        modality=_choice(raw["modality"], f"{path}.modality", Modality, "modality"),
        session_number=number,
        date=date,
        previous_session_date=previous,
        # NRS 0-10 (DOMAIN 4.2); relief of up to a year is the sanity bound.
        pain_history=_history(raw, "pain_history", 10, number - 1),
        relief_days_history=_history(raw, "relief_days_history", 366, number - 1),
    )


def _solution(value: object, path: str) -> Solution:
    raw = _object(value, path, ("dextrose_pct", "lidocaine_pct", "mannitol_pct", "epinephrine"))
    # The charting boundary's ranges (core.charting.check_injection).
    return Solution(
        dextrose_pct=_number(raw["dextrose_pct"], f"{path}.dextrose_pct", 0, 50),
        lidocaine_pct=_number(raw["lidocaine_pct"], f"{path}.lidocaine_pct", 0, 2),
        mannitol_pct=_number(raw["mannitol_pct"], f"{path}.mannitol_pct", 0, 20),
        epinephrine=_boolean(raw["epinephrine"], f"{path}.epinephrine"),
    )


def _site(
    raw: Mapping[str, object], path: str, region: str, side: Side, catalog: Catalog
) -> str | None:
    value = raw.get("site")
    if value is None:
        return None
    code = _text(value, f"{path}.site")
    site = catalog.sites.get(code)
    if site is None:
        _fail(f"{path}.site", f"unknown site {code!r}: not in the catalog")
    if site.region != region:
        _fail(f"{path}.site", f"site {code!r} is in region {site.region!r}, not {region!r}")
    if not site.allows_side(side):
        allowed = " or ".join(s.value for s in site.sides())
        _fail(f"{path}.side", f"site {code!r} is treated on the {allowed} side only")
    return code


def _injection(value: object, path: str, catalog: Catalog) -> Injection:
    keys = ("region", "side", "depth", "volume_ml", "needle_gauge", "solution")
    raw = _object(value, path, keys, ("site",))
    region = _text(raw["region"], f"{path}.region")
    if region not in catalog.regions:
        _fail(
            f"{path}.region", f"unknown region {region!r}: use one of {', '.join(catalog.regions)}"
        )
    side = _choice(raw["side"], f"{path}.side", Side, "side")
    return Injection(
        region=region,
        side=side,
        depth=_choice(raw["depth"], f"{path}.depth", Depth, "depth"),
        volume_ml=_number(raw["volume_ml"], f"{path}.volume_ml", 0, MAX_VOLUME_ML, above_low=True),
        needle_gauge=_integer(raw["needle_gauge"], f"{path}.needle_gauge", 18, 33),
        solution=_solution(raw["solution"], f"{path}.solution"),
        site=_site(raw, path, region, side, catalog),
    )


def parse_plan(
    data: object, *, catalog: Catalog | None = None, scope: ScopeTable | None = None
) -> Plan:
    """A Plan from parsed JSON; raise PlanError naming the first invalid field."""
    catalog = catalog or load_catalog()
    scope = scope or load_scope_table()
    keys = ("jurisdiction", "practitioner", "patient", "series", "injections")
    raw = _object(data, "", keys)
    jurisdiction = _text(raw["jurisdiction"], "jurisdiction")
    if not JURISDICTION.match(jurisdiction):
        _fail("jurisdiction", f"{jurisdiction!r} is not a code such as CA-BC or US-ND")
    injections = _list(raw["injections"], "injections")
    return Plan(
        jurisdiction=jurisdiction,
        practitioner=_practitioner(raw["practitioner"], scope),
        patient=_patient(raw["patient"]),
        series=_series(raw["series"]),
        injections=tuple(
            _injection(item, f"injections[{i}]", catalog) for i, item in enumerate(injections)
        ),
    )


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # JSON allows a repeated key and keeps the last: a second "pregnant": false must not
    # silently undo the first.
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise PlanError("plan", f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constants(name: str) -> object:
    raise PlanError("plan", f"{name} is not a number JSON allows")


def parse_plan_json(
    text: str, *, catalog: Catalog | None = None, scope: ScopeTable | None = None
) -> Plan:
    """A Plan from JSON text; raise PlanError for invalid JSON or an invalid field."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except RecursionError:
        raise PlanError("plan", "the JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise PlanError(
            "plan", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return parse_plan(data, catalog=catalog, scope=scope)
