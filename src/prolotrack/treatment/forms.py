"""Forms of the charting pages.

The session form has rows that the body map adds in the browser, so it is parsed by hand into
``core.charting`` inputs instead of a Django formset: one place turns the POST into
InjectionInput and ReadingInput values, and maps every FieldError path
(``injections.2.volume_ml``, ``readings.5.value``) back to the input it is about.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone

from prolotrack.core import units
from prolotrack.core.catalog import Catalog, Depth, Modality, Side
from prolotrack.core.charting import (
    PHASES,
    FieldError,
    InjectionInput,
    ReadingInput,
    Solution,
    check_injection,
    check_session,
)
from prolotrack.patients.models import Condition
from prolotrack.treatment.defaults import SERIES_DEFAULTS, injection_defaults
from prolotrack.treatment.models import UNIT_CHOICES, Phase, Session

# Rows one form may carry: far above a real session (8-12 points), low enough to bound the work.
MAX_ROWS = 80
PHASE_LABELS = {"baseline": "Before", "1min": "1 min", "15min": "15 min"}
_NUMBER = re.compile(r"[+-]?(\d{1,6}([.,]\d*)?|[.,]\d+)\Z")
_WHOLE = re.compile(r"[+-]?\d{1,4}\Z")
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?\Z")
_ROW_KEY = re.compile(r"(injections|readings)-(\d{1,4})-site\Z")

INJECTION_NUMBERS = {
    # field: (decimal places the database keeps, what to call it in a message)
    "dextrose_pct": (1, "Dextrose %"),
    "lidocaine_pct": (2, "Lidocaine %"),
    "mannitol_pct": (1, "Mannitol %"),
    "volume_ml": (2, "Volume"),
}


def parse_decimal(raw: str, *, places: int) -> Decimal:
    """A number typed with a comma or a dot as decimal separator ("0,5" or "0.5").

    Raises ValueError with a message for the person typing. Thousands separators, exponents,
    NaN and infinity are refused rather than guessed at.
    """
    text = raw.strip().replace(" ", "")
    if not _NUMBER.match(text):
        raise ValueError("Enter a number, such as 0.5 or 0,5.")
    value = Decimal(text.replace(",", "."))
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(
            f"Use at most {places} decimal places." if places else "Enter a whole number."
        )
    return value


def local_to_utc(raw: str, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """A wall-clock time typed in the clinic's zone, as an aware UTC datetime.

    A time that does not exist (the hour skipped when clocks go forward) is refused instead of
    being shifted silently. A time that happens twice (clocks go back) is read as the first one.
    """
    text = raw.strip()
    if not _LOCAL_DATETIME.match(text):
        raise ValueError("Enter the date and time, such as 2026-10-08 14:30.")
    try:
        naive = dt.datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise ValueError("That date does not exist.") from None
    aware = naive.replace(tzinfo=tz)
    back = aware.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        raise ValueError(
            f"{naive:%H:%M} does not exist on {naive:%Y-%m-%d} in {tz.key}: the clocks moved "
            "forward. Enter the time shown on the clock after the change."
        )
    return aware.astimezone(dt.UTC)


def local_input_value(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class RowField:
    """One input of an injection row, ready for the template."""

    name: str
    label: str
    id: str
    value: str
    errors: list[str]
    kind: str  # text | decimal | numeric | select | checkbox
    choices: Sequence[tuple[str, str]] = ()


# (name, label, kind) of an injection row's inputs, in tab order.
INJECTION_INPUTS = (
    ("side", "Side", "select"),
    ("depth", "Depth", "select"),
    ("volume_ml", "Volume (ml)", "decimal"),
    ("dextrose_pct", "Dextrose %", "decimal"),
    ("lidocaine_pct", "Lidocaine %", "decimal"),
    ("mannitol_pct", "Mannitol %", "decimal"),
    ("needle_gauge", "Needle (G)", "numeric"),
    ("lot", "Lot", "text"),
    ("epinephrine", "Epinephrine", "checkbox"),
)
_LABELS = {name: label for name, label, _ in INJECTION_INPUTS} | {"site": "Site"}
VISIT_LABELS = {
    "performed_at": "Date and time",
    "pain_before": "Pain before",
    "pain_after": "Pain after",
    "notes": "Notes",
    "unit": "Unit",
}


def _named(label: str, message: str) -> str:
    """A message that says which field it is about ("Dextrose %: Must be between 0 and 50%.")."""
    first = label.split()[0].lower()
    return message if message.lower().startswith(first) else f"{label}: {message}"


@dataclass
class InjectionRow:
    """One injection as the form shows it: raw strings, and messages per field."""

    # The row's position, which is also its number in error paths (injections.<index>.<field>);
    # "__i__" in the blank row that the browser copies.
    index: int | str
    values: dict[str, str]
    site_name: str = ""
    side_choices: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"injections-{self.index}"

    @property
    def side_word(self) -> str:
        return self.values.get("side", "")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def site_errors(self) -> list[str]:
        return [_named("Site", m) for m in self.errors.get("site", [])]

    @property
    def fields(self) -> list[RowField]:
        choices = {
            "side": self.side_choices,
            "depth": [(d.value, d.label) for d in Depth],
        }
        return [
            RowField(
                name=name,
                label=label,
                id=f"{self.prefix}-{name}",
                value=self.values.get(name, ""),
                errors=[_named(label, m) for m in self.errors.get(name, [])],
                kind=kind,
                choices=choices.get(name, ()),
            )
            for name, label, kind in INJECTION_INPUTS
        ]


@dataclass
class ReadingCell:
    phase: str
    label: str
    value: str
    errors: list[str]


@dataclass
class ReadingRow:
    """One site and side of the readings grid: a value per phase (each optional)."""

    index: int | str
    site: str
    side: str
    site_name: str
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"readings-{self.index}"

    @property
    def cells(self) -> list[ReadingCell]:
        return [
            ReadingCell(p, PHASE_LABELS[p], self.values.get(p, ""), self.errors.get(p, []))
            for p in PHASES
        ]

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get("row", [])


@dataclass(frozen=True)
class CleanSession:
    performed_at: dt.datetime
    pain_before: int | None
    pain_after: int | None
    notes: str
    injections: list[InjectionInput]
    readings: list[ReadingInput]

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "performed_at": self.performed_at,
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "notes": self.notes,
            "injections": self.injections,
            "readings": self.readings,
        }


class SessionForm:
    """The session form: visit fields, injection rows and the readings grid."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        modality: Modality | str,
        tz: zoneinfo.ZoneInfo,
        values: Mapping[str, str],
        injections: Sequence[Mapping[str, str]] = (),
        readings: Sequence[Mapping[str, str]] = (),
    ) -> None:
        self.catalog = catalog
        self.modality = Modality(modality)
        self.tz = tz
        self.values = dict(values)
        self.errors: dict[str, list[str]] = {}
        self.injection_rows = [self._injection_row(i, v) for i, v in enumerate(injections)]
        self.reading_rows = [self._reading_row(i, v) for i, v in enumerate(readings)]
        self.cleaned: CleanSession | None = None
        # readings.<k> of the service's error paths -> (grid row, phase)
        self._reading_paths: list[tuple[int, str]] = []
        self._parse_failed: set[str] = set()

    # Construction -------------------------------------------------------------------------

    @classmethod
    def blank(
        cls,
        *,
        catalog: Catalog,
        modality: Modality | str,
        tz: zoneinfo.ZoneInfo,
        now: dt.datetime,
        copy_from: Session | None = None,
    ) -> SessionForm:
        values = {"performed_at": local_input_value(now, tz), "unit": "kg/cm2"}
        injections: list[dict[str, str]] = []
        readings: list[dict[str, str]] = []
        if copy_from is not None:
            injections = [{**row, "lot": ""} for row in injection_values(copy_from)]
            readings = [
                {"site": r["site"], "side": r["side"]} for r in _unique_site_sides(injections)
            ]
        return cls(
            catalog=catalog,
            modality=modality,
            tz=tz,
            values=values,
            injections=injections,
            readings=readings,
        )

    @classmethod
    def from_session(
        cls, session: Session, *, catalog: Catalog, modality: Modality | str, tz: zoneinfo.ZoneInfo
    ) -> SessionForm:
        stored = list(session.readings.all())
        unit = stored[0].unit if stored else "kg/cm2"
        grid: dict[tuple[str, str], dict[str, str]] = {}
        for site_side in _unique_site_sides(injection_values(session)):
            grid[(site_side["site"], site_side["side"])] = dict(site_side)
        for reading in stored:
            row = grid.setdefault(
                (reading.site, reading.side), {"site": reading.site, "side": reading.side}
            )
            # One unit per session; a reading stored in another unit is shown converted.
            value = (
                reading.value
                if reading.unit == unit
                else Decimal(f"{units.from_kpa(reading.value_kpa, unit):.2f}")
            )
            row[reading.phase] = plain_number(value)
        values = {
            "performed_at": local_input_value(session.performed_at, tz),
            "pain_before": "" if session.pain_before is None else str(session.pain_before),
            "pain_after": "" if session.pain_after is None else str(session.pain_after),
            "notes": session.notes,
            "unit": unit,
            "version": str(session.version),
        }
        return cls(
            catalog=catalog,
            modality=modality,
            tz=tz,
            values=values,
            injections=injection_values(session),
            readings=list(grid.values()),
        )

    @classmethod
    def from_post(
        cls,
        data: Mapping[str, Any],
        *,
        catalog: Catalog,
        modality: Modality | str,
        tz: zoneinfo.ZoneInfo,
    ) -> SessionForm:
        """Rows are read in the order of their numbers; gaps left by removed rows close up."""
        get = data.get
        values = {
            name: str(get(name, "") or "")
            for name in ("performed_at", "pain_before", "pain_after", "notes", "unit", "version")
        }
        numbers: dict[str, list[int]] = {"injections": [], "readings": []}
        for key in data:
            match = _ROW_KEY.match(key)
            if match:
                numbers[match.group(1)].append(int(match.group(2)))
        injections = []
        for n in sorted(numbers["injections"]):
            p = f"injections-{n}-"
            row = {
                name: str(get(p + name, "") or "")
                for name in (
                    "site",
                    "side",
                    "depth",
                    "dextrose_pct",
                    "lidocaine_pct",
                    "mannitol_pct",
                    "volume_ml",
                    "needle_gauge",
                    "lot",
                )
            }
            row["epinephrine"] = "on" if get(p + "epinephrine") else ""
            injections.append(row)
        readings = []
        for n in sorted(numbers["readings"]):
            p = f"readings-{n}-"
            readings.append(
                {name: str(get(p + name, "") or "") for name in ("site", "side", *PHASES)}
            )
        form = cls(
            catalog=catalog,
            modality=modality,
            tz=tz,
            values=values,
            injections=injections[:MAX_ROWS],
            readings=readings[:MAX_ROWS],
        )
        if len(injections) > MAX_ROWS or len(readings) > MAX_ROWS:
            form._error("__all__", f"A session holds at most {MAX_ROWS} injections and readings.")
        return form

    # Row actions without JavaScript ----------------------------------------------------------
    # The buttons that add, copy and remove rows are submit buttons; bodymap.js handles them in
    # the browser, and without it the server applies them and shows the form again, unsaved.

    ACTIONS = ("add_site", "copy_last", "remove_row", "remove_reading")

    def apply_action(
        self, data: Mapping[str, Any], *, last_rows: Sequence[Mapping[str, str]] = ()
    ) -> bool:
        """Apply the row button that was pressed, if any; True when one was."""
        if data.get("add_site") is not None:
            code = str(data.get("add-site", ""))
            side = str(data.get("add-side", ""))
            site = self.catalog.sites.get(code)
            if site is None:
                self._error("add_site", "Choose a site to add.")
                return True
            sides = [s.value for s in site.sides()]
            wanted = sides if side == "both" or len(sides) == 1 else [side]
            if not set(wanted) <= set(sides):
                self._error("add_site", f"Choose the side of {site.name}: left, right or both.")
                return True
            for s in wanted:
                self.add_site(code, s)
            return True
        if data.get("copy_last") is not None:
            for row in last_rows:
                self.add_row({**row, "lot": ""})
            return True
        for name, rows in (
            ("remove_row", self.injection_rows),
            ("remove_reading", self.reading_rows),
        ):
            raw = str(data.get(name, ""))
            if raw.isdigit():
                position = int(raw)
                if position < len(rows):
                    removed = rows.pop(position)
                    if isinstance(removed, InjectionRow):
                        self._drop_empty_reading(removed.values.get("site", ""), removed.side_word)
                self._renumber()
                return True
        return False

    def has_row(self, site: str, side: str) -> bool:
        return any(
            r.values.get("site") == site and r.side_word == side for r in self.injection_rows
        )

    def add_site(self, code: str, side: str) -> None:
        """A new injection row with the defaults of the site and the series' modality."""
        site = self.catalog.sites[code]
        defaults = injection_defaults(site, self.modality).as_strings()
        self.add_row({"site": code, "side": side, **defaults, "lot": ""})

    def add_row(self, values: Mapping[str, str]) -> None:
        site, side = values.get("site", ""), values.get("side", "")
        if self.has_row(site, side):
            return
        self.injection_rows.append(self._injection_row(len(self.injection_rows), values))
        if not any(r.site == site and r.side == side for r in self.reading_rows):
            self.reading_rows.append(
                self._reading_row(len(self.reading_rows), {"site": site, "side": side})
            )

    def _drop_empty_reading(self, site: str, side: str) -> None:
        if self.has_row(site, side):
            return
        self.reading_rows = [
            r
            for r in self.reading_rows
            if not (r.site == site and r.side == side and not any(r.values.values()))
        ]

    def _renumber(self) -> None:
        for i, row in enumerate(self.injection_rows):
            row.index = i
        for i, reading_row in enumerate(self.reading_rows):
            reading_row.index = i

    @property
    def injected(self) -> set[tuple[str, str]]:
        return {(r.values.get("site", ""), r.side_word) for r in self.injection_rows}

    def _injection_row(self, index: int, values: Mapping[str, str]) -> InjectionRow:
        row = InjectionRow(index=index, values=dict(values))
        site = self.catalog.sites.get(row.values.get("site", ""))
        row.site_name = site.name if site else row.values.get("site", "") or "Unknown site"
        allowed = [s.value for s in site.sides()] if site else [s.value for s in Side]
        side = row.values.get("side", "")
        if side and side not in allowed:
            allowed.append(side)  # shown so that the message next to it makes sense
        row.side_choices = [(s, s.title()) for s in allowed]
        return row

    def _reading_row(self, index: int, values: Mapping[str, str]) -> ReadingRow:
        site = self.catalog.sites.get(values.get("site", ""))
        return ReadingRow(
            index=index,
            site=values.get("site", ""),
            side=values.get("side", ""),
            site_name=site.name if site else values.get("site", "") or "Unknown site",
            values={p: values.get(p, "") for p in PHASES},
        )

    # Validation ---------------------------------------------------------------------------

    @property
    def version(self) -> int | None:
        raw = self.values.get("version", "")
        return int(raw) if raw.isdigit() else None

    @property
    def unit(self) -> str:
        return self.values.get("unit") or "kg/cm2"

    def _error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def _pain(self, name: str) -> int | None:
        raw = self.values.get(name, "").strip()
        if raw == "":
            return None
        if not _WHOLE.match(raw):
            self._error(name, "Pain must be a whole number from 0 (none) to 10 (worst).")
            self._parse_failed.add(name)
            return None
        return int(raw)

    def is_valid(self, *, require_version: bool = False, now: dt.datetime | None = None) -> bool:
        """Parse every field and run the charting boundary checks; True when nothing is wrong."""
        performed_at = None
        try:
            performed_at = local_to_utc(self.values.get("performed_at", ""), self.tz)
        except ValueError as exc:
            self._error("performed_at", str(exc))
        else:
            # An hour of slack for a clock that runs a little fast.
            if performed_at > (now or timezone.now()) + dt.timedelta(hours=1):
                self._error("performed_at", "The session cannot be in the future.")
        pain_before, pain_after = self._pain("pain_before"), self._pain("pain_after")
        notes = self.values.get("notes", "").strip()
        if len(notes) > 20000:
            self._error("notes", "Notes are limited to 20,000 characters.")
        if self.unit not in {u.value for u in units.PressureUnit}:
            self._error("unit", "Choose kg/cm², N/cm² or kPa.")
        if require_version and self.version is None:
            self._error("__all__", "The form is incomplete: reload the page and try again.")

        injections = [self._clean_injection(row) for row in self.injection_rows]
        readings = self._clean_readings()

        checked = check_session(
            pain_before=pain_before,
            pain_after=pain_after,
            injections=injections,
            readings=readings,
            catalog=self.catalog,
        )
        self.add_errors([e for e in checked if e.field not in self._parse_failed])
        if (
            self.errors
            or any(r.errors for r in self.injection_rows)
            or any(r.errors for r in self.reading_rows)
        ):
            return False
        assert performed_at is not None
        self.cleaned = CleanSession(
            performed_at=performed_at,
            pain_before=pain_before,
            pain_after=pain_after,
            notes=notes,
            injections=injections,
            readings=readings,
        )
        return True

    def _clean_injection(self, row: InjectionRow) -> InjectionInput:
        """The row as an InjectionInput; an unreadable number is reported and replaced by a
        harmless stand-in so that the other checks still run on the rest of the row."""
        v = row.values
        path = f"injections.{row.index}"
        numbers: dict[str, Decimal] = {}
        for name, (places, label) in INJECTION_NUMBERS.items():
            raw = v.get(name, "").strip()
            if raw == "" and name != "volume_ml":
                numbers[name] = Decimal("0")  # an empty percentage means none of it
                continue
            if raw == "":
                row.errors.setdefault(name, []).append(f"{label}: enter the volume in ml.")
                self._parse_failed.add(f"{path}.{name}")
                numbers[name] = Decimal("1")
                continue
            try:
                numbers[name] = parse_decimal(raw, places=places)
            except ValueError as exc:
                row.errors.setdefault(name, []).append(f"{label}: {exc}")
                self._parse_failed.add(f"{path}.{name}")
                numbers[name] = Decimal("1") if name == "volume_ml" else Decimal("0")
        gauge_raw = v.get("needle_gauge", "").strip()
        gauge = 27
        if not gauge_raw.isdigit() or len(gauge_raw) > 2:
            row.errors.setdefault("needle_gauge", []).append(
                "Needle gauge: enter a whole number such as 27."
            )
            self._parse_failed.add(f"{path}.needle_gauge")
        else:
            gauge = int(gauge_raw)
        lot = v.get("lot", "").strip()
        if len(lot) > 64:
            row.errors.setdefault("lot", []).append("Lot: at most 64 characters.")
        return InjectionInput(
            site=v.get("site", ""),
            side=v.get("side", ""),
            depth=v.get("depth", ""),
            volume_ml=numbers["volume_ml"],
            needle_gauge=gauge,
            solution=Solution(
                dextrose_pct=numbers["dextrose_pct"],
                lidocaine_pct=numbers["lidocaine_pct"],
                mannitol_pct=numbers["mannitol_pct"],
                epinephrine=v.get("epinephrine") == "on",
            ),
            lot=lot,
        )

    def _clean_readings(self) -> list[ReadingInput]:
        readings: list[ReadingInput] = []
        self._reading_paths = []
        for row in self.reading_rows:
            for phase in PHASES:
                raw = row.values.get(phase, "").strip()
                if raw == "":
                    continue
                path = f"readings.{len(readings)}"
                try:
                    value = parse_decimal(raw, places=2)
                except ValueError as exc:
                    row.errors.setdefault(phase, []).append(str(exc))
                    self._parse_failed.add(f"{path}.value")
                    value = Decimal("0")
                readings.append(
                    ReadingInput(
                        site=row.site, side=row.side, phase=phase, value=value, unit=self.unit
                    )
                )
                self._reading_paths.append((row.index, phase))
        return readings

    def checkable_injections(self) -> tuple[list[InjectionInput], list[str]]:
        """The rows the safety rules can read as they stand, and the names of the others (a
        value to correct); nothing is marked on the form, which may be half typed."""
        parse_failed = set(self._parse_failed)
        readable: list[InjectionInput] = []
        unreadable: list[str] = []
        for i, row in enumerate(self.injection_rows):
            probe = InjectionRow(index=i, values=row.values)
            item = self._clean_injection(probe)
            if probe.errors or check_injection(i, item, self.catalog):
                unreadable.append(f"{row.site_name}, {row.side_word or 'side not chosen'}")
            else:
                readable.append(item)
        self._parse_failed = parse_failed
        return readable, unreadable

    def add_errors(self, errors: Iterable[FieldError]) -> None:
        """Attach FieldErrors (from the checks or the service) to the inputs they name."""
        for error in errors:
            parts = error.field.split(".")
            if len(parts) == 3 and parts[0] == "injections" and parts[1].isdigit():
                i = int(parts[1])
                if i < len(self.injection_rows):
                    row = self.injection_rows[i]
                    name = parts[2] if parts[2] in row.values or parts[2] == "site" else "site"
                    row.errors.setdefault(name, []).append(error.message)
                    continue
            if len(parts) == 3 and parts[0] == "readings" and parts[1].isdigit():
                k = int(parts[1])
                if k < len(self._reading_paths):
                    row_index, phase = self._reading_paths[k]
                    row = self.reading_rows[row_index]
                    if parts[2] == "value":
                        messages = row.errors.setdefault(phase, [])
                    elif parts[2] == "unit":
                        messages = self.errors.setdefault("unit", [])
                    else:
                        messages = row.errors.setdefault("row", [])
                    if error.message not in messages:
                        messages.append(error.message)
                    continue
            key = (
                error.field
                if error.field in {"performed_at", "pain_before", "pain_after", "notes", "unit"}
                else "__all__"
            )
            if error.message not in self.errors.get(key, []):
                self._error(key, error.message)

    # Display ------------------------------------------------------------------------------

    @property
    def error_summary(self) -> list[tuple[str, str]]:
        """(input id, message) for every problem, in form order, for the list at the top."""
        items = [("", m) for m in self.errors.get("__all__", [])]
        for name, label in VISIT_LABELS.items():
            items += [(f"id_{name}", f"{label}: {m}") for m in self.errors.get(name, [])]
        items += [("id_add_site", m) for m in self.errors.get("add_site", [])]
        for row in self.injection_rows:
            for name, messages in row.errors.items():
                target = f"{row.prefix}-{name if name not in ('site',) else 'remove'}"
                items += [
                    (
                        target,
                        f"{row.site_name} ({row.side_word}): {_named(_LABELS.get(name, name), m)}",
                    )
                    for m in messages
                ]
        for reading_row in self.reading_rows:
            for name, messages in reading_row.errors.items():
                target = f"{reading_row.prefix}-{name if name in PHASES else 'baseline'}"
                label = f"{reading_row.site_name} ({reading_row.side})"
                if name in PHASES:
                    label += f", {PHASE_LABELS[name]}"
                items += [(target, f"Readings, {label}: {m}") for m in messages]
        return items

    @property
    def visit_errors(self) -> dict[str, str]:
        """Each visit field's messages as one line, saying which field they are about."""
        return {
            name: " ".join(_named(label, m) for m in self.errors[name])
            for name, label in VISIT_LABELS.items()
            if self.errors.get(name)
        }

    @property
    def unit_choices(self) -> list[tuple[str, str]]:
        return UNIT_CHOICES

    @property
    def depth_choices(self) -> list[tuple[str, str]]:
        return [(d.value, d.label) for d in Depth]

    @property
    def unit_label(self) -> str:
        return dict(UNIT_CHOICES).get(self.unit, self.unit)


