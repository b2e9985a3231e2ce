"""Outcome definitions: the one reference implementation of every number the outcome pages show.

The database computes the same numbers at scale (``prolotrack.outcomes.queries``): it returns
small aggregates (counts, sums, a few per-patient or per-session values) and this module turns
them into rates, intervals, survival estimates and verdicts. ``reference_aggregates`` computes
those aggregates from plain rows in Python; tests hold the SQL to it.

Definitions (issue 6; DOMAIN 4.1, 4.2, 5):

- A patient's *baseline* is the ``pain_before`` of their earliest session (by date, then id) that
  has one; *latest* that of their latest such session. Patients with at least two such sessions
  and a baseline of at least 1 are *eligible*; improvement = (baseline - latest) / baseline.
- *Responders*: eligible patients with improvement >= 0.30 and >= 0.50 (Farrar 2001; IMMPACT,
  DOMAIN 4.2), as a rate with a Wilson 95% interval. Thresholds are compared in integers
  (10 x (baseline - latest) >= 3 x baseline), so no rounding decides a patient.
- *Immediate response* of a session: for each (site, side) with a baseline and a 1-minute
  reading, the change in kg/cm2; the session's change is the mean over those pairs; likewise at
  15 minutes. Reported: the mean of the session changes, and the share of sessions whose 1-minute
  change is at least the threshold (default 1.0 kg/cm2, inside the measurement-error range of
  DOMAIN 4.1: MDC 0.52-1.15, MCID 1.5, error 1.77 kg/cm2).
- *Relief duration* of a session with a ``pain_before``: the patient's diary entries after the
  session's date and before their next session's date (all later ones after the last session).
  The event is the first entry with pain >= the session's pain_before, at (entry date - session
  date) days; without one the session is censored at its last entry in the window; a session with
  no entry in the window is left out. Kaplan-Meier over the included sessions; the *median* is
  the smallest time at which the estimate is at or below 0.5 (None when it never is).
- *Sessions to response*: for each 30% responder, the 1-based position, among their sessions
  with a pain_before in date order, of the first whose pain_before <= 0.7 x baseline; the median.
- *Adverse events*: count, serious count, and rate per 100 sessions.
- *Drop-out after the first session*: of the patients whose first session is at least
  ``DROP_OUT_DAYS`` before the latest session in the data (time enough to have come back), the
  share with exactly one session.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prolotrack.core.relief import DiaryDay, Relief, SessionDay, relief_after
from prolotrack.core.units import KPA_PER_KG_CM2

# 95% two-sided normal quantile.
Z95 = 1.959963984540054
# DOMAIN 4.1: a 1-minute rise of 1.0 kg/cm2 sits inside the published measurement-error range
# (MDC 0.52-1.15 kg/cm2); clinics may set their own threshold.
DEFAULT_THRESHOLD_KG_CM2 = 1.0
# Session changes are means of float differences; sums in another order (SQL) may differ in the
# last bits, so a change counts as reaching the threshold within this tolerance.
THRESHOLD_TOLERANCE = 1e-9
# A patient seen once whose first session is this many days before the latest session of the
# data had time for a second classic session (every 2-6 weeks, DOMAIN 1.1) and did not come.
DROP_OUT_DAYS = 42
# Claims are judged on at least this many cases (issue 6).
MIN_CASES = 20
# Means and medians are reported with this many decimals (rates keep four).
DECIMALS = 3


# ----------------------------------------------------------------------------------------------
# Plain rows: what the reference implementation reads


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: int
    patient_id: int
    day: dt.date  # the session's date in the clinic's zone
    pain_before: int | None


@dataclass(frozen=True, slots=True)
class ReadingRow:
    session_id: int
    site: str
    side: str
    phase: str  # baseline | 1min | 15min
    value_kpa: float


@dataclass(frozen=True, slots=True)
class DiaryRow:
    patient_id: int
    day: dt.date
    pain: int


@dataclass(frozen=True, slots=True)
class AdverseEventRow:
    session_id: int
    serious: bool


# ----------------------------------------------------------------------------------------------
# Per patient and per session


@dataclass(frozen=True, slots=True)
class PainCourse:
    """A patient's pain_before over their sessions: baseline, latest and what follows."""

    baseline: int | None
    latest: int | None
    sessions_with_pain: int
    # 1-based position (among sessions with a pain_before) of the first at <= 0.7 x baseline.
    first_at_30: int | None

    @property
    def eligible(self) -> bool:
        return self.sessions_with_pain >= 2 and self.baseline is not None and self.baseline >= 1

    @property
    def improvement(self) -> float | None:
        if not self.eligible or self.baseline is None or self.latest is None:
            return None
        return (self.baseline - self.latest) / self.baseline

    @property
    def responder_30(self) -> bool:
        return self.eligible and is_responder(self.baseline, self.latest, 30)

    @property
    def responder_50(self) -> bool:
        return self.eligible and is_responder(self.baseline, self.latest, 50)

    @property
    def improved(self) -> bool:
        return self.eligible and self.latest is not None and self.latest < (self.baseline or 0)

    @property
    def sessions_to_response(self) -> int | None:
        return self.first_at_30 if self.responder_30 else None


