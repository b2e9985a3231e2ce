"""Seeded synthetic clinics: invented patients with plausible prolotherapy care, never real data.

Used by ``prolotrack demo``, by tests and by benchmarks. Every number comes from ``random.Random``
seeded by the caller, so the same arguments give the same clinic on every machine. Each patient
draws from a generator of their own, seeded with ``"{seed}/{index}"`` (string seeds are hashed
with SHA-512, not with Python's per-process hash): patient 7 is the same whether 10 or 100,000
patients are generated, and the registry stream never holds more than one patient in memory.

The clinical shape follows the project's domain reference (DOMAIN.md):
- neural prolotherapy: 5% dextrose (or 5% mannitol) under the skin at nerve points, 0.2-1 ml a
  point, 27-30 G, about weekly for 4-8 sessions (section 1.2);
- classic prolotherapy: 12.5-25% dextrose with 0.1-0.2% lidocaine at entheses and joints, every
  2-6 weeks, a few sessions (section 1.1), lidocaine far under 4.5 mg/kg (section 2.1);
- a responder's pain falls by 30% or more over the series (section 4.2); pressure-pain thresholds
  start at 1.5-4 kg/cm2 on the painful side and rise after the injections in responders (4.1);
- a neural responder's relief lasts hours to days after the first sessions and lengthens with
  each one (sections 1.2 and 5);
- a few expected adverse events, mostly pain flares and bruising, rarely serious ones (2.4).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from prolotrack.core.catalog import Catalog, Condition, Depth, Modality, Side, Site, load_catalog
from prolotrack.core.charting import InjectionInput, ReadingInput, Solution
from prolotrack.core.units import KPA_PER_KG_CM2, KPA_PER_N_CM2, PressureUnit

DEFAULT_CLINIC_NAME = "Harbour Prolotherapy (demo)"
TIME_ZONE = "America/Vancouver"
JURISDICTION = "CA-BC"

# The ground truth each series was generated with, so tests and benchmarks can check that the
# outcome queries find what was put in.
RESPONDER = "responder"
NON_RESPONDER = "non_responder"
DROP_OUT = "drop_out"

PHASES = ("baseline", "1min", "15min")


@dataclass(frozen=True, slots=True)
class SynthPractitioner:
    key: str
    given_name: str
    family_name: str
    profession: str  # physician | naturopathic_doctor | nurse_practitioner
    certifications: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SynthCondition:
    code: str
    region: str
    side: str  # left | right | both | midline


@dataclass(frozen=True, slots=True)
class SynthInjection:
    site: str
    side: str
    depth: str
    volume_ml: Decimal
    needle_gauge: int
    dextrose_pct: Decimal
    lidocaine_pct: Decimal
    mannitol_pct: Decimal
    epinephrine: bool

    def as_input(self) -> InjectionInput:
        return InjectionInput(
            site=self.site,
            side=self.side,
            depth=self.depth,
            volume_ml=self.volume_ml,
            needle_gauge=self.needle_gauge,
            solution=Solution(
                dextrose_pct=self.dextrose_pct,
                lidocaine_pct=self.lidocaine_pct,
                mannitol_pct=self.mannitol_pct,
                epinephrine=self.epinephrine,
            ),
        )


@dataclass(frozen=True, slots=True)
class SynthReading:
    site: str
    side: str
    phase: str  # baseline | 1min | 15min
    value: Decimal
    unit: str  # kg/cm2 | N/cm2 | kPa

    def as_input(self) -> ReadingInput:
        return ReadingInput(self.site, self.side, self.phase, self.value, self.unit)


@dataclass(frozen=True, slots=True)
class SynthAdverseEvent:
    category: str
    serious: bool
    onset: dt.date
    resolved_on: dt.date | None


@dataclass(frozen=True, slots=True)
class SynthSession:
    performed_at: dt.datetime  # aware, UTC
    practitioner_key: str
    pain_before: int | None
    pain_after: int | None
    notes: str
    signed: bool
    injections: tuple[SynthInjection, ...]
    readings: tuple[SynthReading, ...]
    adverse_events: tuple[SynthAdverseEvent, ...]


@dataclass(frozen=True, slots=True)
class SynthSeries:
    modality: Modality
    region: str
    condition_code: str
    planned_sessions: int
    planned_interval_days: int
    started_on: dt.date
    status: str  # active | completed | stopped
    sessions: tuple[SynthSession, ...]
    response: str  # RESPONDER | NON_RESPONDER | DROP_OUT: how it was generated


@dataclass(frozen=True, slots=True)
class SynthDiaryEntry:
    date: dt.date
    pain: int
    pain_back: bool  # pain is back at (or above) the last session's pain_before


@dataclass(frozen=True, slots=True)
class SynthPatient:
    key: str
    chart_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str  # female | male | other
    weight_kg: Decimal
    diabetes: bool
    anticoagulant: bool
    bleeding_disorder: bool
    pregnant: bool
    allergies: tuple[str, ...]  # corn | local_anaesthetic
    conditions: tuple[SynthCondition, ...]
    series: tuple[SynthSeries, ...]
    diary: tuple[SynthDiaryEntry, ...]

    @property
    def sessions(self) -> Iterator[SynthSession]:
        for series in self.series:
            yield from series.sessions


@dataclass(frozen=True, slots=True)
class SynthClinic:
    name: str
    time_zone: str
    jurisdiction: str
    practitioners: tuple[SynthPractitioner, ...]
    patients: tuple[SynthPatient, ...]


# The demo's clinician logins are these keys, so a practitioner signs in and sees their own work.
# The naturopathic doctor holds CNPBC Advanced Injection Therapies part A (peripheral joints) but
# not part B (axial skeleton): DOMAIN section 6.
PRACTITIONERS = (
    SynthPractitioner("physician", "Alex", "Quillmere", "physician"),
    SynthPractitioner("naturopath", "Rowan", "Fernhollow", "naturopathic_doctor", ("cnpbc_ait_a",)),
    SynthPractitioner("nurse", "Jamie", "Larkwell", "nurse_practitioner"),
)

# Regions whose classic injections are axial (CNPBC AIT part B) or deep in the face: here only the
# physician gives them (DOMAIN section 6).
PHYSICIAN_ONLY_CLASSIC_REGIONS = frozenset(
    {"face", "cervical_spine", "thoracic_spine", "lumbar_spine", "sacroiliac_pelvis"}
)

_FEMALE_NAMES = (
    "Amelia", "Olivia", "Mia", "Chloe", "Hannah", "Isla", "Leah", "Priya", "Mei", "Aiko",
    "Layla", "Anika", "Sofia", "Elena", "Ingrid", "Amara", "Fatima", "Sana", "Ruth", "Clara",
    "Iris", "Nora", "Vera", "Maren", "Talia", "Greta", "Ines", "Lucia", "Zara", "Hazel",
)  # fmt: skip
_MALE_NAMES = (
    "Liam", "Noah", "Lucas", "Ethan", "Owen", "Mateo", "Arjun", "Wei", "Hiroshi", "Omar",
    "Samir", "Tomas", "Diego", "Nikolai", "Kwame", "Tariq", "Ravi", "Jonah", "Felix", "Hugo",
    "Leo", "Theo", "Anton", "Bram", "Caleb", "Dev", "Emil", "Joel", "Milo", "Silas",
)  # fmt: skip
_NEUTRAL_NAMES = (
    "Avery", "Blake", "Casey", "Dana", "Ellis", "Finley", "Harper", "Jordan", "Kai", "Logan",
    "Morgan", "Parker", "Quinn", "Riley", "Sage", "Tatum", "Wren", "Rowan", "Emery", "Remy",
)  # fmt: skip
# Family names are assembled from two halves, so they read as names without belonging to anyone.
_FAMILY_HEADS = (
    "Ash", "Birch", "Bram", "Clay", "Dun", "Elm", "Fen", "Glen", "Hollow", "Ivy", "Kes",
    "Lark", "Marsh", "North", "Oak", "Pen", "Quill", "Rook", "Stone", "Thorn", "Wren", "Yarrow",
)  # fmt: skip
_FAMILY_TAILS = (
    "ford", "wood", "brook", "field", "ley", "more", "ridge", "ton", "well", "by", "cott",
    "hurst", "dale", "wick", "mere", "shaw",
)  # fmt: skip

# Relative frequency of the catalog's conditions in the synthetic case mix; a condition the
# catalog gains later gets weight 1. Osteoarthritis and low back pain dominate the evidence and
# the clinics' case lists (DOMAIN section 5).
_CONDITION_WEIGHTS = {
    "low_back_pain": 14.0,
    "osteoarthritis": 12.0,
    "neck_pain": 9.0,
    "knee_problems": 6.0,
    "shoulder_rotator_cuff": 6.0,
    "plantar_fasciitis": 6.0,
    "lateral_epicondylalgia": 5.0,
    "achilles_tendinopathy": 5.0,
    "sciatica": 5.0,
    "migraine_headache": 4.0,
    "cervicogenic_headache": 3.0,
    "carpal_tunnel_syndrome": 3.0,
    "sports_injuries": 3.0,
    "tendinitis": 3.0,
    "hip_problems": 3.0,
    "foot_ankle_problems": 3.0,
    "joint_pain": 3.0,
    "sinusitis": 0.5,
}
_FEMALE_ONLY_CONDITIONS = frozenset({"vulvodynia_dyspareunia"})
_AXIAL_REGIONS = frozenset({"cervical_spine", "thoracic_spine", "lumbar_spine"})
# How often the clinic chooses neural prolotherapy when a condition allows both.
_NEURAL_SHARE = 0.6

# Mostly local pain flares and bruising; serious events are rare (DOMAIN 2.4, Dagenais 2006).
# Values: (weight, days to resolve: low, high).
_ADVERSE_EVENTS = {
    "local_pain_flare": (55.0, 1, 3),
    "bruising_haematoma": (30.0, 3, 10),
    "vasovagal_syncope": (7.0, 0, 0),
    "nerve_injury_paraesthesia": (2.0, 7, 45),
    "allergic_reaction": (1.0, 1, 3),
    "infection": (1.0, 7, 14),
    "other": (2.0, 1, 7),
}
_PNEUMOTHORAX = ("pneumothorax", 3.0, 7, 21)  # only where a site carries the risk
_ADVERSE_EVENT_RATE = 0.03

_NEURAL_NOTES = (
    "Tender points along the cutaneous nerves reproduced the pain; tolerated well.",
    "Immediate easing at the treated points; advised to keep active.",
    "Fewer tender points than last visit.",
    "Patient reports relief lasting longer between visits.",
    "Small bruise at one point; reassured.",
    "",
)
_CLASSIC_NOTES = (
    "Entheses injected as planned; tolerated well. Post-injection soreness explained.",
    "Advised paracetamol for soreness and relative rest for 3 days.",
    "Stiffness for two days after the last session, then settled.",
    "Gradual improvement in daily activities reported.",
    "",
)


@dataclass(frozen=True)
class _Pools:
    """Catalog lookups computed once per generator run."""

    catalog: Catalog
    neural_sites: dict[str, tuple[Site, ...]]
    classic_sites: dict[str, tuple[Site, ...]]
    conditions: tuple[Condition, ...]
    condition_weights: tuple[float, ...]


@cache
def _pools() -> _Pools:
    catalog = load_catalog()
    neural: dict[str, list[Site]] = {}
    classic: dict[str, list[Site]] = {}
    for site in catalog.sites.values():
        if site.modality is Modality.NEURAL:
            # Subcutaneous points only: deep, ultrasound-guided perineural injections are a
            # different procedure with larger volumes (DOMAIN 0 and 1.2).
            if site.depth is Depth.SUBCUTANEOUS:
                neural.setdefault(site.region, []).append(site)
        else:
            classic.setdefault(site.region, []).append(site)
    conditions = tuple(
        c
        for c in catalog.conditions.values()
        if any(
            r in (neural if m is Modality.NEURAL else classic)
            for m in c.modalities
            for r in c.regions
        )
    )
    return _Pools(
        catalog=catalog,
        neural_sites={k: tuple(v) for k, v in neural.items()},
        classic_sites={k: tuple(v) for k, v in classic.items()},
        conditions=conditions,
        condition_weights=tuple(_CONDITION_WEIGHTS.get(c.code, 1.0) for c in conditions),
    )


@dataclass(frozen=True)
class _Setting:
    """What differs between the demo clinic and the large registry stream."""

    today: dt.date
    chart_prefix: str
    key_prefix: str
    digits: int
    horizon_days: int  # how far back a finished series may have ended
    active_share: float  # share of series still under way today


def generate_clinic(
    *, seed: int, patients: int, today: dt.date, name: str = DEFAULT_CLINIC_NAME
) -> SynthClinic:
    """A synthetic clinic of ``patients`` patients whose care runs up to yesterday."""
    if patients < 0:
        raise ValueError("patients must be 0 or more")
    setting = _Setting(
        today=today,
        chart_prefix="D-",
        key_prefix="p",
        digits=4,
        horizon_days=270,
        active_share=0.35,
    )
    return SynthClinic(
        name=name,
        time_zone=TIME_ZONE,
        jurisdiction=JURISDICTION,
        practitioners=PRACTITIONERS,
        patients=tuple(_patient(seed, i, setting) for i in range(patients)),
    )


def generate_registry(*, seed: int, readings_target: int, today: dt.date) -> Iterator[SynthPatient]:
    """Patients one at a time until about ``readings_target`` algometer readings have been made.

    Sessions, injections and diary entries grow in proportion. Care spreads over three years and
    most series are finished, as in a registry. The practitioners are ``PRACTITIONERS``.
    """
    if readings_target < 0:
        raise ValueError("readings_target must be 0 or more")
    setting = _Setting(
        today=today,
        chart_prefix="R-",
        key_prefix="r",
        digits=7,
        horizon_days=3 * 365,
        active_share=0.08,
    )
    return _registry(seed, readings_target, setting)


def _registry(seed: int, readings_target: int, setting: _Setting) -> Iterator[SynthPatient]:
    made = 0
    index = 0
    while made < readings_target:
        patient = _patient(seed, index, setting)
        made += sum(len(session.readings) for session in patient.sessions)
        index += 1
        yield patient


# ----------------------------------------------------------------------------------------------
# One patient


def _patient(seed: int, index: int, setting: _Setting) -> SynthPatient:
    # Synthetic data, not secrets: a seeded, reproducible generator is the point (S311).
    rng = random.Random(f"{seed}/{index}")  # noqa: S311
    pools = _pools()
    today = setting.today
    roll = rng.random()
    sex = "female" if roll < 0.56 else "male" if roll < 0.99 else "other"
    names = {"female": _FEMALE_NAMES, "male": _MALE_NAMES}.get(sex, ())
    given = rng.choice(names + _NEUTRAL_NAMES)
    family = rng.choice(_FAMILY_HEADS) + rng.choice(_FAMILY_TAILS)
    age = min(88, max(19, round(rng.gauss(54, 14))))
    birth_date = today - dt.timedelta(days=age * 365 + age // 4 + rng.randint(1, 364))
    mean_kg = {"female": 69.0, "male": 85.0}.get(sex, 76.0)
    weight_kg = Decimal(f"{min(140.0, max(45.0, rng.gauss(mean_kg, 13))):.1f}")
    allergies = tuple(
        code
        for code, share in (("corn", 0.03), ("local_anaesthetic", 0.03))
        if rng.random() < share
    )
    pregnant = sex == "female" and 20 <= age <= 42 and rng.random() < 0.04
    facts = _Facts(
        weight_kg=float(weight_kg),
        corn_allergy="corn" in allergies,
        la_allergy="local_anaesthetic" in allergies,
        pregnant=pregnant,
    )

    conditions: list[SynthCondition] = []
    series: list[SynthSeries] = []
    diary: list[SynthDiaryEntry] = []
    covered: list[tuple[dt.date, dt.date]] = []
    for _ in range(1 if rng.random() < 0.78 else 2):
        picked = _pick_condition(rng, pools, sex, facts, conditions)
        if picked is None:
            continue
        condition, modality = picked
        conditions.append(condition)
        one, entries = _series(rng, pools, setting, facts, condition, modality)
        series.append(one)
        # One diary per patient: while an earlier series' diary runs, it is the one kept.
        diary += [e for e in entries if not any(lo <= e.date <= hi for lo, hi in covered)]
        if entries:
            covered.append((entries[0].date, entries[-1].date))

    return SynthPatient(
        key=f"{setting.key_prefix}{index:0{setting.digits}d}",
        chart_number=f"{setting.chart_prefix}{index + 1:0{setting.digits}d}",
        given_name=given,
        family_name=family,
        birth_date=birth_date,
        sex=sex,
        weight_kg=weight_kg,
        diabetes=rng.random() < (0.14 if age >= 60 else 0.06),
        anticoagulant=rng.random() < (0.1 if age >= 65 else 0.02),
        bleeding_disorder=rng.random() < 0.01,
        pregnant=pregnant,
        allergies=allergies,
        conditions=tuple(conditions),
        series=tuple(series),
        diary=tuple(sorted(diary, key=lambda e: e.date)),
    )


@dataclass(frozen=True)
class _Facts:
    """The patient facts that shape the injections."""

    weight_kg: float
    corn_allergy: bool
    la_allergy: bool
    pregnant: bool


def _pick_condition(
    rng: random.Random,
    pools: _Pools,
    sex: str,
    facts: _Facts,
    taken: Sequence[SynthCondition],
) -> tuple[SynthCondition, Modality] | None:
    for _attempt in range(20):
        condition = rng.choices(pools.conditions, weights=pools.condition_weights)[0]
        if condition.code in _FEMALE_ONLY_CONDITIONS and sex != "female":
            continue
        modalities = [
            m
            for m in condition.modalities
            # Trials exclude pregnancy (DOMAIN 2.3); here pregnant patients get only the
            # anaesthetic-free subcutaneous 5% dextrose.
            if not (facts.pregnant and m is Modality.CLASSIC)
            and any(r in _site_pool(pools, m) for r in condition.regions)
        ]
        if not modalities:
            continue
        if len(modalities) > 1:
            modality = Modality.NEURAL if rng.random() < _NEURAL_SHARE else Modality.CLASSIC
        else:
            modality = modalities[0]
        regions = [r for r in condition.regions if r in _site_pool(pools, modality)]
        region = rng.choice(regions)
        if any(t.code == condition.code and t.region == region for t in taken):
            continue
        if region in _AXIAL_REGIONS:
            side = rng.choice(("midline", "midline", "both", "left", "right"))
        else:
            side = rng.choice(("left", "left", "right", "right", "right", "both"))
        return SynthCondition(condition.code, region, side), modality
    return None


def _site_pool(pools: _Pools, modality: Modality) -> dict[str, tuple[Site, ...]]:
    return pools.neural_sites if modality is Modality.NEURAL else pools.classic_sites


# ----------------------------------------------------------------------------------------------
# One series: schedule, pain course, injections, readings, diary


def _series(
    rng: random.Random,
    pools: _Pools,
    setting: _Setting,
    facts: _Facts,
    condition: SynthCondition,
    modality: Modality,
) -> tuple[SynthSeries, list[SynthDiaryEntry]]:
    neural = modality is Modality.NEURAL
    if neural:
        planned, interval = rng.randint(4, 8), 7  # DOMAIN 1.2: weekly, 4-8 sessions
        gap_range = (6, 8)
    else:
        planned = rng.randint(3, 6)  # DOMAIN 1.1: RCTs used 3-6 sessions
        interval = rng.choice((14, 21, 28, 28, 28, 35, 42))  # every 2-6 weeks, 4 by default
        gap_range = (max(14, interval - 3), min(42, interval + 3))

    roll = rng.random()
    response = RESPONDER if roll < 0.55 else NON_RESPONDER if roll < 0.92 else DROP_OUT
    if response == DROP_OUT:
        done, status = 1, "stopped"
    elif response == NON_RESPONDER and rng.random() < 0.4:
        # Reviewed after 2-3 sessions without benefit and stopped (DOMAIN 1.1, 1.2).
        done, status = rng.randint(2, min(3, planned - 1)), "stopped"
    elif rng.random() < setting.active_share:
        done, status = rng.randint(1, planned - 1), "active"
    else:
        done, status = planned, "completed"

    today = setting.today
    if status == "active":
        # The next session is due soon: the last one was within the planned interval.
        last = today - dt.timedelta(days=rng.randint(1, interval - 1))
    else:
        last = today - dt.timedelta(days=rng.randint(7, setting.horizon_days))
    dates = _schedule(rng, last, done, gap_range)

    practitioner = _practitioner(rng, modality, condition.region)
    pains = _pain_course(rng, response, planned, done)
    after = [_pain_after(rng, neural, response, p) for p in pains]
    plan = _injection_plan(rng, pools, facts, condition, modality)
    probes = _probe_plan(rng, plan, condition)
    unit = rng.choices(("kg/cm2", "N/cm2", "kPa"), weights=(8, 1, 1))[0]
    # Pressure-pain thresholds: 1.5-4 kg/cm2 where it hurts, normal 3-4 elsewhere (DOMAIN 4.1).
    baselines = [
        rng.uniform(1.5, 4.0) if painful else rng.uniform(3.0, 4.5) for *_, painful in probes
    ]
    gain = rng.uniform(0.5, 1.5) if response == RESPONDER else 0.0
    tz = ZoneInfo(TIME_ZONE)

    sessions: list[SynthSession] = []
    for k, day in enumerate(dates):
        progress = k / (planned - 1)
        is_latest = k == done - 1
        cover = _covering(rng, modality, condition.region, practitioner)
        sessions.append(
            SynthSession(
                performed_at=_clinic_time(rng, day, tz),
                practitioner_key=cover or practitioner,
                pain_before=pains[k],
                pain_after=after[k],
                notes=rng.choice(_NEURAL_NOTES if neural else _CLASSIC_NOTES),
                # Notes are signed the same day, except perhaps the latest one of a series that
                # is still under way (written up later).
                signed=not (status == "active" and is_latest and rng.random() < 0.5),
                injections=_injections(rng, plan),
                readings=_readings(rng, probes, baselines, gain * progress, response, neural, unit),
                adverse_events=_adverse_events(rng, pools, plan, day, today),
            )
        )

    diary: list[SynthDiaryEntry] = []
    if rng.random() < 0.85:  # most patients keep the diary
        diary = _diary(rng, setting, neural, response, status, dates, pains, after)
    series = SynthSeries(
        modality=modality,
        region=condition.region,
        condition_code=condition.code,
        planned_sessions=planned,
        planned_interval_days=interval,
        started_on=dates[0],
        status=status,
        sessions=tuple(sessions),
        response=response,
    )
    return series, diary


def _schedule(
    rng: random.Random, last: dt.date, count: int, gap_range: tuple[int, int]
) -> list[dt.date]:
    """``count`` session dates ending at ``last``, gaps within ``gap_range``, never on a Sunday."""
    low, high = gap_range
    day = last - dt.timedelta(days=1) if last.weekday() == 6 else last
    dates = [day]
    for _ in range(count - 1):
        gap = rng.randint(low, high)
        if (day - dt.timedelta(days=gap)).weekday() == 6:
            gap = gap + 1 if gap < high else gap - 1
        day -= dt.timedelta(days=gap)
        dates.append(day)
    dates.reverse()
    return dates


def _clinic_time(rng: random.Random, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(
        day, dt.time(rng.randint(8, 16), rng.choice((0, 15, 30, 45))), tzinfo=tz
    )
    return local.astimezone(dt.UTC)


def _eligible(modality: Modality, region: str) -> tuple[str, ...]:
    if modality is Modality.NEURAL:
        return ("physician", "naturopath", "nurse")
    if region in PHYSICIAN_ONLY_CLASSIC_REGIONS:
        return ("physician",)
    return ("physician", "naturopath")


def _practitioner(rng: random.Random, modality: Modality, region: str) -> str:
    return rng.choice(_eligible(modality, region))


def _covering(rng: random.Random, modality: Modality, region: str, usual: str) -> str | None:
    """Now and then a colleague who may give the same injections covers a session."""
    others = [p for p in _eligible(modality, region) if p != usual]
    if others and rng.random() < 0.1:
        return rng.choice(others)
    return None


def _pain_course(rng: random.Random, response: str, planned: int, done: int) -> list[int]:
    """Pain before each session (0-10). A responder falls by 30% or more by the planned end."""
    start = rng.randint(5, 9)
    floor_30 = math.floor(0.7 * start)  # at most this is a fall of >= 30% (DOMAIN 4.2)
    pains: list[int] = []
    if response == RESPONDER:
        end_share = rng.uniform(0.15, 0.6)
        for k in range(done):
            progress = k / (planned - 1)
            value = round(start * (1 - (1 - end_share) * progress))
            if 0 < k < planned - 1:
                value += rng.choice((-1, 0, 0, 0, 1))
            if k == planned - 1:
                value = min(value, floor_30)
            pains.append(min(start, max(0, value)))
    else:
        for k in range(done):
            value = start if k == 0 else start + rng.choice((-1, 0, 0, 1))
            pains.append(min(10, max(floor_30 + 1, value)))
    return pains


def _pain_after(rng: random.Random, neural: bool, response: str, before: int) -> int | None:
    if rng.random() < 0.03:
        return None  # not asked that day
    if neural:
        # "Decreases or eliminates pain in less than one minute" in those who respond (DOMAIN).
        drop = rng.randint(2, 4) if response == RESPONDER else rng.randint(0, 1)
        return max(0, before - drop)
    # Classic: needle pain against the lidocaine's brief numbing.
    return min(10, max(0, before + rng.choice((-2, -1, 0, 0, 1))))


# An injection point: (site, side, volume_ml) with the series' solution and needle.
_Point = tuple[Site, Side, Decimal]


@dataclass(frozen=True)
class _Plan:
    modality: Modality
    points: tuple[_Point, ...]
    gauge: int | None  # neural: the practitioner's needle; classic: each site's own
    dextrose_pct: Decimal
    ia_dextrose_pct: Decimal
    lidocaine_pct: Decimal
    mannitol_pct: Decimal
    painful: tuple[Side, ...]


def _painful_sides(condition: SynthCondition) -> tuple[Side, ...]:
    if condition.side in ("left", "right"):
        return (Side(condition.side),)
    return (Side.LEFT, Side.RIGHT)


def _sides_at(site: Site, sides: Sequence[Side]) -> list[Side]:
    return [Side.MIDLINE] if Side.MIDLINE in site.sides() else list(sides)


def _volume(value: float) -> Decimal:
    return Decimal(f"{value:.1f}")


def _injection_plan(
    rng: random.Random,
    pools: _Pools,
    facts: _Facts,
    condition: SynthCondition,
    modality: Modality,
) -> _Plan:
    painful = _painful_sides(condition)
    if modality is Modality.NEURAL:
        return _neural_plan(rng, pools.neural_sites[condition.region], painful, facts)
    return _classic_plan(rng, pools.classic_sites[condition.region], painful, facts)


def _neural_plan(
    rng: random.Random, sites: Sequence[Site], painful: tuple[Side, ...], facts: _Facts
) -> _Plan:
    """6-14 subcutaneous points, 0.5 ml each by default (0.2-1.0), 27-30 G (DOMAIN 1.2)."""
    candidates = [(s, side) for s in sites for side in _sides_at(s, painful)]
    if len(candidates) < 3:
        # Too few nerves in the region: treat the other side too.
        candidates += [
            (s, side) for s in sites for side in (Side.LEFT, Side.RIGHT) if side not in painful
        ]
    count = rng.randint(6, 14)
    chosen = rng.sample(candidates, min(count, len(candidates)))
    while len(chosen) < count:
        # Several points along the same nerve.
        chosen.append(rng.choice(chosen[: len(candidates)]))
    usual = 0.5 if rng.random() < 0.8 else rng.choice((0.3, 0.4, 0.6, 0.8, 1.0))
    points = tuple(
        (s, side, _volume(min(max(usual, s.volume_ml_min, 0.2), s.volume_ml_max, 1.0)))
        for s, side in chosen
    )
    # Mannitol 5% is the alternative to dextrose (DOMAIN 1.2), and the choice for corn allergy
    # (dextrose is usually corn-derived, DOMAIN 2.2).
    mannitol = facts.corn_allergy or rng.random() < 0.1
    return _Plan(
        modality=Modality.NEURAL,
        points=points,
        gauge=27 if rng.random() < 0.7 else 30,
        dextrose_pct=Decimal("0.0") if mannitol else Decimal("5.0"),
        ia_dextrose_pct=Decimal("0.0") if mannitol else Decimal("5.0"),
        lidocaine_pct=Decimal("0.00"),
        mannitol_pct=Decimal("5.0") if mannitol else Decimal("0.0"),
        painful=painful,
    )


def _classic_plan(
    rng: random.Random, sites: Sequence[Site], painful: tuple[Side, ...], facts: _Facts
) -> _Plan:
    """Entheses and joints, 0.5-6 ml a point, 12.5-25% dextrose with 0.1-0.2% lidocaine."""
    chosen_sites = rng.sample(list(sites), rng.randint(min(2, len(sites)), min(5, len(sites))))
    points: list[_Point] = []
    for site in chosen_sites:
        low = max(0.5, site.volume_ml_min)
        high = min(6.0, site.volume_ml_max)
        for side in _sides_at(site, painful):
            if site.depth is Depth.INTRA_ARTICULAR:
                points.append((site, side, _volume(min(max(site.volume_ml, low), high))))
                continue
            # Several small injections along a ligament or tendon insertion.
            for _ in range(rng.randint(1, 3)):
                ml = rng.choice((site.volume_ml, site.volume_ml, 1.0, 1.5, 2.0))
                points.append((site, side, _volume(min(max(ml, low), high))))
    points = points[:16]
    # DOMAIN 1.1: 12.5-15% with anaesthetic is a common extra-articular mix, 25% intra-articular.
    dextrose = Decimal(rng.choice(("12.5", "15.0", "15.0", "20.0", "25.0")))
    lidocaine = Decimal("0.00") if facts.la_allergy else Decimal(rng.choice(("0.10", "0.20")))
    # Keep the session's lidocaine under a third of 4.5 mg/kg (DOMAIN 2.1): 1% = 10 mg/ml.
    limit_mg = 1.5 * facts.weight_kg
    while len(points) > 2 and _lidocaine_mg(points, lidocaine) > limit_mg:
        points.pop()
    if _lidocaine_mg(points, lidocaine) > limit_mg:
        lidocaine = Decimal("0.10")
    return _Plan(
        modality=Modality.CLASSIC,
        points=tuple(points),
        gauge=None,
        dextrose_pct=dextrose,
        ia_dextrose_pct=Decimal("25.0"),
        lidocaine_pct=lidocaine,
        mannitol_pct=Decimal("0.0"),
        painful=painful,
    )


def _lidocaine_mg(points: Sequence[_Point], pct: Decimal) -> float:
    return float(sum(ml for *_, ml in points) * pct * 10)


def _injections(rng: random.Random, plan: _Plan) -> tuple[SynthInjection, ...]:
    points = list(plan.points)
    if len(points) > 2 and rng.random() < 0.3:
        # A point that is no longer tender is skipped this time.
        del points[rng.randrange(len(points))]
    neural = plan.modality is Modality.NEURAL
    return tuple(
        SynthInjection(
            site=site.code,
            side=side.value,
            depth=Depth.SUBCUTANEOUS.value if neural else site.depth.value,
            volume_ml=ml,
            needle_gauge=plan.gauge if plan.gauge is not None else site.needle_gauge,
            dextrose_pct=(
                plan.ia_dextrose_pct if site.depth is Depth.INTRA_ARTICULAR else plan.dextrose_pct
            ),
            lidocaine_pct=plan.lidocaine_pct,
            mannitol_pct=plan.mannitol_pct,
            epinephrine=False,
        )
        for site, side, ml in points
    )


# An algometer probe: (site code, side, painful?).
_Probe = tuple[str, str, bool]


def _probe_plan(rng: random.Random, plan: _Plan, condition: SynthCondition) -> tuple[_Probe, ...]:
    """2-4 sites measured every visit in the same order (DOMAIN 4.1)."""
    seen: list[tuple[Site, Side]] = []
    for site, side, _ml in plan.points:
        if (site, side) not in seen:
            seen.append((site, side))
    chosen = rng.sample(seen, min(len(seen), rng.randint(2, 4)))
    probes: list[_Probe] = [
        (site.code, side.value, side in plan.painful or side is Side.MIDLINE)
        for site, side in chosen
    ]
    if condition.side in ("left", "right") and len(probes) < 4 and rng.random() < 0.5:
        # The other side for comparison: left and right thresholds are alike (Fischer 1987).
        site, side = chosen[0]
        if side is not Side.MIDLINE:
            other = (site.code, (Side.RIGHT if side is Side.LEFT else Side.LEFT).value, False)
            if all(p[:2] != other[:2] for p in probes):
                probes.append(other)
    return tuple(probes)


def _readings(
    rng: random.Random,
    probes: Sequence[_Probe],
    baselines: Sequence[float],
    improvement: float,
    response: str,
    neural: bool,
    unit: str,
) -> tuple[SynthReading, ...]:
    readings: list[SynthReading] = []
    for (site, side, painful), start in zip(probes, baselines, strict=True):
        base = start + (improvement if painful else 0.0) + rng.gauss(0, 0.15)
        if painful and response == RESPONDER:
            # Higher 1 minute after the injections and higher still at 15 minutes (DOMAIN 4.1).
            one = base + rng.uniform(0.3, 1.0 if neural else 0.6)
            fifteen = one + rng.uniform(0.3, 1.0)
        else:
            one = base + rng.gauss(0, 0.15)
            fifteen = base + rng.gauss(0, 0.2)
        for phase, kg in zip(PHASES, (base, one, fifteen), strict=True):
            readings.append(SynthReading(site, side, phase, _in_unit(kg, unit), unit))
    return tuple(readings)


def _in_unit(kg_cm2: float, unit: str) -> Decimal:
    kg_cm2 = min(19.8, max(0.2, kg_cm2))
    if unit == PressureUnit.KPA:
        return Decimal(f"{kg_cm2 * KPA_PER_KG_CM2:.0f}")
    if unit == PressureUnit.N_CM2:
        return Decimal(f"{kg_cm2 * KPA_PER_KG_CM2 / KPA_PER_N_CM2:.1f}")
    return Decimal(f"{kg_cm2:.1f}")


def _adverse_events(
    rng: random.Random, pools: _Pools, plan: _Plan, day: dt.date, today: dt.date
) -> tuple[SynthAdverseEvent, ...]:
    if rng.random() >= _ADVERSE_EVENT_RATE:
        return ()
    known = pools.catalog.adverse_events
    options = [(code, w, lo, hi) for code, (w, lo, hi) in _ADVERSE_EVENTS.items() if code in known]
    if any(site.pneumothorax_risk for site, *_ in plan.points) and _PNEUMOTHORAX[0] in known:
        options.append(_PNEUMOTHORAX)
    if not options:
        return ()
    code, _weight, low, high = rng.choices(options, weights=[o[1] for o in options])[0]
    # A faint happens in the chair; soreness and bruises may show the next day.
    delay = 0 if code == "vasovagal_syncope" else rng.choice((0, 0, 1))
    onset = day + dt.timedelta(days=delay)
    resolved: dt.date | None = onset + dt.timedelta(days=rng.randint(low, high))
    if resolved is not None and resolved >= today:
        resolved = None  # still going on
    return (SynthAdverseEvent(code, known[code].serious_by_default, onset, resolved),)


def _diary(
    rng: random.Random,
    setting: _Setting,
    neural: bool,
    response: str,
    status: str,
    dates: Sequence[dt.date],
    pains: Sequence[int],
    after: Sequence[int | None],
) -> list[SynthDiaryEntry]:
    """Daily-ish pain between sessions; ``pain_back`` once pain is at the session's pain_before."""
    entries: list[SynthDiaryEntry] = []
    today = setting.today
    for k, day in enumerate(dates):
        before = pains[k]
        if k + 1 < len(dates):
            end, next_pain = dates[k + 1] - dt.timedelta(days=1), pains[k + 1]
        else:
            # After the last session: up to today while the series runs, two weeks after it
            # ends, a few days after a patient stops coming.
            if status == "active":
                tail = (today - day).days
            elif status == "completed":
                tail = 14
            else:
                tail = rng.randint(2, 6)
            end, next_pain = min(today, day + dt.timedelta(days=tail)), before
        span = (end - day).days
        numbed = after[k]
        low = min(max(0, before - 2) if numbed is None else numbed, max(0, before - 1))
        relief = flare = 0
        if not neural:
            # Classic: a flare of pain and stiffness for the first days (DOMAIN 2.4).
            flare = rng.randint(1, 3)
        elif response == RESPONDER:
            # Relief lasts hours to days after the first sessions and lengthens with each one
            # (DOMAIN 1.2: 4 h to 4 days at first; later sessions about a week).
            relief = round(rng.uniform(1, 2) + k * rng.uniform(1.0, 1.4))
        else:
            relief = rng.choice((0, 0, 1))
        for d in range(1, span + 1):
            if rng.random() < 0.15:
                continue  # a day without an entry
            if neural:
                if before > 0 and d <= relief:
                    # Pain creeps back up towards (but stays below) the pre-session level.
                    pain = round(low + (before - 1 - low) * (d - 1) / max(1, relief))
                else:
                    pain = min(10, before + rng.choice((0, 0, 1)))
            elif d <= flare:
                pain = min(10, before + rng.randint(1, 2))
            else:
                share = (d - flare) / max(1, span - flare)
                pain = round(before + (next_pain - before) * share) + rng.choice((-1, 0, 0, 0, 1))
                pain = min(10, max(0, pain))
            entries.append(
                SynthDiaryEntry(day + dt.timedelta(days=d), pain, pain_back=pain >= before)
            )
    return entries
