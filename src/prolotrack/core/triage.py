"""Triage of a diary entry: what the patient must read at once, and what the clinic must know.

Run on every entry. Each rule names its source in the domain reference (``core/data/sources.json``
keys). The rules raise suspicion; they are not a diagnosis (DOMAIN 3.1, notes): each message
says what to do next.

- ``emergency.cauda_equina``: bladder or bowel change, or saddle numbness (DOMAIN 3.1, 3.2);
- ``urgent.infection``: fever with intense pain, 7 or more of 10 (DOMAIN introduction, 2.4);
- ``urgent.site_redness``: spreading redness or warmth at a site (DOMAIN 2.4, 2.3);
- ``urgent.neuro``: new numbness or weakness (DOMAIN 2.4, 3.1);
- ``review.fever``: fever without intense pain (DOMAIN 2.4);
- ``review.flare``: pain above the pre-session level more than 72 hours after (DOMAIN 2.4);
- ``reassure.soreness``: soreness, stiffness, bruising or more pain on days 0-3 (DOMAIN 2.4).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass


class SideEffect(enum.StrEnum):
    """What the diary asks about after a session (DOMAIN 2.4 and the red flags of 3.1)."""

    SORENESS = "soreness"
    STIFFNESS = "stiffness"
    BRUISING = "bruising"
    SWELLING = "swelling"
    REDNESS_WARMTH = "redness_warmth"
    FEVER = "fever"
    NUMBNESS_WEAKNESS = "numbness_weakness"
    BLADDER_BOWEL = "bladder_bowel"
    SADDLE_NUMBNESS = "saddle_numbness"
    OTHER = "other"

    @property
    def label(self) -> str:
        return SIDE_EFFECT_LABELS[self]


SIDE_EFFECT_LABELS: dict[SideEffect, str] = {
    SideEffect.SORENESS: "Soreness where I was injected",
    SideEffect.STIFFNESS: "Stiffness",
    SideEffect.BRUISING: "Bruising",
    SideEffect.SWELLING: "Swelling",
    SideEffect.REDNESS_WARMTH: "Redness or warmth spreading around an injection site",
    SideEffect.FEVER: "Fever (38 °C / 100.4 °F or more) or chills",
    SideEffect.NUMBNESS_WEAKNESS: "New numbness or weakness",
    SideEffect.BLADDER_BOWEL: "New trouble passing urine, or bladder or bowel control changed",
    SideEffect.SADDLE_NUMBNESS: "Numbness between the legs or around the bottom",
    SideEffect.OTHER: "Something else",
}


class Level(enum.StrEnum):
    """From the most to the least pressing; the first three become alerts for the clinic."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    REVIEW = "review"
    REASSURE = "reassure"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def alerts_clinic(self) -> bool:
        return self is not Level.REASSURE


# "Intense pain" (DOMAIN introduction: "intense pain, particularly with fever" as a sign of
# infection). 7 of 10 is the usual lower bound of severe pain on the 0-10 NRS; the domain
# reference gives no number, so this is a default to review [U], not a sourced threshold.
INTENSE_PAIN = 7
# DOMAIN 2.4 [V]: a post-injection flare lasts up to 72 hours in about 10% of trial participants;
# one lasting longer is escalated. A diary entry is dated by day, so day 4 after the session is
# the first day certainly beyond 72 hours.
FLARE_DAYS = 3
# DOMAIN 2.4 [V/P]: pain and stiffness for the first few days are common and benign.
EXPECTED_SORENESS_DAYS = 3


@dataclass(frozen=True, slots=True)
class TriageInput:
    """One diary entry and what the triage needs to know about the last session before it."""

    entry_day: dt.date
    pain: int  # 0-10, the highest of the treated areas
    side_effects: frozenset[SideEffect]
    last_session_day: dt.date | None = None
    last_session_pain_before: int | None = None

    @property
    def days_since_session(self) -> int | None:
        if self.last_session_day is None:
            return None
        return (self.entry_day - self.last_session_day).days


@dataclass(frozen=True, slots=True)
class TriageFinding:
    code: str
    level: Level
    patient_message: str
    clinic_message: str
    source: str


EMERGENCY_MESSAGE = (
    "Go to an emergency department now, or call your local emergency number. New trouble with "
    "your bladder or bowels, or numbness between your legs, can be a sign of pressure on the "
    "nerves at the base of the spine that needs treatment the same day. Do not wait for the "
    "clinic to call you."
)


def _emergency(entry: TriageInput) -> Iterable[TriageFinding]:
    # DOMAIN 3.1 [V]: new bladder dysfunction, faecal incontinence or saddle sensory loss: cauda
    # equina syndrome, emergency, same day. DOMAIN 3.2 [V]: bowel or bladder change in neck pain
    # (myelopathy): immediate emergency referral.
    found = entry.side_effects & {SideEffect.BLADDER_BOWEL, SideEffect.SADDLE_NUMBNESS}
    if found:
        what = " and ".join(SIDE_EFFECT_LABELS[s].lower() for s in sorted(found))
        yield TriageFinding(
            "emergency.cauda_equina",
            Level.EMERGENCY,
            EMERGENCY_MESSAGE,
            f"Emergency: the patient reports {what} (possible cauda equina syndrome or cord "
            "compression). Contact the patient now and make sure they are on their way to an "
            "emergency department.",
            "domain.3.1",
        )