def is_responder(baseline: int | None, latest: int | None, percent: int) -> bool:
    """improvement >= percent/100, in integers: 100 x (baseline - latest) >= percent x baseline."""
    if baseline is None or latest is None or baseline < 1:
        return False
    return 100 * (baseline - latest) >= percent * baseline


def pain_course(sessions: Iterable[SessionRow]) -> PainCourse:
    """The course of one patient's ``sessions`` (any order)."""
    with_pain = sorted(
        (s for s in sessions if s.pain_before is not None), key=lambda s: (s.day, s.session_id)
    )
    if not with_pain:
        return PainCourse(None, None, 0, None)
    baseline = with_pain[0].pain_before
    assert baseline is not None
    first = next(
        (i + 1 for i, s in enumerate(with_pain) if 10 * (s.pain_before or 0) <= 7 * baseline),
        None,
    )
    return PainCourse(baseline, with_pain[-1].pain_before, len(with_pain), first)


@dataclass(frozen=True, slots=True)
class ImmediateChange:
    """A session's mean change in kg/cm2 over its (site, side) pairs, at 1 and 15 minutes."""

    pairs_1min: int
    change_1min: float | None
    pairs_15min: int
    change_15min: float | None


def immediate_change(readings: Iterable[ReadingRow]) -> ImmediateChange:
    """The immediate response of one session from its readings (any units, stored in kPa)."""
    by_pair: dict[tuple[str, str], dict[str, float]] = {}
    for r in readings:
        by_pair.setdefault((r.site, r.side), {})[r.phase] = r.value_kpa
    changes: dict[str, list[float]] = {"1min": [], "15min": []}
    for phases in by_pair.values():
        base = phases.get("baseline")
        if base is None:
            continue
        for later, found in changes.items():
            if later in phases:
                found.append((phases[later] - base) / KPA_PER_KG_CM2)
    one, fifteen = changes["1min"], changes["15min"]
    return ImmediateChange(
        len(one),
        math.fsum(one) / len(one) if one else None,
        len(fifteen),
        math.fsum(fifteen) / len(fifteen) if fifteen else None,
    )


def session_relief(sessions: Iterable[SessionRow], diary: Iterable[DiaryRow]) -> dict[int, Relief]:
    """Relief per session of ONE patient: ``sessions`` are all their sessions (the next session
    closes a window whatever its series), ``diary`` all their entries. Sessions without a
    pain_before or without an entry in their window are absent from the result.

    Each window is ``core.relief.relief_after``'s, with pain alone ending relief (the diary's
    "is the pain back?" answer is for the patient's chart, not for the outcome numbers).
    """
    ordered = sorted(sessions, key=lambda s: (s.day, s.session_id))
    entries = [DiaryDay(d.day, d.pain) for d in sorted(diary, key=lambda d: d.day)]
    result: dict[int, Relief] = {}
    for i, session in enumerate(ordered):
        end = ordered[i + 1].day if i + 1 < len(ordered) else None
        window = [e for e in entries if e.day > session.day and (end is None or e.day < end)]
        relief = relief_after(
            SessionDay(session.day, session.pain_before),
            end,
            window,
            pain_back_ends_relief=False,
        )
        if relief is not None:
            result[session.session_id] = relief
    return result


# ----------------------------------------------------------------------------------------------
# Statistics


