"""Diary triage (core.triage): every rule on both sides of its threshold, with its source."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.core.catalog import load_catalog
from prolotrack.core.triage import (
    DEFAULT_AFTERCARE,
    EMERGENCY_MESSAGE,
    INTENSE_PAIN,
    Level,
    SideEffect,
    TriageInput,
    triage,
)

SESSION = dt.date(2026, 11, 2)


def entry(
    *effects: SideEffect, pain: int = 3, day: int = 1, before: int | None = 6, session: bool = True
) -> TriageInput:
    return TriageInput(
        entry_day=SESSION + dt.timedelta(days=day),
        pain=pain,
        side_effects=frozenset(effects),
        last_session_day=SESSION if session else None,
        last_session_pain_before=before if session else None,
    )


def codes(findings) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize("effect", [SideEffect.BLADDER_BOWEL, SideEffect.SADDLE_NUMBNESS])
def test_bladder_bowel_or_saddle_numbness_is_an_emergency_shown_first(effect):
    findings = triage(entry(effect, SideEffect.FEVER, pain=9))
    assert findings[0].code == "emergency.cauda_equina"
    assert findings[0].level is Level.EMERGENCY
    assert findings[0].patient_message == EMERGENCY_MESSAGE
    assert "emergency department" in findings[0].patient_message
    assert findings[0].source == "domain.3.1"


def test_without_those_answers_there_is_no_emergency():
    everything_else = set(SideEffect) - {SideEffect.BLADDER_BOWEL, SideEffect.SADDLE_NUMBNESS}
    findings = triage(entry(*everything_else, pain=10))
    assert Level.EMERGENCY not in {f.level for f in findings}


def test_fever_with_intense_pain_is_urgent_possible_infection():
    [finding] = triage(entry(SideEffect.FEVER, pain=INTENSE_PAIN))
    assert (finding.code, finding.level, finding.source) == (
        "urgent.infection",
        Level.URGENT,
        "domain.2.4",
    )
    assert "infection" in finding.patient_message


def test_fever_with_pain_just_below_intense_is_a_review_not_urgent():
    [finding] = triage(entry(SideEffect.FEVER, pain=INTENSE_PAIN - 1))
    assert (finding.code, finding.level) == ("review.fever", Level.REVIEW)


def test_intense_pain_without_fever_is_not_an_infection_alert():
    assert "urgent.infection" not in codes(triage(entry(pain=10, day=1)))


def test_spreading_redness_or_warmth_is_urgent():
    [finding] = triage(entry(SideEffect.REDNESS_WARMTH))
    assert (finding.code, finding.level) == ("urgent.site_redness", Level.URGENT)


def test_no_redness_no_redness_alert():
    assert "urgent.site_redness" not in codes(triage(entry(SideEffect.BRUISING)))


def test_new_numbness_or_weakness_is_urgent():
    [finding] = triage(entry(SideEffect.NUMBNESS_WEAKNESS))
    assert (finding.code, finding.level) == ("urgent.neuro", Level.URGENT)


def test_no_numbness_no_neuro_alert():
    assert "urgent.neuro" not in codes(triage(entry(SideEffect.STIFFNESS)))


def test_a_flare_on_day_4_is_beyond_72_hours_and_needs_review():
    [finding] = triage(entry(pain=7, before=6, day=4))
    assert (finding.code, finding.level, finding.source) == (
        "review.flare",
        Level.REVIEW,
        "domain.2.4",
    )


def test_a_flare_on_day_3_is_within_72_hours_and_reassured():
    [finding] = triage(entry(pain=7, before=6, day=3))
    assert (finding.code, finding.level) == ("reassure.soreness", Level.REASSURE)


def test_pain_back_at_the_pre_session_level_on_day_4_is_no_flare():
    assert triage(entry(pain=6, before=6, day=4)) == []


def test_no_flare_without_a_session_or_a_pain_before():
    assert triage(entry(pain=9, day=10, session=False)) == []
    assert triage(entry(pain=9, day=10, before=None)) == []


@pytest.mark.parametrize("effect", [SideEffect.SORENESS, SideEffect.STIFFNESS, SideEffect.BRUISING])
def test_expected_soreness_in_the_first_days_is_reassured_with_aftercare(effect):
    [finding] = triage(entry(effect, day=2), aftercare="Ice for 10 minutes twice a day.")
    assert (finding.code, finding.level) == ("reassure.soreness", Level.REASSURE)
    assert "Ice for 10 minutes twice a day." in finding.patient_message
    assert not finding.level.alerts_clinic


def test_reassurance_uses_the_general_aftercare_without_the_clinics():
    [finding] = triage(entry(SideEffect.SORENESS, day=0))
    assert DEFAULT_AFTERCARE in finding.patient_message


def test_soreness_after_day_3_is_not_reassured():
    assert triage(entry(SideEffect.SORENESS, day=4, pain=2)) == []


def test_soreness_with_a_warning_sign_gets_no_reassurance():
    assert codes(triage(entry(SideEffect.SORENESS, SideEffect.REDNESS_WARMTH, day=1))) == [
        "urgent.site_redness"
    ]


def test_a_quiet_day_raises_nothing():
    assert triage(entry(pain=2, day=5)) == []


def test_every_source_is_a_key_of_the_domain_reference():
    sources = load_catalog().sources
    everything = entry(*SideEffect, pain=10, day=5, before=2)
    found = triage(everything) + triage(entry(SideEffect.SORENESS, day=1))
    assert {f.source for f in found} <= set(sources)


def test_it_refuses_pain_outside_0_to_10():
    with pytest.raises(ValueError, match="0 to 10"):
        triage(entry(pain=11))


@given(
    st.frozensets(st.sampled_from(list(SideEffect))),
    st.integers(0, 10),
    st.integers(0, 30),
    st.one_of(st.none(), st.integers(0, 10)),
)
def test_findings_are_ordered_and_reassurance_never_joins_an_alert(effects, pain, day, before):
    found = triage(entry(*effects, pain=pain, day=day, before=before))
    ranks = [f.level.rank for f in found]
    assert ranks == sorted(ranks)
    if any(f.level.alerts_clinic for f in found):
        assert all(f.level is not Level.REASSURE for f in found)
    if effects & {SideEffect.BLADDER_BOWEL, SideEffect.SADDLE_NUMBNESS}:
        assert found[0].level is Level.EMERGENCY