def _infection(entry: TriageInput) -> Iterable[TriageFinding]:
    fever = SideEffect.FEVER in entry.side_effects
    if fever and entry.pain >= INTENSE_PAIN:
        # DOMAIN introduction: "intense pain, particularly with fever" as a sign of infection;
        # DOMAIN 2.4: fever, redness or warmth: escalate (infection screen).
        yield TriageFinding(
            "urgent.infection",
            Level.URGENT,
            "Fever with intense pain after an injection can be a sign of infection. Call the "
            "clinic today. If you cannot reach it, or you feel very unwell, go to an urgent care "
            "centre or emergency department.",
            f"Urgent: fever with pain {entry.pain}/10 (possible infection). Call the patient "
            "today and arrange an infection screen.",
            "domain.2.4",
        )
    elif fever:
        # DOMAIN 2.4: fever after injection is escalated for an infection screen.
        yield TriageFinding(
            "review.fever",
            Level.REVIEW,
            "You reported a fever. The clinic has been told and will review it. Call the clinic "
            "if your pain becomes intense, an injection site turns red or warm, or you feel "
            "unwell.",
            f"Review: fever reported with pain {entry.pain}/10. Ask about other signs of "
            "infection.",
            "domain.2.4",
        )


def _site_redness(entry: TriageInput) -> Iterable[TriageFinding]:
    # DOMAIN 2.4 rule suggestion: redness or warmth -> escalate (infection screen); DOMAIN 2.3:
    # infection at the site.
    if SideEffect.REDNESS_WARMTH in entry.side_effects:
        yield TriageFinding(
            "urgent.site_redness",
            Level.URGENT,
            "Redness or warmth spreading around an injection site can be a sign of infection. "
            "Call the clinic today. If it spreads quickly or you get a fever, go to an urgent "
            "care centre or emergency department.",
            "Urgent: spreading redness or warmth at an injection site (possible infection). "
            "Call the patient today.",
            "domain.2.4",
        )


def _neuro(entry: TriageInput) -> Iterable[TriageFinding]:
    # DOMAIN 2.4 [V]: nerve damage and nerve irritation or injury are reported adverse events;
    # DOMAIN 3.1 [V]: a progressive or new neurological deficit needs urgent referral.
    if SideEffect.NUMBNESS_WEAKNESS in entry.side_effects:
        yield TriageFinding(
            "urgent.neuro",
            Level.URGENT,
            "New numbness or weakness needs to be checked. Call the clinic today. If the weakness "
            "is spreading, affects both legs, or comes with bladder or bowel changes, go to an "
            "emergency department.",
            "Urgent: new numbness or weakness reported (possible nerve irritation or injury). "
            "Call the patient today and examine.",
            "domain.2.4",
        )


def _flare(entry: TriageInput) -> Iterable[TriageFinding]:
    days = entry.days_since_session
    before = entry.last_session_pain_before
    # DOMAIN 2.4 [V]: a flare lasts up to 72 h; beyond that -> escalate.
    if days is not None and before is not None and days > FLARE_DAYS and entry.pain > before:
        yield TriageFinding(
            "review.flare",
            Level.REVIEW,
            "Your pain is still higher than before your last session, more than three days "
            "after it. The clinic has been told and will review it; call the clinic if it keeps "
            "getting worse.",
            f"Review: pain {entry.pain}/10 on day {days} after the session, above the "
            f"{before}/10 before it (flare beyond 72 hours).",
            "domain.2.4",
        )


EXPECTED = frozenset(
    {SideEffect.SORENESS, SideEffect.STIFFNESS, SideEffect.BRUISING, SideEffect.SWELLING}
)


def _reassure(entry: TriageInput, aftercare: str) -> Iterable[TriageFinding]:
    days = entry.days_since_session
    before = entry.last_session_pain_before
    if days is None or not 0 <= days <= EXPECTED_SORENESS_DAYS:
        return
    worse = before is not None and entry.pain > before
    if entry.side_effects & EXPECTED or worse:
        # DOMAIN 2.4 [V]: post-injection pain (~70%), stiffness (~25%) and bruising (~5%) are
        # common and benign; a flare of up to 72 h responds to simple painkillers.
        advice = aftercare.strip() or DEFAULT_AFTERCARE
        yield TriageFinding(
            "reassure.soreness",
            Level.REASSURE,
            "Soreness, stiffness, some bruising and a short flare of pain in the first few days "
            f"after injections are common and usually settle within three days. {advice}",
            "",
            "domain.2.4",
        )


DEFAULT_AFTERCARE = (
    "Rest the area from heavy or repetitive work for a few days, keep gently moving, and use the "
    "simple painkiller your clinic advised (often acetaminophen/paracetamol). Call the clinic if "
    "it gets worse after three days, or if you get a fever or spreading redness."
)


def triage(entry: TriageInput, *, aftercare: str = "") -> list[TriageFinding]:
    """Every finding for ``entry``, the most pressing first.

    Reassurance is given only when nothing more pressing was found: a patient told to go to an
    emergency department must not also read that soreness is normal.
    """
    if not 0 <= entry.pain <= 10:
        raise ValueError(f"pain must be 0 to 10, not {entry.pain}")
    findings = [
        *_emergency(entry),
        *_infection(entry),
        *_site_redness(entry),
        *_neuro(entry),
        *_flare(entry),
    ]
    if not findings:
        findings += list(_reassure(entry, aftercare))
    findings.sort(key=lambda f: f.level.rank)
    return findings
