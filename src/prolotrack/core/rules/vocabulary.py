"""The closed vocabularies of a plan: professions, symptoms, history items and allergies.

Each is an enum so that an unknown value is an input error, never a silently ignored string: a
misspelt "saddle_anesthesia" must not read as "no red flag".
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class Labelled(StrEnum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Profession(Labelled):
    """Mirrors the practitioner profiles of the accounts app (DOMAIN 6)."""

    PHYSICIAN = "physician"
    NATUROPATHIC_DOCTOR = "naturopathic_doctor"
    NURSE_PRACTITIONER = "nurse_practitioner"
    OTHER = "other"

    @property
    def label(self) -> str:
        return "practitioner of another profession" if self is Profession.OTHER else super().label


class Sex(Labelled):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Symptom(Labelled):
    """Red-flag symptoms of DOMAIN 3.1 (low back) and 3.2 (neck)."""

    BLADDER_DYSFUNCTION = "bladder_dysfunction"
    BOWEL_DYSFUNCTION = "bowel_dysfunction"
    SADDLE_ANAESTHESIA = "saddle_anaesthesia"
    BILATERAL_SCIATICA = "bilateral_sciatica"
    PROGRESSIVE_WEAKNESS = "progressive_weakness"
    FEVER = "fever"
    UNEXPLAINED_WEIGHT_LOSS = "unexplained_weight_loss"
    NIGHT_PAIN = "night_pain"
    GAIT_DISTURBANCE = "gait_disturbance"
    HAND_CLUMSINESS = "hand_clumsiness"
    SEVERE_HEADACHE_NECK_STIFFNESS = "severe_headache_neck_stiffness"

    @property
    def label(self) -> str:
        if self is Symptom.SEVERE_HEADACHE_NECK_STIFFNESS:
            return "severe headache with neck stiffness"
        return super().label


class History(Labelled):
    """Red-flag history items of DOMAIN 3.1 and 3.2."""

    CANCER = "cancer"
    MAJOR_TRAUMA = "major_trauma"
    STEROID_USE = "steroid_use"
    OSTEOPOROSIS = "osteoporosis"
    IV_DRUG_USE = "iv_drug_use"
    IMMUNOSUPPRESSION = "immunosuppression"

    @property
    def label(self) -> str:
        labels = {
            History.CANCER: "history of cancer",
            History.STEROID_USE: "long-term steroid use",
            History.IV_DRUG_USE: "IV drug use",
        }
        return labels.get(self, super().label)


class Allergy(Labelled):
    """Allergies the rules act on (DOMAIN 2.2 corn, 2.3 local anaesthetic)."""

    CORN = "corn"
    LOCAL_ANAESTHETIC = "local_anaesthetic"


def in_order(enum: type[E], members: Iterable[E]) -> tuple[E, ...]:
    """``members`` in the enum's own order, so messages read the same on every run."""
    chosen = set(members)
    return tuple(m for m in enum if m in chosen)


def labels(members: Iterable[Labelled]) -> str:
    return ", ".join(m.label for m in members)