@dataclass(frozen=True, slots=True)
class Proportion:
    n: int  # cases counted (the numerator)
    of: int  # the denominator
    rate: float | None
    ci95: tuple[float, float] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "of": self.of,
            "rate": _round(self.rate, 4),
            "ci95": _interval(self.ci95, 4),
        }


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes in n trials (None when n is 0)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError("k must be between 0 and n")
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # Clamp: the interval always contains p and stays in [0, 1] despite rounding.
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def proportion(k: int, n: int) -> Proportion:
    return Proportion(k, n, k / n if n else None, wilson(k, n))


@dataclass(frozen=True, slots=True)
class KMStep:
    time: int
    at_risk: int
    events: int
    censored: int
    survival: float
    std_error: float  # Greenwood


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    sessions: int
    events: int
    steps: tuple[KMStep, ...]
    median: int | None
    median_ci95: tuple[int | None, int | None]


def kaplan_meier(counts: Mapping[tuple[int, bool], int]) -> KaplanMeier:
    """Kaplan-Meier from ``{(time, event): count}``.

    Censored sessions at a time are still at risk at that time (events come first, the usual
    convention). The median is the smallest time with survival <= 0.5; its 95% interval runs from
    the smallest time the lower Greenwood band reaches 0.5 to the smallest time the upper band
    does (None when it never does).
    """
    times = sorted({t for t, _ in counts})
    total = sum(counts.values())
    at_risk = total
    survival = 1.0
    greenwood = 0.0
    steps: list[KMStep] = []
    for t in times:
        d = counts.get((t, True), 0)
        c = counts.get((t, False), 0)
        if d:
            survival *= 1 - d / at_risk
            if at_risk > d:
                greenwood += d / (at_risk * (at_risk - d))
        se = survival * math.sqrt(greenwood) if survival > 0 else 0.0
        steps.append(KMStep(t, at_risk, d, c, survival, se))
        at_risk -= d + c
    half = 0.5 + 1e-12
    median = next((s.time for s in steps if s.survival <= half), None)
    low = next((s.time for s in steps if s.survival - Z95 * s.std_error <= half), None)
    high = next((s.time for s in steps if s.survival + Z95 * s.std_error <= half), None)
    return KaplanMeier(
        sessions=total,
        events=sum(v for (_, e), v in counts.items() if e),
        steps=tuple(steps),
        median=median,
        median_ci95=(low, high),
    )


def median_of_counts(counts: Mapping[int, int]) -> float | None:
    """The median of values given as ``{value: how many}`` (mean of the middle two when even)."""
    n = sum(counts.values())
    if n == 0:
        return None
    ordered = _expand(counts)
    middle = n // 2
    if n % 2:
        return float(ordered(middle))
    return (ordered(middle - 1) + ordered(middle)) / 2


def median_ci95(counts: Mapping[int, int]) -> tuple[float, float] | None:
    """Distribution-free 95% interval of a median: the order statistics j and k with
    j = floor(n/2 - 0.98 sqrt(n)) and k = ceil(n/2 + 1 + 0.98 sqrt(n)) (1-based, clamped)."""
    n = sum(counts.values())
    if n == 0:
        return None
    ordered = _expand(counts)
    j = max(1, math.floor(n / 2 - Z95 / 2 * math.sqrt(n)))
    k = min(n, math.ceil(n / 2 + 1 + Z95 / 2 * math.sqrt(n)))
    return (float(ordered(j - 1)), float(ordered(k - 1)))


def _expand(counts: Mapping[int, int]) -> Any:
    """index -> value of the sorted values, without building the list."""
    items = sorted((v, c) for v, c in counts.items() if c > 0)

    def at(index: int) -> int:
        seen = 0
        for value, count in items:
            seen += count
            if index < seen:
                return value
        raise IndexError(index)

    return at


def mean_ci95(n: int, total: float, total_sq: float) -> tuple[float, float] | None:
    """Normal 95% interval of a mean from n, sum and sum of squares (None below 2 values)."""
    if n < 2:
        return None
    mean = total / n
    variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = Z95 * math.sqrt(variance / n)
    return (mean - half, mean + half)


# ----------------------------------------------------------------------------------------------
# Aggregates: what SQL and the reference both produce