def injection_values(session: Session) -> list[dict[str, str]]:
    """A stored session's injections as form rows (strings), in their charted order."""
    return [
        {
            "site": inj.site,
            "side": inj.side,
            "depth": inj.depth,
            "dextrose_pct": plain_number(inj.dextrose_pct),
            "lidocaine_pct": plain_number(inj.lidocaine_pct),
            "mannitol_pct": plain_number(inj.mannitol_pct),
            "epinephrine": "on" if inj.epinephrine else "",
            "volume_ml": plain_number(inj.volume_ml),
            "needle_gauge": str(inj.needle_gauge),
            "lot": inj.lot,
        }
        for inj in session.injections.all()
    ]


def _unique_site_sides(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        seen.setdefault((row["site"], row["side"]), {"site": row["site"], "side": row["side"]})
    return list(seen.values())


def plain_number(value: Decimal | float | int) -> str:
    """A stored number as a person would type it: 0.50 -> 0.5, 5.0 -> 5."""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(d.normalize(), "f")
    return text if text != "-0" else "0"


def site_data(catalog: Catalog, modality: Modality | str) -> dict[str, dict[str, Any]]:
    """Per site: name, sides and the defaults of a new row, for the browser (json_script)."""
    return {
        code: {
            "name": site.name,
            "sides": [s.value for s in site.sides()],
            "defaults": injection_defaults(site, modality).as_strings(),
        }
        for code, site in catalog.sites.items()
    }


# Small Django forms ---------------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _region_choices(catalog: Catalog) -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in catalog.regions.values()]


class ConditionForm(forms.Form):
    code = forms.ChoiceField(label="Condition")
    region = forms.ChoiceField(label="Region")
    side = forms.ChoiceField(
        label="Side",
        required=False,
        choices=[
            ("", "Not sided"),
            ("left", "Left"),
            ("right", "Right"),
            ("both", "Both"),
            ("midline", "Midline"),
        ],
    )
    onset = forms.DateField(label="Onset (optional)", required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, catalog: Catalog, **kwargs: Any) -> None:
        super().__init__(*args, prefix="condition", **kwargs)
        by_name = sorted(
            ((c.code, c.name) for c in catalog.conditions.values()), key=lambda c: c[1]
        )
        self.fields["code"].choices = [("", "Choose a condition"), *by_name]
        self.fields["region"].choices = [("", "Choose a region"), *_region_choices(catalog)]


class SeriesForm(forms.Form):
    modality = forms.ChoiceField(
        label="Modality",
        choices=[(m.value, m.label) for m in Modality],
        initial=Modality.NEURAL.value,
        widget=forms.RadioSelect,
    )
    region = forms.ChoiceField(label="Region")
    planned_sessions = forms.IntegerField(
        label="Planned sessions",
        required=False,
        min_value=1,
        max_value=30,
        help_text="Empty: 6 for neural, 4 for classic.",
    )
    planned_interval_days = forms.IntegerField(
        label="Interval (days)",
        required=False,
        min_value=1,
        max_value=180,
        help_text="Empty: 7 for neural, 28 for classic.",
    )
    started_on = forms.DateField(label="Start date", widget=DATE_INPUT)
    condition = forms.ChoiceField(label="Condition (optional)", required=False)

    def __init__(
        self,
        *args: Any,
        catalog: Catalog,
        conditions: Sequence[Condition],
        condition_names: Mapping[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, prefix="series", **kwargs)
        self.conditions = {str(c.pk): c for c in conditions}
        self.fields["region"].choices = [("", "Choose a region"), *_region_choices(catalog)]
        self.fields["condition"].choices = [("", "None")] + [
            (str(c.pk), condition_names.get(c.pk, c.code)) for c in conditions
        ]
        neural = SERIES_DEFAULTS[Modality.NEURAL]
        self.fields["planned_sessions"].initial = neural.planned_sessions
        self.fields["planned_interval_days"].initial = neural.planned_interval_days

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        modality = data.get("modality")
        if modality:
            defaults = SERIES_DEFAULTS[Modality(modality)]
            if data.get("planned_sessions") is None and "planned_sessions" not in self.errors:
                data["planned_sessions"] = defaults.planned_sessions
            if (
                data.get("planned_interval_days") is None
                and "planned_interval_days" not in self.errors
            ):
                data["planned_interval_days"] = defaults.planned_interval_days
        data["condition"] = self.conditions.get(data.get("condition") or "")
        return data

    @property
    def defaults_json(self) -> dict[str, dict[str, int]]:
        return {
            m.value: {
                "planned_sessions": d.planned_sessions,
                "planned_interval_days": d.planned_interval_days,
            }
            for m, d in SERIES_DEFAULTS.items()
        }


class AdverseEventForm(forms.Form):
    category = forms.ChoiceField(label="Category")
    serious = forms.BooleanField(
        label="Serious (hospitalisation or permanent injury)", required=False
    )
    onset = forms.DateField(label="Onset", widget=DATE_INPUT)
    resolved_on = forms.DateField(label="Resolved on (optional)", required=False, widget=DATE_INPUT)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, catalog: Catalog, **kwargs: Any) -> None:
        super().__init__(*args, prefix="ae", **kwargs)
        self.fields["category"].choices = [("", "Choose a category")] + [
            (c.code, c.name + (" (usually serious)" if c.serious_by_default else ""))
            for c in catalog.adverse_events.values()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        onset, resolved = data.get("onset"), data.get("resolved_on")
        if onset and resolved and resolved < onset:
            self.add_error("resolved_on", "The resolution date cannot be before the onset.")
        return data


class AmendmentForm(forms.Form):
    text = forms.CharField(
        label="Amendment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Dated and signed with your name; the original note stays as it was.",
        max_length=20000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="amend", **kwargs)


def phase_label(phase: str) -> str:
    return Phase(phase).label
