"""Reading the diary form a patient posts from their phone, and the staff's small forms.

The entry form has a pain scale per treated area (one per active series, named ``area-<id>``),
so it is read by ``entry_input_parse`` rather than a fixed Django form. Every refusal names the
field in the patient's words; nothing is stored unless all of it is valid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django import forms

from prolotrack.core.charting import FieldError
from prolotrack.core.triage import SideEffect
from prolotrack.diary.models import PSFS_MAX_ACTIVITIES, ClinicDiarySettings

# How far back a patient may fill in a missed day.
BACKFILL_DAYS = 14
NOTE_MAX = 2000
ACTIVITY_MAX = 80
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_AREA = re.compile(r"^area-(\d{1,18})$")


@dataclass(frozen=True)
class Area:
    """A treated area the patient rates: one of their active series."""

    series_id: int
    name: str

    @property
    def field(self) -> str:
        return f"area-{self.series_id}"


@dataclass
class EntryInput:
    """A valid diary submission."""

    key: str
    entry_date: dt.date
    pain: int
    area_pains: dict[int, int] = field(default_factory=dict)
    pain_back: bool | None = None
    side_effects: list[SideEffect] = field(default_factory=list)
    note: str = ""
    pgic: int | None = None
    psfs: list[dict[str, object]] = field(default_factory=list)


class EntryInvalid(Exception):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


def _score(raw: str, low: int, high: int) -> int | None:
    text = raw.strip()
    if not re.fullmatch(r"\d{1,2}", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def entry_input_parse(
    data: Mapping[str, object],
    *,
    areas: Sequence[Area],
    today: dt.date,
) -> EntryInput:
    """The submission in ``data`` (a QueryDict or a dict), or EntryInvalid naming each field.

    ``areas`` are the patient's own treated areas; a pain for any other series is refused.
    ``today`` is the date in the patient's (the clinic's) zone.
    """
    errors: list[FieldError] = []

    def get(name: str) -> str:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    def get_list(name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else data.get(name, [])
        return [v for v in (values or []) if isinstance(v, str)]

    key = get("key").strip()
    if not _KEY.match(key):
        errors.append(
            FieldError("key", "This form has expired. Reload the page and fill it in again.")
        )

    entry_date = today
    raw_date = get("entry_date").strip()
    if raw_date:
        try:
            entry_date = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(FieldError("entry_date", "Date: enter a date such as 2026-11-02."))
    if entry_date > today:
        errors.append(FieldError("entry_date", "Date: the entry cannot be for a future day."))
    elif entry_date < today - dt.timedelta(days=BACKFILL_DAYS):
        errors.append(
            FieldError(
                "entry_date", f"Date: entries can be added for the last {BACKFILL_DAYS} days only."
            )
        )

    own = {a.series_id: a for a in areas}
    area_pains: dict[int, int] = {}
    for name in data:
        match = _AREA.match(str(name))
        if match and int(match[1]) not in own:
            errors.append(
                FieldError(str(name), "Treated area: that treatment is not one of yours.")
            )
    for area in areas:
        raw = get(area.field)
        if raw.strip() == "":
            errors.append(FieldError(area.field, f"Pain in {area.name}: choose 0 to 10."))
            continue
        value = _score(raw, 0, 10)
        if value is None:
            errors.append(
                FieldError(area.field, f"Pain in {area.name}: choose a number from 0 to 10.")
            )
        else:
            area_pains[area.series_id] = value
    pain: int | None = None
    if areas:
        pain = max(area_pains.values()) if len(area_pains) == len(areas) else None
    else:
        raw = get("pain")
        pain = _score(raw, 0, 10)
        if pain is None:
            errors.append(FieldError("pain", "Pain now: choose a number from 0 to 10."))

    pain_back: bool | None = None
    raw_back = get("pain_back").strip()
    if raw_back in ("yes", "no"):
        pain_back = raw_back == "yes"
    elif raw_back:
        errors.append(FieldError("pain_back", "Pain back: answer yes or no."))

    effects: list[SideEffect] = []
    for code in get_list("side_effects"):
        try:
            effect = SideEffect(code)
        except ValueError:
            errors.append(FieldError("side_effects", f"Side effects: unknown answer {code!r}."))
            continue
        if effect not in effects:
            effects.append(effect)

    note = get("note").strip()
    if len(note) > NOTE_MAX:
        errors.append(FieldError("note", f"Note: keep it under {NOTE_MAX} characters."))

    pgic: int | None = None
    raw_pgic = get("pgic").strip()
    if raw_pgic:
        pgic = _score(raw_pgic, 1, 7)
        if pgic is None:
            errors.append(FieldError("pgic", "Overall change: choose one of the 7 answers."))

    psfs: list[dict[str, object]] = []
    for i in range(PSFS_MAX_ACTIVITIES):
        activity = get(f"psfs-{i}-activity").strip()
        raw_score = get(f"psfs-{i}-score").strip()
        if not activity and not raw_score:
            continue
        label = f"Activity {i + 1}"
        if not activity:
            errors.append(FieldError(f"psfs-{i}-activity", f"{label}: name the activity."))
            continue
        if len(activity) > ACTIVITY_MAX:
            errors.append(
                FieldError(f"psfs-{i}-activity", f"{label}: keep it under {ACTIVITY_MAX} letters.")
            )
            continue
        score = _score(raw_score, 0, 10)
        if score is None:
            errors.append(
                FieldError(
                    f"psfs-{i}-score", f"{label} ({activity}): choose a number from 0 to 10."
                )
            )
            continue
        psfs.append({"activity": activity, "score": score})

    if errors or pain is None:
        raise EntryInvalid(errors)
    return EntryInput(
        key=key,
        entry_date=entry_date,
        pain=pain,
        area_pains=area_pains,
        pain_back=pain_back,
        side_effects=effects,
        note=note,
        pgic=pgic,
        psfs=psfs,
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="What was done",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Required: for example "Called the patient, seen today at 16:00".',
    )


class SignInRequestForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)


class DiarySettingsForm(forms.ModelForm):
    class Meta:
        model = ClinicDiarySettings
        fields = ["alert_email", "reminders_enabled", "reminder_time", "aftercare_advice"]
        widgets = {"reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