@dataclass(frozen=True)
class Aggregates:
    patients: int = 0
    sessions: int = 0
    eligible: int = 0
    responders_30: int = 0
    responders_50: int = 0
    improved: int = 0
    immediate_sessions: int = 0  # sessions with a 1-minute change
    sum_change_1min: float = 0.0
    sumsq_change_1min: float = 0.0
    responding_sessions: int = 0
    immediate_sessions_15min: int = 0
    sum_change_15min: float = 0.0
    relief_counts: Mapping[tuple[int, bool], int] = field(default_factory=dict)
    sessions_to_response: Mapping[int, int] = field(default_factory=dict)
    adverse_events: int = 0
    serious_adverse_events: int = 0
    drop_out_single: int = 0
    drop_out_of: int = 0


def reference_aggregates(
    sessions: Sequence[SessionRow],
    readings: Iterable[ReadingRow],
    diary: Iterable[DiaryRow],
    adverse_events: Iterable[AdverseEventRow],
    *,
    selected: Iterable[int] | None = None,
    threshold_kg_cm2: float = DEFAULT_THRESHOLD_KG_CM2,
) -> Aggregates:
    """The aggregates of the sessions ``selected`` (ids; all when None), from plain rows.

    ``sessions`` are ALL sessions of the patients concerned: a relief window ends at the next
    session whether or not a filter selects it. Everything else reads the selected sessions only.
    """
    chosen = {s.session_id for s in sessions} if selected is None else set(selected)
    picked = [s for s in sessions if s.session_id in chosen]
    by_patient: dict[int, list[SessionRow]] = {}
    for s in picked:
        by_patient.setdefault(s.patient_id, []).append(s)
    courses = [pain_course(rows) for rows in by_patient.values()]

    readings_by_session: dict[int, list[ReadingRow]] = {}
    for r in readings:
        if r.session_id in chosen:
            readings_by_session.setdefault(r.session_id, []).append(r)
    changes = [immediate_change(rows) for rows in readings_by_session.values()]
    one = [c.change_1min for c in changes if c.change_1min is not None]
    fifteen = [c.change_15min for c in changes if c.change_15min is not None]

    everyone: dict[int, list[SessionRow]] = {}
    for s in sessions:
        if s.patient_id in by_patient:
            everyone.setdefault(s.patient_id, []).append(s)
    diaries: dict[int, list[DiaryRow]] = {}
    for d in diary:
        if d.patient_id in by_patient:
            diaries.setdefault(d.patient_id, []).append(d)
    relief: Counter[tuple[int, bool]] = Counter()
    for patient, rows in everyone.items():
        for session_id, r in session_relief(rows, diaries.get(patient, ())).items():
            if session_id in chosen:
                relief[r.days, r.event] += 1

    events = [e for e in adverse_events if e.session_id in chosen]
    single, of = drop_out_counts(
        [(min(s.day for s in rows), len(rows)) for rows in by_patient.values()],
        as_of=max((s.day for s in picked), default=None),
    )
    return Aggregates(
        patients=len(by_patient),
        sessions=len(picked),
        eligible=sum(c.eligible for c in courses),
        responders_30=sum(c.responder_30 for c in courses),
        responders_50=sum(c.responder_50 for c in courses),
        improved=sum(c.improved for c in courses),
        immediate_sessions=len(one),
        sum_change_1min=math.fsum(one),
        sumsq_change_1min=math.fsum(x * x for x in one),
        responding_sessions=sum(x >= threshold_kg_cm2 - THRESHOLD_TOLERANCE for x in one),
        immediate_sessions_15min=len(fifteen),
        sum_change_15min=math.fsum(fifteen),
        relief_counts=dict(relief),
        sessions_to_response=dict(
            Counter(c.sessions_to_response for c in courses if c.sessions_to_response)
        ),
        adverse_events=len(events),
        serious_adverse_events=sum(e.serious for e in events),
        drop_out_single=single,
        drop_out_of=of,
    )


def drop_out_counts(
    patients: Iterable[tuple[dt.date, int]], *, as_of: dt.date | None
) -> tuple[int, int]:
    """(seen once, of) from (first session day, session count) per patient; ``as_of`` is the
    latest session day of the data."""
    if as_of is None:
        return 0, 0
    cutoff = as_of - dt.timedelta(days=DROP_OUT_DAYS)
    considered = [count for day, count in patients if day <= cutoff]
    return sum(1 for c in considered if c == 1), len(considered)


# ----------------------------------------------------------------------------------------------
# Claims


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    claim: str
    source: str
    measure: str  # what of the clinic's data is set beside it
    low: float  # the claimed range of the measure
    high: float
    max_ci_width: float  # wider intervals cannot judge the claim
    # The claim is about one modality's treatment: judged on that modality's sessions only.
    modality: str | None = None


# The claims quoted at the top of DOMAIN.md (practitioners' and clinics' descriptions, [P]) and
# the "90% effective" of the issue; each with the clinic's number that can test it.
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "pain_down_within_a_minute",
        'Neural prolotherapy "decreases or eliminates pain in less than one minute" for most '
        "people",
        "Practitioners' description, DOMAIN (top) [P]",
        "Share of sessions whose pressure-pain threshold rose by at least the threshold 1 minute "
        "after injection (most = at least half)",
        0.5,
        1.0,
        0.4,
        modality="neural",
    ),
    Claim(
        "threshold_rises_at_1min",
        "The algometer threshold rises 1 minute after injection",
        "Practitioners' description, DOMAIN (top) [P]; algometry DOMAIN 4.1",
        "Mean 1-minute change of the pressure-pain threshold, kg/cm2 (a rise: at least 0.1, "
        "an algometer's display step)",
        0.1,
        math.inf,
        1.0,
    ),
    Claim(
        "relief_4_to_5_days",
        'Relief lasts "a few hours to 1 week, on average 4-5 days"',
        "Practitioners' description, DOMAIN (top) [P]",
        "Median relief in days (Kaplan-Meier, diary)",
        4.0,
        5.0,
        7.0,
    ),
    Claim(
        "neural_4_to_8_treatments",
        'Neural prolotherapy takes "on average 4-8 treatments"',
        "Practitioners' description, DOMAIN (top) [P]",
        "Median sessions to a 30% response",
        4.0,
        8.0,
        4.0,
        modality="neural",
    ),
    Claim(
        "classic_4_to_12_sessions",
        'Classic prolotherapy takes "four to twelve sessions"',
        "Clinics' description, DOMAIN (top) [P]",
        "Median sessions to a 30% response",
        4.0,
        12.0,
        4.0,
        modality="classic",
    ),
    Claim(
        "pain_decreases_with_treatment",
        '"With each treatment the pain in between treatments should decrease"',
        "Practitioners' description, DOMAIN (top) [P]",
        "Share of eligible patients whose latest pain is below their baseline (should = most)",
        0.5,
        1.0,
        0.4,
    ),
    Claim(
        "ninety_percent_effective",
        '"90% effective"',
        "Clinics' claim (issue 6); Lyftogt 2005 cohort: 91.7% satisfied, DOMAIN 5 [V]",
        "Share of eligible patients with a 30% response",
        0.9,
        1.0,
        0.4,
    ),
)

CONSISTENT = "consistent"
NOT_CONSISTENT = "not_consistent"
INSUFFICIENT = "insufficient_data"
# A claim about one modality's treatment, with a selection that is not of that modality alone:
# another modality's sessions cannot judge it (filter by the claim's modality to judge it).
NOT_APPLICABLE = "not_applicable"


def verdict(
    claim: Claim, measured: float | None, ci95: Sequence[float | None] | None, n: int
) -> str:
    """consistent: the 95% interval reaches the claimed range (the data do not contradict it);
    not_consistent: the interval lies wholly outside it; insufficient_data: fewer than
    MIN_CASES cases, no estimate, an open interval, or one wider than the claim's maximum width."""
    if n < MIN_CASES or measured is None or ci95 is None:
        return INSUFFICIENT
    low, high = ci95
    if low is None or high is None or high - low > claim.max_ci_width:
        return INSUFFICIENT
    if high < claim.low or low > claim.high:
        return NOT_CONSISTENT
    return CONSISTENT


# ----------------------------------------------------------------------------------------------
# The report


def outcomes_report(
    agg: Aggregates,
    *,
    threshold_kg_cm2: float = DEFAULT_THRESHOLD_KG_CM2,
    modality: str | None = None,
) -> dict[str, Any]:
    """The outcome numbers as the CLI prints them (issue 6's keys, and a few beside them).

    ``modality``: the one modality the sessions were selected for, or None for a selection
    that may mix them. A claim about one modality is judged only on a selection of that
    modality; otherwise its verdict is ``not_applicable`` and nothing is set beside it.
    """
    r30 = proportion(agg.responders_30, agg.eligible)
    r50 = proportion(agg.responders_50, agg.eligible)
    improved = proportion(agg.improved, agg.eligible)
    n1 = agg.immediate_sessions
    mean_1 = agg.sum_change_1min / n1 if n1 else None
    mean_1_ci = mean_ci95(n1, agg.sum_change_1min, agg.sumsq_change_1min)
    n15 = agg.immediate_sessions_15min
    mean_15 = agg.sum_change_15min / n15 if n15 else None
    responding = proportion(agg.responding_sessions, n1)
    km = kaplan_meier(agg.relief_counts)
    str_n = sum(agg.sessions_to_response.values())
    str_median = median_of_counts(agg.sessions_to_response)
    str_ci = median_ci95(agg.sessions_to_response)
    drop = proportion(agg.drop_out_single, agg.drop_out_of)

    measured: dict[str, tuple[float | None, Sequence[float | None] | None, int]] = {
        "pain_down_within_a_minute": (responding.rate, responding.ci95, n1),
        "threshold_rises_at_1min": (mean_1, mean_1_ci, n1),
        "relief_4_to_5_days": (
            None if km.median is None else float(km.median),
            km.median_ci95 if km.median is not None else None,
            km.sessions,
        ),
        "neural_4_to_8_treatments": (str_median, str_ci, str_n),
        "classic_4_to_12_sessions": (str_median, str_ci, str_n),
        "pain_decreases_with_treatment": (improved.rate, improved.ci95, agg.eligible),
        "ninety_percent_effective": (r30.rate, r30.ci95, agg.eligible),
    }
    claims = []
    for claim in CLAIMS:
        value, ci, n = measured[claim.key]
        applicable = claim.modality is None or claim.modality == modality
        if not applicable:
            value, ci, n = None, None, 0
        claims.append(
            {
                "key": claim.key,
                "claim": claim.claim,
                "source": claim.source,
                "measure": claim.measure,
                "claimed": [claim.low, None if math.isinf(claim.high) else claim.high],
                "measured": _round(value, 4),
                "ci95": _interval(ci, 4),
                "n": n,
                "modality": claim.modality,
                "verdict": verdict(claim, value, ci, n) if applicable else NOT_APPLICABLE,
            }
        )
    return {
        "patients": agg.patients,
        "sessions": agg.sessions,
        "eligible": agg.eligible,
        "responders_30": r30.as_dict(),
        "responders_50": r50.as_dict(),
        "immediate": {
            "sessions": n1,
            "mean_change_1min": _round(mean_1, DECIMALS),
            "mean_change_1min_ci95": _interval(mean_1_ci, DECIMALS),
            "mean_change_15min": _round(mean_15, DECIMALS),
            "sessions_15min": n15,
            "threshold_kg_cm2": threshold_kg_cm2,
            "responding_share": _round(responding.rate, 4),
            "responding_ci95": _interval(responding.ci95, 4),
        },
        "relief_days": {
            "sessions": km.sessions,
            "events": km.events,
            "median": km.median,
            "median_ci95": list(km.median_ci95) if km.median is not None else None,
            "curve": [[s.time, round(s.survival, 4)] for s in km.steps],
        },
        "sessions_to_response": {
            "n": str_n,
            "median": str_median,
            "ci95": _interval(str_ci, 1),
        },
        "adverse_events": {
            "count": agg.adverse_events,
            "serious": agg.serious_adverse_events,
            "per_100_sessions": (
                round(100 * agg.adverse_events / agg.sessions, 2) if agg.sessions else None
            ),
        },
        "drop_out_after_first": drop.as_dict(),
        "claims": claims,
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _interval(ci: Sequence[float | None] | None, digits: int) -> list[float | None] | None:
    if ci is None:
        return None
    return [None if v is None else round(v, digits) for v in ci]
